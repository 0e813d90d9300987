package seed

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/metrics-proxy/injector/webhook/components"
)

// StandInMetric is the metric the kube-proxy stand-in exports, so a scrape shows whose answer it is.
const StandInMetric = "metrics_proxy_e2e_kube_proxy_standin"

// kubeProxyStandIn takes kube-proxy's place on 127.0.0.1:10249: real kube-proxy needs root and
// iptables. Like kube-proxy's metrics port it serves, without authentication, /metrics, /healthz,
// /configz and /debug/pprof/, so that only the proxy's deny keeps the last two private.
type kubeProxyStandIn struct{ srv *http.Server }

// startKubeProxyStandIn listens on 127.0.0.1 at kube-proxy's port.
func startKubeProxyStandIn() (*kubeProxyStandIn, error) {
	c, _ := components.Lookup("kube-proxy")
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(int(c.Port))))
	if err != nil {
		return nil, fmt.Errorf("kube-proxy stand-in: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "# HELP %s Stand-in for kube-proxy in the metrics-proxy e2e scenario.\n# TYPE %[1]s gauge\n%[1]s 1\n", StandInMetric)
	})
	mux.HandleFunc("/configz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, `{"kubeproxy.config.k8s.io":{"standIn":true}}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "kube-proxy stand-in: %s\n", r.URL.Path)
	})
	s := &kubeProxyStandIn{srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// stop closes the server, waiting at most StopTimeout for requests in flight.
func (s *kubeProxyStandIn) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), StopTimeout)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = s.srv.Close()
	}
}
