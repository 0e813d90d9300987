package controller

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// Explanation is why a DaemonSet is or is not injected and admitted, as Explain finds it.
type Explanation struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// NamespaceLabel is the namespace's metrics-proxy.io/injection label ("" when absent);
	// InjectLabel the DaemonSet's metrics-proxy.io/inject label ("" when absent).
	NamespaceLabel string `json:"namespaceLabel"`
	InjectLabel    string `json:"injectLabel"`
	// Selection is the webhook's selection as deploy/base wires it.
	Selection Selected `json:"selection"`
	// Webhooks are the live MutatingWebhookConfiguration's DaemonSet entries and whether their
	// selectors match; WebhooksError says why they could not be read.
	Webhooks      []WebhookMatch `json:"webhooks,omitempty"`
	WebhooksError string         `json:"webhooksError,omitempty"`
	// Status is the injector's status annotation (nil: never injected); Version is this injector's.
	Status  *inject.Status `json:"status,omitempty"`
	Version string         `json:"version"`
	// Violations are today's policy's verdict on the DaemonSet and the ConfigMap it mounts;
	// Enforcement is the policy's (Deny or Warn) and Exempt whether it exempts the namespace.
	Violations  []policy.Violation `json:"violations"`
	Enforcement string             `json:"enforcement"`
	Exempt      bool               `json:"exempt"`
	// ConfigMap is the mounted ConfigMap ("" when none); ConfigMapHash its config hash ("" when
	// missing); TemplateHash the pod template's.
	ConfigMap     string `json:"configMap"`
	ConfigMapHash string `json:"configMapHash"`
	TemplateHash  string `json:"templateHash"`
	// Audit is the audit annotation as the controller last wrote it.
	Audit *AuditStatus `json:"audit,omitempty"`
	// Findings are what an audit finds now.
	Findings []Finding `json:"findings"`
	// Pods are the DaemonSet's pods.
	Pods []PodState `json:"pods"`
	// NotProxies names, when the namespace has injection enabled, the DaemonSets of the namespace
	// (the explained one included) that are no proxy (inject.IsProxy) and not opted out: each is
	// turned into a proxy (and denied) on its next write. At most maxNotProxies DaemonSets are read.
	NotProxies []string `json:"notProxies,omitempty"`
}

// maxNotProxies bounds the DaemonSets of one namespace that Explain reads for NotProxies.
const maxNotProxies = 100

// WebhookMatch is one webhook entry that intercepts DaemonSets.
type WebhookMatch struct {
	Name string `json:"name"`
	// Matches is true when both selectors match; the match conditions are listed, not evaluated.
	Matches         bool     `json:"matches"`
	Why             string   `json:"why"`
	MatchConditions []string `json:"matchConditions,omitempty"`
}

// PodState is one pod of the DaemonSet.
type PodState struct {
	Name  string `json:"name"`
	Node  string `json:"node"`
	Ready bool   `json:"ready"`
	// ConfigHash is the pod's metrics-proxy.io/config-hash: the config it was started with.
	ConfigHash string `json:"configHash"`
}

// Explain reads the DaemonSet namespace/name, its namespace, ConfigMap and pods and the
// MutatingWebhookConfiguration webhookConfig, and explains them against p and cfg.
func Explain(ctx context.Context, r client.Reader, namespace, name, webhookConfig string, p *policy.Policy, cfg inject.Config) (*Explanation, error) {
	var ds appsv1.DaemonSet
	if err := r.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &ds); err != nil {
		return nil, fmt.Errorf("get DaemonSet %s/%s: %w", namespace, name, err)
	}
	var ns corev1.Namespace
	if err := r.Get(ctx, client.ObjectKey{Name: namespace}, &ns); err != nil {
		return nil, fmt.Errorf("get namespace %s: %w", namespace, err)
	}
	e := &Explanation{Namespace: namespace, Name: name, NamespaceLabel: ns.Labels[names.NamespaceInjectionLabel],
		InjectLabel: ds.Labels[names.InjectLabel], Selection: Selection(&ds, ns.Labels), Version: cfg.Version,
		ConfigMap: inject.MountedConfigMap(&ds), TemplateHash: inject.TemplateConfigHash(&ds)}
	e.Webhooks, e.WebhooksError = webhookMatches(ctx, r, webhookConfig, &ds, ns.Labels)
	if raw, ok := ds.Annotations[names.StatusAnnotation]; ok {
		e.Status = &inject.Status{}
		if json.Unmarshal([]byte(raw), e.Status) != nil {
			e.Status = &inject.Status{Version: "(unreadable: " + raw + ")"}
		}
	}
	if raw, ok := ds.Annotations[names.AuditAnnotation]; ok {
		e.Audit = &AuditStatus{}
		_ = json.Unmarshal([]byte(raw), e.Audit)
	}
	get := cachedGet(ctx, r, nil)
	var mounted *corev1.ConfigMap
	if e.ConfigMap != "" {
		var err error
		if mounted, err = get(namespace, e.ConfigMap); err != nil {
			return nil, err
		}
		e.ConfigMapHash = inject.ConfigHash(mounted)
	}
	vs, err := policy.ValidateProxy(&ds, p, get)
	if err != nil {
		return nil, err
	}
	e.Violations, e.Exempt, e.Enforcement = vs, p.Exempt(namespace), string(p.Enforcement)
	if e.Enforcement == "" {
		e.Enforcement = string(policy.EnforcementDeny)
	}
	if e.Findings, err = CheckDaemonSet(&ds, ProxyInput{NamespaceLabels: ns.Labels, ConfigMap: mounted, GetConfigMap: get}, p, cfg); err != nil {
		return nil, err
	}
	if e.Pods, err = podStates(ctx, r, &ds); err != nil {
		return nil, err
	}
	if e.NamespaceLabel == "enabled" {
		if e.NotProxies, err = notProxies(ctx, r, namespace); err != nil {
			return nil, err
		}
	}
	return e, nil
}

