package admission_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/policy"
)

var podKind = metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}

// liveDaemonSets serves GETs of the DaemonSet "proxy" (a proxy mounting "cfg") in protobuf,
// after delay; another name is not found.
func liveDaemonSets(t *testing.T, delay time.Duration) *admission.LiveDaemonSets {
	t.Helper()
	enc := scheme.Codecs.EncoderForVersion(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), appsv1.SchemeGroupVersion)
	var body bytes.Buffer
	require.NoError(t, enc.Encode(proxyDS(t, "proxy", "plain", "cfg"), &body))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		if r.URL.Path != "/apis/apps/v1/namespaces/plain/daemonsets/proxy" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/vnd.kubernetes.protobuf")
		_, _ = w.Write(body.Bytes())
	}))
	t.Cleanup(srv.Close)
	c, err := rest.RESTClientFor(&rest.Config{Host: srv.URL, APIPath: "/apis", QPS: -1, ContentConfig: rest.ContentConfig{
		GroupVersion: &appsv1.SchemeGroupVersion, NegotiatedSerializer: scheme.Codecs.WithoutConversion()}})
	require.NoError(t, err)
	return admission.NewLiveDaemonSets(c, 0, 0)
}

// TestPodValidatorLookups: the pod validator's look-ups are bounded as the DaemonSet
// validator's (an API server that does not answer yields a clear error within LookupTimeout,
// never a timeout at the API server), and a review it never gets from the API server is an
// error, never allowed.
func TestPodValidatorLookups(t *testing.T) {
	ds := proxyDS(t, "proxy", "plain", "cfg")
	pod := func(owner string) string {
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{GenerateName: owner + "-", OwnerReferences: []metav1.OwnerReference{{
			APIVersion: "apps/v1", Kind: "DaemonSet", Name: owner, UID: "u", Controller: ptrTo(true)}}}, Spec: ds.Spec.Template.Spec}
		return jsonString(t, p)
	}
	deny := admission.StaticPolicy{P: policy.Default()}
	silent := silentReader{deadlines: make(chan time.Duration, 4)}
	empty := fake.NewClientBuilder().Build()
	for _, tt := range []handlerCase{
		{name: "a DaemonSet look-up that does not answer", namespace: "plain", object: pod("proxy"),
			handler: admission.PodValidator{Policies: deny, ConfigMaps: empty, DaemonSets: liveDaemonSets(t, time.Minute)},
			code:    http.StatusInternalServerError, message: "get DaemonSet plain/proxy from the API server: no answer from the API server within 2s"},
		{name: "a ConfigMap look-up that does not answer", namespace: "plain", object: pod("proxy"),
			handler: admission.PodValidator{Policies: deny, ConfigMaps: silent, DaemonSets: liveDaemonSets(t, 0)},
			code:    http.StatusInternalServerError, message: "get the pod's ConfigMaps: no answer from the API server within 2s"},
		{name: "a proxy's pod on a missing ConfigMap", namespace: "plain", object: pod("proxy"),
			handler: admission.PodValidator{Policies: deny, ConfigMaps: empty, DaemonSets: liveDaemonSets(t, 0)},
			code:    http.StatusForbidden, message: "of proxy DaemonSet proxy (ConfigMap cfg) violates the metrics-proxy policy"},
		{name: "no DaemonSet look-up", namespace: "plain", object: pod("proxy"),
			handler: admission.PodValidator{Policies: deny, ConfigMaps: empty},
			code:    http.StatusInternalServerError, message: "no DaemonSet look-up"},
		{name: "a DaemonSet on the pod path", namespace: "plain", object: jsonString(t, ds), kind: dsKind,
			handler: admission.PodValidator{Policies: deny, ConfigMaps: empty, DaemonSets: liveDaemonSets(t, 0)},
			code:    http.StatusBadRequest, message: "this path reviews v1/Pod"},
		{name: "no uid", namespace: "plain", object: pod("proxy"), uid: "-",
			handler: admission.PodValidator{Policies: deny, ConfigMaps: empty, DaemonSets: liveDaemonSets(t, 0)},
			code:    http.StatusBadRequest, message: "no request uid"},
	} {
		tt.op = admissionv1.Create
		tt.run(t, podKind)
	}
	require.Len(t, silent.deadlines, 1)
	assert.LessOrEqual(t, <-silent.deadlines, admission.LookupTimeout)
}

func ptrTo[T any](v T) *T { return &v }
