package controller

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// maxViolations bounds how many violations one finding's message lists.
const maxViolations = 5

// Injected reports whether ds carries the injector's status annotation.
func Injected(ds *appsv1.DaemonSet) bool {
	_, ok := ds.Annotations[names.StatusAnnotation]
	return ok
}

// ProxyInput is what checking one DaemonSet needs besides the DaemonSet itself.
type ProxyInput struct {
	// NamespaceLabels are the labels of the DaemonSet's namespace.
	NamespaceLabels map[string]string
	// ConfigMap is the ConfigMap the DaemonSet mounts, nil when there is none or it does not exist.
	ConfigMap *corev1.ConfigMap
	// GetConfigMap reads any ConfigMap (for the policy's look-up); nil: the policy does not
	// check the mounted config, ConfigMap is used when it matches.
	GetConfigMap policy.GetConfigMap
}

// CheckDaemonSet returns the findings about one DaemonSet: nothing when the webhook neither
// selects it nor injected it. It reads nothing but what in holds.
func CheckDaemonSet(ds *appsv1.DaemonSet, in ProxyInput, p *policy.Policy, cfg inject.Config) ([]Finding, error) {
	sel := Selection(ds, in.NamespaceLabels)
	if inject.OptedOut(ds) || (!sel.Selected && !Injected(ds)) {
		return nil, nil
	}
	var fs []Finding
	add := func(r Reason, format string, args ...any) {
		fs = append(fs, Finding{Kind: KindDaemonSet, Namespace: ds.Namespace, Name: ds.Name, Reason: r, Message: fmt.Sprintf(format, args...)})
	}
	if !Injected(ds) {
		add(ReasonNotInjected, "selected by %s (%s) but never injected: it predates the selection or the webhook", sel.Entry, sel.Why)
		return fs, nil
	}
	if msg, err := staleness(ds, cfg); errors.Is(err, inject.ErrInvalidAnnotation) {
		add(ReasonInjectionFailed, "%v", err)
	} else if err != nil {
		return nil, err
	} else if msg != "" {
		add(ReasonStaleInjection, "%s", msg)
	}
	if !p.Exempt(ds.Namespace) {
		get := in.GetConfigMap
		if get == nil {
			get = func(_, name string) (*corev1.ConfigMap, error) {
				if in.ConfigMap != nil && in.ConfigMap.Name == name {
					return in.ConfigMap, nil
				}
				return nil, nil
			}
		}
		vs, err := policy.ValidateProxy(ds, p, get)
		if err != nil {
			return nil, err
		}
		if len(vs) > 0 {
			add(ReasonPolicyViolation, "%s", violationsText(vs))
		}
	}
	// A proxy that mounts a frontend certificate Secret may carry a hash that includes it (serve
	// --tls-secret-rollout); the audit does not read Secrets, so it cannot tell such a hash from
	// an outdated one and leaves them to the rollout controller.
	if want := inject.ConfigHash(in.ConfigMap); want != "" && want != inject.TemplateConfigHash(ds) && inject.MountedTLSSecret(ds) == "" {
		add(ReasonConfigHashOutdated, "the pod template's %s is %q, the ConfigMap %s's haproxy.cfg hashes to %q: the pods may run an older config",
			names.ConfigHashAnnotation, inject.TemplateConfigHash(ds), in.ConfigMap.Name, want)
	}
	return fs, nil
}

// CheckConfigMap returns the finding about a proxy config that violates the policy, if any.
func CheckConfigMap(cm *corev1.ConfigMap, p *policy.Policy) []Finding {
	if p.Exempt(cm.Namespace) {
		return nil
	}
	vs := policy.ValidateConfigMap(cm, p)
	if len(vs) == 0 {
		return nil
	}
	return []Finding{{Kind: KindConfigMap, Namespace: cm.Namespace, Name: cm.Name, Reason: ReasonPolicyViolation, Message: violationsText(vs)}}
}

// staleness says how injecting ds again with cfg would change its status annotation, or "" when
// it would not.
func staleness(ds *appsv1.DaemonSet, cfg inject.Config) (string, error) {
	again := ds.DeepCopy()
	cfg.ConfigHash = "" // the config hash is the rollout controller's, not injection's staleness
	if err := inject.DaemonSet(again, cfg); err != nil {
		return "", err
	}
	have, want := ds.Annotations[names.StatusAnnotation], again.Annotations[names.StatusAnnotation]
	if have == want {
		return "", nil
	}
	var h, w inject.Status
	if err := json.Unmarshal([]byte(have), &h); err != nil {
		return fmt.Sprintf("its %s annotation %q is not the injector's: this version would inject it anew", names.StatusAnnotation, have), nil
	}
	_ = json.Unmarshal([]byte(want), &w) // our own encoding
	if h.Version != w.Version {
		return fmt.Sprintf("injected by version %q, this injector is %q and injects spec %s (has %s)", h.Version, w.Version, w.Hash, h.Hash), nil
	}
	return fmt.Sprintf("injected as spec %s, this injector writes spec %s (another default image, or an older build of %s)", h.Hash, w.Hash, w.Version), nil
}

// violationsText lists up to maxViolations violations on one line.
func violationsText(vs []policy.Violation) string {
	var parts []string
	for i, v := range vs {
		if i == maxViolations {
			parts = append(parts, fmt.Sprintf("and %d more", len(vs)-maxViolations))
			break
		}
		parts = append(parts, v.String())
	}
	return fmt.Sprintf("%d violation(s) of today's policy: %s", len(vs), strings.Join(parts, "; "))
}
