package admission

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"
	kjson "sigs.k8s.io/json"

	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// MaxPodConfigs is how many ConfigMaps a proxy's pod may project haproxy.cfg from: one, its
// config volume's. A pod with more is refused before any of them is read, so that a review reads
// at most one ConfigMap (up to 1 MiB), as a DaemonSet's does.
const MaxPodConfigs = 1

// PodValidator is the validating handler for the pods of proxy DaemonSets, at their creation:
// it checks the ConfigMaps they mount as the DaemonSet validator checks the one a proxy mounts,
// read from the API server at the pod's admission. The DaemonSet validator reads the ConfigMap
// before the DaemonSet is stored; a ConfigMap swapped for an unlabelled one in between escapes
// the ConfigMap validators (no proxy mounts it yet), but not this check: the DaemonSet controller
// creates pods only once the DaemonSet is stored, the kubelet reads the ConfigMap only once a pod
// is admitted, and every write of the ConfigMap after the DaemonSet is stored is validated.
//
// The API server sends it (matchConditions) only pods that a DaemonSet controls and that project
// haproxy.cfg from a configMap volume. It checks those of a proxy (labelled
// metrics-proxy.io/inject=true or injected, not opted out: read from the API server) and admits
// the others unread: a workload that runs haproxy is no proxy. A pod whose DaemonSet does not
// exist is checked as a proxy's: the DaemonSet controller may create one for a DaemonSet just
// deleted (its cache trails), and the kubelet may start it before the garbage collector
// removes it.
type PodValidator struct {
	// Policies gives the policy in force.
	Policies PolicySource
	// ConfigMaps reads the mounted ConfigMaps: an uncached reader, for what the kubelet will read.
	ConfigMaps client.Reader
	// Namespaces reads the pod's namespace labels (a cached reader will do); nil: no namespace
	// has injection enabled.
	Namespaces client.Reader
	// DaemonSets reads the owning DaemonSet from the API server; nil: every review is an error.
	DaemonSets *LiveDaemonSets
}

var _ admission.Handler = PodValidator{}

// Handle implements admission.Handler.
func (h PodValidator) Handle(ctx context.Context, req admission.Request) admission.Response {
	if err := malformedRequest(req, podKind); err != nil {
		return malformed(ctx, WebhookValidate, req, err)
	}
	p := h.Policies.Policy()
	if skip, reason := skipValidation(req, p); skip {
		return decided(ctx, WebhookValidate, req, OutcomeSkipped, reason, admission.Allowed(reason))
	}
	if v := policy.CheckNesting(req.Object.Raw); v != nil {
		return verdict(ctx, req, "Pod", []policy.Violation{*v}, p)
	}
	var pod corev1.Pod
	if err := kjson.UnmarshalCaseSensitivePreserveInts(req.Object.Raw, &pod); err != nil {
		err = fmt.Errorf("decode Pod: %w", err)
		return decided(ctx, WebhookValidate, req, OutcomeError, err.Error(), admission.Errored(http.StatusBadRequest, err))
	}
	owner, configs := daemonSetOwner(&pod), podConfigs(&pod)
	if owner == "" || len(configs) == 0 {
		return decided(ctx, WebhookValidate, req, OutcomeSkipped, "not a DaemonSet's pod that mounts "+names.ConfigKey, admission.Allowed(""))
	}
	errored := func(err error) admission.Response {
		return decided(ctx, WebhookValidate, req, OutcomeError, err.Error(), admission.Errored(http.StatusInternalServerError, err))
	}
	if h.DaemonSets == nil {
		return errored(fmt.Errorf("no DaemonSet look-up: cannot tell whether DaemonSet %s is a proxy", owner))
	}
	found, proxy, earlier, err := h.DaemonSets.IsProxy(ctx, req.Namespace, owner)
	switch {
	case err != nil:
		return errored(err)
	case found && !proxy:
		reason := "its DaemonSet " + owner + " is no proxy"
		return decided(ctx, WebhookValidate, req, OutcomeSkipped, reason, admission.Allowed(""))
	}
	cms := make([]string, len(configs))
	for i, c := range configs {
		cms[i] = c.name
	}
	of := "proxy DaemonSet " + owner
	if !found { // the controller creates a pod for a DaemonSet just deleted: checked, it may run
		of = "DaemonSet " + owner + " (not found)"
	}
	object := fmt.Sprintf("Pod %s/%s of %s (ConfigMap %s)", req.Namespace, podName(&pod), of, strings.Join(cms, ", "))
	if len(configs) > MaxPodConfigs {
		v := policy.Violation{Source: "spec.volumes", Rule: policy.RuleConfigVolume, Message: fmt.Sprintf(
			"%d ConfigMaps are projected as %s (%s); a proxy's pod projects it from one, its config volume's",
			len(configs), names.ConfigKey, strings.Join(cms, ", "))}
		return verdictOn(ctx, req, object, []policy.Violation{v}, p)
	}
	vs, err := h.checkConfigs(ctx, req.Namespace, configs, p, earlier)
	if err != nil {
		return errored(err)
	}
	return verdictOn(ctx, req, object, vs, p)
}

