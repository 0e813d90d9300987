package controller

import (
	"cmp"
	"slices"
)

// Reason is why an object is reported: the Event reason and the metric's reason label. The set
// is closed, so the metric's labels stay bounded.
type Reason string

// The reasons of findings.
const (
	// ReasonNotInjected: a DaemonSet the webhook selects (enabled namespace or inject label) that
	// was never injected: it was created before the namespace was labelled or the webhook installed.
	ReasonNotInjected Reason = "NotInjected"
	// ReasonStaleInjection: an injected DaemonSet that this version would inject differently (another
	// injector version, or a spec that drifted from what injection writes).
	ReasonStaleInjection Reason = "StaleInjection"
	// ReasonInjectionFailed: injection rejects the DaemonSet (an invalid metrics-proxy.io annotation).
	ReasonInjectionFailed Reason = "InjectionFailed"
	// ReasonPolicyViolation: the object violates today's policy (it may have been admitted under an
	// older, laxer one, or in Warn mode).
	ReasonPolicyViolation Reason = "PolicyViolation"
	// ReasonConfigHashOutdated: the pod template's config hash differs from the mounted ConfigMap's:
	// the pods may run an older haproxy.cfg (the rollout controller is about to fix it).
	ReasonConfigHashOutdated Reason = "ConfigHashOutdated"
)

// Reasons lists every reason, in the order documentation and tables use.
func Reasons() []Reason {
	return []Reason{ReasonNotInjected, ReasonStaleInjection, ReasonInjectionFailed, ReasonPolicyViolation, ReasonConfigHashOutdated}
}

// Kinds of objects a finding is about.
const (
	KindDaemonSet = "DaemonSet"
	KindConfigMap = "ConfigMap"
)

// Finding is one problem with one existing object.
type Finding struct {
	// Kind is KindDaemonSet or KindConfigMap.
	Kind string `json:"kind"`
	// Namespace and Name identify the object.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Reason is the kind of problem.
	Reason Reason `json:"reason"`
	// Message says what is wrong, for a human.
	Message string `json:"message"`
}

// Key is "Kind namespace/name".
func (f Finding) Key() string { return f.Kind + " " + f.Namespace + "/" + f.Name }

// sortFindings orders findings by kind, namespace, name and reason order.
func sortFindings(fs []Finding) {
	order := map[Reason]int{}
	for i, r := range Reasons() {
		order[r] = i
	}
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Name, b.Name), cmp.Compare(order[a.Reason], order[b.Reason]))
	})
}

// EventReasons lists the reason of every Event the controllers record: the findings' reasons,
// then the rollout's and the auditor's own.
func EventReasons() []string {
	var out []string
	for _, r := range Reasons() {
		out = append(out, string(r))
	}
	return append(out, EventConfigRollout, EventRolloutDenied, EventFindingsResolved, EventReinjected, EventReinjectFailed)
}
