package image

import (
	"archive/tar"
	"bytes"
	"fmt"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one file of an image.
type File struct {
	// Path is where the file is in the image (absolute).
	Path string
	// Source is the file of this machine to copy (symlinks followed); Data is used when empty.
	Source string
	// Data is the content when Source is empty.
	Data []byte
	// Mode is the permission bits; 0755 when zero and Source is executable, else 0644.
	Mode int64
}

// Spec describes an image: its name, files and how it runs.
type Spec struct {
	// Ref is the image reference the archive carries, e.g. "localhost/pause:e2e".
	Ref string
	// Files are the image's files; parent directories are created 0755.
	Files []File
	// Dirs are extra empty directories with their modes (e.g. "/tmp": 01777).
	Dirs map[string]int64
	// Entrypoint, Cmd, Env, User and WorkingDir are the image config's.
	Entrypoint, Cmd, Env []string
	User, WorkingDir     string
}

// epoch is the time of every file in a layer, so that a layer's digest depends on content only.
var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// Build assembles the single-layer image of spec.
func Build(spec Spec) (v1.Image, error) {
	if spec.Ref == "" {
		return nil, fmt.Errorf("image: no reference")
	}
	layerTar, err := layer(spec)
	if err != nil {
		return nil, fmt.Errorf("image %s: %w", spec.Ref, err)
	}
	// An uncompressed layer: no compression cost for the control plane's 100 MB binaries, and
	// containerd unpacks it as it is.
	l := static.NewLayer(layerTar, types.OCIUncompressedLayer)
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	if img, err = mutate.AppendLayers(img, l); err != nil {
		return nil, fmt.Errorf("image %s: %w", spec.Ref, err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("image %s: config: %w", spec.Ref, err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = "amd64", "linux", v1.Time{Time: epoch}
	env := spec.Env
	if env == nil {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	cf.Config = v1.Config{Entrypoint: spec.Entrypoint, Cmd: spec.Cmd, Env: env, User: spec.User, WorkingDir: spec.WorkingDir}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, fmt.Errorf("image %s: config: %w", spec.Ref, err)
	}
	return img, nil
}

// layer writes the uncompressed layer tar of spec: directories first, then files, sorted.
func layer(spec Spec) ([]byte, error) {
	dirs := map[string]int64{}
	files := map[string]File{}
	for _, f := range spec.Files {
		p := path.Clean(f.Path)
		if !path.IsAbs(p) || p == "/" {
			return nil, fmt.Errorf("file path %q: not an absolute file path", f.Path)
		}
		if _, dup := files[p]; dup {
			continue // a library two binaries need
		}
		f.Path = p
		files[p] = f
		for d := path.Dir(p); d != "/"; d = path.Dir(d) {
			if _, ok := dirs[d]; !ok {
				dirs[d] = 0o755
			}
		}
	}
	for d, mode := range spec.Dirs {
		d = path.Clean(d)
		dirs[d] = mode
		for p := path.Dir(d); p != "/"; p = path.Dir(p) {
			if _, ok := dirs[p]; !ok {
				dirs[p] = 0o755
			}
		}
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, d := range sortedKeys(dirs) {
		hdr := &tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(d, "/") + "/", Mode: dirs[d], ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("tar: %w", err)
		}
	}
	for _, p := range sortedKeys(files) {
		f := files[p]
		data, mode := f.Data, f.Mode
		if f.Source != "" {
			var err error
			if data, err = os.ReadFile(f.Source); err != nil {
				return nil, fmt.Errorf("file %s: %w", p, err)
			}
			if mode == 0 {
				st, err := os.Stat(f.Source)
				if err != nil {
					return nil, fmt.Errorf("file %s: %w", p, err)
				}
				mode = 0o644
				if st.Mode()&0o111 != 0 {
					mode = 0o755
				}
			}
		}
		if mode == 0 {
			mode = 0o644
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(p, "/"), Mode: mode, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("tar: %w", err)
		}
		if _, err := tw.Write(data); err != nil {
			return nil, fmt.Errorf("tar: %w", err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("tar: %w", err)
	}
	return buf.Bytes(), nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
