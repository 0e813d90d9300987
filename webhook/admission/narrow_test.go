package admission

import (
	"bytes"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/metrics-proxy/injector/webhook/names"
)

// listPage encodes DaemonSets as the API server writes a page of a DaemonSetList in protobuf.
func listPage(t testing.TB, cont string, items ...appsv1.DaemonSet) string {
	t.Helper()
	l := &appsv1.DaemonSetList{ListMeta: metav1.ListMeta{ResourceVersion: "42", Continue: cont}, Items: items}
	enc := scheme.Codecs.EncoderForVersion(protobuf.NewSerializer(scheme.Scheme, scheme.Scheme), appsv1.SchemeGroupVersion)
	var buf bytes.Buffer
	require.NoError(t, enc.Encode(l, &buf))
	return buf.String()
}

func daemonSet(name string, labels, annotations map[string]string, vols ...corev1.Volume) appsv1.DaemonSet {
	return appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
			Volumes:    vols,
			Containers: []corev1.Container{{Name: "c", Image: "x", Env: []corev1.EnvVar{{Name: "E", Value: strings.Repeat("v", 1000)}}}}}}}}
}

func cmVolume(name string) corev1.Volume {
	return corev1.Volume{Name: "v-" + name, VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
		LocalObjectReference: corev1.LocalObjectReference{Name: name}}}}
}

func projected(names ...string) corev1.Volume {
	var srcs []corev1.VolumeProjection
	for _, n := range names {
		srcs = append(srcs, corev1.VolumeProjection{ConfigMap: &corev1.ConfigMapProjection{
			LocalObjectReference: corev1.LocalObjectReference{Name: n}}})
	}
	srcs = append(srcs, corev1.VolumeProjection{Secret: &corev1.SecretProjection{
		LocalObjectReference: corev1.LocalObjectReference{Name: "not-a-configmap"}}})
	return corev1.Volume{Name: "p", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: srcs}}}
}

