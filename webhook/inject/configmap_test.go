package inject

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/names"
)

func TestConfigMap(t *testing.T) {
	labelled := map[string]string{names.ConfigLabel: names.ConfigLabelValue}
	tests := []struct {
		name    string
		cm      corev1.ConfigMap
		want    map[string]string
		wantErr string
	}{
		{name: "stub filled with all components, TLS on 10257 and 10259", cm: corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Labels: labelled}},
			want: map[string]string{names.ConfigKey: HAProxyConfigTLS(components.All(),
				[]components.Component{mustLookup(t, "kube-controller-manager"), mustLookup(t, "kube-scheduler")})}},
		{name: "stub filled with its components", cm: corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Labels: labelled,
			Annotations: map[string]string{names.ComponentsAnnotation: "etcd"}}, Data: map[string]string{"other": "x"}},
			want: map[string]string{"other": "x", names.ConfigKey: HAProxyConfig([]components.Component{mustLookup(t, "etcd")})}},
		{name: "tls none: the seed's config", cm: corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Labels: labelled,
			Annotations: map[string]string{names.TLSAnnotation: "none"}}},
			want: map[string]string{names.ConfigKey: HAProxyConfig(components.All())}},
		{name: "tls on etcd only", cm: corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Labels: labelled,
			Annotations: map[string]string{names.TLSAnnotation: "etcd"}}},
			want: map[string]string{names.ConfigKey: HAProxyConfigTLS(components.All(), []components.Component{mustLookup(t, "etcd")})}},
		{name: "tls on a component not proxied", cm: corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Labels: labelled,
			Annotations: map[string]string{names.ComponentsAnnotation: "kube-proxy", names.TLSAnnotation: "etcd"}}},
			wantErr: "component etcd is not proxied"},
		{name: "tls unknown", cm: corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Labels: labelled,
			Annotations: map[string]string{names.TLSAnnotation: "all"}}},
			wantErr: names.TLSAnnotation},
		{name: "written config kept", cm: corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Labels: labelled}, Data: map[string]string{names.ConfigKey: "mine"}},
			want: map[string]string{names.ConfigKey: "mine"}},
		{name: "unlabelled untouched", cm: corev1.ConfigMap{Data: map[string]string{"a": "b"}}, want: map[string]string{"a": "b"}},
		{name: "bad components", cm: corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Labels: labelled,
			Annotations: map[string]string{names.ComponentsAnnotation: "etcd,etcd"}}}, wantErr: names.ComponentsAnnotation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ConfigMap(&tt.cm)
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, tt.cm.Data)
		})
	}
}

func mustLookup(t *testing.T, name string) components.Component {
	c, ok := components.Lookup(name)
	require.True(t, ok)
	return c
}

// The generated default config is the seed procedure's, byte for byte.
func TestHAProxyConfigIsTheSeeds(t *testing.T) {
	want, err := os.ReadFile(filepath.Join("testdata", "seed-haproxy.cfg"))
	require.NoError(t, err)
	assert.Equal(t, string(want), HAProxyConfig(components.All()))

	// And the copy in testdata is the one in the seed document itself, where the checkout has it.
	doc, err := os.ReadFile(filepath.Join(testtool.RepoRoot(), "..", "shared", "seed", "expose-metrics-for-eks-anywhere-components.md"))
	if err != nil {
		testtool.Missing(t, "the seed document beside the repository: "+err.Error())
	}
	m := regexp.MustCompile(`(?s)haproxy\.cfg: \|\n(.*?)\n\s*EOF`).FindSubmatch(doc)
	require.NotNil(t, m, "seed document has a haproxy.cfg block")
	var lines []string
	for _, l := range strings.Split(string(m[1]), "\n") {
		lines = append(lines, strings.TrimPrefix(strings.ReplaceAll(l, `\${`, "${"), "        "))
	}
	seed := strings.TrimRight(strings.Join(lines, "\n"), "\n ") + "\n"
	assert.Equal(t, seed, string(want))
}

// Every generated config, for every subset of components, passes the real haproxy's check (2.6
// and 3.0) without a warning.
func TestHAProxyConfigPassesHAProxyCheck(t *testing.T) {
	for _, hp := range testtool.HAProxies(t) {
		haproxy := hp.Path
		for _, cs := range testtool.ComponentSubsets() {
			t.Run(hp.Branch+"/"+components.Join(cs), func(t *testing.T) {
				t.Parallel()
				file := filepath.Join(t.TempDir(), names.ConfigKey)
				require.NoError(t, os.WriteFile(file, []byte(HAProxyConfig(cs)), 0o600))
				cmd := exec.Command(haproxy, "-c", "-f", file)
				cmd.Env = append(os.Environ(), names.NodeIPEnv+"=127.0.0.1")
				out, err := cmd.CombinedOutput()
				require.NoError(t, err, "haproxy -c:\n%s", out)
				assert.NotContains(t, string(out), "WARNING", "haproxy -c warns:\n%s", out)
			})
		}
	}
}
