package admission_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/log"
	cradmission "sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// Run these without a control plane (TestMain starts one when bin/ has it):
//
//	KUBEBUILDER_ASSETS=/nonexistent go test -run '^$' -bench . -benchmem ./webhook/admission

// benchStub is the smallest DaemonSet stub: a name, a namespace and no containers.
const benchStub = `{"apiVersion":"apps/v1","kind":"DaemonSet","metadata":{"name":"proxy","namespace":"monitoring"},` +
	`"spec":{"template":{"spec":{"containers":[]}}}}`

// benchWithEnv returns a complete DaemonSet whose own container carries n env vars.
func benchWithEnv(n int) []byte {
	env := make([]map[string]string, n)
	for i := range env {
		env[i] = map[string]string{"name": fmt.Sprintf("VAR_%04d", i), "value": fmt.Sprintf("value-%d", i)}
	}
	raw, err := json.Marshal(map[string]any{
		"apiVersion": "apps/v1", "kind": "DaemonSet",
		"metadata": map[string]any{"name": "agent", "namespace": "monitoring"},
		"spec": map[string]any{
			"selector": map[string]any{"matchLabels": map[string]string{"app": "agent"}},
			"template": map[string]any{
				"metadata": map[string]any{"labels": map[string]string{"app": "agent"}},
				"spec": map[string]any{"containers": []any{map[string]any{
					"name": "agent", "image": "registry.k8s.io/pause:3.10", "env": env}}},
			},
		},
	})
	if err != nil {
		panic(err)
	}
	return raw
}

// benchAPIServerStub is benchStub as the API server sends it in a review: defaulted, with the
// annotation and managedFields of a kubectl apply, encoded by its Go types.
func benchAPIServerStub() []byte {
	created := metav1.NewTime(time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	one, zero := intstr.FromInt32(1), intstr.FromInt32(0)
	fields := `{"f:metadata":{"f:annotations":{".":{},"f:kubectl.kubernetes.io/last-applied-configuration":{}}},` +
		`"f:spec":{"f:revisionHistoryLimit":{},"f:template":{"f:spec":{"f:dnsPolicy":{},"f:restartPolicy":{},` +
		`"f:schedulerName":{},"f:securityContext":{},"f:terminationGracePeriodSeconds":{}}},` +
		`"f:updateStrategy":{"f:rollingUpdate":{".":{},"f:maxSurge":{},"f:maxUnavailable":{}},"f:type":{}}}}`
	ds := appsv1.DaemonSet{
		TypeMeta: metav1.TypeMeta{APIVersion: "apps/v1", Kind: "DaemonSet"},
		ObjectMeta: metav1.ObjectMeta{Name: "proxy", Namespace: "monitoring", UID: "5c4f2d0e-9b1a-4c3e-8f6d-2a7b9c0d1e2f",
			Generation: 1, CreationTimestamp: created,
			Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": benchStub + "\n"},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kubectl-client-side-apply", Operation: metav1.ManagedFieldsOperationUpdate,
				APIVersion: "apps/v1", Time: &created, FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields)}}}},
		Spec: appsv1.DaemonSetSpec{
			RevisionHistoryLimit: ptr.To[int32](10),
			UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType,
				RollingUpdate: &appsv1.RollingUpdateDaemonSet{MaxUnavailable: &one, MaxSurge: &zero}},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{},
				RestartPolicy: corev1.RestartPolicyAlways, TerminationGracePeriodSeconds: ptr.To[int64](30),
				DNSPolicy: corev1.DNSClusterFirst, SecurityContext: &corev1.PodSecurityContext{}, SchedulerName: "default-scheduler"}},
		},
	}
	raw, err := json.Marshal(&ds)
	if err != nil {
		panic(err)
	}
	return raw
}

type benchInput struct {
	name string
	raw  []byte
}

// daemonSetInputs are the DaemonSets of the handler benchmarks: a stub as written and as the API
// server sends it, an injected one, and DaemonSets with 10, 100 and 1000 env vars (the patch must
// not grow with them).
func daemonSetInputs(b *testing.B) []benchInput {
	injected, err := inject.DaemonSetJSON([]byte(benchStub), inject.Config{Version: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	return []benchInput{{"stub", []byte(benchStub)}, {"apiserver-stub", benchAPIServerStub()}, {"injected", injected},
		{"env-10", benchWithEnv(10)}, {"env-100", benchWithEnv(100)}, {"env-1000", benchWithEnv(1000)}}
}

// quietContext carries a logger that drops the handlers' decision lines.
func quietContext() context.Context {
	return log.IntoContext(context.Background(), logr.Discard())
}

func createRequest(resource string, raw []byte) cradmission.Request {
	kind := metav1.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}
	if resource == "configmaps" {
		kind = metav1.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
	}
	return cradmission.Request{AdmissionRequest: admissionv1.AdmissionRequest{
		UID: "bench", Kind: kind, Operation: admissionv1.Create, Namespace: "monitoring", Name: "bench",
		Resource: metav1.GroupVersionResource{Resource: resource}, Object: runtime.RawExtension{Raw: raw}}}
}

// BenchmarkDaemonSetInjector is the mutating handler without HTTP: decode, inject, build the
// JSON patch with PatchResponseFromRaw. patch-ops is the number of patch operations.
func BenchmarkDaemonSetInjector(b *testing.B) {
	h := &admission.DaemonSetInjector{Config: inject.Config{Version: "bench"}}
	ctx := quietContext()
	for _, in := range daemonSetInputs(b) {
		b.Run(in.name, func(b *testing.B) {
			req := createRequest("daemonsets", in.raw)
			b.SetBytes(int64(len(in.raw)))
			b.ReportAllocs()
			var ops int
			for b.Loop() {
				resp := h.Handle(ctx, req)
				if !resp.Allowed {
					b.Fatalf("denied: %v", resp.Result)
				}
				ops = len(resp.Patches)
			}
			b.ReportMetric(float64(ops), "patch-ops")
		})
	}
}

// BenchmarkPatchResponseFromRaw is the JSON patch alone, between a DaemonSet and its injection.
func BenchmarkPatchResponseFromRaw(b *testing.B) {
	for _, in := range daemonSetInputs(b) {
		out, err := inject.DaemonSetJSON(in.raw, inject.Config{Version: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.raw)))
			b.ReportAllocs()
			var ops int
			for b.Loop() {
				ops = len(cradmission.PatchResponseFromRaw(in.raw, out).Patches)
			}
			b.ReportMetric(float64(ops), "patch-ops")
		})
	}
}

// BenchmarkConfigMapValidator is the validating handler without HTTP on the seed's ConfigMap.
func BenchmarkConfigMapValidator(b *testing.B) {
	cfg, err := os.ReadFile("../inject/testdata/seed-haproxy.cfg")
	if err != nil {
		b.Fatal(err)
	}
	raw, err := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "metrics-proxy", "namespace": "monitoring",
			"labels": map[string]string{names.ConfigLabel: names.ConfigLabelValue}},
		"data": map[string]string{names.ConfigKey: string(cfg)}})
	if err != nil {
		b.Fatal(err)
	}
	h := admission.ConfigMapValidator{Policies: admission.StaticPolicy{P: policy.Default()}}
	ctx := quietContext()
	req := createRequest("configmaps", raw)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		if resp := h.Handle(ctx, req); !resp.Allowed {
			b.Fatalf("seed config denied: %v", resp.Result)
		}
	}
}
