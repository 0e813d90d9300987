package admission_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// stub is the smallest DaemonSet the API server accepts once our webhook has mutated it.
const stub = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: _NAME_
  namespace: _NS_
  labels: {LABELS}
spec:
  template:
    spec:
      containers: []
`

// ordinary is a complete DaemonSet that is no proxy.
const ordinary = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: _NAME_
  namespace: _NS_
  labels: {LABELS}
spec:
  selector: {matchLabels: {app: _NAME_}}
  template:
    metadata: {labels: {app: _NAME_}}
    spec:
      containers: [{name: agent, image: registry.k8s.io/pause:3.10}]
`

func TestInjectionThroughAPIServer(t *testing.T) {
	needControlPlane(t)
	enabled := map[string]string{names.NamespaceInjectionLabel: "enabled"}

	t.Run("labelled namespace and a stub with containers: []", func(t *testing.T) {
		ns := newProxyNamespace(t, enabled)
		kubectl(t, manifestOf(stub, "proxy", ns, ""), "apply", "-f", "-")
		ds := getDaemonSet(t, ns, "proxy")
		assertInjected(t, ds)
		assertNoPatch(t, ds)
	})
	t.Run("opt in from an unlabelled namespace", func(t *testing.T) {
		ns := newProxyNamespace(t, nil)
		kubectl(t, manifestOf(stub, "proxy", ns, `metrics-proxy.io/inject: "true"`), "apply", "-f", "-")
		assertInjected(t, getDaemonSet(t, ns, "proxy"))
	})
	t.Run("opt out inside an enabled namespace", func(t *testing.T) {
		ns := newProxyNamespace(t, enabled)
		kubectl(t, manifestOf(ordinary, "agent", ns, `metrics-proxy.io/inject: "false"`), "apply", "-f", "-")
		assertUntouched(t, getDaemonSet(t, ns, "agent"))
	})
	t.Run("no label anywhere: not selected", func(t *testing.T) {
		ns := newProxyNamespace(t, nil)
		kubectl(t, manifestOf(ordinary, "agent", ns, ""), "apply", "-f", "-")
		assertUntouched(t, getDaemonSet(t, ns, "agent"))
	})
	t.Run("applied twice client-side", func(t *testing.T) {
		ns := newProxyNamespace(t, enabled)
		in := manifestOf(stub, "proxy", ns, "")
		kubectl(t, in, "apply", "-f", "-")
		first := getDaemonSet(t, ns, "proxy")
		kubectl(t, in, "apply", "-f", "-")
		second := getDaemonSet(t, ns, "proxy")
		assertInjected(t, second)
		assert.Equal(t, first.Annotations[names.StatusAnnotation], second.Annotations[names.StatusAnnotation])
		assert.Equal(t, first.Generation, second.Generation, "the second apply changed nothing")
	})
	t.Run("applied twice server-side", func(t *testing.T) {
		ns := newProxyNamespace(t, enabled)
		in := manifestOf(stub, "proxy", ns, "")
		kubectl(t, in, "apply", "--server-side", "--field-manager=gitops", "-f", "-")
		first := getDaemonSet(t, ns, "proxy")
		kubectl(t, in, "apply", "--server-side", "--field-manager=gitops", "-f", "-")
		second := getDaemonSet(t, ns, "proxy")
		assertInjected(t, second)
		assert.Equal(t, first.Annotations[names.StatusAnnotation], second.Annotations[names.StatusAnnotation])
	})
	t.Run("unrelated update keeps exactly one proxy", func(t *testing.T) {
		ns := newProxyNamespace(t, enabled)
		kubectl(t, manifestOf(stub, "proxy", ns, ""), "apply", "-f", "-")
		ds := getDaemonSet(t, ns, "proxy")
		status := ds.Annotations[names.StatusAnnotation]
		ds.Annotations["team"] = "observability"
		ds.Spec.Template.Spec.PriorityClassName = "system-node-critical"
		require.NoError(t, cp.Client.Update(context.Background(), ds))
		ds = getDaemonSet(t, ns, "proxy")
		assertInjected(t, ds)
		assert.Equal(t, "observability", ds.Annotations["team"])
		assert.Equal(t, "system-node-critical", ds.Spec.Template.Spec.PriorityClassName)
		assert.Equal(t, status, ds.Annotations[names.StatusAnnotation])
	})
	t.Run("server-side dry-run returns the injected object and persists nothing", func(t *testing.T) {
		ns := newProxyNamespace(t, enabled)
		out, _ := kubectl(t, manifestOf(stub, "proxy", ns, ""), "create", "--dry-run=server", "-o", "json", "-f", "-")
		var ds appsv1.DaemonSet
		require.NoError(t, json.Unmarshal([]byte(out), &ds))
		assertInjected(t, &ds)
		err := cp.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "proxy"}, &appsv1.DaemonSet{})
		assert.True(t, apierrors.IsNotFound(err), "dry-run persisted the DaemonSet: %v", err)
	})
	t.Run("Pod Security baseline: admitted with a warning naming hostNetwork", func(t *testing.T) {
		ns := newProxyNamespace(t, map[string]string{names.NamespaceInjectionLabel: "enabled", "pod-security.kubernetes.io/enforce": "baseline"})
		_, stderr := kubectl(t, manifestOf(stub, "proxy", ns, ""), "apply", "-f", "-")
		assert.Contains(t, stderr, "Warning: metrics-proxy:")
		assert.Contains(t, stderr, "hostNetwork")
		assertInjected(t, getDaemonSet(t, ns, "proxy"))
	})
	t.Run("an unknown component is denied naming annotation and value", func(t *testing.T) {
		ns := newProxyNamespace(t, enabled)
		in := strings.Replace(manifestOf(stub, "proxy", ns, ""), "  labels: {}\n",
			"  annotations: {metrics-proxy.io/components: \"etcd,kubelet\"}\n", 1)
		stderr := kubectlFails(t, in, "apply", "-f", "-")
		assert.Contains(t, stderr, "denied the request")
		assert.Contains(t, stderr, names.ComponentsAnnotation)
		assert.Contains(t, stderr, `"etcd,kubelet"`)
	})
}

