package admission_test

// Red team, second pass: the pod validator, the status entries, DaemonSets being deleted, the
// ConfigMap validator's live look-up and the config-hash cache. Each TestRedTeam* test that
// documents a finding fails today and passes once the finding is fixed; the others assert a
// refusal that no other test covered.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// hostileContainerEdits are edits of a proxy's haproxy container (strategic merge patches of the
// DaemonSet) that ValidateDaemonSet does not look at, each of which runs a process nobody
// validated in the proxy's pod, on the host network, next to 127.0.0.1:10249/10257/10259/2381
// and the kubelet's 10250: e.g. `haproxy -D -f /tmp/open.cfg` with a frontend on
// ${NODE_IP}:10249 that forwards /debug/pprof, or a plain socat. The injector drops all of them
// (it rebuilds the container, and keep() drops exec probes precisely because "an exec probe
// runs commands inside the proxy container"), but the validator, which is all that stands
// where no mutation runs (the annotated entry, `metrics-proxy validate` in a GitOps pipeline,
// `metrics-proxy audit`), admits them.
var hostileContainerEdits = map[string]string{
	"postStart exec hook": `{"spec":{"template":{"spec":{"containers":[{"name":"haproxy","lifecycle":{"postStart":{"exec":{"command":["/bin/sh","-c","printf 'frontend f\\n bind ${NODE_IP}:10249\\n mode http\\n default_backend b\\nbackend b\\n mode http\\n server s 127.0.0.1:10249\\n' >/tmp/o.cfg; haproxy -D -f /tmp/o.cfg"]}}}}]}}}}`,
	"exec livenessProbe":  `{"spec":{"template":{"spec":{"containers":[{"name":"haproxy","livenessProbe":{"periodSeconds":60,"exec":{"command":["/bin/sh","-c","pgrep -f o.cfg || (printf 'listen l\\n bind ${NODE_IP}:10249\\n server s 127.0.0.1:10250\\n' >/tmp/o.cfg; haproxy -D -f /tmp/o.cfg); true"]}}}]}}}}`,
	// A ConfigMap (defaultMode 0755) mounted over the image's /usr/local/bin replaces
	// docker-entrypoint.sh, which the image's ENTRYPOINT runs: the validated haproxy.cfg is
	// never read. No command or args are set, and nothing is mounted under the config directory.
	"entrypoint shadowed by a mount": `{"spec":{"template":{"spec":{"volumes":[{"name":"bin","configMap":{"name":"bin","defaultMode":493}}],"containers":[{"name":"haproxy","volumeMounts":[{"name":"bin","mountPath":"/usr/local/bin"}]}]}}}}`,
	// The dynamic loader preloads a library of the tenant's (a binaryData key of a ConfigMap
	// mounted anywhere) into haproxy.
	"LD_PRELOAD env": `{"spec":{"template":{"spec":{"volumes":[{"name":"lib","configMap":{"name":"lib"}}],"containers":[{"name":"haproxy","env":[{"name":"LD_PRELOAD","value":"/opt/lib/x.so"}],"volumeMounts":[{"name":"lib","mountPath":"/opt/lib"}]}]}}}}`,
}

