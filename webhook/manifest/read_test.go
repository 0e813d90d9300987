package manifest

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/inject"
)

func TestRead(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		kinds   []string
		errDoc  int
		errText string
	}{
		{name: "empty stream", in: ""},
		{name: "one object", in: "apiVersion: v1\nkind: Service\n", kinds: []string{"Service"}},
		{name: "leading separator", in: "---\napiVersion: v1\nkind: Service\n", kinds: []string{"Service"}},
		{name: "comments-only document kept", in: "apiVersion: v1\nkind: A\n---\n# note\n---\napiVersion: v1\nkind: B\n", kinds: []string{"A", "", "B"}},
		{name: "malformed second document", in: "apiVersion: v1\nkind: A\n---\nkind: [\n", errDoc: 2, errText: "invalid YAML"},
		{name: "scalar", in: "hello\n", errDoc: 1, errText: "not a mapping"},
		{name: "missing kind", in: "apiVersion: v1\n", errDoc: 1, errText: "apiVersion and kind"},
		{name: "kind not a string", in: "apiVersion: v1\nkind: [x]\n", errDoc: 1, errText: "apiVersion and kind"},
		{name: "tab indentation", in: "apiVersion: v1\nkind: A\nmetadata:\n\tname: x\n", errDoc: 1, errText: "invalid YAML"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			docs, err := Read(strings.NewReader(tt.in))
			if tt.errDoc != 0 {
				var de *DocumentError
				require.ErrorAs(t, err, &de)
				assert.Equal(t, tt.errDoc, de.Index)
				assert.Contains(t, err.Error(), tt.errText)
				return
			}
			require.NoError(t, err)
			var kinds []string
			for i, d := range docs {
				assert.Equal(t, i+1, d.Index)
				kinds = append(kinds, d.Kind)
			}
			assert.Equal(t, tt.kinds, kinds)
		})
	}
}

func TestReadRejectsHugeDocument(t *testing.T) {
	huge := "apiVersion: v1\nkind: ConfigMap\ndata:\n  x: " + strings.Repeat("a", MaxDocumentSize) + "\n"
	_, err := Read(strings.NewReader(huge))
	var de *DocumentError
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "larger than")
}

// TestWriteKeepsPassThroughBytes: reading and writing a stream keeps every document's bytes.
func TestWriteKeepsPassThroughBytes(t *testing.T) {
	in := "apiVersion: v1\nkind: A   # comment\nmetadata: {name: a}\n---\napiVersion: v1\nkind: B\n"
	docs, err := Read(strings.NewReader(in))
	require.NoError(t, err)
	var out bytes.Buffer
	require.NoError(t, Write(&out, docs))
	assert.Equal(t, in, out.String())
}

func TestInjectErrorNamesObject(t *testing.T) {
	docs, err := Read(strings.NewReader("apiVersion: v1\nkind: A\n---\napiVersion: apps/v1\nkind: DaemonSet\n" +
		"metadata:\n  name: p\n  namespace: obs\n  annotations:\n    metrics-proxy.io/config-map: Bad_Name\n"))
	require.NoError(t, err)
	_, _, err = Inject(docs, inject.Config{}, true)
	require.True(t, errors.Is(err, inject.ErrInvalidAnnotation), err)
	assert.Contains(t, err.Error(), "document 2: DaemonSet obs/p")
	assert.Contains(t, err.Error(), `"Bad_Name"`)
}

func TestParseScraper(t *testing.T) {
	for in, ok := range map[string]bool{"monitoring/prometheus": true, "prometheus": false, "/x": false, "x/": false, "a/b/c": false} {
		ns, name, err := ParseScraper(in)
		if !ok {
			assert.Error(t, err, in)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, in, ns+"/"+name)
	}
}

// FuzzRead: no input makes Read, or Inject on what Read accepted, panic.
func FuzzRead(f *testing.F) {
	f.Add([]byte("apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: a}\nspec: {template: {spec: {containers: []}}}\n"))
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {labels: {metrics-proxy.io/config: haproxy}}\n---\n# c\n"))
	f.Add([]byte("apiVersion: apps/v1\nkind: DaemonSet\nspec: {selector: [], template: 3}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		docs, err := Read(bytes.NewReader(data))
		if err != nil {
			return
		}
		_, _, _ = Inject(docs, inject.Config{Version: "fuzz"}, true)
		_, _ = ExpandLists(docs)
	})
}
