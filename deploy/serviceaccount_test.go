package deploy_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"

	"github.com/metrics-proxy/injector/certs"
)

// asServiceAccount returns cfg acting as the manifests' ServiceAccount, with the groups the API
// server gives a service account token: only the RBAC of the manifests authorizes it.
func asServiceAccount(cfg *rest.Config) *rest.Config {
	c := rest.CopyConfig(cfg)
	c.Impersonate = rest.ImpersonationConfig{
		UserName: "system:serviceaccount:" + Namespace + ":" + serviceAccount,
		Groups:   []string{"system:serviceaccounts", "system:serviceaccounts:" + Namespace, "system:authenticated"},
	}
	return c
}

// applyForReal creates the build's objects, except those of the kinds skipped.
func (cp *controlPlane) applyForReal(t *testing.T, b *built, skip ...string) {
	t.Helper()
	for _, o := range b.objects {
		if !slices.Contains(skip, o.GetKind()) {
			require.NoError(t, cp.client.Create(t.Context(), o.DeepCopy()), "%s %s", o.GetKind(), o.GetName())
		}
	}
}

// TestSelfSignedRBACSuffices installs the self-signed overlay for real and runs the server's
// self-signed certificate source as its ServiceAccount, configured by the Deployment's flags:
// with only the overlay's RBAC it fills its Secret and becomes ready, its caBundle in both
// webhook configurations. (TestCertManagerCAInjection runs the webhook server itself as the
// ServiceAccount, on the base's RBAC.)
func TestSelfSignedRBACSuffices(t *testing.T) {
	cp := startControlPlane(t)
	b := kustomize(t, "overlays/self-signed")
	cp.applyForReal(t, b)
	d, c := deployment(t, b)
	source, err := certs.New(certs.ModeSelfSigned, certs.Options{
		Dir:                  t.TempDir(),
		Secret:               types.NamespacedName{Namespace: d.Namespace, Name: flag(t, c.Args, "cert-secret")},
		Service:              flag(t, c.Args, "service"),
		WebhookConfiguration: flag(t, c.Args, "webhook-configuration"),
	}, asServiceAccount(cp.cfg))
	require.NoError(t, err)
	runInBackground(t, "self-signed certificates", source.Start)
	poll(t, "self-signed source ready as the ServiceAccount", 30*time.Second, func() error {
		return source.Ready(nil)
	})
}