// TestRedTeamEarlierProxyRunsUnvalidatedCommands (finding: bypass). A proxy injected while its
// namespace had injection enabled, after an admin removed the namespace label (the documented
// "earlier proxy" case: it keeps its status annotation, and every write of it reaches the
// annotated entry, which validates and does not inject). A tenant who may patch it adds an exec
// hook, an exec probe, a mount over the image's entrypoint or an LD_PRELOAD to its haproxy
// container: the API server admits each (ValidateDaemonSet checks image, command, args, NODE_IP
// and the config directory's mount only), the status annotation is left as it was so
// status-annotation does not judge it, and the proxy still counts as a validated proxy to the
// readers (the audit reports no policy violation, only a "stale injection": injecting it again
// would drop the hook; `serve --reinject=stale`, off by default, would). Its pods, on the host
// network, run whatever the tenant wrote: every component's non-/metrics endpoints and the kubelet are exposed on the node IP.
// Fix: ValidateDaemonSet (policy.checkProxyContainer) must refuse on the haproxy container what
// injection never writes: lifecycle hooks, exec probes (and httpGet/tcpSocket/grpc probes with
// a host), env other than NODE_IP (or at least LD_*), envFrom, volumeMounts other than the
// config directory and the frontend certificate, workingDir, and (for the pod) volumes other
// than the config and certificate volumes mounted anywhere; a new rule id (say
// proxy-container) in docs/policy-rules.md.
func TestRedTeamEarlierProxyRunsUnvalidatedCommands(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newNamespace(t, map[string]string{names.NamespaceInjectionLabel: "enabled"})
	kubectl(t, configMap("plain", ns, "", seedConfig(t)), "apply", "-f", "-")
	probe := "probe"
	for _, dsName := range append(slices.Collect(maps.Keys(hostileContainerEdits)), probe) {
		dsName = dnsName(dsName)
		kubectl(t, strings.Replace(manifestOf(stub, dsName, ns, ""), "metadata:\n",
			"metadata:\n  annotations: {metrics-proxy.io/config-map: plain}\n", 1), "apply", "-f", "-")
		require.Contains(t, getDaemonSet(t, ns, dsName).Annotations, names.StatusAnnotation, "injected")
	}
	kubectl(t, "", "label", "namespace", ns, names.NamespaceInjectionLabel+"-")
	// Wait until the API server sends these proxies' writes to the annotated entry (a
	// hand-written status annotation is refused there, rewritten by the injector before).
	require.Eventually(t, func() bool {
		return cp.Client.Patch(ctx, getDaemonSet(t, ns, probe), rawMerge(`{"metadata":{"annotations":{"`+
			names.StatusAnnotation+`":"{\"version\":\"x\",\"hash\":\"00\"}"}}}`)) != nil
	}, 30*time.Second, 200*time.Millisecond, "the annotated entry never took over")

	for name, patch := range hostileContainerEdits {
		t.Run(name, func(t *testing.T) {
			ds := getDaemonSet(t, ns, dnsName(name))
			err := cp.Client.Patch(ctx, ds, client.RawPatch(types.StrategicMergePatchType, []byte(patch)))
			if err == nil {
				c := haproxyContainer(t, getDaemonSet(t, ns, dnsName(name)))
				t.Errorf("admitted: the stored proxy's haproxy container now has lifecycle=%v liveness=%v mounts=%v env=%v",
					c.Lifecycle != nil, c.LivenessProbe != nil, c.VolumeMounts, c.Env)
			}
		})
	}
}

// TestRedTeamForgedStatusMakesACompliantLookingProxy (finding: bypass, the same gap reached
// without an admin's help). The status annotation is an unkeyed hash (sha256 of the injected
// parts' JSON, first 8 bytes) that anyone can compute: a tenant in any namespace without
// injection creates a DaemonSet with an exec hook on its haproxy container and the matching
// annotation. The annotated entry validates it as a proxy and StatusMatches accepts the record;
// it is admitted and from then on every reader (the rollout controller, the ConfigMap
// validator, the spec cache) counts it as an injected proxy that passed validation (the audit
// finds no policy violation, only a stale injection) while its pods run the tenant's commands
// on the host network. Fix: as above (validate the whole haproxy
// container); StatusMatches alone cannot tell the injector's record from a forgery (an HMAC
// with a key only the server holds could).
func TestRedTeamForgedStatusMakesACompliantLookingProxy(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newNamespace(t, nil)
	kubectl(t, configMap("forged", ns, names.ConfigLabel+": "+names.ConfigLabelValue, seedConfig(t)), "apply", "-f", "-")
	ds := ordinaryMounting(ns, "forged", "forged", nil)
	c := &ds.Spec.Template.Spec.Containers[0]
	c.Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{
		Command: []string{"/bin/sh", "-c", "haproxy -D -f /tmp/open.cfg"}}}}
	ds.Spec.Template.Spec.HostNetwork = true
	ds.Spec.Template.Spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
	ds.Spec.Template.Spec.Tolerations = []corev1.Toleration{inject.Toleration()}
	// The object as the API server stores it (defaults applied): no webhook sees this dry run
	// (no label, no status annotation, no injection in the namespace).
	create := func(ds *appsv1.DaemonSet) error {
		dry := ds.DeepCopy()
		require.NoError(t, cp.Client.Create(ctx, dry, client.DryRunAll))
		ds.Annotations = map[string]string{names.StatusAnnotation: forgeStatus(t, dry, testVersion)}
		return cp.Client.Create(ctx, ds)
	}
	// The control: the same DaemonSet without the hook, with a forged record, is admitted (the
	// forgery matches; the refusal below, once fixed, is not the status-annotation rule's).
	control := ordinaryMounting(ns, "forged-control", "forged", nil)
	control.Spec.Template.Spec = *ds.Spec.Template.Spec.DeepCopy()
	control.Spec.Template.Spec.Containers[0].Lifecycle = nil
	require.NoError(t, create(control), "the forged record of a compliant spec")
	require.True(t, inject.StatusMatches(getDaemonSet(t, ns, "forged-control")))

	err := create(ds)
	require.Error(t, err, "a DaemonSet whose haproxy container runs a postStart exec hook was admitted as a proxy "+
		"(forged status annotation %s)", ds.Annotations[names.StatusAnnotation])
	assert.NotContains(t, err.Error(), "status-annotation")
}

