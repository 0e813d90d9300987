package admission

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	kjson "sigs.k8s.io/json"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// ConfigMapValidator is the validating handler for proxy configs. The API server sends it
// ConfigMaps labelled metrics-proxy.io/config=haproxy (also when an update removes the label) and
// every other ConfigMap that holds haproxy.cfg. It checks a labelled one always, and another one
// when a proxy may mount it: in a namespace with injection enabled, or when a proxy DaemonSet in
// its namespace (labelled metrics-proxy.io/inject=true, or injected earlier) mounts it.
type ConfigMapValidator struct {
	// Policies gives the policy in force.
	Policies PolicySource
	// Namespaces reads a namespace's labels (a cached reader will do); nil: no namespace is enabled.
	Namespaces client.Reader
	// DaemonSets finds the DaemonSets that mount a ConfigMap: a cache with the
	// IndexMountedConfigMaps index (see IndexDaemonSets); nil: no DaemonSet mounts anything.
	DaemonSets client.Reader
	// Live confirms from the API server that no proxy mounts a ConfigMap when DaemonSets found
	// none (the cache trails the API server); nil: the cache's answer is final.
	Live *LiveDaemonSets
}

var _ admission.Handler = ConfigMapValidator{}

// Handle implements admission.Handler.
func (h ConfigMapValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if err := malformedRequest(req, configMapKind); err != nil {
		return malformed(ctx, WebhookValidate, req, err)
	}
	p := h.Policies.Policy()
	if skip, reason := skipValidation(req, p); skip {
		return decided(ctx, WebhookValidate, req, OutcomeSkipped, reason, admission.Allowed(reason))
	}
	if v := policy.CheckNesting(req.Object.Raw); v != nil {
		return verdict(ctx, req, "ConfigMap", []policy.Violation{*v}, p)
	}
	cm, old, err := decodeConfigMaps(req)
	if err != nil {
		return decided(ctx, WebhookValidate, req, OutcomeError, err.Error(), admission.Errored(http.StatusBadRequest, err))
	}
	if cm.Namespace == "" {
		cm.Namespace = req.Namespace
	}
	if _, holds := policy.ConfigText(cm); holds && !inject.IsProxyConfig(cm) && (old == nil || !inject.IsProxyConfig(old)) {
		mounted, err := h.mayBeMounted(ctx, cm)
		if err != nil {
			return decided(ctx, WebhookValidate, req, OutcomeError, err.Error(), admission.Errored(http.StatusInternalServerError, err))
		}
		if !mounted {
			reason := "not a proxy config: no proxy DaemonSet mounts it and injection is not enabled in its namespace"
			return decided(ctx, WebhookValidate, req, OutcomeSkipped, reason, admission.Allowed(""))
		}
	}
	return verdict(ctx, req, "ConfigMap", policy.ValidateConfigMapUpdate(old, cm, p), p)
}

// decodeConfigMaps decodes the object and, for an update, the old object (nil otherwise).
func decodeConfigMaps(req admission.Request) (cm, old *corev1.ConfigMap, err error) {
	cm = &corev1.ConfigMap{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(req.Object.Raw, cm); err != nil {
		return nil, nil, fmt.Errorf("decode ConfigMap: %w", err)
	}
	if len(req.OldObject.Raw) == 0 {
		return cm, nil, nil
	}
	if v := policy.CheckNesting(req.OldObject.Raw); v != nil {
		return nil, nil, fmt.Errorf("decode old ConfigMap: %s", v.Message)
	}
	old = &corev1.ConfigMap{}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(req.OldObject.Raw, old); err != nil {
		return nil, nil, fmt.Errorf("decode old ConfigMap: %w", err)
	}
	return cm, old, nil
}

// mayBeMounted reports whether a proxy may mount an unlabelled ConfigMap: its namespace has
// injection enabled (every DaemonSet there becomes a proxy), or a proxy DaemonSet of its
// namespace mounts it already (someone deleted the labelled one and created it again unlabelled).
// The cache answers first; when it finds no proxy, Live confirms from the API server, so that a
// proxy DaemonSet created just before (not in the cache yet) is found too.
func (h ConfigMapValidator) mayBeMounted(ctx context.Context, cm *corev1.ConfigMap) (bool, error) {
	enabled, err := injectionEnabled(ctx, h.Namespaces, cm.Namespace)
	if err != nil || enabled {
		return enabled, err
	}
	if h.DaemonSets != nil {
		mounted, err := mountedByProxy(ctx, h.DaemonSets, cm.Namespace, cm.Name)
		if err != nil || mounted {
			return mounted, err
		}
	}
	if h.Live == nil {
		return false, nil
	}
	return h.Live.MountedByProxy(ctx, cm.Namespace, cm.Name)
}
