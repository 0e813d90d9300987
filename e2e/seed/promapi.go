package seed

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// What the played (this package) and the real-node (e2e/cluster) Prometheus proofs share: the
// Operator's output for KPS's Prometheus resource, the Prometheus process as the Operator's pod
// would run it, and Prometheus's HTTP API.

// OperatorOutput waits until the Operator has written the configuration of KPS's Prometheus
// resource (OperatorConfig, with a job for every ServiceMonitor of KPSTargets) and its rules
// (ConfigMap prometheus-<name>-rulefiles-0, with MixinAlerts), and returns both.
func OperatorOutput(ctx context.Context, cs kubernetes.Interface) (config []byte, rules map[string]string, err error) {
	var monitors []string
	for _, t := range KPSTargets {
		monitors = append(monitors, t.Service())
	}
	if config, err = OperatorConfig(ctx, cs, KPSPrometheus, monitors); err != nil {
		return nil, nil, err
	}
	err = waitUntil(ctx, PrometheusWait, func(ctx context.Context) error {
		cm, err := cs.CoreV1().ConfigMaps(Namespace).Get(ctx, promRules(), metav1.GetOptions{})
		if err != nil {
			return err
		}
		var loaded bool
		for _, text := range cm.Data {
			loaded = loaded || strings.Contains(text, MixinAlerts[0].Name)
		}
		if !loaded {
			return fmt.Errorf("ConfigMap %s holds no PrometheusRule yet", promRules())
		}
		rules = cm.Data
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("the Operator's rules: %w", err)
	}
	return config, rules, nil
}

// OperatorConfig waits until the Operator has written the configuration of the Prometheus
// resource called name in Namespace (Secret prometheus-<name>) with a job for every ServiceMonitor
// of Namespace in monitors, and returns it expanded as the config reloader expands it in the pod.
func OperatorConfig(ctx context.Context, cs kubernetes.Interface, name string, monitors []string) (config []byte, err error) {
	secretName := "prometheus-" + name
	err = waitUntil(ctx, PrometheusWait, func(ctx context.Context) error {
		secret, err := cs.CoreV1().Secrets(Namespace).Get(ctx, secretName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		zr, err := gzip.NewReader(bytes.NewReader(secret.Data["prometheus.yaml.gz"]))
		if err != nil {
			return fmt.Errorf("secret %s: %w", secretName, err)
		}
		if config, err = io.ReadAll(io.LimitReader(zr, maxBody)); err != nil {
			return err
		}
		for _, m := range monitors {
			if !bytes.Contains(config, []byte("serviceMonitor/"+Namespace+"/"+m+"/0")) {
				return fmt.Errorf("the configuration has no job for ServiceMonitor %s yet", m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("the Operator's configuration of %s: %w", name, err)
	}
	// What the config reloader does in the pod: expand the pod's environment.
	config = bytes.ReplaceAll(config, []byte("$(POD_NAME)"), []byte(name+"-0"))
	config = bytes.ReplaceAll(config, []byte("$(SHARD)"), []byte("0"))
	return config, nil
}

// PrometheusPod is how the Prometheus pod the Operator's StatefulSet describes runs here.
type PrometheusPod struct {
	// Binary is the prometheus binary; Dir a scratch directory for its files and data.
	Binary, Dir string
	// Config and Rules are the Operator's output (OperatorOutput).
	Config []byte
	Rules  map[string]string
	// Token is the pod's service-account token and CA the API server's CA.
	Token string
	CA    []byte
	// Addr is the web listen address.
	Addr string
}

// Command writes the pod's files and returns the command that runs Prometheus in a private mount
// namespace with the pod's volumes where the Operator's configuration expects them: the token and
// the CA at /var/run/secrets/kubernetes.io/serviceaccount, the configuration at
// /etc/prometheus/config_out, the rules at /etc/prometheus/rules/<ConfigMap>. The process needs
// KUBERNETES_SERVICE_HOST and _PORT: discovery runs in-cluster, through the API server.
func (p PrometheusPod) Command() (path string, argv []string, err error) {
	sa, cfgOut, ruleDir, data := filepath.Join(p.Dir, "serviceaccount"), filepath.Join(p.Dir, "config_out"), filepath.Join(p.Dir, "rules"), filepath.Join(p.Dir, "data")
	if err := writeFiles(sa, map[string]string{"token": strings.TrimSpace(p.Token), "ca.crt": string(p.CA), "namespace": Namespace}); err != nil {
		return "", nil, err
	}
	if err := writeFiles(cfgOut, map[string]string{"prometheus.env.yaml": string(p.Config)}); err != nil {
		return "", nil, err
	}
	for _, d := range []string{ruleDir, data} { // a Prometheus without rules has an empty rules volume
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", nil, err
		}
	}
	if err := writeFiles(ruleDir, p.Rules); err != nil {
		return "", nil, err
	}
	// /var/run is /run on this host; the namespace mounts below /run.
	mounts := []mount{
		{host: sa, path: "/run/secrets/kubernetes.io/serviceaccount", readOnly: true},
		{host: cfgOut, path: "/etc/prometheus/config_out", readOnly: true},
		{host: ruleDir, path: "/etc/prometheus/rules/" + promRules(), readOnly: true},
	}
	return inNamespace(mounts, nil, filepath.Join(p.Dir, "ns"), p.Binary, p.Args(data))
}

// Args are Prometheus's arguments, data its TSDB directory.
func (p PrometheusPod) Args(data string) []string {
	return []string{"--config.file=/etc/prometheus/config_out/prometheus.env.yaml", "--storage.tsdb.path=" + data,
		"--web.listen-address=" + p.Addr, "--storage.tsdb.retention.time=1h", "--log.level=info"}
}

// PrometheusAPI is Prometheus's HTTP API at URL.
type PrometheusAPI struct{ URL string }

// promTarget is one active target of Prometheus's /api/v1/targets.
type promTarget struct {
	Labels    map[string]string `json:"labels"`
	Health    string            `json:"health"`
	LastError string            `json:"lastError"`
	ScrapeURL string            `json:"scrapeUrl"`
}

// PrometheusTarget is a target as the run saw it: job, instance, health and the last error.
type PrometheusTarget struct {
	Job, Instance, Health, LastError, ScrapeURL string
}

// Ready reports whether Prometheus answers /-/ready.
func (a PrometheusAPI) Ready(ctx context.Context) error {
	status, _, err := get(ctx, plainClient, a.URL+"/-/ready", "")
	if err == nil && status != 200 {
		err = fmt.Errorf("status %d", status)
	}
	return err
}

// Targets are the active targets, by job and instance.
func (a PrometheusAPI) Targets(ctx context.Context) ([]PrometheusTarget, error) {
	var resp struct {
		Data struct {
			ActiveTargets []promTarget `json:"activeTargets"`
		} `json:"data"`
	}
	if err := a.get(ctx, "/api/v1/targets?state=active", &resp); err != nil {
		return nil, err
	}
	var out []PrometheusTarget
	for _, t := range resp.Data.ActiveTargets {
		out = append(out, PrometheusTarget{Job: t.Labels["job"], Instance: t.Labels["instance"], Health: t.Health, LastError: t.LastError, ScrapeURL: t.ScrapeURL})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Job+out[i].Instance < out[j].Job+out[j].Instance })
	return out, nil
}

// Sample is one series of a query's result.
type Sample struct {
	Metric map[string]string `json:"metric"`
	Value  []any             `json:"value"`
}

// V is the sample's value.
func (s Sample) V() string {
	if len(s.Value) == 2 {
		if v, ok := s.Value[1].(string); ok {
			return v
		}
	}
	return "?"
}

// Query runs an instant query.
func (a PrometheusAPI) Query(ctx context.Context, q string) ([]Sample, error) {
	var resp struct {
		Data struct {
			Result []Sample `json:"result"`
		} `json:"data"`
	}
	if err := a.get(ctx, "/api/v1/query?query="+url.QueryEscape(q), &resp); err != nil {
		return nil, err
	}
	return resp.Data.Result, nil
}

// AlertStates waits until every MixinAlert is loaded and healthy, those in pending (name to true)
// pending and every other one inactive; it returns the states as "name state" lines.
func (a PrometheusAPI) AlertStates(ctx context.Context, pending map[string]bool) ([]string, error) {
	var lines []string
	err := waitUntil(ctx, PrometheusWait, func(ctx context.Context) error {
		var resp struct {
			Data struct {
				Groups []struct {
					Rules []struct {
						Name   string `json:"name"`
						State  string `json:"state"`
						Health string `json:"health"`
					} `json:"rules"`
				} `json:"groups"`
			} `json:"data"`
		}
		if err := a.get(ctx, "/api/v1/rules?type=alert", &resp); err != nil {
			return err
		}
		state := map[string]string{}
		for _, g := range resp.Data.Groups {
			for _, rule := range g.Rules {
				if rule.Health == "err" {
					return fmt.Errorf("rule %s does not evaluate", rule.Name)
				}
				state[rule.Name] = rule.State
			}
		}
		lines = nil
		for _, al := range MixinAlerts {
			want := "inactive"
			if pending[al.Name] {
				want = "pending"
			}
			got, ok := state[al.Name]
			if !ok {
				return fmt.Errorf("alert %s not loaded", al.Name)
			}
			if got != want {
				return fmt.Errorf("alert %s is %s, want %s", al.Name, got, want)
			}
			lines = append(lines, al.Name+" "+got)
		}
		return nil
	})
	return lines, err
}

func (a PrometheusAPI) get(ctx context.Context, path string, v any) error {
	status, body, err := get(ctx, plainClient, a.URL+path, "")
	if err != nil {
		return err
	}
	if status != 200 {
		return fmt.Errorf("GET %s: status %d: %s", path, status, truncate(body, 200))
	}
	if err := json.Unmarshal([]byte(body), v); err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	return nil
}

// WaitUntil retries check every 500ms until it succeeds, at most timeout; the error is check's last.
func WaitUntil(ctx context.Context, timeout time.Duration, check func(context.Context) error) error {
	return waitUntil(ctx, timeout, check)
}

// Get requires a 200 for path.
func (a PrometheusAPI) Get(ctx context.Context, path string) error {
	status, _, err := get(ctx, plainClient, a.URL+path, "")
	if err == nil && status != 200 {
		err = fmt.Errorf("GET %s: status %d", path, status)
	}
	return err
}
