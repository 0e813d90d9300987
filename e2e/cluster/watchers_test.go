//go:build linux

package cluster

// Watchers of the real-node tests: each samples or watches one thing while a test acts, bounded
// in time, and returns what it saw.

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
)

// burst creates proxy stubs in the enabled namespace at a fixed interval until stopped (at most
// 1000), and keeps every failed admission.
type burst struct {
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	created int
	failed  []string
}

func createDaemonSets(ctx context.Context, c *Cluster, every time.Duration) *burst {
	ctx, cancel := context.WithCancel(ctx)
	b := &burst{cancel: cancel}
	b.wg.Go(func() {
		tick := time.NewTicker(every)
		defer tick.Stop()
		for i := range 1000 {
			// The request's own context: stopping the burst never cancels a request half-way.
			rctx, rcancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err := c.Client.AppsV1().DaemonSets(lifecycleNamespace).Create(rctx, unscheduledStub(fmt.Sprintf("burst-%d", i)), metav1.CreateOptions{})
			rcancel()
			if err != nil {
				b.failed = append(b.failed, time.Now().Format("15:04:05.000")+" "+err.Error())
			} else {
				b.created++
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return b
}

// stop ends the burst and returns how many were created and the failures.
func (b *burst) stop() (int, []string) {
	b.cancel()
	b.wg.Wait()
	return b.created, b.failed
}

// deletionWatch records, in order, the deletion of the webhook configurations, the webhook's
// Service and its Deployment.
type deletionWatch struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	order  []string
}

func watchDeletions(ctx context.Context, t *testing.T, c *Cluster) *deletionWatch {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	d := &deletionWatch{cancel: cancel}
	byName := metav1.ListOptions{FieldSelector: "metadata.name=" + WebhookConfiguration}
	watches := map[string]func() (watch.Interface, error){
		"MutatingWebhookConfiguration": func() (watch.Interface, error) {
			return c.Client.AdmissionregistrationV1().MutatingWebhookConfigurations().Watch(ctx, byName)
		},
		"ValidatingWebhookConfiguration": func() (watch.Interface, error) {
			return c.Client.AdmissionregistrationV1().ValidatingWebhookConfigurations().Watch(ctx, byName)
		},
		"Service": func() (watch.Interface, error) {
			return c.Client.CoreV1().Services(WebhookNamespace).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=metrics-proxy-webhook"})
		},
		"Deployment": func() (watch.Interface, error) {
			return c.Client.AppsV1().Deployments(WebhookNamespace).Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + WebhookDeployment})
		},
	}
	for kind, open := range watches {
		w, err := open()
		require.NoError(t, err)
		d.wg.Go(func() {
			defer w.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case ev, ok := <-w.ResultChan():
					if !ok {
						return
					}
					if ev.Type == watch.Deleted {
						d.mu.Lock()
						d.order = append(d.order, kind)
						d.mu.Unlock()
					}
				}
			}
		})
	}
	return d
}

// stop ends the watches and returns the kinds in the order of their deletion.
func (d *deletionWatch) stop() []string {
	d.cancel()
	d.wg.Wait()
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.order
}

// endpointWatch records the changes of the webhook Service's EndpointSlices, with the time.
type endpointWatch struct {
	stopWatch func()
	done      chan struct{}
	lines     []string
}

func watchEndpoints(ctx context.Context, t *testing.T, c *Cluster) *endpointWatch {
	t.Helper()
	w, err := c.Client.DiscoveryV1().EndpointSlices(WebhookNamespace).Watch(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/service-name=metrics-proxy-webhook"})
	require.NoError(t, err)
	ew := &endpointWatch{stopWatch: w.Stop, done: make(chan struct{})}
	go func() {
		defer close(ew.done)
		for ev := range w.ResultChan() {
			es, ok := ev.Object.(*discoveryv1.EndpointSlice)
			if !ok {
				continue
			}
			var eps []string
			for _, e := range es.Endpoints {
				state := func(b *bool) string {
					if b == nil {
						return "?"
					}
					return fmt.Sprint(*b)
				}
				pod := ""
				if e.TargetRef != nil {
					pod = e.TargetRef.Name
				}
				eps = append(eps, fmt.Sprintf("%s %v ready=%s serving=%s terminating=%s", pod, e.Addresses,
					state(e.Conditions.Ready), state(e.Conditions.Serving), state(e.Conditions.Terminating)))
			}
			ew.lines = append(ew.lines, fmt.Sprintf("  %s %s: %s", time.Now().Format("15:04:05.000"), ev.Type, strings.Join(eps, "; ")))
		}
	}()
	return ew
}

// stop ends the watch and returns what it saw.
func (ew *endpointWatch) stop() string {
	ew.stopWatch()
	<-ew.done
	return strings.Join(ew.lines, "\n")
}

// ruleWatch samples, every 250 ms, the pod addresses that kube-proxy's iptables rules on a node
// send the webhook Service to (its KUBE-SEP DNAT rules), and records each change with the time.
type ruleWatch struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	lines  []string
}

