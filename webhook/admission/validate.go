package admission

import (
	"context"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	kjson "sigs.k8s.io/json"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// ConfigMapValidator is the validating handler for proxy configs.
type ConfigMapValidator struct {
	// Policies gives the policy in force.
	Policies PolicySource
}

var _ admission.Handler = ConfigMapValidator{}

// Handle implements admission.Handler.
func (h ConfigMapValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	p := h.Policies.Policy()
	if skip, resp := skipValidation(req, p); skip {
		return resp
	}
	var cm corev1.ConfigMap
	if err := kjson.UnmarshalCaseSensitivePreserveInts(req.Object.Raw, &cm); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode ConfigMap: %w", err))
	}
	return verdict(ctx, req, "ConfigMap", policy.ValidateConfigMap(&cm, p), p)
}

// DaemonSetValidator is the validating handler for proxy DaemonSets: the DaemonSet itself and
// the ConfigMap it mounts, read from the API server.
type DaemonSetValidator struct {
	// Policies gives the policy in force.
	Policies PolicySource
	// ConfigMaps reads the mounted ConfigMap; an uncached reader, so that a ConfigMap applied
	// just before its DaemonSet is found.
	ConfigMaps client.Reader
}

var _ admission.Handler = DaemonSetValidator{}

// Handle implements admission.Handler.
func (h DaemonSetValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	p := h.Policies.Policy()
	if skip, resp := skipValidation(req, p); skip {
		return resp
	}
	var ds appsv1.DaemonSet
	if err := kjson.UnmarshalCaseSensitivePreserveInts(req.Object.Raw, &ds); err != nil {
		return admission.Errored(http.StatusBadRequest, fmt.Errorf("decode DaemonSet: %w", err))
	}
	if inject.OptedOut(&ds) {
		return admission.Allowed("opted out")
	}
	if ds.Namespace == "" {
		ds.Namespace = req.Namespace
	}
	vs, err := policy.ValidateProxy(&ds, p, func(namespace, name string) (*corev1.ConfigMap, error) {
		var cm corev1.ConfigMap
		err := h.ConfigMaps.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &cm)
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return &cm, err
	})
	if err != nil {
		return admission.Errored(http.StatusInternalServerError, err)
	}
	return verdict(ctx, req, "DaemonSet", vs, p)
}

// skipValidation answers the requests no policy applies to: other operations, exempt namespaces.
func skipValidation(req admission.Request, p *policy.Policy) (bool, admission.Response) {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return true, admission.Allowed("")
	}
	if p.Exempt(req.Namespace) {
		return true, admission.Allowed(fmt.Sprintf("namespace %q is exempt from the metrics-proxy policy", req.Namespace))
	}
	return false, admission.Response{}
}
