package policy_test

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/dataplane"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// Sizes of the grammar-based test: configs checked with haproxy -c, configs per haproxy run,
// and one in sampleEvery runs on the real haproxy with the corpus probes.
const (
	generatedConfigs = 2000
	batchSize        = 25
	sampleEvery      = 20
)

// generated is one generated config: its text alone, and the same with every section name
// prefixed, to share a haproxy -c run with others.
type generated struct {
	text, batched string
	global, sane  bool
}

// generateConfigs returns n distinct configs of the grammar, one in sampleEvery of them sane.
func generateConfigs(t *testing.T, n int, ipv6 bool) []generated {
	t.Helper()
	seen := map[string]bool{}
	var out []generated
	for i := 0; len(out) < n; i++ {
		require.Less(t, i, 4*n, "the grammar repeats itself: %d distinct configs out of %d", len(out), i)
		sane := len(out)%sampleEvery == 0
		g := &grammar{r: rand.New(rand.NewPCG(uint64(i), 42)), ipv6: ipv6, sane: sane}
		text := g.config()
		if seen[text] {
			continue
		}
		seen[text] = true
		g = &grammar{r: rand.New(rand.NewPCG(uint64(i), 42)), ipv6: ipv6, sane: sane, prefix: "c" + strconv.Itoa(len(out)) + "-"}
		out = append(out, generated{text: text, batched: g.config(), global: strings.HasPrefix(text, "global\n"), sane: sane})
	}
	return out
}

// TestGeneratedConfigsAccepted: the validator accepts every config of the grammar.
func TestGeneratedConfigsAccepted(t *testing.T) {
	for i, c := range generateConfigs(t, generatedConfigs, true) {
		vs := policy.ValidateConfig([]byte(c.text), nil)
		require.Empty(t, vs, "generated config %d:\n%s\nviolations:\n%s", i, c.text, render(vs))
	}
}

// TestGeneratedConfigsStartHAProxy: haproxy -c (2.6 and 3.0), with NODE_IP set, accepts every
// config of the grammar. The configs share runs (names prefixed, an empty defaults section
// between two so that none inherits another's, a config with a global section first in its run,
// since 3.0 takes nbthread only in the first global section); a refused run is re-checked config
// by config to name the culprit.
func TestGeneratedConfigsStartHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	haproxies := testtool.HAProxies(t)
	configs := generateConfigs(t, generatedConfigs, true)
	var batches [][]generated
	var cur []generated
	for _, c := range configs {
		if len(cur) == batchSize || c.global && len(cur) > 0 { // a global section first in its run: 3.0 wants nbthread in the first one
			batches = append(batches, cur)
			cur = nil
		}
		cur = append(cur, c)
	}
	batches = append(batches, cur)

	for _, hp := range haproxies {
		t.Run(hp.Branch, func(t *testing.T) {
			dir := t.TempDir()
			start := time.Now()
			var wg sync.WaitGroup
			var mu sync.Mutex
			var failures []string
			work := make(chan int)
			for range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for b := range work {
						var text strings.Builder
						for i, c := range batches[b] {
							if i > 0 {
								text.WriteString("defaults\n")
							}
							text.WriteString(c.batched)
						}
						if out, ok := haproxyCheck(hp.Path, filepath.Join(dir, fmt.Sprintf("batch-%d.cfg", b)), text.String()); !ok {
							culprits := []string{}
							for i, c := range batches[b] {
								if out, ok := haproxyCheck(hp.Path, filepath.Join(dir, fmt.Sprintf("batch-%d-%d.cfg", b, i)), c.text); !ok {
									culprits = append(culprits, fmt.Sprintf("%s\n%s", out, c.text))
								}
							}
							if len(culprits) == 0 {
								culprits = append(culprits, "the batch alone:\n"+out)
							}
							mu.Lock()
							failures = append(failures, culprits...)
							mu.Unlock()
						}
					}
				}()
			}
			for b := range batches {
				work <- b
			}
			close(work)
			wg.Wait()
			t.Logf("haproxy -c %s accepted %d generated configs in %d runs, %v", hp.Version, len(configs), len(batches), time.Since(start).Round(time.Millisecond))
			assert.Empty(t, failures, "haproxy %s -c refuses configs the validator accepts:\n%s", hp.Version, strings.Join(failures[:min(len(failures), 5)], "\n---\n"))
		})
	}
}

// haproxyCheck writes text to path and runs haproxy -c on it with NODE_IP set.
func haproxyCheck(bin, path, text string) (string, bool) {
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		return err.Error(), false
	}
	cmd := exec.Command(bin, "-c", "-f", path)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "NODE_IP=" + dataplane.DefaultNodeIP}
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

// TestGeneratedConfigsDataPlane runs the sample of generated configs (one in sampleEvery, each
// written with values a probe can live with) on the real haproxy with the corpus probes: each
// forwards GET /metrics and nothing else.
func TestGeneratedConfigsDataPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	haproxies := testtool.HAProxies(t)
	ipv6 := true
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		ipv6 = false
	} else {
		_ = ln.Close()
	}
	h := dataplane.New(t, append(dataplane.Components(), dataplane.Neighbours()...)...)
	sampled := 0
	for i, c := range generateConfigs(t, generatedConfigs, ipv6) {
		if !c.sane {
			continue
		}
		sampled++
		for _, hp := range haproxies {
			t.Run(hp.Branch+"/"+strconv.Itoa(i), func(t *testing.T) {
				opts := dataplane.Options{Binary: hp.Path}
				ports := frontendPorts(c.text)
				require.NotEmpty(t, ports)
				for _, p := range ports {
					opts.Wait = append(opts.Wait, net.JoinHostPort(dataplane.DefaultNodeIP, strconv.Itoa(p)))
				}
				proxy := h.StartHAProxy(t, c.text, opts)
				for _, addr := range opts.Wait {
					checkCompliant(t, h, addr, true)
				}
				if t.Failed() {
					t.Logf("config:\n%s\nhaproxy output:\n%s", c.text, proxy.Output())
				}
				proxy.Stop()
			})
		}
	}
	require.GreaterOrEqual(t, sampled, 100)
}
