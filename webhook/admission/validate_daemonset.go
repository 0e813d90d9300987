package admission

import (
	"context"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	kjson "sigs.k8s.io/json"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// DaemonSetValidator is the validating handler for proxy DaemonSets: the DaemonSet itself and
// the ConfigMap it mounts, read from the API server.
type DaemonSetValidator struct {
	// Policies gives the policy in force.
	Policies PolicySource
	// ConfigMaps reads the mounted ConfigMap; an uncached reader, so that a ConfigMap applied
	// just before its DaemonSet is found.
	ConfigMaps client.Reader
	// Namespaces reads the DaemonSet's namespace labels (a cached reader will do).
	Namespaces client.Reader
	// LiveNamespaces reads a namespace's labels from the API server, for the rare review that
	// must not trail it (a status annotation that does not match its spec); nil: Namespaces.
	LiveNamespaces client.Reader
}

var _ admission.Handler = DaemonSetValidator{}

// Handle implements admission.Handler.
func (h DaemonSetValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if err := malformedRequest(req, daemonSetKind); err != nil {
		return malformed(ctx, WebhookValidate, req, err)
	}
	p := h.Policies.Policy()
	if skip, reason := skipValidation(req, p); skip {
		return decided(ctx, WebhookValidate, req, OutcomeSkipped, reason, admission.Allowed(reason))
	}
	switch req.SubResource {
	case "":
	case "status": // only the metadata is read: no size bound on a write that changes no spec
		return statusWrite(ctx, req, p)
	default:
		err := fmt.Errorf("%w: subresource %q, this path reviews daemonsets and daemonsets/status", errMalformed, req.SubResource)
		return malformed(ctx, WebhookValidate, req, err)
	}
	if v := policy.CheckDaemonSetJSON(req.Object.Raw); v != nil {
		return verdict(ctx, req, "DaemonSet", []policy.Violation{*v}, p)
	}
	var ds appsv1.DaemonSet
	if err := kjson.UnmarshalCaseSensitivePreserveInts(req.Object.Raw, &ds); err != nil {
		err = fmt.Errorf("decode DaemonSet: %w", err)
		return decided(ctx, WebhookValidate, req, OutcomeError, err.Error(), admission.Errored(http.StatusBadRequest, err))
	}
	if ds.Namespace == "" {
		ds.Namespace = req.Namespace
	}
	old := oldMetadata(req)
	if terminatingMetadataOnly(req, old, &ds) {
		return decided(ctx, WebhookValidate, req, OutcomeSkipped, "being deleted: only finalizers or others' metadata change",
			admission.Allowed("being deleted"))
	}
	if old != nil {
		if v := policy.InjectLabelRemoved(old, &ds.ObjectMeta); v != nil {
			return verdict(ctx, req, "DaemonSet", []policy.Violation{*v}, p)
		}
	}
	if inject.OptedOut(&ds) {
		return decided(ctx, WebhookValidate, req, OutcomeSkipped, "opted out by label "+names.InjectLabel, admission.Allowed("opted out"))
	}
	forged, err := h.unwrittenStatus(ctx, old, &ds)
	if err != nil {
		return decided(ctx, WebhookValidate, req, OutcomeError, err.Error(), admission.Errored(http.StatusInternalServerError, err))
	}
	var mounted *corev1.ConfigMap
	vs, err := policy.ValidateProxy(&ds, p, func(namespace, name string) (*corev1.ConfigMap, error) {
		var cm corev1.ConfigMap
		err := bounded(ctx, LookupTimeout, "lookup", func(ctx context.Context) error {
			return h.ConfigMaps.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &cm)
		})
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		mounted = &cm
		return &cm, err
	})
	if err != nil {
		return decided(ctx, WebhookValidate, req, OutcomeError, err.Error(), admission.Errored(http.StatusInternalServerError, err))
	}
	if forged != nil {
		vs = append(vs, *forged)
	}
	if v, err := h.unguardedConfig(ctx, old, &ds, mounted); err != nil {
		return decided(ctx, WebhookValidate, req, OutcomeError, err.Error(), admission.Errored(http.StatusInternalServerError, err))
	} else if v != nil {
		vs = append(vs, *v)
	}
	return verdict(ctx, req, "DaemonSet", vs, p)
}

// unguardedConfig is the config-volume rule of unguardedConfig for a DaemonSet under review. An
// update of a proxy the injector completed earlier, not labelled metrics-proxy.io/inject=true (its
// namespace lost metrics-proxy.io/injection=enabled), that keeps its status annotation is the
// exception: the ConfigMap validator checks every ConfigMap such a proxy mounts (see
// mountedByProxy), and its updates (the rollout controller's among them) keep working. A
// DaemonSet that brings its status annotation with this write (a copy) is held to the rule.
func (h DaemonSetValidator) unguardedConfig(ctx context.Context, old *metav1.ObjectMeta, ds *appsv1.DaemonSet, cm *corev1.ConfigMap) (*policy.Violation, error) {
	if status, injected := ds.Annotations[names.StatusAnnotation]; injected && ds.Labels[names.InjectLabel] != "true" &&
		old != nil && old.Labels[names.InjectLabel] != "false" && old.Annotations[names.StatusAnnotation] == status {
		return nil, nil
	}
	return unguardedConfig(ctx, h.Namespaces, ds.Namespace, cm)
}

// unguardedConfig returns a violation when the mounted ConfigMap's later edits would escape the
// ConfigMap webhooks: outside a namespace with injection enabled a ConfigMap is checked on every
// write only when labelled metrics-proxy.io/config=haproxy, so a proxy there must mount a
// labelled one. A nil namespaces reader knows no enabled namespace.
func unguardedConfig(ctx context.Context, namespaces client.Reader, namespace string, cm *corev1.ConfigMap) (*policy.Violation, error) {
	if cm == nil || inject.IsProxyConfig(cm) {
		return nil, nil
	}
	if namespaces != nil {
		enabled, err := injectionEnabled(ctx, namespaces, namespace)
		if err != nil {
			return nil, err
		}
		if enabled {
			return nil, nil // every ConfigMap with haproxy.cfg here is validated on every write
		}
	}
	return &policy.Violation{Source: "configmap/" + cm.Name, Rule: policy.RuleConfigVolume,
		Message: fmt.Sprintf("the ConfigMap %s is not labelled %s=%s and namespace %s has no %s=enabled: "+
			"later edits of the proxy's config would not be checked", cm.Name, names.ConfigLabel,
			names.ConfigLabelValue, namespace, names.NamespaceInjectionLabel)}, nil
}

// skipValidation says why no policy applies to a request, if none does: another operation, an
// exempt namespace.
func skipValidation(req admission.Request, p *policy.Policy) (bool, string) {
	if req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return true, "operation " + string(req.Operation)
	}
	if p.Exempt(req.Namespace) {
		return true, fmt.Sprintf("namespace %q is exempt from the metrics-proxy policy", req.Namespace)
	}
	return false, ""
}
