package admission

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// DaemonSetInjector is the mutating handler for DaemonSets: it completes them into the proxy.
type DaemonSetInjector struct {
	// Config is what the injector brings to every injection.
	Config inject.Config
	// Namespaces reads Namespaces for the Pod Security warning (a cached reader); nil turns the
	// warning off.
	Namespaces client.Reader
	// ConfigMaps reads the ConfigMap the DaemonSet mounts, for the pod template's config hash,
	// from the API server: when ConfigHashes does not hold it, or the DaemonSet carries another
	// hash (see configHash); nil leaves the hash as it is.
	ConfigMaps client.Reader
	// ConfigHashes reads the config-hash cache (labelled ConfigMaps cut by TrimToConfigHash);
	// nil: every hash is read live.
	ConfigHashes client.Reader
	// Secrets reads the frontend certificate Secret (metrics-proxy.io/tls-secret) the hash
	// includes (serve --tls-secret-rollout); nil: the hash is the ConfigMap's alone.
	Secrets client.Reader
}

var _ admission.Handler = (*DaemonSetInjector)(nil)

// Handle implements admission.Handler.
func (h *DaemonSetInjector) Handle(ctx context.Context, req admission.Request) admission.Response {
	if err := malformedRequest(req, daemonSetKind); err != nil {
		return malformed(ctx, WebhookMutate, req, err)
	}
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return decided(ctx, WebhookMutate, req, OutcomeSkipped, "operation "+string(req.Operation), admission.Allowed(""))
	}
	if v := policy.CheckDaemonSetJSON(req.Object.Raw); v != nil {
		msg := fmt.Sprintf("DaemonSet %s/%s: %s", req.Namespace, req.Name, v)
		return decided(ctx, WebhookMutate, req, OutcomeDenied, v.String(), admission.Denied(msg))
	}
	// One decode of the DaemonSet serves the opt-out, the not-a-proxy note, the config hash
	// look-up and injection.
	var warnings []string
	injected := false
	res, err := inject.DaemonSetTree(req.Object.Raw, func(ds *appsv1.DaemonSet) (inject.Config, error) {
		if ds.DeletionTimestamp != nil && beingDeleted(req) {
			return inject.Config{}, errBeingDeleted
		}
		injected = true
		warnings = notAProxy(ds, req.Namespace, req.Name)
		cfg := h.Config
		cfg.ConfigHash = h.configHash(ctx, req.Namespace, ds)
		return cfg, nil
	})
	if err == nil && !injected {
		return decided(ctx, WebhookMutate, req, OutcomeSkipped, "opted out by label "+names.InjectLabel, admission.Allowed(""))
	}
	if errors.Is(err, errBeingDeleted) { // no pod of it runs again; its deletion must finish
		return decided(ctx, WebhookMutate, req, OutcomeSkipped, "being deleted", admission.Allowed(""))
	}
	switch {
	case errors.Is(err, inject.ErrInvalidAnnotation):
		msg := fmt.Sprintf("DaemonSet %s/%s: %v", req.Namespace, req.Name, err)
		return decided(ctx, WebhookMutate, req, OutcomeDenied, err.Error(), admission.Denied(msg))
	case err != nil:
		return decided(ctx, WebhookMutate, req, OutcomeError, err.Error(), admission.Errored(http.StatusBadRequest, err))
	}
	resp := patchResponse(&res)
	if !resp.Allowed {
		return decided(ctx, WebhookMutate, req, OutcomeError, resp.Result.Message, resp)
	}
	warnings = append(warnings, res.Notes...)
	if w := podSecurityWarning(ctx, h.Namespaces, req.Namespace); w != "" {
		warnings = append(warnings, w)
	}
	if len(warnings) > 0 {
		resp = resp.WithWarnings(warnings...)
	}
	outcome, reason := patchOutcome(resp)
	return decided(ctx, WebhookMutate, req, outcome, reason, resp)
}

// errBeingDeleted stops the injection of a DaemonSet being deleted.
var errBeingDeleted = errors.New("being deleted")

// beingDeleted reports whether req updates a DaemonSet whose stored object is being deleted.
// The deletionTimestamp of the object under review alone says nothing: a create through
// server-side apply carries the one its writer set into admission (the API server clears it only
// after), and that DaemonSet must be injected like any other.
func beingDeleted(req admission.Request) bool {
	old := oldMetadata(req)
	return old != nil && old.DeletionTimestamp != nil
}

// notAProxy warns about a DaemonSet selected only by its namespace's label (it has no
// metrics-proxy.io/inject: "true" of its own) that does not look like a proxy: injection turns a
// workload such as node-exporter into one (see inject.IsProxy). ds is the DaemonSet as
// reviewed, before injection; it is not changed.
func notAProxy(ds *appsv1.DaemonSet, namespace, name string) []string {
	if ds.Labels[names.InjectLabel] == "true" || inject.IsProxy(ds) {
		return nil
	}
	named := *ds
	named.Namespace, named.Name = namespace, name
	return []string{inject.NotAProxyNote(&named)}
}
