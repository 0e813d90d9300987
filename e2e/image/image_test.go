package image

import (
	"archive/tar"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseLdd(t *testing.T) {
	tests := []struct {
		name, out string
		want      []string
		err       string
	}{
		{"dynamic", "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n",
			[]string{"/lib/x86_64-linux-gnu/libc.so.6", "/lib64/ld-linux-x86-64.so.2"}, ""},
		{"static", "\tstatically linked\n", nil, ""},
		{"missing", "\tlibfoo.so.1 => not found\n", nil, "libfoo.so.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLdd(tt.out)
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestWriteOCI(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "tool")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/true\n"), 0o755))
	spec := Spec{Ref: "metrics-proxy:latest", Files: []File{{Path: "/usr/bin/tool", Source: bin}, {Path: "/etc/x", Data: []byte("x")}},
		Dirs: map[string]int64{"/tmp": 0o1777}, Entrypoint: []string{"/usr/bin/tool"}, User: "65532:65532"}
	img, err := Build(spec)
	require.NoError(t, err)
	out := filepath.Join(dir, "img.tar")
	require.NoError(t, WriteOCI(out, spec.Ref, img))

	blobs := readTar(t, out)
	var index v1.IndexManifest
	require.NoError(t, json.Unmarshal(blobs["index.json"], &index))
	require.Len(t, index.Manifests, 1)
	assert.Equal(t, "docker.io/library/metrics-proxy:latest", index.Manifests[0].Annotations[AnnotationImageName])
	var m v1.Manifest
	require.NoError(t, json.Unmarshal(blobs["blobs/sha256/"+index.Manifests[0].Digest.Hex], &m))
	var cfg v1.ConfigFile
	require.NoError(t, json.Unmarshal(blobs["blobs/sha256/"+m.Config.Digest.Hex], &cfg))
	assert.Equal(t, []string{"/usr/bin/tool"}, cfg.Config.Entrypoint)
	assert.Equal(t, "65532:65532", cfg.Config.User)
	require.Len(t, m.Layers, 1)

	assert.Equal(t, "application/vnd.oci.image.layer.v1.tar", string(m.Layers[0].MediaType))
	modes := map[string]int64{}
	tr := tar.NewReader(bytesReader(blobs["blobs/sha256/"+m.Layers[0].Digest.Hex]))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		require.NoError(t, err)
		modes[h.Name] = h.Mode
	}
	assert.Equal(t, map[string]int64{"etc/": 0o755, "tmp/": 0o1777, "usr/": 0o755, "usr/bin/": 0o755, "etc/x": 0o644, "usr/bin/tool": 0o755}, modes)

	again, err := Build(spec)
	require.NoError(t, err)
	d1, _ := img.Digest()
	d2, _ := again.Digest()
	assert.Equal(t, d1, d2, "the same files make the same image")
}

func TestBuildRejects(t *testing.T) {
	_, err := Build(Spec{Ref: "x:1", Files: []File{{Path: "relative", Data: []byte("x")}}})
	assert.ErrorContains(t, err, `"relative": not an absolute file path`)
	_, err = Build(Spec{Ref: "x:1", Files: []File{{Path: "/a", Source: "/does/not/exist"}}})
	assert.ErrorContains(t, err, "/does/not/exist")
	_, err = Build(Spec{})
	assert.ErrorContains(t, err, "no reference")
}

func TestName(t *testing.T) {
	for ref, want := range map[string]string{
		"metrics-proxy:latest": "docker.io/library/metrics-proxy:latest",
		"localhost/pause:e2e":  "localhost/pause:e2e",
		HAProxyRef:             "docker.io/library/" + HAProxyRef, // the default image is a short name
	} {
		got, err := Name(ref)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	_, err := Name("UPPER:case")
	assert.Error(t, err)
}
