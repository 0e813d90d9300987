//go:build !race

// The server under attack is another process, built without the race detector; in this process
// the detector would only slow the attack's own encoding of 5,000-container DaemonSets about
// tenfold, stealing the CPU the API server and serve share on a small machine.

package attack

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/admission"
	"github.com/metrics-proxy/injector/webhook/names"
)

// Size of the attack: as in the report that found the gaps, eight of each at once.
const (
	parallel       = 8
	configRounds   = 4
	daemonSetRound = 3
	directRounds   = 10
	containers     = 5000
)

// TestAttackKeepsServeUnderLimit: eight 1 MB proxy ConfigMaps, eight DaemonSets of 5,000
// containers and eight clients posting deeply nested and 6 MB reviews straight to the port, all
// at once: serve's peak memory stays under the container limit, every attack is refused, and an
// ordinary proxy DaemonSet created meanwhile through the API server is admitted (the API server
// would refuse it past the webhook's 5 s timeout). Figures are logged.
func TestAttackKeepsServeUnderLimit(t *testing.T) {
	if serve == nil {
		testtool.Missing(t, why.Error())
	}
	ctx := context.Background()
	c, err := client.New(cfg, client.Options{})
	require.NoError(t, err)
	registerWebhooks(t, c)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "tenant-"}}
	require.NoError(t, c.Create(ctx, ns))
	require.NoError(t, c.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: names.DefaultConfigMap, Namespace: ns.Name,
		Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}}))

	n := 0
	normal := func() (time.Duration, error) {
		n++
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "normal-" + strconv.Itoa(n), Namespace: ns.Name,
			Labels: map[string]string{names.InjectLabel: "true"}}}
		start := time.Now()
		err := c.Create(ctx, ds, client.DryRunAll)
		if err == nil && ds.Annotations[names.StatusAnnotation] == "" {
			err = fmt.Errorf("admitted but not injected")
		}
		return time.Since(start), err
	}
	require.Eventually(t, func() bool { _, err := normal(); return err == nil }, 30*time.Second, 200*time.Millisecond,
		"the webhooks never answered")
	var baseline []time.Duration
	for range 10 {
		d, err := normal()
		require.NoError(t, err)
		baseline = append(baseline, d)
	}
	before, err := serve.peakRSS()
	require.NoError(t, err)

	attackCtx, stop := context.WithTimeout(ctx, 3*time.Minute)
	defer stop()
	var wg sync.WaitGroup
	refused := make(chan string, parallel*(configRounds+daemonSetRound+2*directRounds))
	for i := range parallel {
		wg.Go(func() { bigConfigMaps(attackCtx, t, c, ns.Name, i, refused) })
		wg.Go(func() { hugeDaemonSets(attackCtx, t, c, ns.Name, i, refused) })
		wg.Go(func() { directReviews(attackCtx, t, refused) })
	}
	attacking := make(chan struct{})
	go func() { wg.Wait(); close(attacking) }()
	direct := make(chan []time.Duration, 1)
	go func() { direct <- probeDirect(attacking) }()
	var during []time.Duration
	var failures []error
probe:
	for {
		d, err := normal()
		during = append(during, d)
		if err != nil {
			failures = append(failures, err)
		}
		select {
		case <-attacking:
			break probe
		case <-time.After(200 * time.Millisecond):
		}
	}
	close(refused)
	served := <-direct
	peak, err := serve.peakRSS()
	require.NoError(t, err)

	t.Logf("serve peak RSS: %.1f MiB before the attack, %.1f MiB after (limit %d MiB)", mib(before), mib(peak), memoryLimit>>20)
	t.Logf("ordinary proxy DaemonSet through the API server: p50 %s max %s before; p50 %s max %s during the attack (%d creates)",
		pct(baseline, 50), pct(baseline, 100), pct(during, 50), pct(during, 100), len(during))
	t.Logf("the same review straight to serve's port during the attack: p50 %s max %s (%d reviews; the rest of the latency above is the API server's)",
		pct(served, 50), pct(served, 100), len(served))
	reasons := map[string]int{}
	for r := range refused {
		reasons[r]++
	}
	t.Logf("attack requests refused, by answer: %v", reasons)

	assert.Empty(t, failures, "an ordinary proxy DaemonSet must be admitted during the attack")
	assert.Less(t, peak, int64(memoryLimit), "serve must stay under its container's memory limit")
	for r := range reasons {
		assert.Contains(t, []string{"object-size", "400", "413", "429", "closed"}, r, "every attack is refused by a bound")
	}
	select {
	case <-serve.done:
		t.Fatalf("serve exited during the attack (log: %s)", serve.log)
	default:
	}
}