func watchProxyRules(ctx context.Context, n *Node) *ruleWatch {
	ctx, cancel := context.WithCancel(ctx)
	w := &ruleWatch{cancel: cancel}
	w.wg.Go(func() {
		last := ""
		for range 2400 { // 10 minutes at most
			out, err := n.Run(ctx, "iptables-save", "-t", "nat")
			if err == nil {
				var to []string
				for _, line := range strings.Split(out, "\n") {
					if strings.Contains(line, WebhookNamespace+"/metrics-proxy-webhook") && strings.Contains(line, "--to-destination") {
						to = append(to, line[strings.Index(line, "--to-destination")+len("--to-destination "):])
					}
				}
				sort.Strings(to)
				if now := strings.Join(to, " "); now != last {
					w.lines = append(w.lines, fmt.Sprintf("  %s %s", time.Now().Format("15:04:05.000"), now))
					last = now
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	})
	return w
}

// stop ends the sampling and returns the changes.
func (w *ruleWatch) stop() string {
	w.cancel()
	w.wg.Wait()
	return strings.Join(w.lines, "\n")
}

// writeCount counts the writes to a DaemonSet outside its status, seen on a watch: every event
// whose generation, labels or annotations differ from the previous one (the daemonset
// controller only writes the status).
type writeCount struct {
	stopWatch func()
	done      chan struct{}
	n         int
	what      []string
}

func countWrites(ctx context.Context, t *testing.T, c *Cluster, ns, name string) *writeCount {
	t.Helper()
	ds, err := c.Client.AppsV1().DaemonSets(ns).Get(ctx, name, metav1.GetOptions{})
	require.NoError(t, err)
	w, err := c.Client.AppsV1().DaemonSets(ns).Watch(ctx, metav1.ListOptions{
		FieldSelector: "metadata.name=" + name, ResourceVersion: ds.ResourceVersion})
	require.NoError(t, err)
	wc := &writeCount{stopWatch: w.Stop, done: make(chan struct{})}
	go func() {
		defer close(wc.done)
		prev := ds
		for ev := range w.ResultChan() {
			cur, ok := ev.Object.(*appsv1.DaemonSet)
			if !ok || ev.Type != watch.Modified {
				continue
			}
			if cur.Generation != prev.Generation || fmt.Sprint(cur.Labels) != fmt.Sprint(prev.Labels) ||
				fmt.Sprint(cur.Annotations) != fmt.Sprint(prev.Annotations) {
				wc.n++
				wc.what = append(wc.what, fmt.Sprintf("generation %d->%d by %s", prev.Generation, cur.Generation, lastManager(cur)))
			}
			prev = cur
		}
	}()
	return wc
}

// stop ends the watch and returns the count and what each write was.
func (wc *writeCount) stop() (int, []string) {
	wc.stopWatch()
	<-wc.done
	return wc.n, wc.what
}

// lastManager is the field manager of the latest managed-fields entry outside the status.
func lastManager(ds *appsv1.DaemonSet) string {
	var last metav1.ManagedFieldsEntry
	for _, e := range ds.ManagedFields {
		if e.Subresource == "" && (last.Time == nil || (e.Time != nil && !e.Time.Before(last.Time))) {
			last = e
		}
	}
	return last.Manager
}

// readyWatch samples, every 100 ms, how many nodes have no Ready, undeleted pod of a DaemonSet
// (its pods selected by selector) or nothing listening on the node's IP and port, and keeps the worst count and the changes.
type readyWatch struct {
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// worstReady counts nodes without a Ready pod (what the daemonset controller bounds),
	// worstServing also those whose Ready pod does not accept connections yet.
	worstReady, worstServing int
	timeline                 []string
}

func watchReady(ctx context.Context, c *Cluster, ns, selector string, port int) *readyWatch {
	ctx, cancel := context.WithCancel(ctx)
	w := &readyWatch{cancel: cancel}
	start := time.Now()
	w.wg.Go(func() {
		last := ""
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for range 6000 { // 10 minutes at most
			pods, err := c.Client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
			if err == nil {
				serving := map[string]bool{}
				for _, p := range pods.Items {
					if p.DeletionTimestamp == nil && ready(&p) {
						serving[p.Spec.NodeName] = true
					}
				}
				var notReady, notServing []string
				for _, n := range c.Nodes {
					if !serving[n.Name] {
						notReady = append(notReady, n.Name)
					}
					if !serving[n.Name] || !listening(n.IP, port) {
						notServing = append(notServing, n.Name)
					}
				}
				sort.Strings(notReady)
				sort.Strings(notServing)
				w.worstReady = max(w.worstReady, len(notReady))
				w.worstServing = max(w.worstServing, len(notServing))
				if now := strings.Join(notReady, ",") + " / " + strings.Join(notServing, ","); now != last {
					w.timeline = append(w.timeline, fmt.Sprintf("  %5.1fs without a Ready proxy: [%s]; without one accepting connections: [%s]",
						time.Since(start).Seconds(), strings.Join(notReady, ","), strings.Join(notServing, ",")))
					last = now
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
	return w
}

// stop ends the sampling and returns the worst counts and the timeline.
func (w *readyWatch) stop() (worstReady, worstServing int, timeline string) {
	w.cancel()
	w.wg.Wait()
	return w.worstReady, w.worstServing, strings.Join(w.timeline, "\n")
}
