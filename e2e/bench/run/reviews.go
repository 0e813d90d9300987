package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// loadNamespace is the namespace of the AdmissionReviews of parts 2 and 4; it exists, labelled
// for injection, so that the injector's Pod Security lookup finds it as in a cluster.
const loadNamespace = "bench-load"

// reviews are the files holding the AdmissionReviews the load generator sends.
type reviews struct {
	// daemonSet is a CREATE of the DaemonSet stub as kube-apiserver sends it (sent to the
	// injector and to the no-op path);
	// configMap a CREATE of the seed's proxy ConfigMap (sent to the validator).
	daemonSet, configMap string
}

// sentStub is the DaemonSet stub as kube-apiserver sends it to a mutating webhook: defaulted,
// with its managedFields, in namespace, encoded by the Go types as kube-apiserver encodes it. It
// is kube-apiserver's answer to a server dry run of the stub's create (no webhook is installed
// yet) given a selector and template labels, which the dry run's validation requires and the
// stub has not, then taken out again.
func sentStub(ctx context.Context, cp *controlPlane, namespace string) ([]byte, error) {
	ds := stub("proxy", namespace)
	labels := map[string]string{"app": "proxy"}
	ds.Spec.Selector = &metav1.LabelSelector{MatchLabels: labels}
	ds.Spec.Template.Labels = labels
	ds.Spec.Template.Spec.Containers = []corev1.Container{{Name: "placeholder", Image: "placeholder"}}
	if err := cp.client.Create(ctx, ds, client.DryRunAll); err != nil {
		return nil, fmt.Errorf("dry-run create of the stub: %w", err)
	}
	ds.Spec.Selector, ds.Spec.Template.Labels = nil, nil
	ds.Spec.Template.Spec.Containers = []corev1.Container{}
	ds.TypeMeta = metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"}
	out, err := json.Marshal(ds)
	if err != nil {
		return nil, fmt.Errorf("encode the stub: %w", err)
	}
	return out, nil
}

// writeReviews creates the load namespace and writes the AdmissionReviews into dir.
func writeReviews(ctx context.Context, cp *controlPlane, dir string) (reviews, error) {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: loadNamespace,
		Labels: map[string]string{names.NamespaceInjectionLabel: "enabled"}}}
	if err := cp.client.Create(ctx, ns); err != nil {
		return reviews{}, fmt.Errorf("create namespace %s: %w", loadNamespace, err)
	}
	obj := &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: names.DefaultConfigMap, Namespace: loadNamespace, Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}},
		Data:       map[string]string{names.ConfigKey: inject.HAProxyConfig(components.All())},
	}
	cm, err := json.Marshal(obj)
	if err != nil {
		return reviews{}, fmt.Errorf("encode ConfigMap: %w", err)
	}
	// The stub's ConfigMap exists, as the validating webhook requires of a proxy: injection
	// hashes it.
	if err := cp.client.Create(ctx, obj); err != nil {
		return reviews{}, fmt.Errorf("create ConfigMap: %w", err)
	}
	ds, err := sentStub(ctx, cp, loadNamespace)
	if err != nil {
		return reviews{}, err
	}
	r := reviews{daemonSet: filepath.Join(dir, "review-daemonset.json"), configMap: filepath.Join(dir, "review-configmap.json")}
	for _, f := range []struct {
		file     string
		resource metav1.GroupVersionResource
		kind     metav1.GroupVersionKind
		name     string
		object   []byte
	}{
		{r.daemonSet, metav1.GroupVersionResource{Group: "apps", Version: "v1", Resource: "daemonsets"},
			metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}, "proxy", ds},
		{r.configMap, metav1.GroupVersionResource{Version: "v1", Resource: "configmaps"},
			metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}, names.DefaultConfigMap, cm},
	} {
		review := admissionv1.AdmissionReview{
			TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
			Request: &admissionv1.AdmissionRequest{UID: "00000000-0000-0000-0000-000000000001", Kind: f.kind,
				Resource: f.resource, RequestKind: &f.kind, RequestResource: &f.resource, Name: f.name,
				Namespace: loadNamespace, Operation: admissionv1.Create,
				UserInfo: authenticationv1.UserInfo{Username: "bench"}, Object: runtime.RawExtension{Raw: f.object}},
		}
		data, err := json.Marshal(review)
		if err != nil {
			return reviews{}, fmt.Errorf("encode AdmissionReview: %w", err)
		}
		if err := os.WriteFile(f.file, data, 0o600); err != nil {
			return reviews{}, fmt.Errorf("write AdmissionReview: %w", err)
		}
	}
	return r, nil
}

// checkAnswer sends the review in file to url once and checks the answer: allowed, and with a
// JSON patch when patched is set. It makes sure the load measures the work it claims to.
func checkAnswer(ctx context.Context, caData []byte, url, file string, patched bool) error {
	body, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("read review: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caData)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("check %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("check %s: %w", url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("check %s: %w", url, err)
	}
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(data, &review); err != nil || review.Response == nil {
		return fmt.Errorf("check %s: status %d, no AdmissionReview answer: %.300s", url, resp.StatusCode, data)
	}
	r := review.Response
	switch {
	case !r.Allowed:
		return fmt.Errorf("check %s: not allowed: %v", url, r.Result)
	case patched && (r.PatchType == nil || len(r.Patch) == 0):
		return fmt.Errorf("check %s: no patch in the answer", url)
	case !patched && len(r.Patch) > 0:
		return fmt.Errorf("check %s: unexpected patch", url)
	}
	return nil
}
