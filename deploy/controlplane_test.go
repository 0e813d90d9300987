package deploy_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/stretchr/testify/require"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
)

// certManagerModule is the Go module whose deploy/crds the cert-manager overlay needs.
const certManagerModule = "github.com/cert-manager/cert-manager"

// controlPlane is a local kube-apiserver and etcd (envtest, binaries from bin/) with
// cert-manager's CRDs installed, reached by a client and by kubectl.
type controlPlane struct {
	cfg                 *rest.Config
	client              client.Client
	kubectl, kubeconfig string
}

// scheme knows the built-in types, cert-manager's and CRDs.
func scheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(cmapi.AddToScheme(s))
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	return s
}

// startControlPlane starts a control plane for this test and stops it when the test ends.
// Without the binaries it skips the test (fails it in CI).
func startControlPlane(t *testing.T) *controlPlane {
	t.Helper()
	assets, err := harness.Assets()
	if err != nil {
		testtool.Missing(t, err.Error())
	}
	env := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		CRDInstallOptions: envtest.CRDInstallOptions{
			Paths: []string{certManagerCRDs(t)}, ErrorIfPathMissing: true},
	}
	cfg, err := env.Start()
	if err != nil {
		_ = env.Stop() // etcd may have started
	}
	require.NoError(t, err, "start kube-apiserver and etcd")
	t.Cleanup(func() { _ = env.Stop() })

	user, err := env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	require.NoError(t, err)
	kubeconfig, err := user.KubeConfig()
	require.NoError(t, err)
	cp := &controlPlane{cfg: cfg, kubectl: filepath.Join(assets, "kubectl"),
		kubeconfig: filepath.Join(t.TempDir(), "kubeconfig")}
	require.NoError(t, os.WriteFile(cp.kubeconfig, kubeconfig, 0o600))
	cp.client, err = client.New(cfg, client.Options{Scheme: scheme()})
	require.NoError(t, err)
	return cp
}

// certManagerCRDs is the directory of cert-manager's CRDs in the module this build uses.
func certManagerCRDs(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", certManagerModule).Output()
	require.NoError(t, err, "go list -m %s", certManagerModule)
	dir := filepath.Join(strings.TrimSpace(string(out)), "deploy", "crds")
	require.DirExists(t, dir)
	return dir
}

// run runs kubectl against the control plane with stdin, bounded; it returns stdout and stderr.
func (cp *controlPlane) run(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), harness.KubectlTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, cp.kubectl, append([]string{"--kubeconfig", cp.kubeconfig}, args...)...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// poll calls f until it returns nil or timeout passes, then fails the test with f's last error.
func poll(t *testing.T, what string, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after %s: %v", what, timeout, err)
		}
		select {
		case <-t.Context().Done():
			t.Fatalf("%s: %v", what, t.Context().Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
