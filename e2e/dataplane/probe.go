package dataplane

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// TestToken is the bearer token every probe sends, as a scraper would.
const TestToken = "Bearer test-token"

// AllowedPath is the only path a compliant proxy forwards.
const AllowedPath = "/metrics"

// Probe is one request sent through a proxy.
type Probe struct {
	// Addr is the proxy address (host:port) the request goes to.
	Addr string
	// Method and Target form the request line; Target is sent as written.
	Method, Target string
	// Header holds extra header lines ("Name: value"), sent after Authorization: TestToken.
	Header []string
}

// String returns "METHOD TARGET via ADDR".
func (p Probe) String() string { return p.Method + " " + p.Target + " via " + p.Addr }

// Outcome is what a Probe produced: the response (or the error) and what the upstreams
// received meanwhile.
type Outcome struct {
	Probe
	// Resp is the response; nil when Err is set.
	Resp *Response
	// Err is why no response could be read (refused, reset, timeout, not HTTP).
	Err error
	// Seen holds what the upstreams received during the exchange.
	Seen []Request
}

// Probe sends p with the header "Authorization: TestToken" and returns its Outcome.
func (h *Harness) Probe(p Probe) Outcome {
	headers := append([]string{"Authorization: " + TestToken}, p.Header...)
	resp, seen, err := h.Exchange(p.Addr, Raw(p.Method, p.Target, p.Addr, headers...))
	return Outcome{Probe: p, Resp: resp, Err: err, Seen: seen}
}

// ForbiddenTargets returns the request targets a compliant proxy on addr must deny: other
// component endpoints, paths that only look like /metrics, and an absolute-form target.
func ForbiddenTargets(addr string) []string {
	return []string{"/configz", "/debug/pprof/", "/metrics/../configz", "//metrics", "/metricsX",
		"http://" + addr + "/configz"}
}

// Leak says how the outcome breaks the contract of a compliant proxy listening on
// nodeIP:PORT for the component upstream whose port is PORT; "" when it does not. Contract: an
// upstream receives only the path /metrics, from the frontend of its own component on NODE_IP,
// with the method and the Authorization header as sent and no X-Remote-* header; and HAProxy
// answers no request with a 2xx or 3xx by itself.
func (o Outcome) Leak(nodeIP string, ups []*Upstream) string {
	host, portText, _ := net.SplitHostPort(o.Addr)
	port, _ := strconv.Atoi(portText)
	own := ""
	for _, u := range ups {
		if u.Port == port {
			own = u.Name
		}
	}
	var leaks []string
	for _, r := range o.Seen {
		switch {
		case host != nodeIP:
			leaks = append(leaks, fmt.Sprintf("served on %s, not on NODE_IP %s: upstream %s saw %s", o.Addr, nodeIP, r.Upstream, r.URI))
		case r.Upstream != own:
			leaks = append(leaks, fmt.Sprintf("the frontend on port %d reached upstream %s (%s)", port, r.Upstream, r.URI))
		}
		if p := RequestPath(r.URI); p != AllowedPath {
			leaks = append(leaks, fmt.Sprintf("upstream %s saw path %q (URI %q)", r.Upstream, p, r.URI))
		}
		if r.Method != o.Method {
			leaks = append(leaks, fmt.Sprintf("upstream %s saw method %s, %s was sent", r.Upstream, r.Method, o.Method))
		}
		if r.Authorization != TestToken {
			leaks = append(leaks, fmt.Sprintf("upstream %s saw Authorization %q, %q was sent", r.Upstream, r.Authorization, TestToken))
		}
		for name, v := range r.Header {
			if strings.HasPrefix(strings.ToLower(name), "x-remote-") {
				leaks = append(leaks, fmt.Sprintf("upstream %s saw %s: %s", r.Upstream, name, strings.Join(v, ",")))
			}
		}
	}
	if len(o.Seen) == 0 && o.Resp != nil && o.Resp.Status >= 200 && o.Resp.Status < 400 {
		leaks = append(leaks, fmt.Sprintf("HAProxy answered %d by itself: %q", o.Resp.Status, truncate(o.Resp.Body, 80)))
	}
	return strings.Join(leaks, "; ")
}

// String describes the outcome in one line, for test messages.
func (o Outcome) String() string {
	var b strings.Builder
	b.WriteString(o.Probe.String() + ": ")
	if o.Err != nil {
		b.WriteString("error: " + o.Err.Error())
	} else {
		fmt.Fprintf(&b, "%d %q", o.Resp.Status, truncate(o.Resp.Body, 80))
	}
	for _, r := range o.Seen {
		fmt.Fprintf(&b, "; upstream %s saw %s %s (Authorization %q)", r.Upstream, r.Method, r.URI, r.Authorization)
	}
	return b.String()
}

// RequestPath returns the path of a request target: the part before '?' of an origin-form
// target, or the path of an absolute-form one ("/" when it has none). Other forms are returned
// as they are.
func RequestPath(target string) string {
	if i := strings.Index(target, "://"); i > 0 && !strings.HasPrefix(target, "/") {
		rest := target[i+3:]
		j := strings.IndexAny(rest, "/?")
		if j < 0 || rest[j] == '?' {
			return "/"
		}
		target = rest[j:]
	}
	if i := strings.IndexByte(target, '?'); i >= 0 {
		target = target[:i]
	}
	return target
}

// Pipeline sends a GET for every target, one after another on one connection (all but the last
// with keep-alive, each with the Authorization header), and returns HAProxy's raw answer and
// what the upstreams received meanwhile.
func (h *Harness) Pipeline(addr string, targets ...string) (string, []Request, error) {
	var b strings.Builder
	for i, target := range targets {
		req := Raw("GET", target, addr, "Authorization: "+TestToken)
		if i < len(targets)-1 {
			req = strings.Replace(req, "Connection: close\r\n", "", 1)
		}
		b.WriteString(req)
	}
	h.rec.take()
	answer, err := talk(addr, b.String(), dialer(h.TLSConfig(addr)))
	return answer, h.rec.take(), err
}

// ProbeH2 sends GET target to addr over cleartext HTTP/2 with prior knowledge (h2c), which
// HAProxy accepts on any plain bind in http mode, with the Authorization header. The target
// goes through net/http, so it must be a plain path.
func (h *Harness) ProbeH2(addr, target string) Outcome {
	o := Outcome{Probe: Probe{Addr: addr, Method: "GET", Target: target}}
	if o.Err = checkLoopback(addr); o.Err != nil {
		return o
	}
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	tr := &http.Transport{Protocols: &protocols}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: RequestTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, err := http.NewRequest("GET", "http://"+addr+target, nil)
	if err != nil {
		o.Err = err
		return o
	}
	req.Header.Set("Authorization", TestToken)
	h.rec.take()
	resp, err := client.Do(req)
	if err == nil {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		_ = resp.Body.Close()
		o.Resp, err = &Response{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}, rerr
		if resp.ProtoMajor != 2 {
			err = fmt.Errorf("%s answered in %s, not HTTP/2", addr, resp.Proto)
		}
	}
	o.Err, o.Seen = err, h.rec.take()
	return o
}
