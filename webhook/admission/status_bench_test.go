package admission_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/names"
)

// statusEntry is the validating entry for daemonsets/status in deploy/base.
const statusEntry = "status.daemonsets.validate.metrics-proxy.io"

// BenchmarkStatusWriteThroughAPIServer: what the daemonsets/status entry costs the writes it
// exists to let through, the DaemonSet controller's (a status update that keeps the metadata),
// through the real kube-apiserver: its match condition runs in the API server on every status
// write, and never calls the server. Each size runs without the entry first (baseline: the
// entry removed from the ValidatingWebhookConfiguration), then with it; compare the ns/op of
// the two lines. keys is the number of labels and annotations of ours on the DaemonSet.
//
//	go test ./webhook/admission -run '^$' -bench StatusWrite -benchtime 200x
func BenchmarkStatusWriteThroughAPIServer(b *testing.B) {
	if noControlPlane != nil {
		b.Skip(noControlPlane.Error())
	}
	ctx := context.Background()
	ns := newNamespaceB(b)
	kubectlB(b, manifestOf(ordinary, "keys2", ns, names.InjectLabel+`: "false"`))
	b.Cleanup(func() { setStatusEntry(b, ns, "keys2", true) }) // even after a failure
	for _, keys := range []int{2, 2000} {
		name := fmt.Sprintf("keys%d", keys)
		kubectlB(b, manifestOf(ordinary, name, ns, names.InjectLabel+`: "false"`))
		var labels []string
		for i := range keys {
			labels = append(labels, fmt.Sprintf(`"%sl%05d":"v"`, names.Prefix, i))
		}
		ds := getDaemonSet(b, ns, name)
		if err := cp.Client.Patch(ctx, ds, client.RawPatch(types.MergePatchType,
			[]byte(`{"metadata":{"labels":{`+strings.Join(labels, ",")+`}}}`))); err != nil {
			b.Fatal(err)
		}
		for _, with := range []bool{false, true} {
			label := "without-status-entry-baseline"
			if with {
				label = "with-status-entry"
			}
			b.Run(fmt.Sprintf("keys=%d/%s", keys, label), func(b *testing.B) {
				setStatusEntry(b, ns, name, with)
				ds := getDaemonSet(b, ns, name)
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					ds.Status.NumberReady = int32(i % 7)
					ds.Status.ObservedGeneration = ds.Generation
					if err := cp.Client.Status().Update(ctx, ds); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// setStatusEntry removes the status entry from the validating configuration, or puts it back,
// and waits until the API server applies it: a status write changing a label of ours on the
// DaemonSet ns/name is refused with the entry, stored (and reverted) without.
func setStatusEntry(b *testing.B, ns, name string, want bool) {
	b.Helper()
	ctx := context.Background()
	var vwc admissionregistrationv1.ValidatingWebhookConfiguration
	if err := cp.Client.Get(ctx, client.ObjectKey{Name: "metrics-proxy"}, &vwc); err != nil {
		b.Fatal(err)
	}
	var kept []admissionregistrationv1.ValidatingWebhook
	var entry *admissionregistrationv1.ValidatingWebhook
	for i := range vwc.Webhooks {
		if vwc.Webhooks[i].Name == statusEntry {
			entry = &vwc.Webhooks[i]
			continue
		}
		kept = append(kept, vwc.Webhooks[i])
	}
	if entry == nil {
		entry = removedStatusEntry
	}
	if entry == nil {
		b.Fatal("no status entry to put back")
	}
	removedStatusEntry = entry.DeepCopy()
	if want {
		kept = append(kept, *entry)
	}
	vwc.Webhooks = kept
	if err := cp.Client.Update(ctx, &vwc); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ds := getDaemonSet(b, ns, name)
		err := cp.Client.Status().Patch(ctx, ds, client.RawPatch(types.MergePatchType,
			[]byte(`{"metadata":{"labels":{"`+names.InjectLabel+`":"probe"}}}`)))
		if err == nil {
			ds = getDaemonSet(b, ns, name)
			if err := cp.Client.Status().Patch(ctx, ds, client.RawPatch(types.MergePatchType,
				[]byte(`{"metadata":{"labels":{"`+names.InjectLabel+`":"false"}}}`))); err != nil && !want {
				b.Fatal(err)
			}
		}
		if (err != nil) == want {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("the API server never applied the status entry (want %v)", want)
}

// removedStatusEntry is the status entry while a baseline runs without it.
var removedStatusEntry *admissionregistrationv1.ValidatingWebhook

// newNamespaceB creates a namespace for a benchmark, deleted after it.
func newNamespaceB(b *testing.B) string {
	b.Helper()
	ns := fmt.Sprintf("bench-status-%d", time.Now().UnixNano())
	kubectlB(b, "apiVersion: v1\nkind: Namespace\nmetadata: {name: "+ns+"}\n")
	b.Cleanup(func() { _, _, _ = cp.Kubectl(context.Background(), "", "delete", "namespace", ns, "--wait=false") })
	return ns
}

// kubectlB applies stdin with the real kubectl.
func kubectlB(b *testing.B, stdin string) {
	b.Helper()
	if _, stderr, err := cp.Kubectl(context.Background(), stdin, "apply", "-f", "-"); err != nil {
		b.Fatalf("kubectl apply: %v: %s", err, stderr)
	}
}
