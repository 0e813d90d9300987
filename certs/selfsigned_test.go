package certs_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/certs"
	"github.com/metrics-proxy/injector/e2e/harness"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/server"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestSelfSignedReplicas: a second replica started against the same API server joins the first
// through the Secret: both serve certificates of the same CA, admission works through either
// (the API server reaches them through a round-robin forwarder), and a forced CA rotation keeps
// every request working while both replicas switch to the new CA.
func TestSelfSignedReplicas(t *testing.T) {
	if noControlPlane != nil {
		testtool.Missing(t, noControlPlane.Error())
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	replicaB := startReplica(ctx, t)
	forwarder := roundRobin(ctx, t, cp.WebhookAddr, replicaB)
	pointWebhooksAt(t, forwarder)

	secret := getSecret(t)
	firstCA := secret.Data[certs.CAKey]
	for _, addr := range []string{cp.WebhookAddr, replicaB} {
		assert.NoError(t, servesCertOf(addr, firstCA), "replica %s serves a certificate of the Secret's CA", addr)
	}
	ns := proxyNamespace(t)
	for range 6 { // through the forwarder: both replicas answer
		require.NoError(t, dryRunStub(ns))
	}

	l := startLoad(ns)
	annotate(t, certs.RotateAnnotation, "now")
	require.Eventually(t, func() bool {
		newCA := getSecret(t).Data[certs.CAKey]
		return string(newCA) != string(firstCA) &&
			servesCertOf(cp.WebhookAddr, newCA) == nil && servesCertOf(replicaB, newCA) == nil
	}, 30*time.Second, 100*time.Millisecond, "both replicas serve a certificate of the new CA")
	time.Sleep(time.Second) // requests keep flowing after the switch
	l.finish(t)

	bundle := getSecret(t).Data[certs.BundleKey]
	assert.Equal(t, 2, strings.Count(string(bundle), "BEGIN CERTIFICATE"), "the old CA stays in the bundle")
}

// startReplica runs a second webhook server in self-signed mode and returns its address once
// it is ready.
func startReplica(ctx context.Context, t *testing.T) string {
	t.Helper()
	source, err := selfSigned(cp.Config, t.TempDir())
	require.NoError(t, err)
	return startReplicaOn(ctx, t, source, freePorts(t, 1)[0])
}

// startReplicaOn runs a webhook server with source on port and returns its address once ready.
func startReplicaOn(ctx context.Context, t *testing.T, source certs.Source, port int) string {
	t.Helper()
	probe := freePorts(t, 1)[0]
	mgr, err := server.New(cp.Config, server.Options{
		Inject: inject.Config{Version: "certs-test"}, Host: "127.0.0.1", Port: port, Certs: source,
		MetricsBindAddress: "0", HealthProbeBindAddress: fmt.Sprintf("127.0.0.1:%d", probe), Logger: logr.Discard(),
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	waitReady(t, probe)
	return fmt.Sprintf("127.0.0.1:%d", port)
}

// waitReady waits until the server whose probes listen on port is ready.
func waitReady(t *testing.T, port int) {
	t.Helper()
	require.Eventually(t, func() bool {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/readyz", port))
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 100*time.Millisecond, "server ready")
}

// roundRobin forwards TCP connections to the backends in turn, as a Service would.
func roundRobin(ctx context.Context, t *testing.T, backends ...string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	go func() { <-ctx.Done(); l.Close() }()
	go func() {
		for i := 0; ; i++ {
			in, err := l.Accept()
			if err != nil {
				return
			}
			go func(backend string) {
				defer in.Close()
				out, err := net.DialTimeout("tcp", backend, 5*time.Second)
				if err != nil {
					return
				}
				defer out.Close()
				go func() { _, _ = io.Copy(out, in); out.Close() }()
				_, _ = io.Copy(in, out)
			}(backends[i%len(backends)])
		}
	}()
	return l.Addr().String()
}

// pointWebhooksAt rewrites the webhook configurations' URLs to https://localhost:PORT of addr.
func pointWebhooksAt(t *testing.T, addr string) {
	t.Helper()
	pointWebhooksNamed(t, "metrics-proxy", addr)
}

// pointWebhooksNamed rewrites the URLs of the webhook configurations called name.
func pointWebhooksNamed(t *testing.T, name, addr string) {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	rewrite := func(cc *admissionregistrationv1.WebhookClientConfig) {
		u := *cc.URL
		path := u[strings.Index(u[len("https://"):], "/")+len("https://"):]
		u = "https://localhost:" + port + path
		cc.URL = &u
	}
	c := cp.Client
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		m := &admissionregistrationv1.MutatingWebhookConfiguration{}
		if err := c.Get(context.Background(), client.ObjectKey{Name: name}, m); err != nil {
			return err
		}
		for i := range m.Webhooks {
			rewrite(&m.Webhooks[i].ClientConfig)
		}
		return c.Update(context.Background(), m)
	}))
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		v := &admissionregistrationv1.ValidatingWebhookConfiguration{}
		if err := c.Get(context.Background(), client.ObjectKey{Name: name}, v); err != nil {
			return err
		}
		for i := range v.Webhooks {
			rewrite(&v.Webhooks[i].ClientConfig)
		}
		return c.Update(context.Background(), v)
	}))
}

// servesCertOf dials addr and checks the certificate it serves is signed by caPEM for localhost.
func servesCertOf(addr string, caPEM []byte) error {
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return fmt.Errorf("no CA")
	}
	d := &net.Dialer{Timeout: 5 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{RootCAs: pool, ServerName: "localhost"})
	if err != nil {
		return err
	}
	return conn.Close()
}

// proxyNamespace creates an enabled namespace with a proxy ConfigMap, so stubs are admitted.
func proxyNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "certs-",
		Labels: map[string]string{names.NamespaceInjectionLabel: "enabled"}}}
	require.NoError(t, cp.Client.Create(context.Background(), ns))
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: names.DefaultConfigMap, Namespace: ns.Name,
		Labels: map[string]string{names.ConfigLabel: names.ConfigLabelValue}}}
	require.NoError(t, cp.Client.Create(context.Background(), cm))
	return ns.Name
}

// dryRunStub sends a stub DaemonSet through both webhooks (server-side dry-run) and checks it
// came back injected.
func dryRunStub(ns string) error {
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{GenerateName: "stub-", Namespace: ns},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{}}}}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cp.Client.Create(ctx, ds, client.DryRunAll); err != nil {
		return err
	}
	if len(ds.Spec.Template.Spec.Containers) != 1 {
		return fmt.Errorf("not injected: %d containers", len(ds.Spec.Template.Spec.Containers))
	}
	return nil
}

func getSecret(t *testing.T) *corev1.Secret {
	t.Helper()
	s := &corev1.Secret{}
	require.NoError(t, cp.Client.Get(context.Background(), secretKey, s))
	return s
}

func annotate(t *testing.T, key, value string) {
	t.Helper()
	require.NoError(t, retry.RetryOnConflict(retry.DefaultRetry, func() error {
		s := getSecret(t)
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		s.Annotations[key] = value
		return cp.Client.Update(context.Background(), s)
	}))
}

func itoa(i int) string { return strconv.Itoa(i) }

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	ports, err := harness.FreePorts("127.0.0.1", n)
	require.NoError(t, err)
	return ports
}
