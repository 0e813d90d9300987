package e2e

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/seed"
)

// workDirLine is the line where the demo names its work directory, from which its components run.
var workDirLine = regexp.MustCompile(`work directory (\S+) \(removed at the end\)`)

// TestDemo runs `make demo`'s program to its end, then again interrupted with Ctrl-C once the
// control plane runs, and checks both runs show what they promise and leave no process behind.
func TestDemo(t *testing.T) {
	binaries(t)
	bin := filepath.Join(t.TempDir(), "demo")
	build := exec.Command("go", "build", "-o", bin, "./demo")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	t.Run("to the end", func(t *testing.T) {
		marker := "METRICS_PROXY_DEMO_RUN=" + t.Name() + time.Now().Format(time.RFC3339Nano)
		ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = append(os.Environ(), marker, "METRICS_PROXY_BIN="+metricsProxyBin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Run(), out.String())
		for _, want := range []string{
			"kube-proxy: a STAND-IN HTTP server on http://127.0.0.1:10249",
			"metrics-proxy render --namespace monitoring --scraper monitoring/prometheus | kubectl apply -f -",
			"daemonset.apps/metrics-proxy-control-plane created", "daemonset.apps/metrics-proxy-nodes created",
			"name: haproxy", "name: proxy-cert", "fieldPath: status.hostIP",
			"hostNetwork: true", "key: node-role.kubernetes.io/control-plane", "bind ${NODE_IP}:2381",
			"bind ${NODE_IP}:10257 ssl crt /run/metrics-proxy/tls/frontend.pem",
			"proxy-cert: certificate for " + seed.NetnsNodeIP + " written to /run/metrics-proxy/tls/frontend.pem",
			"NODE_IP=" + seed.NetnsNodeIP + " haproxy -db -f ", "NODE_IP=" + seed.NetnsWorkerIP + " haproxy -db -f ",
			"https://" + seed.NetnsNodeIP + ":10257/metrics", "prometheus -> 200 from kube-controller-manager: workqueue_adds_total",
			"prometheus -> 200 from kube-scheduler: scheduler_schedule_attempts_total",
			"prometheus -> 200 from etcd: etcd_server_has_leader",
			"http://" + seed.NetnsWorkerIP + ":10249/metrics", "prometheus -> 403 from HAProxy",
			"no-reader  -> 403 from kube-controller-manager",
			"denied the request",
			// Prometheus's view, then the counter-check.
			"JOB", "kube-controller-manager  " + seed.NetnsNodeIP + ":10257   up", "kube-proxy               " + seed.NetnsWorkerIP + ":10249   up",
			`up{job="kube-scheduler", instance="` + seed.NetnsNodeIP + `:10259"} 1`,
			"KubeControllerManagerDown inactive", "etcdInsufficientMembers inactive",
			"server gave HTTP response to HTTPS client", "KubeControllerManagerInstanceUnreachable pending",
			"Done in", "Stopping prometheus",
		} {
			assert.Contains(t, out.String(), want)
		}
		assert.NotContains(t, out.String(), "UNEXPECTED")
		assert.Empty(t, processesWith(t, marker, workDir(t, out.String())), "processes left running after the demo ended")
	})
	t.Run("interrupted", func(t *testing.T) {
		marker := "METRICS_PROXY_DEMO_RUN=" + t.Name() + time.Now().Format(time.RFC3339Nano)
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin)
		cmd.Env = append(os.Environ(), marker, "METRICS_PROXY_BIN="+metricsProxyBin)
		stdout, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		scanner := bufio.NewScanner(stdout)
		var seen []string
		for scanner.Scan() { // interrupt once the control plane is up and the demo at work
			seen = append(seen, scanner.Text())
			if strings.Contains(scanner.Text(), "Register two nodes") {
				dir := workDir(t, strings.Join(seen, "\n"))
				require.NotEmpty(t, processesWith(t, marker, ""), "the demo's etcd and kube-apiserver should be running now")
				require.NotEmpty(t, processesWith(t, "", dir), "the demo's kube-controller-manager and kube-scheduler should be running now")
				require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
				break
			}
		}
		for scanner.Scan() {
			seen = append(seen, scanner.Text())
		}
		err = cmd.Wait()
		var exit *exec.ExitError
		require.ErrorAs(t, err, &exit, strings.Join(seen, "\n"))
		assert.Equal(t, 130, exit.ExitCode())
		assert.Contains(t, strings.Join(seen, "\n"), "interrupted")
		assert.Empty(t, processesWith(t, marker, workDir(t, strings.Join(seen, "\n"))), "processes left running after Ctrl-C")
	})
}

// workDir returns the work directory the demo's output names.
func workDir(t *testing.T, out string) string {
	t.Helper()
	m := workDirLine.FindStringSubmatch(out)
	require.NotNil(t, m, "the demo names no work directory:\n%s", out)
	return m[1]
}