// forgeStatus computes the metrics-proxy.io/status record of ds as inject.statusOf does: what
// a tenant can do with the public source.
func forgeStatus(t *testing.T, ds *appsv1.DaemonSet, version string) string {
	t.Helper()
	spec := &ds.Spec.Template.Spec
	find := func(cs []corev1.Container, name string) *corev1.Container {
		for i := range cs {
			if cs[i].Name == name {
				return &cs[i]
			}
		}
		return nil
	}
	vol := func(name string) *corev1.Volume {
		for i := range spec.Volumes {
			if spec.Volumes[i].Name == name {
				return &spec.Volumes[i]
			}
		}
		return nil
	}
	injected := struct {
		Container   *corev1.Container `json:"container"`
		Volume      *corev1.Volume    `json:"volume"`
		HostNetwork bool              `json:"hostNetwork"`
		DNSPolicy   corev1.DNSPolicy  `json:"dnsPolicy"`
		Toleration  corev1.Toleration `json:"toleration"`
		CertInit    *corev1.Container `json:"certInit,omitempty"`
		CertVolume  *corev1.Volume    `json:"certVolume,omitempty"`
	}{find(spec.Containers, names.ContainerName), vol(names.VolumeName), spec.HostNetwork, spec.DNSPolicy,
		inject.Toleration(), find(spec.InitContainers, names.ProxyCertContainer), vol(names.CertVolume)}
	data, err := json.Marshal(injected)
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	out, err := json.Marshal(inject.Status{Version: version, Hash: hex.EncodeToString(sum[:8])})
	require.NoError(t, err)
	return string(out)
}

// haproxyContainer is ds's haproxy container.
func haproxyContainer(t *testing.T, ds *appsv1.DaemonSet) *corev1.Container {
	t.Helper()
	for i := range ds.Spec.Template.Spec.Containers {
		if ds.Spec.Template.Spec.Containers[i].Name == names.ContainerName {
			return &ds.Spec.Template.Spec.Containers[i]
		}
	}
	t.Fatalf("no %s container in %s", names.ContainerName, ds.Name)
	return nil
}

// dnsName turns a subtest's name into a DaemonSet name.
func dnsName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r - 'A' + 'a'
		}
		return '-'
	}, s)
}

