package server_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/server"
)

// TestMetricsAuthenticated: with MetricsSecure, /metrics answers over HTTPS only to a caller the
// API server authenticates and authorizes for get on /metrics, as the seed's metrics-reader role
// grants.
func TestMetricsAuthenticated(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	r := startServer(t, cfg, "", func(o *server.Options) { o.MetricsSecure = true })
	c, err := client.New(cfg, client.Options{})
	require.NoError(t, err)
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)

	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "scrape-"}}
	require.NoError(t, c.Create(ctx, ns))
	t.Cleanup(func() { _ = c.Delete(ctx, ns) })
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{GenerateName: "metrics-reader-"},
		Rules: []rbacv1.PolicyRule{{NonResourceURLs: []string{"/metrics"}, Verbs: []string{"get"}}}}
	require.NoError(t, c.Create(ctx, role))
	t.Cleanup(func() { _ = c.Delete(ctx, role) })
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{GenerateName: "metrics-reader-"},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "scraper", Namespace: ns.Name}}}
	require.NoError(t, c.Create(ctx, binding))
	t.Cleanup(func() { _ = c.Delete(ctx, binding) })
	token := func(name string) string {
		require.NoError(t, c.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns.Name}}))
		tr, err := cs.CoreV1().ServiceAccounts(ns.Name).CreateToken(ctx, name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		require.NoError(t, err)
		return tr.Status.Token
	}
	scraper, nobody := token("scraper"), token("nobody")

	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the metrics certificate is self-signed
	scrape := func(bearer string) (int, string) {
		req, err := http.NewRequest(http.MethodGet, "https://"+r.metrics+"/metrics", nil)
		require.NoError(t, err)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := hc.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		require.NoError(t, err)
		return resp.StatusCode, string(body)
	}
	require.Eventually(t, func() bool { // the metrics server starts beside the webhook server
		_, err := hc.Get("https://" + r.metrics + "/metrics")
		return err == nil
	}, 30*time.Second, 100*time.Millisecond, "the metrics server never listened")
	status, _ := scrape("")
	assert.Equal(t, http.StatusUnauthorized, status, "no token")
	status, _ = scrape(nobody)
	assert.Equal(t, http.StatusForbidden, status, "a token without the grant")
	require.Eventually(t, func() bool { // RBAC reaches the authorizer's cache shortly after the binding
		status, body := scrape(scraper)
		return status == http.StatusOK && len(body) > 0
	}, 30*time.Second, 200*time.Millisecond, "the metrics reader never got its metrics")
	_, body := scrape(scraper)
	assert.True(t, strings.Contains(body, "controller_runtime_webhook_requests_total"), "the metrics are served")

	_, err = http.Get("http://" + r.metrics + "/metrics")
	if err == nil {
		plain, _ := get(t, "http://"+r.metrics+"/metrics")
		assert.Equal(t, http.StatusBadRequest, plain, "plain HTTP is not served")
	}
}
