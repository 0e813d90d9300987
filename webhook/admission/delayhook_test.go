package admission_test

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// delayHook is a validating webhook of the test's own, on DaemonSet creation in one namespace,
// that holds each review until the test releases it: the API server calls validating webhooks
// in parallel, so ours has read the mounted ConfigMap long before the DaemonSet is written.
// It widens the window between the DaemonSet validator's read and the write to etcd (a few
// milliseconds otherwise) to what a test can hit at will.
type delayHook struct {
	arrived chan struct{} // one value per review held
	release chan struct{} // one value lets one review go
}

// hold is the most a review is held when the test never releases it.
const hold = 3 * time.Second

// newDelayHook serves the hook over TLS on loopback and registers it for DaemonSets created in
// namespace ns; both go at the end of the test. It returns once the API server calls it.
func newDelayHook(t *testing.T, ns string) *delayHook {
	t.Helper()
	h := &delayHook{arrived: make(chan struct{}, 16), release: make(chan struct{}, 16)}
	srv := httptest.NewTLSServer(http.HandlerFunc(h.serve))
	t.Cleanup(srv.Close)
	url := srv.URL + "/delay"
	ignore, none, timeout := admissionregistrationv1.Ignore, admissionregistrationv1.SideEffectClassNone, int32(5)
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{GenerateName: "delay-"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "delay.test.metrics-proxy.io", AdmissionReviewVersions: []string{"v1"},
			SideEffects: &none, FailurePolicy: &ignore, TimeoutSeconds: &timeout,
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url,
				CABundle: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"},
					Resources: []string{"daemonsets"}}}},
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{corev1.LabelMetadataName: ns}},
		}},
	}
	ctx := context.Background()
	require.NoError(t, cp.Client.Create(ctx, cfg))
	t.Cleanup(func() { _ = cp.Client.Delete(ctx, cfg) })
	// The API server calls a new webhook once its informer has it: probe with dry runs.
	probe := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "delay-probe", Namespace: ns,
		Labels: map[string]string{"metrics-proxy.io/inject": "false"}},
		Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "probe"}},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "probe"}},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}}}}}
	require.Eventually(t, func() bool {
		done := make(chan struct{})
		go func() { defer close(done); _ = cp.Client.Create(ctx, probe.DeepCopy(), client.DryRunAll) }()
		defer func() { h.release <- struct{}{}; <-done; h.drain() }()
		select {
		case <-h.arrived:
			return true
		case <-time.After(500 * time.Millisecond):
			return false
		}
	}, 15*time.Second, 10*time.Millisecond, "the API server never calls the delay hook")
	return h
}

// drain forgets releases that no review took.
func (h *delayHook) drain() {
	for {
		select {
		case <-h.release:
		default:
			return
		}
	}
}

// serve holds a review until released (or hold), then admits it.
func (h *delayHook) serve(w http.ResponseWriter, r *http.Request) {
	var review admissionv1.AdmissionReview
	if err := json.NewDecoder(r.Body).Decode(&review); err != nil || review.Request == nil {
		http.Error(w, "bad review", http.StatusBadRequest)
		return
	}
	select {
	case h.arrived <- struct{}{}:
	default:
	}
	select {
	case <-h.release:
	case <-time.After(hold):
	case <-r.Context().Done():
	}
	review.Response = &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
	review.Request = nil
	_ = json.NewEncoder(w).Encode(&review)
}

// createHeld creates ds while the hook holds it, runs during once the hook holds the review
// (our validator, called in parallel, has read the ConfigMap by then: wait is given for that),
// releases it and returns the creation's error.
func (h *delayHook) createHeld(t *testing.T, ds *appsv1.DaemonSet, wait time.Duration, during func()) error {
	t.Helper()
	h.drain()
	errc := make(chan error, 1)
	go func() { errc <- cp.Client.Create(context.Background(), ds) }()
	select {
	case <-h.arrived:
		time.Sleep(wait)
		during()
		h.release <- struct{}{}
	case err := <-errc: // refused before the hook was called (a mutating webhook)
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the delay hook was not called")
	}
	return <-errc
}
