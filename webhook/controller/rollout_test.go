package controller_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// rolloutTimeout bounds every wait of these tests.
const rolloutTimeout = 90 * time.Second

// TestConfigEditRollsProxyOneNodeAtATime: a proxy injected by the webhook carries the config
// hash of its ConfigMap from the start (no write of ours); a policy-compliant edit of the
// ConfigMap (etcd removed) makes the controller write the new hash once, and the real daemonset
// controller replaces the pod on every node, never leaving more than one node without a Ready
// proxy. Each pod runs a real haproxy on its node's IP with the config of its start: etcd's
// port is open on every node before the edit and closed on every node after the rollout, while
// the other frontends still deny all but /metrics. After the rollout, nothing more is written.
func TestConfigEditRollsProxyOneNodeAtATime(t *testing.T) {
	needControlPlane(t)
	if haproxyPath == "" {
		testtool.Missing(t, "haproxy not installed (apt-get install haproxy)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*rolloutTimeout)
	defer cancel()
	ns := newNamespace(t, ctx, "rollout", true)
	proxies.serve(ns)
	cm := createProxyConfig(t, ctx, ns, "metrics-proxy", "")
	ds := createStub(t, ctx, ns, "proxy", nil)

	assert.Equal(t, inject.ConfigHash(cm), inject.TemplateConfigHash(ds), "the webhook sets the hash at injection time")
	require.NotEmpty(t, inject.TemplateConfigHash(ds))
	old := waitRolledOut(t, ctx, ns, "proxy", inject.ConfigHash(cm))
	require.Len(t, old, len(testNodes), "one proxy pod per node, the control-plane node included")
	assert.Zero(t, writer.writes("patch", ns, "proxy"), "a freshly injected proxy needs no write of the controller")

	etcd, _ := components.Lookup("etcd")
	for node, ip := range nodeIPs {
		assert.True(t, listening(ip, int(etcd.Port)), "etcd's frontend on %s (%s) before the edit", node, ip)
		assert.Equal(t, http.StatusForbidden, status(t, ip, "/configz"), "the proxy on %s denies /configz", node)
	}

	watch := watchServing(ctx, ns, "proxy")
	gen := ds.Generation
	cm.Data[names.ConfigKey] = inject.HAProxyConfig(components.All()[:3]) // etcd removed
	require.NotContains(t, cm.Data[names.ConfigKey], fmt.Sprint(2381), "the edit removes etcd")
	require.NoError(t, cp.Client.Update(ctx, cm), "the policy admits the edit")
	want := inject.ConfigHash(cm)

	rolled := waitRolledOut(t, ctx, ns, "proxy", want)
	for node, pod := range rolled {
		assert.NotEqual(t, old[node].UID, pod.UID, "the pod on %s was replaced", node)
	}
	for node, ip := range nodeIPs {
		assert.False(t, listening(ip, int(etcd.Port)), "etcd's frontend on %s (%s) after the rollout", node, ip)
		assert.Equal(t, http.StatusForbidden, status(t, ip, "/configz"), "the new proxy on %s still denies /configz", node)
	}
	time.Sleep(3 * time.Second) // anything the controller would still write, it writes now
	worst, timeline := watch.stop()
	t.Logf("config edit: %d write(s) by the controller, generation %d -> %d; at most %d node(s) without a Ready proxy at once; timeline:\n%s",
		writer.writes("patch", ns, "proxy"), gen, getDaemonSet(t, ctx, ns, "proxy").Generation, worst, timeline)
	assert.Equal(t, 1, writer.writes("patch", ns, "proxy"), "one write per change")
	assert.Equal(t, gen+1, getDaemonSet(t, ctx, ns, "proxy").Generation, "one template change per config change")
	assert.Equal(t, 1, worst, "at most one node without a proxy at a time, and the rollout took one down")
}

// status is the status code of GET http://ip:10249/path, through the node's proxy.
func status(t *testing.T, ip, path string) int {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get("http://" + ip + ":10249" + path)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// newNamespace creates a namespace named after prefix, labelled for injection when enabled.
func newNamespace(t *testing.T, ctx context.Context, prefix string, enabled bool) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-"}}
	if enabled {
		ns.Labels = map[string]string{names.NamespaceInjectionLabel: "enabled"}
	}
	require.NoError(t, cp.Client.Create(ctx, ns))
	t.Cleanup(func() { removeWorkloads(t, ns.Name) })
	return ns.Name
}

// removeWorkloads deletes the namespace's DaemonSets and their pods: no garbage collector or
// namespace controller runs, and proxies of other tests would hold the nodes' host ports.
func removeWorkloads(t *testing.T, ns string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	assert.NoError(t, cp.Client.DeleteAllOf(ctx, &appsv1.DaemonSet{}, client.InNamespace(ns)))
	assert.Eventually(t, func() bool {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false
		}
		for _, p := range pods.Items {
			_ = cs.CoreV1().Pods(ns).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: ptr.To[int64](0)})
		}
		return len(pods.Items) == 0
	}, 30*time.Second, 200*time.Millisecond, "pods of %s not gone", ns)
}

