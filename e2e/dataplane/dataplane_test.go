package dataplane_test

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/dataplane"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
)

func TestRequestPath(t *testing.T) {
	for target, want := range map[string]string{
		"/metrics":                          "/metrics",
		"/metrics?x=1":                      "/metrics",
		"//metrics":                         "//metrics",
		"/metrics/../configz":               "/metrics/../configz",
		"/a?http://x/metrics":               "/a",
		"http://127.0.0.2:10249/configz?x":  "/configz",
		"http://127.0.0.2:10249":            "/",
		"https://127.0.0.2:10249?/metrics":  "/",
		"http://127.0.0.2:10249//metrics/x": "//metrics/x",
		"*":                                 "*",
	} {
		assert.Equal(t, want, dataplane.RequestPath(target), target)
	}
}

func TestRaw(t *testing.T) {
	assert.Equal(t, "GET //metrics HTTP/1.1\r\nHost: 127.0.0.2:10249\r\nA: b\r\nConnection: close\r\n\r\n",
		dataplane.Raw("GET", "//metrics", "127.0.0.2:10249", "A: b"))
}

func TestSendRefusesNonLoopback(t *testing.T) {
	_, err := dataplane.Send("192.0.2.1:80", dataplane.Raw("GET", "/", "x"))
	assert.ErrorContains(t, err, "loopback")
}

func TestLeak(t *testing.T) {
	ups := []*dataplane.Upstream{{Spec: dataplane.Spec{Name: "kube-proxy", Port: 10249}}, {Spec: dataplane.Spec{Name: "kubelet", Port: 10250}}}
	seen := func(up, method, uri, auth string, hdr ...string) []dataplane.Request {
		r := dataplane.Request{Upstream: up, Method: method, URI: uri, Authorization: auth, Header: map[string][]string{}}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header[hdr[i]] = []string{hdr[i+1]}
		}
		return []dataplane.Request{r}
	}
	probe := dataplane.Probe{Addr: "127.0.0.2:10249", Method: "GET", Target: "/metrics"}
	ok := &dataplane.Response{Status: 200}
	for name, tc := range map[string]struct {
		o    dataplane.Outcome
		leak string
	}{
		"forwarded":         {dataplane.Outcome{Probe: probe, Resp: ok, Seen: seen("kube-proxy", "GET", "/metrics?x", dataplane.TestToken)}, ""},
		"absolute form":     {dataplane.Outcome{Probe: probe, Resp: ok, Seen: seen("kube-proxy", "GET", "http://127.0.0.2:10249/metrics", dataplane.TestToken)}, ""},
		"denied":            {dataplane.Outcome{Probe: probe, Resp: &dataplane.Response{Status: 403}}, ""},
		"refused":           {dataplane.Outcome{Probe: probe, Err: assert.AnError}, ""},
		"other path":        {dataplane.Outcome{Probe: probe, Resp: ok, Seen: seen("kube-proxy", "GET", "/configz", dataplane.TestToken)}, `saw path "/configz"`},
		"other upstream":    {dataplane.Outcome{Probe: probe, Resp: ok, Seen: seen("kubelet", "GET", "/metrics", dataplane.TestToken)}, "reached upstream kubelet"},
		"other method":      {dataplane.Outcome{Probe: probe, Resp: ok, Seen: seen("kube-proxy", "PUT", "/metrics", dataplane.TestToken)}, "saw method PUT"},
		"token replaced":    {dataplane.Outcome{Probe: probe, Resp: ok, Seen: seen("kube-proxy", "GET", "/metrics", "Bearer x")}, `Authorization "Bearer x"`},
		"remote user":       {dataplane.Outcome{Probe: probe, Resp: ok, Seen: seen("kube-proxy", "GET", "/metrics", dataplane.TestToken, "X-Remote-User", "admin")}, "X-Remote-User: admin"},
		"answered by proxy": {dataplane.Outcome{Probe: probe, Resp: &dataplane.Response{Status: 302}}, "answered 302 by itself"},
		"other address": {dataplane.Outcome{Probe: dataplane.Probe{Addr: "127.0.0.3:10249", Method: "GET", Target: "/metrics"},
			Resp: ok, Seen: seen("kube-proxy", "GET", "/metrics", dataplane.TestToken)}, "not on NODE_IP"},
	} {
		got := tc.o.Leak(dataplane.DefaultNodeIP, ups)
		if tc.leak == "" {
			assert.Empty(t, got, name)
		} else {
			assert.Contains(t, got, tc.leak, name)
		}
	}
}