// TestRedTeamInjectLabelToAnotherValueLeavesInjection (finding: bypass, with the gap of
// TestRedTeamEarlierProxyRunsUnvalidatedCommands; minor alone). rule inject-label refuses
// removing metrics-proxy.io/inject=true from an injected proxy ("its later writes would reach
// no webhook while it stays a proxy"), and "false" opts out openly. Any other value ("yes",
// "True", "") is neither: InjectLabelRemoved sees the key present and admits it, the
// DaemonSet stays injected (every reader counts it a proxy, not opted out), and from then on
// its writes reach only the annotated entry, which validates without injecting. A tenant who
// may patch a labelled proxy in any namespace thereby turns it into an "earlier" proxy without
// an admin's help, and adds a postStart exec hook to its haproxy container, admitted. Or it
// removes the status annotation next (no entry matches that write any more): the DaemonSet is
// then no proxy to any reader, the audit included (not selected: inject=yes; not injected), a
// silent opt-out whose spec and config are never checked again.
// Fix: InjectLabelRemoved must treat any value other than "true" and "false" as a removal
// (policy/rules: inject-label), or the webhooks must select on the key's presence.
func TestRedTeamInjectLabelToAnotherValueLeavesInjection(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newProxyNamespace(t, nil)
	kubectl(t, manifestOf(stub, "relabel", ns, names.InjectLabel+`: "true"`), "apply", "-f", "-")
	require.Contains(t, getDaemonSet(t, ns, "relabel").Annotations, names.StatusAnnotation, "injected")

	err := cp.Client.Patch(ctx, getDaemonSet(t, ns, "relabel"), rawMerge(`{"metadata":{"labels":{"`+names.InjectLabel+`":"yes"}}}`))
	if err == nil {
		hook := hostileContainerEdits["postStart exec hook"]
		err = cp.Client.Patch(ctx, getDaemonSet(t, ns, "relabel"), client.RawPatch(types.StrategicMergePatchType, []byte(hook)))
		assert.Error(t, err, "then a postStart exec hook on the haproxy container is admitted too")
		assert.NotNil(t, haproxyContainer(t, getDaemonSet(t, ns, "relabel")).Lifecycle)
	}
	require.Error(t, err, "the opt-in label of an injected proxy set to \"yes\": neither kept nor an opt-out")
	assert.Contains(t, err.Error(), "inject-label")
}

// TestRedTeamInjectLabelToAnotherValueThenSilentOptOut: the second path of
// TestRedTeamInjectLabelToAnotherValueLeavesInjection. After inject=yes, the status annotation's
// removal reaches no entry: the proxy becomes an ordinary DaemonSet (still on the host network,
// still running haproxy) that no reader counts, the audit included, and its next writes (a
// config volume moved to an unlabelled ConfigMap that nothing validates) are unreviewed.
func TestRedTeamInjectLabelToAnotherValueThenSilentOptOut(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newProxyNamespace(t, nil)
	kubectl(t, manifestOf(stub, "silent", ns, names.InjectLabel+`: "true"`), "apply", "-f", "-")
	err := cp.Client.Patch(ctx, getDaemonSet(t, ns, "silent"), rawMerge(`{"metadata":{"labels":{"`+names.InjectLabel+`":"yes"}}}`))
	if err != nil {
		return // refused: the label stays true, and its removal is refused (inject-label)
	}
	err = cp.Client.Patch(ctx, getDaemonSet(t, ns, "silent"), rawMerge(`{"metadata":{"annotations":{"`+names.StatusAnnotation+`":null}}}`))
	assert.Error(t, err, "the status annotation of a proxy removed unreviewed: it is no proxy to any reader now")
	leaky, _ := allowBypass(t)
	require.NoError(t, cp.Client.Create(ctx, unlabelled(ns, "open", leaky)), "no proxy mounts it: admitted unread")
	patch := `{"spec":{"template":{"spec":{"volumes":[{"name":"` + names.VolumeName + `","configMap":{"name":"open"}}]}}}}`
	err = cp.Client.Patch(ctx, getDaemonSet(t, ns, "silent"), client.RawPatch(types.StrategicMergePatchType, []byte(patch)))
	assert.Error(t, err, "the host-network haproxy moved to a config nobody validated")
	ds := getDaemonSet(t, ns, "silent")
	t.Logf("stored: labels=%v hostNetwork=%v volumes=%v", ds.Labels, ds.Spec.Template.Spec.HostNetwork, admission.MountedConfigMaps(ds))
}

