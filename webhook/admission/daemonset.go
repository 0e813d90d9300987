package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	kjson "sigs.k8s.io/json"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// DaemonSetInjector is the mutating handler for DaemonSets: it completes them into the proxy.
type DaemonSetInjector struct {
	// Config is what the injector brings to every injection.
	Config inject.Config
	// Namespaces reads Namespaces for the Pod Security warning; nil turns the warning off.
	Namespaces client.Reader
	// ConfigMaps reads the ConfigMap the DaemonSet mounts, for the pod template's config hash
	// (uncached, like the validator's); nil leaves the hash as it is.
	ConfigMaps client.Reader
}

var _ admission.Handler = (*DaemonSetInjector)(nil)

// Handle implements admission.Handler.
func (h *DaemonSetInjector) Handle(ctx context.Context, req admission.Request) admission.Response {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return decided(ctx, req, OutcomeSkipped, "operation "+string(req.Operation), admission.Allowed(""))
	}
	var meta metav1.PartialObjectMetadata
	if err := kjson.UnmarshalCaseSensitivePreserveInts(req.Object.Raw, &meta); err != nil {
		return decided(ctx, req, OutcomeError, err.Error(), admission.Errored(http.StatusBadRequest, fmt.Errorf("decode DaemonSet: %w", err)))
	}
	if meta.Labels[names.InjectLabel] == "false" {
		return decided(ctx, req, OutcomeSkipped, "opted out by label "+names.InjectLabel, admission.Allowed(""))
	}
	cfg := h.Config
	cfg.ConfigHash = configHash(ctx, h.ConfigMaps, req.Namespace, meta.Annotations)
	out, err := inject.DaemonSetJSON(req.Object.Raw, cfg)
	switch {
	case errors.Is(err, inject.ErrInvalidAnnotation):
		msg := fmt.Sprintf("DaemonSet %s/%s: %v", req.Namespace, req.Name, err)
		return decided(ctx, req, OutcomeDenied, err.Error(), admission.Denied(msg))
	case err != nil:
		return decided(ctx, req, OutcomeError, err.Error(), admission.Errored(http.StatusBadRequest, err))
	}
	resp := admission.PatchResponseFromRaw(req.Object.Raw, out)
	if w := podSecurityWarning(ctx, h.Namespaces, req.Namespace); w != "" {
		resp = resp.WithWarnings(w)
	}
	outcome, reason := patchOutcome(resp)
	return decided(ctx, req, outcome, reason, resp)
}
