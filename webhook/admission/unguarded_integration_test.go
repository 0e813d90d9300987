package admission_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/names"
)

// TestInjectedProxyConfigStaysCheckedThroughAPIServer: a proxy injected while its namespace had
// injection enabled keeps mounting its unlabelled ConfigMap after an admin removes the namespace
// label; the rollout controller still rolls its pods on every config change. A tenant who may
// only write ConfigMaps must not be able to put an unvalidated config there.
func TestInjectedProxyConfigStaysCheckedThroughAPIServer(t *testing.T) {
	needControlPlane(t)
	bypass, line := allowBypass(t)
	wantLine := "haproxy.cfg:" + itoa(line) + ": "

	ns := newNamespace(t, map[string]string{names.NamespaceInjectionLabel: "enabled"})
	kubectl(t, configMap("plain", ns, "", seedConfig(t)), "apply", "-f", "-")
	ds := strings.Replace(manifestOf(stub, "proxy", ns, ""), "metadata:\n",
		"metadata:\n  annotations: {metrics-proxy.io/config-map: plain}\n", 1)
	kubectl(t, ds, "apply", "-f", "-")
	require.Contains(t, getDaemonSet(t, ns, "proxy").Annotations, names.StatusAnnotation, "injected")

	kubectl(t, "", "label", "namespace", ns, names.NamespaceInjectionLabel+"-")
	// Once the server's namespace cache has seen the label go, an unlabelled haproxy.cfg nobody
	// mounts is admitted unread.
	var stderr string
	require.Eventually(t, func() bool {
		var err error
		_, stderr, err = cp.Kubectl(context.Background(), configMap("unmounted", ns, "", bypass), "apply", "-f", "-")
		return err == nil
	}, 30*time.Second, 200*time.Millisecond, "the namespace label's removal is never seen: %s", stderr)

	// The injected proxy's own config is another matter.
	stderr = kubectlFails(t, configMap("plain", ns, "", bypass), "apply", "-f", "-")
	assert.Contains(t, stderr, wantLine)
	kubectl(t, "", "delete", "configmap", "plain", "-n", ns)
	stderr = kubectlFails(t, configMap("plain", ns, "", bypass), "apply", "-f", "-")
	assert.Contains(t, stderr, wantLine)
}
