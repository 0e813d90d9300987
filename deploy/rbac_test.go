package deploy_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	rbacv1 "k8s.io/api/rbac/v1"
)

// Grants of the server's ServiceAccount, one "SCOPE GROUP/RESOURCE[/NAME] VERB" each, SCOPE
// being "cluster" or the Role's namespace. Nothing else may be granted.
var (
	// baseGrants are needed in every mode: the Namespace cache, the DaemonSet validator's
	// ConfigMap look-up, the config-hash cache of labelled ConfigMaps, the ConfigMap validator's
	// list of a namespace's proxy DaemonSets, the pod validator's look-up of a pod's DaemonSet, the
	// revisions of proxies (their earlier templates), and the reviews behind the authenticated
	// /metrics.
	baseGrants = []string{
		"cluster /namespaces get", "cluster /namespaces list", "cluster /namespaces watch",
		"cluster /configmaps get", "cluster /configmaps list", "cluster /configmaps watch",
		"cluster apps/daemonsets get", "cluster apps/daemonsets list", "cluster apps/controllerrevisions list", "cluster apps/daemonsets watch",
		"cluster authentication.k8s.io/tokenreviews create", "cluster authorization.k8s.io/subjectaccessreviews create",
	}
	// controllerGrants serve the day-two controllers (deploy/base/rbac-controllers.yaml says why
	// each): the DaemonSet cache and its writes (config hash, re-apply), the audit annotation
	// through the status subresource, the ConfigMap metadata cache and audit list, Events, and
	// leader election on one Lease.
	controllerGrants = []string{
		"cluster apps/daemonsets list", "cluster apps/daemonsets watch", "cluster apps/daemonsets patch",
		"cluster apps/daemonsets/status patch",
		"cluster /configmaps list", "cluster /configmaps watch",
		"cluster events.k8s.io/events create", "cluster events.k8s.io/events patch",
		Namespace + " coordination.k8s.io/leases create",
		Namespace + " coordination.k8s.io/leases/metrics-proxy get", Namespace + " coordination.k8s.io/leases/metrics-proxy update",
	}
	// selfSignedGrants keep the CA Secret and the caBundle of our own configurations, by name
	// where RBAC can narrow it (not create).
	selfSignedGrants = []string{
		Namespace + " /secrets create",
		Namespace + " /secrets/metrics-proxy-webhook-tls get", Namespace + " /secrets/metrics-proxy-webhook-tls update",
		"cluster admissionregistration.k8s.io/mutatingwebhookconfigurations/metrics-proxy get",
		"cluster admissionregistration.k8s.io/mutatingwebhookconfigurations/metrics-proxy update",
		"cluster admissionregistration.k8s.io/validatingwebhookconfigurations/metrics-proxy get",
		"cluster admissionregistration.k8s.io/validatingwebhookconfigurations/metrics-proxy update",
	}
)

// TestLeastPrivilege: the ServiceAccount gets exactly the grants its mode needs, and no rule in
// any build uses a wildcard.
func TestLeastPrivilege(t *testing.T) {
	forEachVariant(t, func(t *testing.T, v variant, b *built) {
		want := append(slices.Clone(baseGrants), controllerGrants...)
		if v.mode == "self-signed" {
			want = append(want, selfSignedGrants...)
		}
		assert.ElementsMatch(t, want, grants(t, b, Namespace, serviceAccount))
		assertNoWildcards(t, b)
	})
}

// grants expands every rule bound to the ServiceAccount into single grants.
func grants(t *testing.T, b *built, namespace, name string) []string {
	t.Helper()
	var out []string
	for _, kind := range []string{"ClusterRoleBinding", "RoleBinding"} {
		for _, o := range b.ofKind(kind) {
			binding := &rbacv1.RoleBinding{} // a ClusterRoleBinding has the same fields
			decode(t, o, binding)
			if !bindsServiceAccount(binding.Subjects, namespace, name) {
				continue
			}
			scope := "cluster"
			if kind == "RoleBinding" {
				scope = binding.Namespace
			}
			role := &rbacv1.ClusterRole{} // a Role has the same fields, less aggregation
			b.get(t, binding.RoleRef.Kind, binding.RoleRef.Name, role)
			out = append(out, expand(scope, role.Rules)...)
		}
	}
	return out
}

// bindsServiceAccount reports whether subjects name the ServiceAccount.
func bindsServiceAccount(subjects []rbacv1.Subject, namespace, name string) bool {
	return slices.ContainsFunc(subjects, func(s rbacv1.Subject) bool {
		return s.Kind == rbacv1.ServiceAccountKind && s.Namespace == namespace && s.Name == name
	})
}

// expand turns rules into one grant per group, resource, name and verb.
func expand(scope string, rules []rbacv1.PolicyRule) []string {
	var out []string
	for _, r := range rules {
		for _, url := range r.NonResourceURLs {
			for _, verb := range r.Verbs {
				out = append(out, scope+" "+url+" "+verb)
			}
		}
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{""}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, n := range names {
					target := g + "/" + res
					if n != "" {
						target += "/" + n
					}
					for _, verb := range r.Verbs {
						out = append(out, scope+" "+target+" "+verb)
					}
				}
			}
		}
	}
	return out
}

// assertNoWildcards fails on a "*" verb, group, resource or URL in any Role or ClusterRole.
func assertNoWildcards(t *testing.T, b *built) {
	t.Helper()
	for _, kind := range []string{"ClusterRole", "Role"} {
		for _, o := range b.ofKind(kind) {
			role := &rbacv1.ClusterRole{}
			decode(t, o, role)
			assert.Nil(t, role.AggregationRule, "%s %s", kind, role.Name)
			for _, r := range role.Rules {
				for _, list := range [][]string{r.Verbs, r.APIGroups, r.Resources, r.NonResourceURLs} {
					for _, s := range list {
						assert.NotContains(t, s, "*", "%s %s: %+v", kind, role.Name, r)
					}
				}
			}
		}
	}
}
