//go:build linux

package cluster

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/image"
)

// pauseRef is the nodes' sandbox image.
const pauseRef = image.PauseRef

// CurlRef is the image of the seed's test pod: curl, sh, cat and sleep of this machine.
const CurlRef = "localhost/curl:e2e"

// buildImages writes the archives every node loads: the sandbox (pause), the proxy (HAProxy 3.0
// from bin/, the default image's branch, under the injector's default image name; Debian's 2.6
// when it is not built), kube-proxy and the test pod's curl.
func (c *Cluster) buildImages(ctx context.Context) ([]string, error) {
	dir := filepath.Join(c.dir, "images")
	pause := filepath.Join(dir, "pause")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", pause, "./e2e/image/pause")
	cmd.Dir = harness.RepoRoot()
	cmd.Env = append(cmd.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build the pause program: %w: %s", err, out)
	}
	hap, err := image.HAProxy(c.haproxyBinary())
	if err != nil {
		return nil, err
	}
	curl, err := Tools(CurlRef, "curl", "sh", "cat", "sleep")
	if err != nil {
		return nil, err
	}
	kubeProxy, err := image.KubeProxy(filepath.Join(c.o.Bin, "kube-proxy"))
	if err != nil {
		return nil, err
	}
	var files []string
	for name, spec := range map[string]image.Spec{"pause": image.Pause(pause), "haproxy": hap, "curl": curl, "kube-proxy": kubeProxy} {
		file, err := writeImage(dir, name, spec)
		if err != nil {
			return nil, err
		}
		files = append(files, file)
	}
	return files, nil
}

// Tools is an image of this machine's programs (found on PATH, at /usr/bin/NAME) with their
// libraries.
func Tools(ref string, programs ...string) (image.Spec, error) {
	spec := image.Spec{Ref: ref, Dirs: map[string]int64{"/tmp": 0o1777}}
	for _, p := range programs {
		path, err := exec.LookPath(p)
		if err != nil {
			return spec, fmt.Errorf("image %s: %w", ref, err)
		}
		files, err := image.WithLibraries(path, "/usr/bin/"+p)
		if err != nil {
			return spec, err
		}
		spec.Files = append(spec.Files, files...)
	}
	spec.Files = append(spec.Files, image.File{Path: "/bin/sh", Source: "/bin/sh"})
	return spec, nil
}

// writeImage builds spec into dir/name.tar.
func writeImage(dir, name string, spec image.Spec) (string, error) {
	img, err := image.Build(spec)
	if err != nil {
		return "", err
	}
	file := filepath.Join(dir, name+".tar")
	return file, image.WriteOCI(file, spec.Ref, img)
}

// haproxyBinary returns the haproxy the proxy image holds: bin/haproxy-3.0.* (`make haproxy`),
// else the distribution's.
func (c *Cluster) haproxyBinary() string {
	if built, _ := filepath.Glob(filepath.Join(c.o.Bin, "haproxy-3.0.*")); len(built) > 0 {
		return built[len(built)-1]
	}
	if path, err := exec.LookPath("haproxy"); err == nil {
		return path
	}
	return "/usr/sbin/haproxy"
}
