package admission_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/names"
)

// withSidecar is a proxy stub opting in by label with one more container (and, with init, an
// init container) that runs haproxy on another key of the same ConfigMap.
func withSidecar(name, ns string, init bool) string {
	field := "containers"
	if init {
		field = "initContainers"
	}
	return strings.Replace(manifestOf(stub, name, ns, `metrics-proxy.io/inject: "true"`), "      containers: []\n",
		"      containers: []\n      "+field+":\n      - name: sidecar\n        image: "+names.DefaultImage+
			"\n        command: [haproxy, -f, /cfg/evil.cfg]\n        volumeMounts: [{name: all-keys, mountPath: /cfg}]\n"+
			"      volumes: [{name: all-keys, configMap: {name: metrics-proxy}}]\n", 1)
}

// TestObjectPolicyThroughAPIServer: the policy gaps at the object level are closed, as a tenant
// would try them through the API server.
func TestObjectPolicyThroughAPIServer(t *testing.T) {
	needControlPlane(t)
	bypass, line := allowBypass(t)
	wantLine := "haproxy.cfg:" + itoa(line) + ": "

	t.Run("a proxy pod runs haproxy and nothing else", func(t *testing.T) {
		ns := newProxyNamespace(t, nil)
		stderr := kubectlFails(t, withSidecar("proxy", ns, false), "apply", "-f", "-")
		assert.Contains(t, stderr, "spec.template.spec.containers[0]: other-container: container \"sidecar\"")
		stderr = kubectlFails(t, withSidecar("proxy", ns, true), "apply", "-f", "-")
		assert.Contains(t, stderr, "spec.template.spec.initContainers[0]: other-container: initContainer \"sidecar\"")
	})
	t.Run("the config volume projects only haproxy.cfg, whatever the stub says", func(t *testing.T) {
		ns := newProxyNamespace(t, nil)
		in := strings.Replace(manifestOf(stub, "proxy", ns, `metrics-proxy.io/inject: "true"`), "      containers: []\n",
			"      containers: []\n      volumes: [{name: haproxy-config, configMap: {name: metrics-proxy}}]\n", 1)
		kubectl(t, in, "apply", "-f", "-")
		ds := getDaemonSet(t, ns, "proxy")
		var config []corev1.Volume
		for _, v := range ds.Spec.Template.Spec.Volumes {
			if v.Name == names.VolumeName {
				config = append(config, v)
			}
		}
		require.Len(t, config, 1)
		assert.Equal(t, []corev1.KeyToPath{{Key: names.ConfigKey, Path: names.ConfigKey}}, config[0].ConfigMap.Items)
	})
	t.Run("a proxy ConfigMap holds nothing but haproxy.cfg", func(t *testing.T) {
		ns := newNamespace(t, nil)
		in := configMap("metrics-proxy", ns, proxyLabel, seedConfig(t)) + "  evil.cfg: |\n    listen all\n"
		stderr := kubectlFails(t, in, "apply", "-f", "-")
		assert.Contains(t, stderr, "configmap/metrics-proxy: config-keys: ")
		assert.Contains(t, stderr, "data.evil.cfg")
	})
	t.Run("the config label cannot be removed while haproxy.cfg is there", func(t *testing.T) {
		ns := newNamespace(t, nil)
		kubectl(t, configMap("metrics-proxy", ns, proxyLabel, seedConfig(t)), "apply", "-f", "-")
		stderr := kubectlFails(t, "", "label", "configmap", "metrics-proxy", "-n", ns, names.ConfigLabel+"-")
		assert.Contains(t, stderr, "config-label: the label metrics-proxy.io/config=haproxy is removed")
		stderr = kubectlFails(t, configMap("metrics-proxy", ns, "", seedConfig(t)), "replace", "-f", "-")
		assert.Contains(t, stderr, "config-label")
	})
	t.Run("deleting a mounted config and creating it again unlabelled is checked", func(t *testing.T) {
		ns := newNamespace(t, nil) // injection not enabled: only the label guarded the ConfigMap
		kubectl(t, configMap("plain", ns, proxyLabel, seedConfig(t)), "apply", "-f", "-")
		ds := strings.Replace(manifestOf(stub, "proxy", ns, `metrics-proxy.io/inject: "true"`), "metadata:\n",
			"metadata:\n  annotations: {metrics-proxy.io/config-map: plain}\n", 1)
		kubectl(t, ds, "apply", "-f", "-")
		kubectl(t, "", "delete", "configmap", "plain", "-n", ns)
		stderr := kubectlFails(t, configMap("plain", ns, "", bypass), "apply", "-f", "-")
		assert.Contains(t, stderr, wantLine)
		kubectl(t, configMap("plain", ns, "", seedConfig(t)), "apply", "-f", "-")
	})
	t.Run("an unlabelled haproxy.cfg nobody's proxy mounts is none of the webhook's business", func(t *testing.T) {
		ns := newNamespace(t, nil)
		kubectl(t, configMap("someone-elses-haproxy", ns, "", bypass), "apply", "-f", "-")
	})
	t.Run("allowedContainers lets an admin allow a container by name and image", func(t *testing.T) {
		// The list replaces the default, which allows the injected proxy-cert init container.
		withPolicy(t, denyPolicy+"allowedContainers: [{name: sidecar, image: \""+names.DefaultImage+"\"}, {name: proxy-cert, image: \"metrics-proxy:*\"}]\n")
		ns := newProxyNamespace(t, nil)
		in := withSidecar("proxy", ns, false)
		var stderr string
		require.Eventually(t, func() bool {
			var err error
			_, stderr, err = cp.Kubectl(context.Background(), in, "apply", "--dry-run=server", "-f", "-")
			return err == nil
		}, 30*time.Second, 200*time.Millisecond, "the allowed sidecar is never admitted: %s", stderr)
	})
}

