package seed

import (
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/e2e/dataplane"
	"github.com/metrics-proxy/injector/webhook/manifest"
	"github.com/metrics-proxy/injector/webhook/names"
)

func TestCheckPortsNamesTheHolder(t *testing.T) {
	dataplane.LockPorts(t)
	require.NoError(t, CheckPorts())
	l, err := net.Listen("tcp", "127.0.0.1:10259")
	require.NoError(t, err)
	defer l.Close()
	err = CheckPorts()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "port 10259 (kube-scheduler) on 127.0.0.1 is taken by pid "+strconv.Itoa(os.Getpid()))
	assert.NotContains(t, err.Error(), "10257")
}

func TestAllowEverything(t *testing.T) {
	docs, err := manifest.Render(manifest.RenderOptions{Namespace: Namespace, ScraperNamespace: Namespace, ScraperServiceAccount: Scraper})
	require.NoError(t, err)
	var cm corev1.ConfigMap
	require.NoError(t, yaml.Unmarshal(docs[0].YAML, &cm))
	edited, line, err := allowEverything(&cm)
	require.NoError(t, err)
	var got corev1.ConfigMap
	require.NoError(t, yaml.Unmarshal([]byte(edited), &got))
	lines := strings.Split(got.Data[names.ConfigKey], "\n")
	require.Greater(t, len(lines), line)
	assert.Equal(t, "  http-request allow", lines[line-1])
	assert.Equal(t, "  http-request deny if !{ path /metrics }", lines[line])
	assert.Equal(t, len(strings.Split(cm.Data[names.ConfigKey], "\n"))+1, len(lines))
	assert.Equal(t, cm.Name, got.Name)

	_, _, err = allowEverything(&corev1.ConfigMap{Data: map[string]string{names.ConfigKey: "defaults\n  mode http\n"}})
	assert.Error(t, err)
}

func TestScrapePlan(t *testing.T) {
	plan := scrapePlan(Scraper, Intruder)
	require.Len(t, plan, 16)
	assert.Equal(t, Scrape{URL: "http://127.0.0.2:10249/metrics", As: Scraper, Want: 200, WantText: StandInMetric, Answerer: "kube-proxy"}, plan[0])
	assert.Equal(t, "HAProxy", plan[1].Answerer)
	assert.Equal(t, "https://127.0.0.2:10257/metrics", plan[3].URL, "TLS frontend by default")
	assert.Equal(t, "https://127.0.0.2:10259/metrics", plan[6].URL, "TLS frontend by default")
	assert.Equal(t, "http://127.0.0.2:2381/metrics", plan[9].URL)
	assert.Equal(t, "http://127.0.0.3:10249/metrics", plan[12].URL, "the nodes proxy on the worker")
	assert.Equal(t, Intruder, plan[15].As)
}

func TestScrapeEvidence(t *testing.T) {
	body := "# HELP etcd_server_has_leader Whether...\n# TYPE etcd_server_has_leader gauge\netcd_server_has_leader 1\n"
	assert.Equal(t, "etcd_server_has_leader 1", lineWith(body, "etcd_server_has_leader"))
	assert.Equal(t, "# HELP only_help x", lineWith("# HELP only_help x\n", "only_help"))
	s := Scrape{URL: "u", As: "a", Want: 403, WantText: HAProxyDenial, Answerer: "HAProxy", Status: 403, Evidence: HAProxyDenial}
	assert.True(t, s.OK())
	assert.NotContains(t, s.String(), "UNEXPECTED")
	s.Status = 200
	assert.False(t, s.OK())
	assert.Contains(t, s.String(), "UNEXPECTED: want 403 from HAProxy")
}

func TestResolveEnv(t *testing.T) {
	pod := &corev1.Pod{}
	pod.Name, pod.Namespace, pod.Spec.NodeName = "p", "ns", "n"
	field := func(name, path string) corev1.EnvVar {
		return corev1.EnvVar{Name: name, ValueFrom: &corev1.EnvVarSource{FieldRef: &corev1.ObjectFieldSelector{FieldPath: path}}}
	}
	env, err := resolveEnv([]corev1.EnvVar{field("NODE_IP", "status.hostIP"), {Name: "A", Value: "b"}, field("N", "spec.nodeName")}, pod, NodeIP)
	require.NoError(t, err)
	assert.Equal(t, []string{"NODE_IP=127.0.0.2", "A=b", "N=n"}, env)
	_, err = resolveEnv([]corev1.EnvVar{field("X", "metadata.labels['x']")}, pod, NodeIP)
	assert.ErrorContains(t, err, "not supported")
	_, err = resolveEnv([]corev1.EnvVar{{Name: "S", ValueFrom: &corev1.EnvVarSource{SecretKeyRef: &corev1.SecretKeySelector{}}}}, pod, NodeIP)
	assert.ErrorContains(t, err, "only fieldRef")
}

func TestWriteFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "vol")
	require.NoError(t, writeFiles(dir, map[string]string{"haproxy.cfg": "x\n", "sub/y": "y"}))
	data, err := os.ReadFile(filepath.Join(dir, "haproxy.cfg"))
	require.NoError(t, err)
	assert.Equal(t, "x\n", string(data))
	assert.Error(t, writeFiles(dir, map[string]string{"../escape": "x"}))
}

func TestShellWords(t *testing.T) {
	assert.Equal(t, `get nodes -o 'jsonpath={.a}' 'it'\''s'`, shellWords([]string{"get", "nodes", "-o", "jsonpath={.a}", "it's"}))
}