// TestRedTeamTerminatingProxyTemplateChangeRunsNoPod (attack refused, with the real DaemonSet
// controller). A tenant holds a proxy in deletion with a finalizer of their own (background
// deletion: the garbage collector leaves its pods and ControllerRevisions while it exists), so
// that the injector leaves it alone, then moves its template to another ConfigMap. The write is
// validated as usual (here: admitted, b complies), and the controller, which does not sync a
// DaemonSet being deleted, creates no pod of the new template and keeps the old one; the
// ConfigMap the running pod mounts stays checked through the old ControllerRevision although
// no template mounts it.
func TestRedTeamTerminatingProxyTemplateChangeRunsNoPod(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	daemonSetController(t)
	ns := cachedNamespace(t)
	leaky, line := allowBypass(t)
	createLabelled(t, ns, "a")
	createLabelled(t, ns, "b")
	ds := newProxy(ns, "held", "a")
	ds.Finalizers = []string{"example.com/hold"}
	require.NoError(t, cp.Client.Create(ctx, ds))
	t.Cleanup(func() {
		_ = cp.Client.Patch(context.Background(), getDaemonSet(t, ns, "held"), rawMerge(`{"metadata":{"finalizers":null}}`))
	})
	require.Equal(t, "pod", controllerOutcome(t, ns, ds.Name, 15*time.Second))
	podsMounting := func() map[string]string {
		var pods corev1.PodList
		require.NoError(t, cp.Client.List(ctx, &pods, client.InNamespace(ns)))
		out := map[string]string{}
		for _, p := range pods.Items {
			for _, v := range p.Spec.Volumes {
				if v.ConfigMap != nil && v.Name == names.VolumeName {
					out[p.Name] = v.ConfigMap.Name
				}
			}
		}
		return out
	}
	before := podsMounting()
	require.NotEmpty(t, before)
	require.NoError(t, cp.Client.Delete(ctx, getDaemonSet(t, ns, "held")))
	require.NotNil(t, getDaemonSet(t, ns, "held").DeletionTimestamp)

	patch := `{"spec":{"template":{"metadata":{"annotations":{"example.com/moved":"b"}},"spec":{"volumes":[{"name":"` +
		names.VolumeName + `","configMap":{"name":"b"}}]}}}}`
	require.NoError(t, cp.Client.Patch(ctx, getDaemonSet(t, ns, "held"), client.RawPatch(types.StrategicMergePatchType, []byte(patch))),
		"a compliant template change of a proxy being deleted is reviewed and admitted")
	time.Sleep(5 * time.Second)
	assert.Equal(t, before, podsMounting(), "the controller acted on the template of a DaemonSet being deleted")

	require.NoError(t, cp.Client.Delete(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: ns}}))
	err := cp.Client.Create(ctx, unlabelled(ns, "a", leaky))
	require.Error(t, err, "the config of the held proxy's running pod was replaced unread")
	assert.Contains(t, err.Error(), "haproxy.cfg:"+itoa(line)+": ")
}

// TestRedTeamApplyCreateWithDeletionTimestampSkipsInjection (finding: bypass). The injector
// leaves a DaemonSet being deleted alone (errBeingDeleted: it reads deletionTimestamp of the
// object under review). The API server wipes a client's deletionTimestamp on a plain create
// before admission, but a create through server-side apply (PATCH of a DaemonSet that does not
// exist yet: `kubectl apply --server-side`) runs mutating admission on the applied object and
// wipes the system fields only afterwards (registry.Store.Update, "create-via-apply"). So a
// tenant applies a new DaemonSet carrying a deletionTimestamp: the mutating webhook skips
// injection ("being deleted"), the stored DaemonSet has no deletionTimestamp, and only the
// validator stood in the way: in a namespace with injection enabled (or labelled inject=true)
// the tenant's own haproxy container (with a postStart exec hook, see
// TestRedTeamEarlierProxyRunsUnvalidatedCommands) runs instead of the injected one, and the
// DaemonSet controller starts it on every node. Fix: in DaemonSetInjector.Handle skip only on
// UPDATE whose old object has a deletionTimestamp (req.OldObject), never on CREATE (or treat a
// CREATE carrying one as any other create); a test for create-via-apply.
func TestRedTeamApplyCreateWithDeletionTimestampSkipsInjection(t *testing.T) {
	needControlPlane(t)
	ns := newNamespace(t, map[string]string{names.NamespaceInjectionLabel: "enabled"})
	kubectl(t, configMap("plain", ns, "", seedConfig(t)), "apply", "-f", "-")
	ds := ordinaryMounting(ns, "applied", "plain", nil)
	ds.APIVersion, ds.Kind = "apps/v1", "DaemonSet"
	ds.Annotations = map[string]string{names.ConfigMapAnnotation: "plain"}
	spec := &ds.Spec.Template.Spec
	spec.HostNetwork = true
	spec.DNSPolicy = corev1.DNSClusterFirstWithHostNet
	spec.Tolerations = []corev1.Toleration{{Key: testTaint, Operator: corev1.TolerationOpExists}}
	spec.Containers[0].Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{
		Command: []string{"/bin/sh", "-c", "haproxy -D -f /tmp/open.cfg"}}}}
	now := metav1.Now()
	ds.DeletionTimestamp = &now
	stdout, stderr, err := cp.Kubectl(context.Background(), jsonString(t, ds), "apply", "--server-side", "--field-manager=tenant", "-f", "-")
	t.Logf("kubectl apply --server-side: err=%v\n%s%s", err, stdout, stderr)
	if err != nil {
		return // refused: nothing stored
	}
	got := getDaemonSet(t, ns, "applied")
	assert.Nil(t, got.DeletionTimestamp, "stored as a live DaemonSet")
	assert.Contains(t, got.Annotations, names.StatusAnnotation, "not injected: the DaemonSet of an enabled namespace skipped the injector")
	assert.Nil(t, haproxyContainer(t, got).Lifecycle, "the tenant's postStart exec hook runs in the proxy container")

	// The real DaemonSet controller makes its pod; the pod validator lets it through (its
	// DaemonSet is no proxy to it: neither labelled nor injected).
	daemonSetController(t)
	require.Equal(t, "pod", controllerOutcome(t, ns, "applied", 15*time.Second), "the controller's pod")
	var pods corev1.PodList
	require.NoError(t, cp.Client.List(context.Background(), &pods, client.InNamespace(ns)))
	for _, p := range pods.Items {
		for _, c := range p.Spec.Containers {
			assert.False(t, c.Name == names.ContainerName && c.Lifecycle != nil,
				"pod %s on node %s (hostNetwork %v) runs the tenant's postStart exec hook in its %s container",
				p.Name, p.Spec.NodeName, p.Spec.HostNetwork, c.Name)
		}
	}
}