func TestDecodeDaemonSetList(t *testing.T) {
	inject := map[string]string{names.InjectLabel: "true"}
	optOut := map[string]string{names.InjectLabel: "false"}
	injected := map[string]string{names.StatusAnnotation: "{}"}
	pad := map[string]string{}
	for i := 0; i < 200; i++ {
		pad[strings.Repeat("k", i+1)] = strings.Repeat(`"\x`, 500) // escapes, quotes, backslashes
	}
	padded := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range pad {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	tests := []struct {
		name    string
		items   []appsv1.DaemonSet
		proxies map[string][]string // name: what it mounts, for the proxies alone
	}{
		{"labelled proxy", []appsv1.DaemonSet{daemonSet("a", inject, nil, cmVolume("cfg"))}, map[string][]string{"a": {"cfg"}}},
		{"injected without the label", []appsv1.DaemonSet{daemonSet("a", nil, injected, cmVolume("cfg"))}, map[string][]string{"a": {"cfg"}}},
		{"opted out though injected", []appsv1.DaemonSet{daemonSet("a", optOut, injected, cmVolume("cfg"))}, map[string][]string{}},
		{"no proxy", []appsv1.DaemonSet{daemonSet("a", map[string]string{"app": "x"}, map[string]string{"x": "y"}, cmVolume("cfg"))}, map[string][]string{}},
		{"other inject value", []appsv1.DaemonSet{daemonSet("a", map[string]string{names.InjectLabel: "yes"}, nil, cmVolume("cfg"))}, map[string][]string{}},
		{"projected sources", []appsv1.DaemonSet{daemonSet("a", inject, nil, cmVolume("one"), projected("two", "three"))},
			map[string][]string{"a": {"one", "two", "three"}}},
		{"padded annotations hide nothing", []appsv1.DaemonSet{
			daemonSet("a", padded(inject), padded(nil), cmVolume("cfg")),
			daemonSet("b", padded(nil), padded(injected), cmVolume("other")),
			daemonSet("c", padded(nil), padded(nil), cmVolume("none")),
		}, map[string][]string{"a": {"cfg"}, "b": {"other"}}},
		{"a key that holds the status annotation's name as its value", []appsv1.DaemonSet{
			daemonSet("a", nil, map[string]string{"x": names.StatusAnnotation, names.StatusAnnotation + "x": "y"}, cmVolume("cfg"))}, map[string][]string{}},
		{"no items", nil, map[string][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := map[string][]string{}
			cont, err := decodeDaemonSetList(strings.NewReader(listPage(t, "next", tt.items...)), func(ds *narrowDaemonSet) {
				if ds.isProxy() {
					got[ds.name] = ds.mounts
				}
			})
			require.NoError(t, err)
			assert.Equal(t, "next", cont)
			assert.Equal(t, tt.proxies, got)
		})
	}
}

func TestDecodeDaemonSetListRefusesBadInput(t *testing.T) {
	good := listPage(t, "c", daemonSet("a", map[string]string{names.InjectLabel: "true"}, nil, cmVolume("cfg")))
	for name, in := range map[string]string{
		"empty": ``, "JSON": `{"items":[]}`, "cut in an item": good[:len(good)-20], "cut in a length": good[:len(protobufMagic)+3],
		"a length past the end": string(protobufMagic) + "\x12\xff\xff\xff\x0f",
		"a group":               string(protobufMagic) + "\x13",
	} {
		_, err := decodeDaemonSetList(strings.NewReader(in), func(*narrowDaemonSet) {})
		assert.ErrorIs(t, err, errProtobuf, name)
	}
}

// TestNarrowDecodeAllocations: the narrow decode's allocations do not grow with the number of
// a DaemonSet's annotations and labels (they are skipped, not kept): 1000 of them cost what 100
// of the same total size cost, where a full decode (the baseline) allocates for each.
func TestNarrowDecodeAllocations(t *testing.T) {
	padding := func(n int) map[string]string {
		m := map[string]string{names.InjectLabel: "true"}
		for i := 0; i < n; i++ {
			m["pad"+strconv.Itoa(i)] = strings.Repeat("x", (200<<10)/n)
		}
		return m
	}
	few := listPage(t, "", daemonSet("a", padding(100), padding(100), cmVolume("cfg")))
	many := listPage(t, "", daemonSet("a", padding(1000), padding(1000), cmVolume("cfg")))
	// The fewest of five measurements: AllocsPerRun counts the whole process's allocations, and
	// the package's control plane (informers, watches) allocates meanwhile; noise only adds.
	narrow := func(page string) float64 {
		fewest := math.Inf(1)
		for range 5 {
			fewest = math.Min(fewest, testing.AllocsPerRun(10, func() {
				_, _ = decodeDaemonSetList(strings.NewReader(page), func(*narrowDaemonSet) {})
			}))
		}
		return fewest
	}
	full := func(page string) float64 {
		return testing.AllocsPerRun(10, func() {
			_, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(page), nil, nil)
			require.NoError(t, err)
		})
	}
	nf, nm, ff, fm := narrow(few), narrow(many), full(few), full(many)
	t.Logf("allocations, 100 / 1000 annotations and labels: narrow %.0f / %.0f, full decode %.0f / %.0f", nf, nm, ff, fm)
	assert.LessOrEqual(t, nm, nf+2, "the narrow decode allocates for every annotation")
	assert.Greater(t, fm, ff+1000, "the full decode, the baseline, no longer allocates for each")
}

// FuzzDecodeDaemonSetList: no input makes the decoder panic or keep more than one item.
func FuzzDecodeDaemonSetList(f *testing.F) {
	f.Add(listPage(f, "c", daemonSet("a", map[string]string{names.InjectLabel: "true"}, map[string]string{"x": "y"},
		cmVolume("cfg"), projected("p"))))
	f.Add(string(protobufMagic))
	f.Fuzz(func(t *testing.T, in string) {
		_, _ = decodeDaemonSetList(strings.NewReader(in), func(ds *narrowDaemonSet) { _ = ds.isProxy() })
	})
}
