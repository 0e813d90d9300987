package server_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// TestNotReadyBeforeCachesSync: the ConfigMap validator reads DaemonSets from the informer cache;
// a replica whose cache cannot sync (here its identity may not list DaemonSets, as with RBAC
// missing the grant) would answer those reviews with an error after the look-up timeout. It must
// not say ready, whatever the API server says, until the cache has synced. (The manager also
// starts the runnables of every replica, the API server probe among them, only after the caches
// it knows of at start have synced.) The same holds for the config-hash cache of labelled
// ConfigMaps, which needs to list and watch ConfigMaps.
func TestNotReadyBeforeCachesSync(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	admin, err := client.New(cfg, client.Options{})
	require.NoError(t, err)
	const user = "cache-sync-test"
	grant := func(name string, rules ...rbacv1.PolicyRule) {
		role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
		binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: "User", Name: user}}}
		require.NoError(t, admin.Create(ctx, role))
		require.NoError(t, admin.Create(ctx, binding))
		t.Cleanup(func() { _ = admin.Delete(ctx, binding); _ = admin.Delete(ctx, role) })
	}
	grant(user+"-namespaces", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"get", "list", "watch"}})
	restricted := rest.CopyConfig(cfg)
	restricted.Impersonate = rest.ImpersonationConfig{UserName: user, Groups: []string{"system:authenticated"}}

	r := startServerNoWait(t, restricted, "", nil)
	check := func(path string) int {
		c := &http.Client{Timeout: 5 * time.Second}
		resp, err := c.Get("http://" + r.probes + path)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	require.Eventually(t, func() bool { return check("/readyz/informers") != 0 }, 20*time.Second, 100*time.Millisecond,
		"the probes are never served")
	time.Sleep(3 * time.Second) // the DaemonSet list has been refused
	assert.Equal(t, http.StatusInternalServerError, check("/readyz/informers"), "the informers check says the cache has synced")
	assert.NotEqual(t, http.StatusOK, check("/readyz"), "ready with a DaemonSet cache that cannot sync")

	grant(user+"-daemonsets", rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"daemonsets"}, Verbs: []string{"list", "watch"}})
	require.Eventually(t, func() bool { return check("/readyz/informers") == http.StatusOK }, 60*time.Second, 200*time.Millisecond,
		"the DaemonSet cache never synced")
	assert.Equal(t, http.StatusInternalServerError, check("/readyz/config-hashes"), "the config-hash check says its cache has synced")
	assert.NotEqual(t, http.StatusOK, check("/readyz"), "ready with a config-hash cache that cannot sync")

	grant(user+"-configmaps", rbacv1.PolicyRule{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"list", "watch"}})
	require.Eventually(t, func() bool { return check("/readyz") == http.StatusOK }, 60*time.Second, 200*time.Millisecond,
		"never ready once the cache can sync")
	assert.Equal(t, http.StatusOK, check("/readyz/config-hashes"))
}