// TestRedTeamUpdateWithDeletionTimestamp (attack refused): the gap of
// TestRedTeamApplyCreateWithDeletionTimestampSkipsInjection on an UPDATE of a live proxy, a
// client-set deletionTimestamp with a postStart exec hook, through merge, strategic merge, apply
// patches and a plain update. The API server refuses each (metadata.deletionTimestamp: field is
// immutable) after the injector skipped it, so nothing is stored.
func TestRedTeamUpdateWithDeletionTimestamp(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	ns := newProxyNamespace(t, nil)
	kubectl(t, manifestOf(stub, "upd", ns, names.InjectLabel+`: "true"`), "apply", "-f", "-")
	hook := hostileContainerEdits["postStart exec hook"]
	for _, pt := range []types.PatchType{types.MergePatchType, types.StrategicMergePatchType, types.ApplyPatchType} {
		body := strings.Replace(hook, `{"spec"`, `{"metadata":{"deletionTimestamp":"2020-01-01T00:00:00Z"},"spec"`, 1)
		var opts []client.PatchOption
		if pt == types.ApplyPatchType {
			body = strings.Replace(body, `{"metadata":{`, `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"upd",`, 1)
			opts = append(opts, client.FieldOwner("tenant"), client.ForceOwnership)
		}
		err := cp.Client.Patch(ctx, getDaemonSet(t, ns, "upd"), client.RawPatch(pt, []byte(body)), opts...)
		got := getDaemonSet(t, ns, "upd")
		t.Logf("%s: err=%v deletionTimestamp=%v lifecycle=%v", pt, err, got.DeletionTimestamp, haproxyContainer(t, got).Lifecycle != nil)
		assert.Nil(t, haproxyContainer(t, got).Lifecycle, "%s: the tenant's exec hook is stored on a live proxy", pt)
	}
	ds := getDaemonSet(t, ns, "upd")
	now := metav1.Now()
	ds.DeletionTimestamp = &now
	haproxyContainer(t, ds).Lifecycle = &corev1.Lifecycle{PostStart: &corev1.LifecycleHandler{Exec: &corev1.ExecAction{Command: []string{"sh"}}}}
	err := cp.Client.Update(ctx, ds)
	got := getDaemonSet(t, ns, "upd")
	t.Logf("update: err=%v deletionTimestamp=%v lifecycle=%v", err, got.DeletionTimestamp, haproxyContainer(t, got).Lifecycle != nil)
	assert.Nil(t, haproxyContainer(t, got).Lifecycle, "update: the tenant's exec hook is stored on a live proxy")
}
