package controller

import (
	appsv1 "k8s.io/api/apps/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// The webhook entries of deploy/base's MutatingWebhookConfiguration that select DaemonSets.
const (
	// NamespacedEntry selects DaemonSets in namespaces labelled metrics-proxy.io/injection=enabled.
	NamespacedEntry = "namespaced.daemonsets.inject.metrics-proxy.io"
	// LabelledEntry selects DaemonSets labelled metrics-proxy.io/inject=true, in any namespace.
	LabelledEntry = "labelled.daemonsets.inject.metrics-proxy.io"
)

// Selected says whether the mutating webhook selects a DaemonSet, through which entry and why.
type Selected struct {
	// Selected is true when an entry sends the DaemonSet's writes to the webhook.
	Selected bool
	// Entry is the webhook entry that selects it; empty when none does.
	Entry string
	// Why explains the decision in terms of the labels.
	Why string
}

// Selection evaluates the webhook's selection (DESIGN.md "Admission wiring") for a DaemonSet in
// a namespace with the given labels, as deploy/base wires it.
func Selection(ds *appsv1.DaemonSet, namespaceLabels map[string]string) Selected {
	label, hasLabel := ds.Labels[names.InjectLabel]
	enabled := namespaceLabels[names.NamespaceInjectionLabel] == "enabled"
	switch {
	case label == "false":
		return Selected{Why: "opted out: label " + names.InjectLabel + "=false (match condition not-opted-out)"}
	case label == "true":
		return Selected{Selected: true, Entry: LabelledEntry, Why: "label " + names.InjectLabel + "=true"}
	case enabled:
		why := "namespace " + ds.Namespace + " labelled " + names.NamespaceInjectionLabel + "=enabled"
		if hasLabel {
			why += "; label " + names.InjectLabel + "=" + label + " is neither true nor false"
		}
		return Selected{Selected: true, Entry: NamespacedEntry, Why: why}
	default:
		return Selected{Why: "namespace " + ds.Namespace + " is not labelled " + names.NamespaceInjectionLabel +
			"=enabled and the DaemonSet is not labelled " + names.InjectLabel + "=true"}
	}
}
