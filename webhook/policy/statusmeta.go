package policy

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/metrics-proxy/injector/webhook/names"
)

// StatusMetadataChanges checks a write through a DaemonSet's status subresource, given the
// metadata before (old) and after it (ds): one violation for each metrics-proxy.io/ label or
// annotation it adds, changes or removes, in key order. The audit annotation, which the audit
// writes through the status subresource so that it reaches no webhook and rolls no pod, is the
// one exception. Labels and annotations of ours are the webhooks' inputs: they may change only
// through the DaemonSet itself, where the webhooks review the whole object.
func StatusMetadataChanges(old, ds *metav1.ObjectMeta) []Violation {
	var vs []Violation
	for _, m := range []struct {
		field    string
		was, now map[string]string
	}{{"labels", old.Labels, ds.Labels}, {"annotations", old.Annotations, ds.Annotations}} {
		for _, k := range changedKeys(m.was, m.now) {
			if k == names.AuditAnnotation && m.field == "annotations" {
				continue
			}
			vs = append(vs, Violation{Source: "daemonset/" + ds.Name + "/status.metadata." + m.field, Rule: RuleStatusMetadata,
				Message: fmt.Sprintf("the %s %s is %s through the status subresource; change it through the DaemonSet "+
					"itself (kubectl label/annotate/apply daemonset %s), where the metrics-proxy webhooks review it",
					strings.TrimSuffix(m.field, "s"), k, changeOf(m.was, m.now, k), ds.Name)})
		}
	}
	return vs
}

// changedKeys returns the keys with our prefix that differ between was and now, sorted.
func changedKeys(was, now map[string]string) []string {
	var keys []string
	for k, v := range was {
		if w, ok := now[k]; strings.HasPrefix(k, names.Prefix) && (!ok || v != w) {
			keys = append(keys, k)
		}
	}
	for k := range now {
		if _, ok := was[k]; strings.HasPrefix(k, names.Prefix) && !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// changeOf says how k changed: added, removed or changed.
func changeOf(was, now map[string]string, k string) string {
	_, had := was[k]
	_, has := now[k]
	switch {
	case !had:
		return "added"
	case !has:
		return "removed"
	default:
		return "changed"
	}
}
