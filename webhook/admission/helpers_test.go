package admission_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/names"
)

// manifestOf fills a template's _NAME_, _NS_ and {LABELS}.
func manifestOf(tmpl, name, namespace, labels string) string {
	return strings.NewReplacer("_NAME_", name, "_NS_", namespace, "{LABELS}", "{"+labels+"}").Replace(tmpl)
}

// newNamespace creates a namespace with a generated name and the labels, deleted after the test.
func newNamespace(t testing.TB, labels map[string]string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "it-", Labels: labels}}
	require.NoError(t, cp.Client.Create(context.Background(), ns))
	t.Cleanup(func() { _ = cp.Client.Delete(context.Background(), ns) })
	return ns.Name
}

// newProxyNamespace creates a namespace like newNamespace, holding the generated proxy config
// that the validating webhook requires a proxy DaemonSet to mount.
func newProxyNamespace(t *testing.T, labels map[string]string) string {
	t.Helper()
	ns := newNamespace(t, labels)
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: names.DefaultConfigMap, Namespace: ns,
		Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}}
	require.NoError(t, cp.Client.Create(context.Background(), cm))
	return ns
}

// ensureNamespace creates the named namespace unless it exists; it outlives the test.
func ensureNamespace(t *testing.T, name string) {
	t.Helper()
	err := cp.Client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}})
	if !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func getDaemonSet(t testing.TB, namespace, name string) *appsv1.DaemonSet {
	t.Helper()
	ds := &appsv1.DaemonSet{}
	require.NoError(t, cp.Client.Get(context.Background(), client.ObjectKey{Namespace: namespace, Name: name}, ds))
	return ds
}

// kubectl runs the real kubectl against the local control plane with stdin; it must succeed.
func kubectl(t *testing.T, stdin string, args ...string) (stdout, stderr string) {
	t.Helper()
	stdout, stderr, err := cp.Kubectl(context.Background(), stdin, args...)
	require.NoError(t, err)
	return stdout, stderr
}

// kubectlFails runs kubectl, which must fail, and returns its stderr.
func kubectlFails(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	_, stderr, err := cp.Kubectl(context.Background(), stdin, args...)
	require.Error(t, err, "kubectl %s should have failed", strings.Join(args, " "))
	return stderr
}

type httpResult struct {
	status int
	body   string
}

func httpGet(t *testing.T, url string) httpResult {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	require.NoError(t, err)
	return httpResult{status: resp.StatusCode, body: string(body)}
}

// invalidReloads reads metrics_proxy_policy_reloads_total{result="invalid"} from the server's
// /metrics; 0 while the series does not exist.
func invalidReloads(t *testing.T) float64 {
	t.Helper()
	return metricValue(t, `metrics_proxy_policy_reloads_total{result="invalid"}`)
}

// metricValue reads a series from the server's /metrics; 0 while it does not exist.
func metricValue(t *testing.T, name string) float64 {
	t.Helper()
	series := name + " "
	for _, line := range strings.Split(httpGet(t, "http://"+cp.MetricsAddr+"/metrics").body, "\n") {
		if v, ok := strings.CutPrefix(line, series); ok {
			f, err := strconv.ParseFloat(v, 64)
			require.NoError(t, err, line)
			return f
		}
	}
	return 0
}

func typesUID(s string) types.UID { return types.UID(s) }

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }

func jsonString(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	require.NoError(t, err)
	return string(data)
}