// probeDirect posts an ordinary proxy DaemonSet review straight to serve's port every 200 ms
// until done, and returns the latencies of the answered ones.
func probeDirect(done <-chan struct{}) []time.Duration {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(servePEM)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	review := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"probe",` +
		`"kind":{"group":"apps","version":"v1","kind":"DaemonSet"},"resource":{"group":"apps","version":"v1","resource":"daemonsets"},` +
		`"operation":"CREATE","namespace":"n","name":"p","object":{"metadata":{"name":"p"},"spec":{"template":{"spec":{"containers":[]}}}}}}`
	var out []time.Duration
	for {
		start := time.Now()
		resp, err := hc.Post("https://"+serveAddr+admission.MutateDaemonSetPath, "application/json", strings.NewReader(review))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				out = append(out, time.Since(start))
			}
		}
		select {
		case <-done:
			return out
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// bigConfigMaps creates proxy ConfigMaps holding a haproxy.cfg of a megabyte through the API server.
func bigConfigMaps(ctx context.Context, t *testing.T, c client.Client, ns string, i int, refused chan<- string) {
	cfg := strings.Repeat("# a line of a very long haproxy.cfg that no proxy needs, repeated to a megabyte\n", 1_000_000/80)
	for round := range configRounds {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("big-%d-%d", i, round), Namespace: ns,
			Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}, Data: map[string]string{names.ConfigKey: cfg}}
		refused <- answer(c.Create(ctx, cm))
	}
}

// hugeDaemonSets creates proxy DaemonSets of 5,000 containers through the API server.
func hugeDaemonSets(ctx context.Context, t *testing.T, c client.Client, ns string, i int, refused chan<- string) {
	cs := make([]corev1.Container, containers)
	for k := range cs {
		cs[k] = corev1.Container{Name: "c" + strconv.Itoa(k), Image: "busybox"}
	}
	for round := range daemonSetRound {
		ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("huge-%d-%d", i, round), Namespace: ns,
			Labels: map[string]string{names.InjectLabel: "true"}},
			Spec: appsv1.DaemonSetSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"a": "b"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"a": "b"}},
					Spec: corev1.PodSpec{Containers: cs}}}}
		refused <- answer(c.Create(ctx, ds))
	}
}

// directReviews posts, straight to serve's port, reviews the API server would never send: a
// deeply nested 18 KB one and a 6 MB one.
func directReviews(ctx context.Context, t *testing.T, refused chan<- string) {
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(servePEM)
	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	head := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","kind":{"group":"apps","version":"v1","kind":"DaemonSet"},` +
		`"resource":{"group":"apps","version":"v1","resource":"daemonsets"},"operation":"CREATE","namespace":"n","name":"p","object":`
	deep := head + `{"spec":{"x":` + strings.Repeat("[", 9000) + strings.Repeat("]", 9000) + `}}}}`
	big := head + `{"metadata":{"name":"p","annotations":{"a":"` + strings.Repeat("x", 6<<20) + `"}}}}}`
	for round := range directRounds {
		for _, body := range []string{deep, big} {
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, "https://"+serveAddr+admission.MutateDaemonSetPath, bytes.NewReader([]byte(body)))
			if err != nil {
				refused <- err.Error()
				continue
			}
			req.Header.Set("Content-Type", "application/json")
			resp, err := hc.Do(req)
			if err != nil && len(body) > 1<<20 {
				refused <- "closed" // the server stopped reading at its body cap and closed the connection
				continue
			}
			if err != nil {
				refused <- err.Error()
				continue
			}
			var out bytes.Buffer
			_, _ = out.ReadFrom(resp.Body)
			resp.Body.Close()
			switch {
			case resp.StatusCode != http.StatusOK:
				refused <- strconv.Itoa(resp.StatusCode)
			case strings.Contains(out.String(), "object-size"):
				refused <- "object-size"
			case strings.Contains(out.String(), "metrics-proxy: too many large admission reviews in flight"):
				refused <- "429"
			case strings.Contains(out.String(), `"code":413`):
				refused <- "413"
			case strings.Contains(out.String(), `"code":400`) && strings.Contains(out.String(), "request body too large"):
				refused <- "400"
			default:
				refused <- fmt.Sprintf("round %d: %.200s", round, out.String())
			}
		}
	}
}

// answer names how the API server answered a create: the rule that refused it, or the error.
func answer(err error) string {
	switch {
	case err == nil:
		return "admitted"
	case strings.Contains(err.Error(), "object-size"):
		return "object-size"
	case strings.Contains(err.Error(), "metrics-proxy: too many large admission reviews in flight"):
		return "429"
	}
	return fmt.Sprintf("%.200s", err.Error())
}

// registerWebhooks installs deploy/base's webhook configurations pointed at serve.
func registerWebhooks(t *testing.T, c client.Client) {
	t.Helper()
	ctx := context.Background()
	hooks, err := harness.LoadWebhooks(serveAddr, harness.WebhookManifests()...)
	require.NoError(t, err)
	for _, m := range hooks.Mutating {
		for i := range m.Webhooks {
			m.Webhooks[i].ClientConfig.CABundle = servePEM
		}
		require.NoError(t, c.Create(ctx, m))
	}
	for _, v := range hooks.Validating {
		for i := range v.Webhooks {
			v.Webhooks[i].ClientConfig.CABundle = servePEM
		}
		require.NoError(t, c.Create(ctx, v))
	}
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

// pct is the p-th percentile of ds.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[(len(s)-1)*p/100].Round(time.Millisecond)
}
