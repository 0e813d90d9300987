package seed

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/metrics-proxy/injector/webhook/components"
)

// HAProxyDenial is the text of HAProxy's own 403 page: a 403 carrying it never reached a component.
const HAProxyDenial = "Request forbidden by administrative rules."

// Scrape is one request of the scenario to NodeIP, with what it had to return and what it did.
type Scrape struct {
	// URL is the URL requested; As the service account whose token it carried.
	URL, As string
	// Want is the status the scenario expects; WantText a text the body must contain.
	Want     int
	WantText string
	// Answerer says who must answer: HAProxy itself or the component behind it.
	Answerer string
	// Status is the status received (0 when no response came); Evidence the line of the body
	// that holds WantText, or why there is none.
	Status   int
	Evidence string
}

// OK reports whether the scrape returned what it had to.
func (s Scrape) OK() bool { return s.Status == s.Want && strings.Contains(s.Evidence, s.WantText) }

// String is the scrape in one line: request, token, status, who answered and the evidence.
func (s Scrape) String() string {
	if s.OK() {
		return fmt.Sprintf("GET %-36s %-10s -> %d from %s: %s", s.URL, s.As, s.Status, s.Answerer, s.Evidence)
	}
	return fmt.Sprintf("GET %-36s %-10s -> %d: %s; UNEXPECTED: want %d from %s with %q",
		s.URL, s.As, s.Status, s.Evidence, s.Want, s.Answerer, s.WantText)
}

// ComponentMetric is, per component, a metric name only that component exports: a 200 with it
// shows the real component answered.
var ComponentMetric = map[string]string{
	"kube-proxy":              StandInMetric,
	"kube-controller-manager": `workqueue_adds_total{name="daemonset"}`,
	"kube-scheduler":          "scheduler_schedule_attempts_total",
	"etcd":                    "etcd_server_has_leader",
}

// scrapePlan lists the scrapes of the seed's last step: /metrics of every component through the
// proxy on NodeIP with the scraper's token; /configz and /debug/pprof/, which HAProxy must deny
// itself; and /metrics of the two authenticating components with the token of a service account
// without the metrics-reader binding, which they must deny themselves.
func scrapePlan(scraper, intruder string) []Scrape {
	var plan []Scrape
	for _, c := range components.All() {
		base := componentURL(NodeIP, c)
		plan = append(plan, Scrape{URL: base + "/metrics", As: scraper, Want: 200, WantText: ComponentMetric[c.Name], Answerer: c.Name})
		for _, path := range []string{"/configz", "/debug/pprof/"} {
			plan = append(plan, Scrape{URL: base + path, As: scraper, Want: 403, WantText: HAProxyDenial, Answerer: "HAProxy"})
		}
	}
	kp, _ := components.Lookup("kube-proxy")
	worker := componentURL(WorkerIP, kp)
	plan = append(plan, Scrape{URL: worker + "/metrics", As: scraper, Want: 200, WantText: ComponentMetric[kp.Name], Answerer: kp.Name},
		Scrape{URL: worker + "/configz", As: scraper, Want: 403, WantText: HAProxyDenial, Answerer: "HAProxy"})
	for _, name := range []string{"kube-controller-manager", "kube-scheduler"} {
		c, _ := components.Lookup(name)
		plan = append(plan, Scrape{URL: componentURL(NodeIP, c) + "/metrics",
			As: intruder, Want: 403, WantText: `cannot get path "/metrics"`, Answerer: c.Name})
	}
	return plan
}

// componentURL is the proxy's frontend for c on ip: HTTPS where the generated config terminates
// TLS by default (components.DefaultTLS), HTTP elsewhere.
func componentURL(ip string, c components.Component) string {
	scheme := "http"
	if components.Contains(components.DefaultTLS(components.All()), c.Name) {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(ip, strconv.Itoa(int(c.Port)))
}

// retryStatuses are HAProxy's answers while no server of a backend is up yet (its first health
// checks); a scrape sees them at most retryAttempts times, retryPause apart, before they count.
var retryStatuses = map[int]bool{502: true, 503: true, 504: true}

const (
	retryAttempts = 10
	retryPause    = 300 * time.Millisecond
)

// do sends the scrape with token and records what came back.
func (s *Scrape) do(ctx context.Context, token string) {
	client := plainClient
	if strings.HasPrefix(s.URL, "https://") {
		client = insecureClient // a per-node self-signed certificate, as kube-prometheus-stack scrapes it
	}
	status, body, err := get(ctx, client, s.URL, token)
	for i := 1; i < retryAttempts && err == nil && retryStatuses[status] && !retryStatuses[s.Want] && sleep(ctx, retryPause); i++ {
		status, body, err = get(ctx, client, s.URL, token)
	}
	s.Status = status
	var st struct{ Kind, Message string }
	if json.Unmarshal([]byte(body), &st) == nil && st.Kind == "Status" {
		body = st.Message // an API status: its message says it all
	}
	switch {
	case err != nil:
		s.Evidence = err.Error()
	case strings.Contains(body, s.WantText):
		s.Evidence = lineWith(body, s.WantText)
	default:
		s.Evidence = fmt.Sprintf("no %q in %d bytes: %s", s.WantText, len(body), truncate(firstLine(body), 100))
	}
}

// sleep waits d and reports true, or reports false as soon as ctx ends.
func sleep(ctx context.Context, d time.Duration) bool {
	select {
	case <-ctx.Done():
		return false
	case <-time.After(d):
		return true
	}
}

// lineWith returns the first line of body containing text, shortened; comment lines (a metric's
// HELP and TYPE) only when no other line has it.
func lineWith(body, text string) string {
	lines := strings.Split(body, "\n")
	for _, line := range lines {
		if strings.Contains(line, text) && !strings.HasPrefix(line, "#") {
			return truncate(strings.TrimSpace(line), 140)
		}
	}
	for _, line := range lines {
		if strings.Contains(line, text) {
			return truncate(strings.TrimSpace(line), 140)
		}
	}
	return ""
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return line
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