// TestSystemNamespacesNeverSelected: even labelled for injection, kube-system is never sent to the
// webhook: nothing there is injected or validated, so an outage of the webhook never blocks it.
func TestSystemNamespacesNeverSelectedThroughAPIServer(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	var ns corev1.Namespace
	require.NoError(t, cp.Client.Get(ctx, client.ObjectKey{Name: "kube-system"}, &ns))
	patch := client.MergeFrom(ns.DeepCopy())
	if ns.Labels == nil {
		ns.Labels = map[string]string{}
	}
	ns.Labels[names.NamespaceInjectionLabel] = "enabled"
	require.NoError(t, cp.Client.Patch(ctx, &ns, patch))
	t.Cleanup(func() {
		kubectl(t, "", "label", "namespace", "kube-system", names.NamespaceInjectionLabel+"-")
	})
	bypass, _ := allowBypass(t)

	out, _ := kubectl(t, manifestOf(ordinary, "agent", "kube-system", ""), "apply", "--dry-run=server", "-o", "yaml", "-f", "-")
	assert.NotContains(t, out, names.StatusAnnotation, "not injected in kube-system")
	stderr := kubectlFails(t, manifestOf(stub, "proxy", "kube-system", `metrics-proxy.io/inject: "true"`), "apply", "--dry-run=server", "-f", "-")
	assert.Contains(t, stderr, "spec.template.spec.containers: Required value", "a labelled stub is not injected in kube-system either")
	kubectl(t, configMap("metrics-proxy", "kube-system", proxyLabel, bypass), "apply", "--dry-run=server", "-f", "-")
	// Nor are its status writes and its DaemonSets carrying a status annotation (the status and
	// annotated entries).
	forged := strings.Replace(manifestOf(ordinary, "forged-status", "kube-system", names.InjectLabel+`: "false"`), "metadata:\n",
		"metadata:\n  annotations: {"+names.StatusAnnotation+": \"{}\"}\n", 1)
	kubectl(t, forged, "apply", "-f", "-")
	t.Cleanup(func() { kubectl(t, "", "delete", "daemonset", "forged-status", "-n", "kube-system") })
	kubectl(t, "", "patch", "daemonset", "forged-status", "-n", "kube-system", "--subresource=status", "--type=merge",
		"-p", `{"metadata":{"labels":{"`+names.InjectLabel+`":"true"}}}`)
	kubectl(t, "", "label", "daemonset", "forged-status", "-n", "kube-system", names.InjectLabel+"-")

	// The same in an ordinary enabled namespace is selected: the exclusion is by name only.
	enabled := newProxyNamespace(t, map[string]string{names.NamespaceInjectionLabel: "enabled"})
	out, _ = kubectl(t, manifestOf(stub, "proxy", enabled, ""), "apply", "--dry-run=server", "-o", "yaml", "-f", "-")
	assert.Contains(t, out, names.StatusAnnotation)
}