// TestSeedConfig runs the injector's config for every component through the real HAProxy: the
// harness's own end-to-end check.
func TestSeedConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	dataplane.Binary(t)
	h := dataplane.New(t)
	var wait []string
	for _, c := range components.All() {
		wait = append(wait, net.JoinHostPort(dataplane.DefaultNodeIP, strconv.Itoa(int(c.Port))))
	}
	h.StartHAProxy(t, inject.HAProxyConfig(components.All()), dataplane.Options{Wait: wait})
	for _, addr := range wait {
		o := h.Probe(dataplane.Probe{Addr: addr, Method: "GET", Target: "/metrics"})
		require.NoError(t, o.Err, "%s", o)
		assert.Equal(t, 200, o.Resp.Status, "%s", o)
		if assert.Len(t, o.Seen, 1, "%s", o) {
			assert.Equal(t, dataplane.TestToken, o.Seen[0].Authorization)
			assert.Contains(t, o.Resp.Body, "upstream "+o.Seen[0].Upstream+" saw /metrics")
		}
		for _, target := range dataplane.ForbiddenTargets(addr) {
			o := h.Probe(dataplane.Probe{Addr: addr, Method: "GET", Target: target})
			require.NoError(t, o.Err, "%s", o)
			assert.Equal(t, 403, o.Resp.Status, "%s", o)
			assert.Empty(t, o.Seen, "%s", o)
		}
	}
}

// TestRawTargetsReachUpstream shows that targets travel unchanged: in tcp mode HAProxy forwards
// bytes, so the upstream must see exactly what Raw wrote.
func TestRawTargetsReachUpstream(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	dataplane.Binary(t)
	h := dataplane.New(t)
	cfg := "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 5s\n  timeout server 5s\n" +
		"frontend fe\n  bind ${NODE_IP}:10259\n  default_backend be\n" +
		"backend be\n  server s 127.0.0.1:10259 ssl verify none\n"
	addr := net.JoinHostPort(dataplane.DefaultNodeIP, "10259")
	h.StartHAProxy(t, cfg, dataplane.Options{Wait: []string{addr}})
	for _, target := range append(dataplane.ForbiddenTargets(addr), "/metrics") {
		o := h.Probe(dataplane.Probe{Addr: addr, Method: "GET", Target: target})
		require.NoError(t, o.Err, "%s", o)
		require.Len(t, o.Seen, 1, "%s", o)
		assert.Equal(t, target, o.Seen[0].URI)
		assert.Equal(t, "upstream kube-scheduler saw "+target, o.Resp.Body)
	}
}

func TestCheckReportsHAProxyOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	dataplane.Binary(t)
	out, ok := dataplane.Check(t, "frontend fe\n  bind ${NODE_IP}:10249\n  nonsense-keyword\n", dataplane.Options{})
	assert.False(t, ok)
	assert.Contains(t, out, "nonsense-keyword")
}

func TestPortOwner(t *testing.T) {
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		t.Skip("no /proc")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer func() { _ = ln.Close() }()
	port := ln.Addr().(*net.TCPAddr).Port
	owner := dataplane.PortOwner(port)
	assert.Contains(t, owner, "pid "+strconv.Itoa(os.Getpid()))
	assert.Contains(t, owner, "127.0.0.1:"+strconv.Itoa(port))
	assert.Contains(t, owner, filepath.Base(os.Args[0])[:min(15, len(filepath.Base(os.Args[0])))])
}
