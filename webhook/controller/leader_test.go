package controller_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/controller"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// leaseDuration is controller-runtime's default, which serve keeps.
const leaseDuration = 15 * time.Second

// TestTwoReplicasOneLeaderTakeover: two replicas as serve assembles them (server.New with the
// controllers and leader election); one holds the Lease and runs the controllers, the other does
// not audit; when the leader stops (its pod deleted: SIGTERM), the other takes the Lease within
// the lease duration and its controllers run.
func TestTwoReplicasOneLeaderTakeover(t *testing.T) {
	needControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*rolloutTimeout)
	defer cancel()
	// Something for the auditor to report: a DaemonSet the webhook selects but never injected.
	ns := newNamespace(t, ctx, "leader", false)
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "early", Labels: map[string]string{"app": "early"}},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "early"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "early"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1"}}}}}}
	require.NoError(t, cp.Client.Create(ctx, ds))
	require.NoError(t, cp.Client.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		client.RawPatch(types.MergePatchType, []byte(`{"metadata":{"labels":{"`+names.NamespaceInjectionLabel+`":"enabled"}}}`))))

	lease := fmt.Sprintf("metrics-proxy-leader-test-%d", time.Now().UnixNano())
	replicas := make([]*replica, 2)
	for i := range replicas {
		replicas[i] = startReplica(t, ctx, fmt.Sprintf("replica-%d", i), lease)
	}
	defer func() {
		for _, r := range replicas {
			r.stop(t)
		}
	}()

	var leader, follower *replica
	select {
	case <-replicas[0].mgr.Elected():
		leader, follower = replicas[0], replicas[1]
	case <-replicas[1].mgr.Elected():
		leader, follower = replicas[1], replicas[0]
	case <-time.After(2 * leaseDuration):
		t.Fatal("no replica was elected")
	}
	first := leaseHolder(t, ctx, lease)
	require.NotEmpty(t, first)
	waitAudited(t, ctx, ns, "early", true, "the leader's auditor reports the DaemonSet")

	// The follower does not audit: the finding, removed by hand, stays removed.
	clearAudit(t, ctx, ns, "early")
	time.Sleep(3 * time.Second)
	assert.NotContains(t, getDaemonSet(t, ctx, ns, "early").Annotations[names.AuditAnnotation], replicaVersion, "only the leader audits")
	select {
	case <-follower.mgr.Elected():
		t.Fatal("both replicas are leaders")
	default:
	}

	start := time.Now()
	leader.stop(t)
	select {
	case <-follower.mgr.Elected():
	case <-time.After(leaseDuration):
		t.Fatalf("the follower did not take over within the lease duration %s", leaseDuration)
	}
	takeover := time.Since(start)
	t.Logf("takeover: %s after the leader stopped (lease duration %s)", takeover.Round(time.Millisecond), leaseDuration)
	second := leaseHolder(t, ctx, lease)
	assert.NotEmpty(t, second)
	assert.NotEqual(t, first, second, "the Lease changed hands")
	waitAudited(t, ctx, ns, "early", true, "the new leader's auditor runs")
}

// replica is one server.New manager, as one pod of the Deployment runs it.
type replica struct {
	id     string // for messages
	mgr    manager.Manager
	cancel context.CancelFunc
	done   chan error
}

func startReplica(t *testing.T, ctx context.Context, id, lease string) *replica {
	t.Helper()
	dir := t.TempDir()
	cert, key, err := certutil.GenerateSelfSignedCertKey("localhost", nil, nil)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, certs.CertFile), cert, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, certs.KeyFile), key, 0o600))
	ports, err := harness.FreePorts("127.0.0.1", 1)
	require.NoError(t, err)
	cfg := *cp.Config
	mgr, err := server.New(&cfg, server.Options{
		Inject: inject.Config{Version: replicaVersion}, Host: "127.0.0.1", Port: ports[0],
		Certs: &certs.Files{Dir: dir}, MetricsBindAddress: "0", Logger: logr.Discard(),
		LeaderElection: true, LeaderElectionID: lease, LeaderElectionNamespace: "default",
		Controllers: &controller.Options{AuditInterval: time.Hour},
	})
	require.NoError(t, err)
	rctx, cancel := context.WithCancel(ctx)
	r := &replica{id: id, mgr: mgr, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- mgr.Start(rctx) }()
	return r
}

// stop stops the replica as SIGTERM does, and waits for it; safe to call twice.
func (r *replica) stop(t *testing.T) {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		assert.NoError(t, err, r.id)
	case <-time.After(time.Minute):
		t.Errorf("%s did not stop", r.id)
	}
}

// leaseHolder returns the Lease's holder identity.
func leaseHolder(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	var l coordinationv1.Lease
	require.NoError(t, cp.Client.Get(ctx, client.ObjectKey{Namespace: "default", Name: name}, &l))
	if l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

// replicaVersion is the replicas' version, which their audit annotations carry (the package's
// own manager audits too, as testVersion).
const replicaVersion = "leader-test"

// waitAudited waits until the DaemonSet carries (or not) an audit annotation by a replica.
func waitAudited(t *testing.T, ctx context.Context, ns, name string, want bool, msg string) {
	t.Helper()
	require.Eventually(t, func() bool {
		has := strings.Contains(getDaemonSet(t, ctx, ns, name).Annotations[names.AuditAnnotation], replicaVersion)
		return has == want
	}, 30*time.Second, 100*time.Millisecond, msg)
}

// clearAudit removes the audit annotation through the status subresource, as the auditor writes it.
func clearAudit(t *testing.T, ctx context.Context, ns, name string) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]any{names.AuditAnnotation: nil}}})
	require.NoError(t, err)
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	require.NoError(t, cp.Client.Status().Patch(ctx, ds, client.RawPatch(types.MergePatchType, body)))
	waitAudited(t, ctx, ns, name, false, "the annotation is gone")
}

// TestCrashedLeaderReplacedWithinLeaseDuration: a leader that died without releasing the Lease
// (its last renewal just now) is replaced once the lease duration has passed, not before, and
// within one retry period after.
func TestCrashedLeaderReplacedWithinLeaseDuration(t *testing.T) {
	needControlPlane(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*rolloutTimeout)
	defer cancel()
	lease := fmt.Sprintf("metrics-proxy-crash-test-%d", time.Now().UnixNano())
	now := metav1.NewMicroTime(time.Now())
	require.NoError(t, cp.Client.Create(ctx, &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: lease, Namespace: "default"},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("crashed-replica"), LeaseDurationSeconds: ptr.To(int32(leaseDuration / time.Second)),
			AcquireTime: &now, RenewTime: &now},
	}))
	r := startReplica(t, ctx, "replica", lease)
	defer r.stop(t)
	select {
	case <-r.mgr.Elected():
	case <-time.After(leaseDuration + 3*retryPeriod):
		t.Fatalf("not elected within the lease duration %s plus three retry periods", leaseDuration)
	}
	took := time.Since(now.Time)
	t.Logf("takeover from a crashed leader: %s after its last renewal (lease duration %s)", took.Round(time.Millisecond), leaseDuration)
	assert.GreaterOrEqual(t, took, leaseDuration, "a live Lease was taken")
	assert.NotEqual(t, "crashed-replica", leaseHolder(t, ctx, lease))
}

// retryPeriod is controller-runtime's default leader election retry period.
const retryPeriod = 2 * time.Second