// notProxies lists, out of the first maxNotProxies DaemonSets of namespace, those that are no
// proxy and not opted out, as inject.NotAProxyNote describes them.
func notProxies(ctx context.Context, r client.Reader, namespace string) ([]string, error) {
	var list appsv1.DaemonSetList
	if err := r.List(ctx, &list, client.InNamespace(namespace), client.Limit(maxNotProxies)); err != nil {
		return nil, fmt.Errorf("list DaemonSets of %s: %w", namespace, err)
	}
	var out []string
	for i := range list.Items {
		if ds := &list.Items[i]; !inject.OptedOut(ds) && !inject.IsProxy(ds) {
			out = append(out, inject.NotAProxyNote(ds))
		}
	}
	if list.Continue != "" {
		out = append(out, fmt.Sprintf("(only the first %d DaemonSets of %s were read)", maxNotProxies, namespace))
	}
	return out, nil
}

// webhookMatches evaluates the selectors of the live configuration's DaemonSet entries.
func webhookMatches(ctx context.Context, r client.Reader, name string, ds *appsv1.DaemonSet, nsLabels map[string]string) ([]WebhookMatch, string) {
	var mwc admissionregistrationv1.MutatingWebhookConfiguration
	if err := r.Get(ctx, client.ObjectKey{Name: name}, &mwc); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Sprintf("MutatingWebhookConfiguration %s does not exist: nothing injects", name)
		}
		return nil, fmt.Sprintf("MutatingWebhookConfiguration %s: %v", name, err)
	}
	var out []WebhookMatch
	for _, w := range mwc.Webhooks {
		if !interceptsDaemonSets(w.Rules) {
			continue
		}
		m := WebhookMatch{Name: w.Name, Matches: true}
		for _, c := range w.MatchConditions {
			m.MatchConditions = append(m.MatchConditions, c.Name)
		}
		nsOK, nsWhy := selects(w.NamespaceSelector, nsLabels)
		objOK, objWhy := selects(w.ObjectSelector, ds.Labels)
		m.Matches = nsOK && objOK
		m.Why = "namespaceSelector " + nsWhy + "; objectSelector " + objWhy
		out = append(out, m)
	}
	return out, ""
}

// interceptsDaemonSets reports whether rules cover apps/v1 daemonsets.
func interceptsDaemonSets(rules []admissionregistrationv1.RuleWithOperations) bool {
	return slices.ContainsFunc(rules, func(r admissionregistrationv1.RuleWithOperations) bool {
		return (slices.Contains(r.APIGroups, "apps") || slices.Contains(r.APIGroups, "*")) &&
			(slices.Contains(r.Resources, "daemonsets") || slices.Contains(r.Resources, "*"))
	})
}

// selects evaluates a webhook's label selector (nil or empty: everything) on lbls.
func selects(sel *metav1.LabelSelector, lbls map[string]string) (bool, string) {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return true, "matches everything"
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		return false, fmt.Sprintf("invalid (%v)", err)
	}
	if s.Matches(labels.Set(lbls)) {
		return true, fmt.Sprintf("%q matches", s.String())
	}
	return false, fmt.Sprintf("%q does not match", s.String())
}

// podStates lists the DaemonSet's pods.
func podStates(ctx context.Context, r client.Reader, ds *appsv1.DaemonSet) ([]PodState, error) {
	if ds.Spec.Selector == nil {
		return nil, nil
	}
	sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector)
	if err != nil {
		return nil, fmt.Errorf("DaemonSet selector: %w", err)
	}
	var pods corev1.PodList
	if err := r.List(ctx, &pods, client.InNamespace(ds.Namespace), client.MatchingLabelsSelector{Selector: sel}); err != nil {
		return nil, fmt.Errorf("list pods: %w", err)
	}
	var out []PodState
	for _, p := range pods.Items {
		if !metav1.IsControlledBy(&p, ds) {
			continue
		}
		st := PodState{Name: p.Name, Node: p.Spec.NodeName, ConfigHash: p.Annotations[names.ConfigHashAnnotation]}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady {
				st.Ready = c.Status == corev1.ConditionTrue && p.DeletionTimestamp == nil
			}
		}
		out = append(out, st)
	}
	slices.SortFunc(out, func(a, b PodState) int { return strings.Compare(a.Node+a.Name, b.Node+b.Name) })
	return out, nil
}
