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
	"k8s.io/apimachinery/pkg/types"
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
	// ConfigHashes reads the config-hash cache (see ProxyConfigSelector) for the identity of the
	// mounted ConfigMap, and Verdicts remembers the versions found compliant: a version validated
	// before under the same policy is neither read nor validated again (see VerdictCache). Either
	// nil: every review reads and validates the ConfigMap.
	ConfigHashes client.Reader
	Verdicts     *VerdictCache
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
		cm, err := h.mountedConfigMap(ctx, p, namespace, name)
		mounted = cm
		return cm, err
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
	if len(vs) == 0 && mounted != nil && inject.IsProxyConfig(mounted) {
		h.Verdicts.remember(p, mounted) // compliant, with its DaemonSet; only labelled ones are cached
	}
	return verdict(ctx, req, "DaemonSet", vs, p)
}

// mountedConfigMap reads the ConfigMap namespace/name that the DaemonSet under review mounts, for
// policy.ValidateProxy: nil when it does not exist; policy.ErrValidated when the namespace has
// injection enabled and the config-hash cache holds the version Verdicts found compliant under p
// (labelled, then: unguardedConfig has no objection to it); else the ConfigMap read from the API
// server within LookupTimeout.
func (h DaemonSetValidator) mountedConfigMap(ctx context.Context, p *policy.Policy, namespace, name string) (*corev1.ConfigMap, error) {
	if known, err := h.validatedBefore(ctx, p, namespace, name); err != nil {
		return nil, err
	} else if known {
		configVerdictReads.WithLabelValues("cache").Inc()
		return nil, policy.ErrValidated
	}
	configVerdictReads.WithLabelValues("live").Inc()
	var cm corev1.ConfigMap
	err := bounded(ctx, LookupTimeout, "lookup", func(ctx context.Context) error {
		return h.ConfigMaps.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &cm)
	})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &cm, nil
}

// validatedBefore reports whether Verdicts found the version of the ConfigMap namespace/name that
// the config-hash cache holds compliant under p, in a namespace with injection enabled: only
// there is every write of a ConfigMap holding haproxy.cfg validated (see VerdictCache).
func (h DaemonSetValidator) validatedBefore(ctx context.Context, p *policy.Policy, namespace, name string) (bool, error) {
	if h.Verdicts == nil || h.Namespaces == nil {
		return false, nil
	}
	id, ok := cachedIdentity(ctx, h.ConfigHashes, namespace, name)
	if !ok || !h.Verdicts.compliant(p, types.NamespacedName{Namespace: namespace, Name: name}, id) {
		return false, nil
	}
	return injectionEnabled(ctx, h.Namespaces, namespace)
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
