package admission_test

import (
	"context"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// BenchmarkPodCreateThroughAPIServer creates, through the real API server, a proxy's pod (sent
// to the pod validator: its DaemonSet's metadata and its ConfigMap read and checked) and, as the
// baseline, the same pod spec that no DaemonSet controls (never sent), alternately, and reports
// the mean of each and their ratio. It needs the control plane (bin/):
//
//	go test -run '^$' -bench PodCreate -benchtime 200x ./webhook/admission
func BenchmarkPodCreateThroughAPIServer(b *testing.B) {
	if noControlPlane != nil {
		b.Skip(noControlPlane)
	}
	ctx := context.Background()
	ns := newNamespace(b, nil)
	createLabelled(b, ns, "cfg")
	ds := newProxy(ns, "proxy", "cfg")
	if err := cp.Client.Create(ctx, ds); err != nil {
		b.Fatal(err)
	}
	proxyPod := podOf(ds)
	plain := podOf(ds)
	plain.OwnerReferences = nil
	var proxyTime, plainTime time.Duration
	b.ResetTimer()
	for b.Loop() {
		for _, p := range []struct {
			pod *corev1.Pod
			d   *time.Duration
		}{{proxyPod, &proxyTime}, {plain, &plainTime}} {
			pod := p.pod.DeepCopy()
			start := time.Now()
			if err := cp.Client.Create(ctx, pod); err != nil {
				b.Fatal(err)
			}
			*p.d += time.Since(start)
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(proxyTime.Microseconds())/n/1000, "proxy-pod-ms")
	b.ReportMetric(float64(plainTime.Microseconds())/n/1000, "plain-pod-ms")
	b.ReportMetric(float64(proxyTime)/float64(plainTime), "ratio")
}
