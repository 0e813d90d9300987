package admission_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/names"
)

// configMap is a proxy ConfigMap holding the config text given, indented by the caller's helper.
func configMap(name, namespace, labels, cfg string) string {
	return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n  namespace: " + namespace +
		"\n  labels: {" + labels + "}\ndata:\n  haproxy.cfg: |\n    " + strings.ReplaceAll(strings.TrimRight(cfg, "\n"), "\n", "\n    ") + "\n"
}

// seedConfig is the seed procedure's haproxy.cfg, exactly as its ConfigMap holds it.
func seedConfig(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../inject/testdata/seed-haproxy.cfg")
	require.NoError(t, err)
	return string(data)
}

// allowBypass puts an allow before the deny of the first frontend: everything reaches kube-proxy.
func allowBypass(t *testing.T) (cfg string, line int) {
	t.Helper()
	cfg = strings.Replace(seedConfig(t), "  http-request deny if !{ path /metrics }\n",
		"  http-request allow\n  http-request deny if !{ path /metrics }\n", 1)
	for i, l := range strings.Split(cfg, "\n") {
		if strings.Contains(l, "http-request allow") {
			return cfg, i + 1
		}
	}
	t.Fatal("no allow line")
	return "", 0
}

const proxyLabel = `metrics-proxy.io/config: haproxy`