// createProxyConfig creates a labelled proxy ConfigMap; empty text lets the webhook fill it.
func createProxyConfig(t *testing.T, ctx context.Context, ns, name, text string) *corev1.ConfigMap {
	t.Helper()
	// All-HTTP frontends (tls none): the played data plane runs haproxy without the pod's
	// certificate volume.
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
		Labels:      map[string]string{names.ConfigLabel: names.ConfigLabelValue},
		Annotations: map[string]string{names.TLSAnnotation: names.TLSNone}}}
	if text != "" {
		cm.Data = map[string]string{names.ConfigKey: text}
	}
	require.NoError(t, cp.Client.Create(ctx, cm))
	require.Contains(t, cm.Data, names.ConfigKey)
	return cm
}

// createStub creates a DaemonSet stub with the given labels.
func createStub(t *testing.T, ctx context.Context, ns, name string, lbls map[string]string) *appsv1.DaemonSet {
	t.Helper()
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: lbls},
		Spec: appsv1.DaemonSetSpec{
			Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": name}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": name}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{}}}}}
	require.NoError(t, cp.Client.Create(ctx, ds))
	return ds
}

// getDaemonSet reads a DaemonSet from the API server.
func getDaemonSet(t *testing.T, ctx context.Context, ns, name string) *appsv1.DaemonSet {
	t.Helper()
	ds, err := cs.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	return ds
}

// waitRolledOut waits until the DaemonSet's template carries hash and the daemonset controller
// reports every node's pod updated and available, and returns the Ready pods by node.
func waitRolledOut(t *testing.T, ctx context.Context, ns, name, hash string) map[string]corev1.Pod {
	t.Helper()
	var byNode map[string]corev1.Pod
	var state string
	ok := assert.Eventually(t, func() bool {
		ds := getDaemonSet(t, ctx, ns, name)
		st := ds.Status
		state = fmt.Sprintf("hash %q, generation %d observed %d, desired %d updated %d available %d",
			inject.TemplateConfigHash(ds), ds.Generation, st.ObservedGeneration, st.DesiredNumberScheduled, st.UpdatedNumberScheduled, st.NumberAvailable)
		if inject.TemplateConfigHash(ds) != hash || st.ObservedGeneration != ds.Generation || int(st.DesiredNumberScheduled) != len(testNodes) ||
			st.UpdatedNumberScheduled != st.DesiredNumberScheduled || st.NumberAvailable != st.DesiredNumberScheduled {
			return false
		}
		var err error
		if byNode, err = readyPods(ctx, ns, ds); err != nil {
			return false
		}
		for _, p := range byNode {
			if p.Annotations[names.ConfigHashAnnotation] != hash {
				return false
			}
		}
		return len(byNode) == len(testNodes)
	}, rolloutTimeout, 200*time.Millisecond)
	require.True(t, ok, "DaemonSet %s/%s not rolled out to hash %s: %s", ns, name, hash, state)
	return byNode
}

// readyPods returns the DaemonSet's Ready pods by node.
func readyPods(ctx context.Context, ns string, ds *appsv1.DaemonSet) (map[string]corev1.Pod, error) {
	pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: labels.Set(ds.Spec.Selector.MatchLabels).String()})
	if err != nil {
		return nil, err
	}
	out := map[string]corev1.Pod{}
	for _, p := range pods.Items {
		if podReady(&p) {
			out[p.Spec.NodeName] = p
		}
	}
	return out, nil
}

// servingWatch samples, every 50 ms, how many nodes have no Ready proxy pod.
type servingWatch struct {
	cancel   context.CancelFunc
	done     chan struct{}
	mu       sync.Mutex
	worst    int
	timeline []string
}

func watchServing(ctx context.Context, ns, name string) *servingWatch {
	ctx, cancel := context.WithCancel(ctx)
	w := &servingWatch{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(w.done)
		last := ""
		start := time.Now()
		for ctx.Err() == nil {
			ds, err := cs.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
			var ready map[string]corev1.Pod
			if err == nil {
				ready, err = readyPods(ctx, ns, ds)
			}
			if err == nil { // a failed read is no sample
				var down []string
				for _, n := range testNodes {
					if _, ok := ready[n]; !ok {
						down = append(down, n)
					}
				}
				sort.Strings(down)
				w.mu.Lock()
				w.worst = max(w.worst, len(down))
				if s := fmt.Sprint(down); s != last {
					w.timeline = append(w.timeline, fmt.Sprintf("  %6.2fs without a Ready proxy: %v", time.Since(start).Seconds(), down))
					last = s
				}
				w.mu.Unlock()
			}
			select {
			case <-ctx.Done():
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return w
}

// stop ends the sampling and returns the most nodes seen down at once, and the changes.
func (w *servingWatch) stop() (int, string) {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	out := ""
	for _, l := range w.timeline {
		out += l + "\n"
	}
	return w.worst, out
}
