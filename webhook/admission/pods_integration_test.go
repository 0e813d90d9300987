package admission_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// TestPodsOfProxiesThroughAPIServer: the pod validator refuses the pods of a proxy whose
// ConfigMap was swapped between the DaemonSet's check and its write to etcd, admits the pods of
// compliant proxies and of other DaemonSets, and is never called for any other pod.
func TestPodsOfProxiesThroughAPIServer(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	leaky, line := allowBypass(t)
	wantLine := "configmap/cfg:haproxy.cfg:" + itoa(line) + ": "

	t.Run("a proxy's pod mounting a swapped, hostile config is refused", func(t *testing.T) {
		ns := cachedNamespace(t)
		ds := swappedProxy(t, newDelayHook(t, ns), ns, "proxy", "cfg", leaky)
		before := podReviews(t)
		err := cp.Client.Create(ctx, podOf(ds))
		require.Error(t, err, "a pod running an unchecked config that leaks kube-proxy's port was admitted")
		msg := err.Error()
		for _, want := range []string{"pods.validate.metrics-proxy.io", "of proxy DaemonSet " + ds.Name, "(ConfigMap cfg)",
			wantLine, "configmap/cfg: " + string(policy.RuleConfigVolume) + ": the ConfigMap cfg is not labelled"} {
			assert.Contains(t, msg, want)
		}
		assert.Equal(t, before+1, podReviews(t))
		// A config that complies but stays unlabelled is refused too: its later edits were
		// checked only while a proxy is seen to mount it.
		require.NoError(t, cp.Client.Update(ctx, unlabelled(ns, "cfg", seedConfig(t))), "the proxy is stored now: checked, and compliant")
		err = cp.Client.Create(ctx, podOf(ds))
		require.Error(t, err)
		assert.Contains(t, err.Error(), string(policy.RuleConfigVolume)+": the ConfigMap cfg is not labelled")
		assert.NotContains(t, err.Error(), "haproxy.cfg:")
	})

	t.Run("a compliant proxy's pod is admitted; the config cannot be swapped after it", func(t *testing.T) {
		ns := cachedNamespace(t)
		createLabelled(t, ns, "cfg")
		ds := newProxy(ns, "proxy", "cfg")
		require.NoError(t, cp.Client.Create(ctx, ds))
		before := podReviews(t)
		require.NoError(t, cp.Client.Create(ctx, podOf(ds)))
		assert.Equal(t, before+1, podReviews(t), "the proxy's pod was checked")
		// Before the kubelet reads it: the ConfigMap validator sees the stored proxy.
		require.NoError(t, cp.Client.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: ns}}))
		err := cp.Client.Create(ctx, unlabelled(ns, "cfg", leaky))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "haproxy.cfg:"+itoa(line)+": ")
		// And with no ConfigMap at all, no pod.
		err = cp.Client.Create(ctx, podOf(ds))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the ConfigMap cfg does not exist in namespace "+ns)
	})

	t.Run("a forged ownerReference only gets a pod checked", func(t *testing.T) {
		ns := cachedNamespace(t)
		createLabelled(t, ns, "cfg")
		ds := newProxy(ns, "proxy", "cfg")
		require.NoError(t, cp.Client.Create(ctx, ds))
		require.NoError(t, cp.Client.Create(ctx, unlabelled(ns, "other", leaky)), "no proxy mounts it: admitted unread")
		pod := podOf(ds)
		pod.OwnerReferences[0].UID = "forged"
		for i := range pod.Spec.Volumes {
			if cm := pod.Spec.Volumes[i].ConfigMap; cm != nil && cm.Name == "cfg" {
				cm.Name = "other"
			}
		}
		err := cp.Client.Create(ctx, pod)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "configmap/other:haproxy.cfg:"+itoa(line)+": ")
	})

	t.Run("under Warn the pod is admitted with the violations as warnings", func(t *testing.T) {
		ns := cachedNamespace(t)
		ds := swappedProxy(t, newDelayHook(t, ns), ns, "proxy", "cfg", leaky)
		withPolicy(t, strings.Replace(denyPolicy, "enforcement: Deny", "enforcement: Warn", 1))
		p := podOf(ds)
		p.APIVersion, p.Kind = "v1", "Pod"
		pod := jsonString(t, p)
		var stderr string
		require.Eventually(t, func() bool { // the file watch reacts in well under a second
			var err error
			_, stderr, err = cp.Kubectl(ctx, pod, "create", "-f", "-")
			return err == nil
		}, 30*time.Second, 200*time.Millisecond, "never admitted under Warn")
		assert.Regexp(t, `Warning: metrics-proxy policy \(Warn\): Pod `+ns+"/"+ds.Name+`-\w+ of proxy DaemonSet `+ds.Name+
			` \(ConfigMap cfg\): `+wantLine, stderr)
	})

	// Found racing the DaemonSet controller: it created a pod for a DaemonSet deleted a moment
	// before (its cache trails), which a look-up that admitted unknown owners let through.
	t.Run("a pod of a DaemonSet just deleted is checked", func(t *testing.T) {
		ns := cachedNamespace(t)
		createLabelled(t, ns, "cfg")
		ds := newProxy(ns, "proxy", "cfg")
		require.NoError(t, cp.Client.Create(ctx, ds))
		require.NoError(t, cp.Client.Delete(ctx, ds))
		require.NoError(t, cp.Client.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: ns}}))
		require.NoError(t, cp.Client.Create(ctx, unlabelled(ns, "cfg", leaky)), "no proxy mounts it now")
		err := cp.Client.Create(ctx, podOf(ds))
		require.Error(t, err)
		assert.Contains(t, err.Error(), "of DaemonSet proxy (not found) (ConfigMap cfg)")
		assert.Contains(t, err.Error(), wantLine)
	})

	t.Run("an injected proxy without the label is a proxy", func(t *testing.T) {
		ns := newNamespace(t, map[string]string{names.NamespaceInjectionLabel: "enabled"})
		require.Eventually(t, func() bool { // the server's cache has the namespace
			return cp.Client.Create(ctx, unlabelled(ns, "probe", leaky), client.DryRunAll) != nil
		}, 10*time.Second, 50*time.Millisecond)
		require.NoError(t, cp.Client.Create(ctx, unlabelled(ns, "cfg", seedConfig(t))))
		ds := newProxy(ns, "proxy", "cfg")
		ds.Labels = nil
		require.NoError(t, cp.Client.Create(ctx, ds))
		require.Contains(t, ds.Annotations, names.StatusAnnotation, "injected")
		require.NoError(t, cp.Client.Create(ctx, podOf(ds)), "compliant; unlabelled is fine where injection is enabled")
		pod := podOf(ds)
		for i := range pod.Spec.Volumes {
			if cm := pod.Spec.Volumes[i].ConfigMap; cm != nil {
				cm.Name = "missing"
			}
		}
		err := cp.Client.Create(ctx, pod)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the ConfigMap missing does not exist")
	})

	t.Run("a second ConfigMap projected as haproxy.cfg is refused unread", func(t *testing.T) {
		ns := cachedNamespace(t)
		createLabelled(t, ns, "cfg")
		createLabelled(t, ns, "second")
		ds := newProxy(ns, "proxy", "cfg")
		require.NoError(t, cp.Client.Create(ctx, ds))
		pod := podOf(ds)
		second := inject.Volume("second")
		second.Name = "second"
		pod.Spec.Volumes = append(pod.Spec.Volumes, second)
		err := cp.Client.Create(ctx, pod)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "spec.volumes: config-volume: 2 ConfigMaps are projected as haproxy.cfg (cfg, second)")
	})

	t.Run("a pod of another DaemonSet mounting haproxy.cfg is admitted unread", func(t *testing.T) {
		ns := cachedNamespace(t)
		require.NoError(t, cp.Client.Create(ctx, unlabelled(ns, "cfg", leaky)))
		for _, labels := range []map[string]string{nil, {names.InjectLabel: "false"}} {
			ds := ordinaryMounting(ns, "agent-"+itoa(len(labels)), "cfg", labels)
			require.NoError(t, cp.Client.Create(ctx, ds))
			before := podReviews(t)
			require.NoError(t, cp.Client.Create(ctx, podOf(ds)), "not a proxy: a workload that runs haproxy")
			assert.Equal(t, before+1, podReviews(t), "the match conditions send it: the server tells")
		}
	})

	t.Run("an exempt namespace's proxy pods are admitted", func(t *testing.T) {
		ensureNamespace(t, "break-glass")
		name := "pods-" + strconv.FormatInt(time.Now().UnixNano(), 36)
		require.NoError(t, cp.Client.Create(ctx, unlabelled("break-glass", name, leaky)))
		ds := newProxy("break-glass", name, name)
		require.NoError(t, cp.Client.Create(ctx, ds))
		require.NoError(t, cp.Client.Create(ctx, podOf(ds)))
	})

	t.Run("no other pod reaches the server", func(t *testing.T) {
		ns := cachedNamespace(t)
		require.NoError(t, cp.Client.Create(ctx, unlabelled(ns, "cfg", leaky)))
		createLabelled(t, ns, "good")
		proxy := newProxy(ns, "proxy", "good")
		require.NoError(t, cp.Client.Create(ctx, proxy))
		ensureNamespace(t, "kube-system")
		before := podReviews(t)
		pods := map[string]*corev1.Pod{}
		pods["plain"] = &corev1.Pod{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "registry.k8s.io/pause:3.10"}}}}
		mounting := podOf(proxy) // a proxy's pod spec, mounting the hostile ConfigMap
		for i := range mounting.Spec.Volumes {
			if cm := mounting.Spec.Volumes[i].ConfigMap; cm != nil {
				cm.Name = "cfg"
			}
		}
		noOwner := mounting.DeepCopy()
		noOwner.OwnerReferences = nil
		pods["no owner"] = noOwner
		notController := mounting.DeepCopy()
		notController.OwnerReferences[0].Controller = nil
		pods["owner, not controller"] = notController
		replicaSet := mounting.DeepCopy()
		replicaSet.OwnerReferences[0].Kind, replicaSet.OwnerReferences[0].Name = "ReplicaSet", "rs"
		pods["a ReplicaSet's"] = replicaSet
		otherKey := mounting.DeepCopy()
		allKeys := mounting.DeepCopy()
		for i := range otherKey.Spec.Volumes {
			if cm := otherKey.Spec.Volumes[i].ConfigMap; cm != nil {
				cm.Items = []corev1.KeyToPath{{Key: "other.cfg", Path: "haproxy.cfg"}}
				allKeys.Spec.Volumes[i].ConfigMap.Items = nil
			}
		}
		pods["another key"] = otherKey
		pods["every key"] = allKeys
		system := mounting.DeepCopy()
		system.Namespace = "kube-system"
		pods["kube-system"] = system
		for name, pod := range pods {
			if pod.Namespace == "" {
				pod.Namespace = ns
			}
			pod.GenerateName = "ordinary-"
			require.NoError(t, cp.Client.Create(ctx, pod), name)
		}
		assert.Equal(t, before, podReviews(t), "an ordinary pod reached the pod validator")
	})
}
