package server_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/inject"
)

// cfg reaches this package's API server; nil when the control plane is not built (noControlPlane says why).
var (
	cfg            *rest.Config
	noControlPlane error
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	assets, err := harness.Assets()
	if err != nil {
		noControlPlane = err
		return m.Run()
	}
	env := &envtest.Environment{BinaryAssetsDirectory: assets}
	if cfg, err = env.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "start kube-apiserver and etcd: %v\n", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	return m.Run()
}

// TestFollowerServes: with leader election on and the lease held by another replica, this
// replica is a follower, yet it loads its certificate (ready), serves admission and reloads its
// policy: the runnables every replica needs do not wait for leadership.
func TestFollowerServes(t *testing.T) {
	if cfg == nil {
		testtool.Missing(t, noControlPlane.Error())
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := client.New(cfg, client.Options{})
	require.NoError(t, err)
	const leaseName = "metrics-proxy-test-leader"
	now := metav1.NewMicroTime(time.Now())
	require.NoError(t, c.Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: leaseName, Namespace: "default"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("another-replica"), LeaseDurationSeconds: ptr.To[int32](3600),
			AcquireTime: &now, RenewTime: &now},
	}))

	dir := t.TempDir()
	cert, key, err := certutil.GenerateSelfSignedCertKey("localhost", nil, nil)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, certs.CertFile), cert, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, certs.KeyFile), key, 0o600))
	policyFile := filepath.Join(dir, "policy.yaml")
	require.NoError(t, os.WriteFile(policyFile, []byte("apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\nenforcement: Deny\n"), 0o644))

	ports, err := harness.FreePorts("127.0.0.1", 3)
	require.NoError(t, err)
	probes, metrics := fmt.Sprintf("127.0.0.1:%d", ports[1]), fmt.Sprintf("127.0.0.1:%d", ports[2])
	mgr, err := server.New(cfg, server.Options{
		Inject: inject.Config{Version: "server-test"}, Host: "127.0.0.1", Port: ports[0],
		Certs: &certs.Files{Dir: dir, Interval: 100 * time.Millisecond}, PolicyFile: policyFile,
		MetricsBindAddress: metrics, HealthProbeBindAddress: probes, Logger: logr.Discard(),
		LeaderElection: true, LeaderElectionID: leaseName, LeaderElectionNamespace: "default",
	})
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()

	require.NoError(t, harness.WaitReady(ctx, "http://"+probes+"/readyz", 30*time.Second, nil),
		"a follower must load its certificate and become ready")
	select {
	case <-mgr.Elected():
		t.Fatal("the replica was elected although another holds the lease: the test proves nothing")
	default:
	}

	loaded := func() string {
		resp, err := http.Get("http://" + metrics + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		require.NoError(t, err)
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, `metrics_proxy_policy_reloads_total{result="loaded"}`) {
				return line
			}
		}
		return ""
	}
	require.NoError(t, os.WriteFile(policyFile, []byte("apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\nenforcement: Warn\n"), 0o644))
	assert.Eventually(t, func() bool { return loaded() != "" }, 30*time.Second, 100*time.Millisecond,
		"a follower must reload its policy file")
}
