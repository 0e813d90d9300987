//go:build !race

package attack

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
)

// The one control plane and server process of this package, started in TestMain.
var (
	cfg       *rest.Config
	kubectl   string
	serve     *process
	why       error // why there is none
	servePEM  []byte
	serveAddr string
)

// memoryLimit is the Deployment's container memory limit (deploy/base), given to serve as the
// downward API does.
const memoryLimit = 256 << 20

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	// The attack loads this machine on purpose: never beside the real-node cluster.
	unlock, err := testtool.MachineLock(context.Background(), 20*time.Minute)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer unlock()
	assets, err := harness.Assets()
	if err != nil {
		why = err
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "metrics-proxy-attack-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	if cfg, err = env.Start(); err != nil {
		_ = env.Stop()
		fmt.Fprintf(os.Stderr, "start kube-apiserver and etcd: %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	kubectl = filepath.Join(assets, "kubectl")
	if serve, err = startServe(env, dir); err != nil {
		fmt.Fprintf(os.Stderr, "start serve: %v\n", err)
		return 1
	}
	defer serve.stop()
	return m.Run()
}

// startServe builds metrics-proxy and runs `serve` against the control plane with a fresh
// serving certificate, the default policy and MEMORY_LIMIT, and waits until it is ready.
func startServe(env *envtest.Environment, dir string) (*process, error) {
	bin := filepath.Join(dir, "metrics-proxy")
	build := exec.Command("go", "build", "-o", bin, "./cmd/metrics-proxy")
	build.Dir = harness.RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build: %w: %s", err, out)
	}
	cert, key, err := certutil.GenerateSelfSignedCertKey("localhost", []net.IP{net.ParseIP("127.0.0.1")}, nil)
	if err != nil {
		return nil, err
	}
	certDir := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certDir, 0o700); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(certDir, certs.CertFile), cert, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(certDir, certs.KeyFile), key, 0o600); err != nil {
		return nil, err
	}
	servePEM = cert
	user, err := env.AddUser(envtest.User{Name: "serve", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, err
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return nil, err
	}
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, kc, 0o600); err != nil {
		return nil, err
	}
	ports, err := harness.FreePorts("127.0.0.1", 3)
	if err != nil {
		return nil, err
	}
	serveAddr = "127.0.0.1:" + strconv.Itoa(ports[0])
	probe := "127.0.0.1:" + strconv.Itoa(ports[1])
	p, err := startProcess(filepath.Join(dir, "serve.log"), []string{"KUBECONFIG=" + kubeconfig, "MEMORY_LIMIT=" + strconv.Itoa(memoryLimit)},
		bin, "serve", "--cert-dir", certDir, "--host", "127.0.0.1", "--port", strconv.Itoa(ports[0]),
		"--health-probe-bind-address", probe, "--metrics-bind-address", "127.0.0.1:"+strconv.Itoa(ports[2]))
	if err != nil {
		return nil, err
	}
	if err := harness.WaitReady(context.Background(), "http://"+probe+"/readyz", time.Minute, p.done); err != nil {
		p.stop()
		return nil, fmt.Errorf("serve: %w (log: %s)", err, p.log)
	}
	return p, nil
}
