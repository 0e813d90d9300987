package components

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    string
		wantErr string
	}{
		{name: "all, canonical order", in: "etcd,kube-proxy,kube-scheduler,kube-controller-manager", want: "kube-proxy,kube-controller-manager,kube-scheduler,etcd"},
		{name: "one", in: "etcd", want: "etcd"},
		{name: "blanks around items", in: " kube-proxy , etcd ", want: "kube-proxy,etcd"},
		{name: "empty", in: " ", wantErr: "empty component list"},
		{name: "empty item", in: "etcd,,kube-proxy", wantErr: "empty item"},
		{name: "unknown", in: "etcd,kubelet", wantErr: `unknown component "kubelet"`},
		{name: "case matters", in: "ETCD", wantErr: `unknown component "ETCD"`},
		{name: "repeated", in: "etcd,etcd", wantErr: `component "etcd" listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, Join(got))
		})
	}
}

func TestTable(t *testing.T) {
	// The seed procedure's ports and names: a change here is a change of the public contract.
	want := map[string]Component{
		"kube-proxy":              {Name: "kube-proxy", Port: 10249, PortName: "kube-proxy"},
		"kube-controller-manager": {Name: "kube-controller-manager", Port: 10257, TLS: true, PortName: "kube-ctrl-mgr"},
		"kube-scheduler":          {Name: "kube-scheduler", Port: 10259, TLS: true, PortName: "kube-scheduler"},
		"etcd":                    {Name: "etcd", Port: 2381, PortName: "etcd"},
	}
	require.Len(t, All(), len(want))
	for _, c := range All() {
		assert.Equal(t, want[c.Name], c)
		assert.LessOrEqual(t, len(c.PortName), 15, "container port names are IANA service names")
	}
	_, ok := Lookup("kubelet")
	assert.False(t, ok)
	assert.Equal(t, "127.0.0.1:10257", want["kube-controller-manager"].Upstream())
}