func TestValidationThroughAPIServer(t *testing.T) {
	needControlPlane(t)
	bypass, line := allowBypass(t)
	wantLine := "haproxy.cfg:" + itoa(line) + ": "

	t.Run("the seed's ConfigMap is admitted", func(t *testing.T) {
		ns := newNamespace(t, nil)
		kubectl(t, configMap("metrics-proxy", ns, proxyLabel, seedConfig(t)), "apply", "-f", "-")
	})
	t.Run("an allow before the deny is denied with its line", func(t *testing.T) {
		ns := newNamespace(t, nil)
		stderr := kubectlFails(t, configMap("metrics-proxy", ns, proxyLabel, bypass), "apply", "-f", "-")
		assert.Contains(t, stderr, "denied the request")
		assert.Contains(t, stderr, wantLine)
	})
	t.Run("server-side dry-run is denied the same way", func(t *testing.T) {
		ns := newNamespace(t, nil)
		stderr := kubectlFails(t, configMap("metrics-proxy", ns, proxyLabel, bypass), "apply", "--dry-run=server", "-f", "-")
		assert.Contains(t, stderr, wantLine)
	})
	t.Run("an unlabelled ConfigMap with haproxy.cfg in an enabled namespace is checked", func(t *testing.T) {
		ns := newNamespace(t, map[string]string{names.NamespaceInjectionLabel: "enabled"})
		stderr := kubectlFails(t, configMap("other", ns, "", bypass), "apply", "-f", "-")
		assert.Contains(t, stderr, wantLine)
	})
	t.Run("removing the label in the same update is still checked", func(t *testing.T) {
		ns := newNamespace(t, nil)
		kubectl(t, configMap("metrics-proxy", ns, proxyLabel, seedConfig(t)), "apply", "-f", "-")
		stderr := kubectlFails(t, configMap("metrics-proxy", ns, "", bypass), "replace", "-f", "-")
		assert.Contains(t, stderr, wantLine)
	})
	t.Run("an exempt namespace is not checked", func(t *testing.T) {
		ensureNamespace(t, "break-glass")
		kubectl(t, configMap("metrics-proxy", "break-glass", proxyLabel, bypass), "apply", "-f", "-")
	})
	t.Run("a DaemonSet that mounts a non-compliant ConfigMap is denied", func(t *testing.T) {
		ns := newNamespace(t, nil) // not enabled: the unlabelled bypass config is not checked itself
		kubectl(t, configMap("leaky", ns, "", bypass), "apply", "-f", "-")
		ds := strings.Replace(manifestOf(stub, "proxy", ns, `metrics-proxy.io/inject: "true"`), "metadata:\n",
			"metadata:\n  annotations: {metrics-proxy.io/config-map: leaky}\n", 1)
		stderr := kubectlFails(t, ds, "apply", "-f", "-")
		assert.Contains(t, stderr, "configmap/leaky:"+wantLine)
		stderr = kubectlFails(t, ds, "apply", "--dry-run=server", "-f", "-")
		assert.Contains(t, stderr, "configmap/leaky:"+wantLine)
	})
	t.Run("outside enabled namespaces a proxy must mount a labelled ConfigMap, whose edits stay checked", func(t *testing.T) {
		ns := newNamespace(t, nil)
		kubectl(t, configMap("plain", ns, "", seedConfig(t)), "apply", "-f", "-")
		ds := strings.Replace(manifestOf(stub, "proxy", ns, `metrics-proxy.io/inject: "true"`), "metadata:\n",
			"metadata:\n  annotations: {metrics-proxy.io/config-map: plain}\n", 1)
		stderr := kubectlFails(t, ds, "apply", "-f", "-")
		assert.Contains(t, stderr, "configmap/plain: config-volume: the ConfigMap plain is not labelled")
		kubectl(t, "", "label", "configmap", "plain", "-n", ns, proxyLabel[:len("metrics-proxy.io/config")]+"=haproxy")
		kubectl(t, ds, "apply", "-f", "-")
		stderr = kubectlFails(t, configMap("plain", ns, proxyLabel, bypass), "apply", "-f", "-")
		assert.Contains(t, stderr, wantLine, "a later edit of the mounted config is checked")
	})
	t.Run("in an enabled namespace a ConfigMap labelled with another value is checked", func(t *testing.T) {
		ns := newNamespace(t, map[string]string{names.NamespaceInjectionLabel: "enabled"})
		stderr := kubectlFails(t, configMap("other", ns, "metrics-proxy.io/config: draft", bypass), "apply", "-f", "-")
		assert.Contains(t, stderr, wantLine)
	})
	t.Run("a DaemonSet whose ConfigMap does not exist is denied", func(t *testing.T) {
		ns := newNamespace(t, nil)
		stderr := kubectlFails(t, manifestOf(stub, "proxy", ns, `metrics-proxy.io/inject: "true"`), "apply", "-f", "-")
		assert.Contains(t, stderr, "config-volume")
	})
	t.Run("Warn mode admits with warnings, picked up from the changed file", func(t *testing.T) {
		withPolicy(t, strings.Replace(denyPolicy, "enforcement: Deny", "enforcement: Warn", 1))
		ns := newNamespace(t, nil)
		in := configMap("metrics-proxy", ns, proxyLabel, bypass)
		var stderr string
		deadline := time.Now().Add(30 * time.Second) // the file watch reacts in well under a second
		for time.Now().Before(deadline) {
			var err error
			_, stderr, err = cp.Kubectl(context.Background(), in, "apply", "-f", "-")
			if err == nil {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		assert.Contains(t, stderr, "Warning: metrics-proxy policy (Warn)")
		assert.Contains(t, stderr, wantLine)
	})
	t.Run("an invalid policy change keeps the policy in force", func(t *testing.T) {
		before := invalidReloads(t)
		withPolicy(t, "apiVersion: metrics-proxy.io/v1alpha1\nkind: Policy\nenforcement: Maybe\n")
		// A positive signal that the watcher read the invalid file, then the check that it kept the policy.
		require.Eventually(t, func() bool { return invalidReloads(t) > before }, 30*time.Second, 100*time.Millisecond,
			"the policy watcher never read the invalid file")
		ns := newNamespace(t, nil)
		stderr := kubectlFails(t, configMap("metrics-proxy", ns, proxyLabel, bypass), "apply", "-f", "-")
		assert.Contains(t, stderr, wantLine)
		metrics := httpGet(t, "http://"+cp.MetricsAddr+"/metrics").body
		assert.Contains(t, metrics, `metrics_proxy_policy_reloads_total{result="invalid"}`)
		assert.Contains(t, metrics, `metrics_proxy_policy_violations_total{action="deny"`)
	})
}

// withPolicy rewrites the server's policy file for the rest of the test, and restores the Deny
// policy after it, waiting until the server enforces it again: the seed's bypass denied (not a
// Warn policy) and the seed's config admitted (not a stricter Deny policy).
func withPolicy(t *testing.T, text string) {
	t.Helper()
	require.NoError(t, os.WriteFile(policyFile, []byte(text), 0o644))
	t.Cleanup(func() {
		require.NoError(t, os.WriteFile(policyFile, []byte(denyPolicy), 0o644))
		bypass, _ := allowBypass(t)
		ns := newNamespace(t, nil)
		probe := func(cfg string) error {
			_, _, err := cp.Kubectl(context.Background(), configMap("probe", ns, proxyLabel, cfg), "create", "--dry-run=server", "-f", "-")
			return err
		}
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if probe(bypass) != nil && probe(seedConfig(t)) == nil {
				return // the default Deny policy is back in force
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Fatal("the Deny policy was not restored within 30 s")
	})
}
