package image

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/metrics-proxy/injector/webhook/names"
)

// HAProxyRef is the name the haproxy image carries: the injector's default proxy image, so that
// the injected DaemonSet runs it unchanged (present on the node, never pulled).
const HAProxyRef = names.DefaultImage

// PauseRef is the sandbox image of the real-node cluster.
const PauseRef = "localhost/pause:e2e"

// Pause is the sandbox image: the static program of e2e/image/pause, built to binary.
func Pause(binary string) Spec {
	return Spec{Ref: PauseRef, Files: []File{{Path: "/pause", Source: binary, Mode: 0o755}}, Entrypoint: []string{"/pause"}}
}

// HAProxy is the distribution's haproxy at binary with the libraries it needs, run the way the
// default proxy image runs it: master-worker, in the foreground, on the mounted config.
func HAProxy(binary string) (Spec, error) {
	files, err := WithLibraries(binary, "/usr/local/sbin/haproxy")
	if err != nil {
		return Spec{}, fmt.Errorf("haproxy image: %w", err)
	}
	files = append(append(files, gccRuntime(files)...), passwd()...)
	return Spec{
		Ref: HAProxyRef, Files: files,
		Dirs:       map[string]int64{"/tmp": 0o1777, "/run": 0o755, "/var/lib/haproxy": 0o755, "/usr/local/etc/haproxy": 0o755},
		Entrypoint: []string{"/usr/local/sbin/haproxy", "-W", "-db", "-f", "/usr/local/etc/haproxy/haproxy.cfg"},
	}, nil
}

// gccRuntime returns libgcc_s.so.1 from the directory of the libc among files, when it is there:
// glibc loads it at run time (dlopen, so ldd does not list it) for pthread_exit and cancellation,
// and aborts without it ("libgcc_s.so.1 must be installed for pthread_exit to work"), as
// HAProxy 3.0 in master-worker mode does at start.
func gccRuntime(files []File) []File {
	for _, f := range files {
		if filepath.Base(f.Source) != "libc.so.6" {
			continue
		}
		lib := filepath.Join(filepath.Dir(f.Source), "libgcc_s.so.1")
		if _, err := os.Stat(lib); err == nil {
			return []File{{Path: lib, Source: lib}}
		}
	}
	return nil
}

// MetricsProxy is the webhook image the Dockerfile describes, from a static binary: /metrics-proxy
// run as 65532:65532 with `serve` by default.
func MetricsProxy(binary, ref string) Spec {
	return Spec{
		Ref: ref, Files: append([]File{{Path: "/metrics-proxy", Source: binary, Mode: 0o755}}, passwd()...),
		Dirs:       map[string]int64{"/tmp": 0o1777},
		Entrypoint: []string{"/metrics-proxy"}, Cmd: []string{"serve"}, User: "65532:65532",
	}
}

// Static is an image of one static binary at /usr/local/bin/NAME, its entrypoint (the control
// plane's components as static pods).
func Static(binary, name, ref string) Spec {
	p := "/usr/local/bin/" + name
	return Spec{Ref: ref, Files: []File{{Path: p, Source: binary, Mode: 0o755}}, Dirs: map[string]int64{"/tmp": 0o1777}, Entrypoint: []string{p}}
}

// passwd is the minimal user database: root, nobody and distroless's nonroot.
func passwd() []File {
	return []File{
		{Path: "/etc/passwd", Data: []byte("root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n")},
		{Path: "/etc/group", Data: []byte("root:x:0:\nnogroup:x:65534:\nnonroot:x:65532:\n")},
	}
}

// KubeProxyRef is the kube-proxy image: the name kubeadm gives it, for the version bin/ holds.
const KubeProxyRef = "registry.k8s.io/kube-proxy:v1.37.2"

// xtablesDir holds the iptables extensions iptables loads at run time (not listed by ldd).
const xtablesDir = "/usr/lib/x86_64-linux-gnu/xtables"

// KubeProxy is kube-proxy at binary with what its iptables mode runs: this machine's iptables
// (the nf_tables multi-call binary under every name kube-proxy calls, its libraries and
// extensions) and conntrack.
func KubeProxy(binary string) (Spec, error) {
	spec := Spec{Ref: KubeProxyRef, Files: []File{{Path: "/usr/local/bin/kube-proxy", Source: binary, Mode: 0o755}},
		Dirs: map[string]int64{"/tmp": 0o1777, "/run": 0o755}, Entrypoint: []string{"/usr/local/bin/kube-proxy"}}
	multi, err := WithLibraries("/usr/sbin/xtables-nft-multi", "/usr/sbin/xtables-nft-multi")
	if err != nil {
		return spec, fmt.Errorf("kube-proxy image: %w", err)
	}
	spec.Files = append(spec.Files, multi...)
	for _, name := range []string{"iptables", "iptables-save", "iptables-restore", "ip6tables", "ip6tables-save", "ip6tables-restore"} {
		spec.Files = append(spec.Files, File{Path: "/usr/sbin/" + name, Source: "/usr/sbin/xtables-nft-multi", Mode: 0o755})
	}
	conntrack, err := WithLibraries("/usr/sbin/conntrack", "/usr/sbin/conntrack")
	if err != nil {
		return spec, fmt.Errorf("kube-proxy image: %w", err)
	}
	spec.Files = append(spec.Files, conntrack...)
	extensions, err := filepath.Glob(filepath.Join(xtablesDir, "*.so"))
	if err != nil || len(extensions) == 0 {
		return spec, fmt.Errorf("kube-proxy image: no iptables extensions in %s (package iptables)", xtablesDir)
	}
	for _, e := range extensions {
		// With their own libraries: libxt_statistic.so needs libm, without which kube-proxy
		// cannot write the rules of a Service with two endpoints or more.
		files, err := WithLibraries(e, e)
		if err != nil {
			return spec, fmt.Errorf("kube-proxy image: %w", err)
		}
		spec.Files = append(spec.Files, files...)
	}
	return spec, nil
}