func TestConfigMapStubIsFilled(t *testing.T) {
	needControlPlane(t)
	ns := newNamespace(t, nil)
	cs, err := components.Parse("kube-scheduler,etcd")
	require.NoError(t, err)
	// A config of the user's own, compliant (with no frontend haproxy would not start).
	own := "# mine\n" + inject.HAProxyConfig(cs[1:])
	kubectl(t, `apiVersion: v1
kind: ConfigMap
metadata:
  name: metrics-proxy
  namespace: `+ns+`
  labels: {metrics-proxy.io/config: haproxy}
  annotations: {metrics-proxy.io/components: "kube-scheduler,etcd"}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: own
  namespace: `+ns+`
  labels: {metrics-proxy.io/config: haproxy}
data: {haproxy.cfg: `+strconv.Quote(own)+`}
`, "apply", "-f", "-")
	var cm corev1.ConfigMap
	require.NoError(t, cp.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "metrics-proxy"}, &cm))
	assert.Equal(t, inject.HAProxyConfigTLS(cs, components.DefaultTLS(cs)), cm.Data[names.ConfigKey], "TLS on 10259 by default")
	require.NoError(t, cp.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "own"}, &cm))
	assert.Equal(t, own, cm.Data[names.ConfigKey], "a config the user wrote is never replaced")
}

// TestServerEndpoints: the probes answer and /metrics carries our decision counter next to
// controller-runtime's webhook metrics. It runs after the tests above have sent requests.
func TestServerEndpoints(t *testing.T) {
	needControlPlane(t)
	ns := newProxyNamespace(t, map[string]string{names.NamespaceInjectionLabel: "enabled"})
	kubectl(t, manifestOf(stub, "proxy", ns, ""), "apply", "-f", "-")
	for _, path := range []string{"/healthz", "/readyz"} {
		assert.Equal(t, http.StatusOK, httpGet(t, "http://"+cp.ProbeAddr+path).status, path)
	}
	metrics := httpGet(t, "http://"+cp.MetricsAddr+"/metrics").body
	assert.Contains(t, metrics, `metrics_proxy_admission_decisions_total{outcome="injected",resource="daemonsets",webhook="mutate"}`)
	assert.Contains(t, metrics, `controller_runtime_webhook_requests_total{code="200",webhook="`+admission.MutateDaemonSetPath+`"}`)
}

// assertInjected checks the stored DaemonSet is the complete proxy.
func assertInjected(t *testing.T, ds *appsv1.DaemonSet) {
	t.Helper()
	pod := ds.Spec.Template.Spec
	var proxies []corev1.Container
	for _, c := range pod.Containers {
		if c.Name == names.ContainerName {
			proxies = append(proxies, c)
		}
	}
	require.Len(t, proxies, 1, "exactly one haproxy container")
	require.NotEmpty(t, proxies[0].Env)
	assert.Equal(t, "status.hostIP", proxies[0].Env[0].ValueFrom.FieldRef.FieldPath)
	assert.True(t, pod.HostNetwork)
	assert.Equal(t, corev1.DNSClusterFirstWithHostNet, pod.DNSPolicy)
	assert.NotNil(t, ds.Spec.Selector)
	tolerations := 0
	for _, tol := range pod.Tolerations {
		if tol.Key == names.ControlPlaneTaint {
			tolerations++
		}
	}
	assert.Equal(t, 1, tolerations, "one control-plane toleration")
	var status inject.Status
	require.NoError(t, json.Unmarshal([]byte(ds.Annotations[names.StatusAnnotation]), &status))
	assert.Equal(t, testVersion, status.Version)
}

// assertUntouched checks the webhook left an ordinary DaemonSet alone.
func assertUntouched(t *testing.T, ds *appsv1.DaemonSet) {
	t.Helper()
	assert.NotContains(t, ds.Annotations, names.StatusAnnotation)
	require.Len(t, ds.Spec.Template.Spec.Containers, 1)
	assert.Equal(t, "agent", ds.Spec.Template.Spec.Containers[0].Name)
	assert.False(t, ds.Spec.Template.Spec.HostNetwork)
}

// assertNoPatch: the stored object, sent through the handler again as an UPDATE, yields no patch.
func assertNoPatch(t *testing.T, ds *appsv1.DaemonSet) {
	t.Helper()
	raw, err := json.Marshal(ds)
	require.NoError(t, err)
	h := &admission.DaemonSetInjector{Config: inject.Config{Version: testVersion}}
	resp := h.Handle(context.Background(), cradmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "no-patch", Kind: metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"},
		Operation: admissionv1.Update, Namespace: ds.Namespace, Name: ds.Name,
		Object: runtime.RawExtension{Raw: raw}, OldObject: runtime.RawExtension{Raw: raw},
	}})
	require.True(t, resp.Allowed)
	assert.Empty(t, resp.Patches, "re-injecting the stored DaemonSet must yield no patch")
}