// checkConfigs reads the ConfigMaps (within LookupTimeout for all) and checks each with
// policy.ValidateMountedConfig and unguardedConfig, as the DaemonSet validator checks the one a
// proxy DaemonSet mounts; earlier: the proxy is one by an earlier injection, whose ConfigMaps the
// ConfigMap validator checks labelled or not (the DaemonSet validator's exception).
func (h PodValidator) checkConfigs(ctx context.Context, namespace string, configs []podConfig, p *policy.Policy, earlier bool) ([]policy.Violation, error) {
	got := make([]*corev1.ConfigMap, len(configs))
	err := bounded(ctx, LookupTimeout, "get the pod's ConfigMaps", func(ctx context.Context) error {
		for i, c := range configs {
			var cm corev1.ConfigMap
			err := h.ConfigMaps.Get(ctx, client.ObjectKey{Namespace: namespace, Name: c.name}, &cm)
			if apierrors.IsNotFound(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("get ConfigMap %s: %w", c.name, err)
			}
			got[i] = &cm
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var vs []policy.Violation
	for i, c := range configs {
		cfg, _ := policy.ValidateMountedConfig(namespace, c.name, c.source, got[i], p, 0)
		vs = append(vs, cfg...)
		if earlier {
			continue
		}
		v, err := unguardedConfig(ctx, h.Namespaces, namespace, got[i])
		if err != nil {
			return nil, err
		}
		if v != nil {
			vs = append(vs, *v)
		}
	}
	return vs, nil
}

// daemonSetOwner is the name of the DaemonSet that controls pod (its controller ownerReference,
// kind DaemonSet of group apps), or "". The reference is whatever the pod's creator wrote: one
// forged by a tenant who creates pods only makes their pod checked.
func daemonSetOwner(pod *corev1.Pod) string {
	for _, ref := range pod.OwnerReferences {
		if ref.Controller != nil && *ref.Controller && ref.Kind == "DaemonSet" && strings.HasPrefix(ref.APIVersion, "apps/") {
			return ref.Name
		}
	}
	return ""
}

// podConfig is a ConfigMap a pod projects haproxy.cfg from, and the field path of its volume.
type podConfig struct{ name, source string }

// podConfigs lists the ConfigMaps whose haproxy.cfg key a configMap volume of pod projects (the
// matchCondition's test), each once.
func podConfigs(pod *corev1.Pod) []podConfig {
	var out []podConfig
	for j, vol := range pod.Spec.Volumes {
		if vol.ConfigMap == nil || slices.ContainsFunc(out, func(c podConfig) bool { return c.name == vol.ConfigMap.Name }) {
			continue
		}
		if slices.ContainsFunc(vol.ConfigMap.Items, func(k corev1.KeyToPath) bool { return k.Key == names.ConfigKey }) {
			out = append(out, podConfig{vol.ConfigMap.Name, fmt.Sprintf("spec.volumes[%d].configMap.name", j)})
		}
	}
	return out
}

// podName is the pod's name, or its generateName and a star while the API server has not
// generated it yet (a DaemonSet's pods at creation).
func podName(pod *corev1.Pod) string {
	if pod.Name != "" {
		return pod.Name
	}
	return pod.GenerateName + "*"
}
