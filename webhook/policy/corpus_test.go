package policy_test

import (
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/dataplane"
	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// corpusDir holds the corpus: haproxy.cfg files (*.cfg), each opening with header comments and a
// blank line, and the files some of them load (files/):
//
//	# expect: accept | reject RULE-ID[,RULE-ID...]   exactly the rule ids ValidateConfig reports
//	# why: one line
//	# generated: COMPONENTS        the body is inject.HAProxyConfig of that component list
//	# tls: COMPONENTS              their frontends terminate TLS (with generated: the body is
//	                               inject.HAProxyConfigTLS); the data-plane run serves a per-node
//	                               certificate at names.CertFile and probes them over TLS (root)
//	# bypass: METHOD TARGET ADDR [Header: value]
//	                               a request that proves the bypass on the real HAProxy; ADDR is
//	                               PORT (on NODE_IP) or HOST:PORT; repeatable
//	# cli: ADDR COMMAND            a runtime API command sent before the bypass requests
//	# needs: ipv6                  the data-plane run needs IPv6 on the host (skipped without)
//	# dataplane: none REASON       no data-plane run, for the reason given
//	# dataplane: refused REASON    haproxy -c must refuse the config
//	# dataplane: no-leak REASON    rejected, yet no probe leaks on the real HAProxy
//	# off: RULE-ID[,RULE-ID...]    with these rules' checks switched off the validator accepts
//	                               the config: they alone stand between the attack and the cluster
//
// HAProxy runs with its working directory in corpusDir, so files/ resolves.
const corpusDir = "testdata/corpus"

// minCorpus is the least number of configs the corpus must hold.
const minCorpus = 40

type corpusCase struct {
	name, text, body, why string
	accept                bool
	rules, off            []string
	generated             string
	tls                   []components.Component
	bypasses, cli         []dataplane.Probe
	plane, planeWhy       string
	needsIPv6             bool
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(corpusDir, "*.cfg"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(paths), minCorpus, "corpus size")
	var cases []corpusCase
	for _, path := range paths {
		data, err := os.ReadFile(path)
		require.NoError(t, err)
		cases = append(cases, parseCase(t, filepath.Base(path), string(data)))
	}
	return cases
}

// parseCase reads the header; any malformed header line fails the test.
func parseCase(t *testing.T, name, text string) corpusCase {
	t.Helper()
	c := corpusCase{name: name, text: text}
	lines := strings.SplitAfter(text, "\n")
	n := 0
	for ; n < len(lines) && strings.HasPrefix(lines[n], "#"); n++ {
		key, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(lines[n], "#")), ":")
		require.True(t, ok, "%s:%d: header line without key", name, n+1)
		value = strings.TrimSpace(value)
		switch key {
		case "expect":
			verdict, ids, _ := strings.Cut(value, " ")
			require.Contains(t, []string{"accept", "reject"}, verdict, "%s: expect", name)
			c.accept = verdict == "accept"
			if ids != "" {
				c.rules = strings.Split(ids, ",")
			}
			require.Equal(t, c.accept, len(c.rules) == 0, "%s: reject lists rule ids, accept none", name)
		case "why":
			c.why = value
		case "generated":
			c.generated = value
		case "tls":
			list, err := components.Parse(value)
			require.NoError(t, err, "%s: tls", name)
			c.tls = list
		case "off":
			c.off = strings.Split(value, ",")
		case "bypass":
			c.bypasses = append(c.bypasses, parseProbe(t, name, value))
		case "needs":
			require.Equal(t, "ipv6", value, "%s: needs", name)
			c.needsIPv6 = true
		case "cli":
			addr, cmd, _ := strings.Cut(value, " ")
			c.cli = append(c.cli, dataplane.Probe{Addr: hostPort(addr), Target: cmd})
		case "dataplane":
			c.plane, c.planeWhy, _ = strings.Cut(value, " ")
			require.Contains(t, []string{"none", "refused", "no-leak"}, c.plane, "%s: dataplane", name)
			require.NotEmpty(t, c.planeWhy, "%s: dataplane needs a reason", name)
		default:
			t.Fatalf("%s:%d: unknown header %q", name, n+1, key)
		}
	}
	require.Less(t, n, len(lines), "%s: no body", name)
	require.Equal(t, "", strings.TrimSpace(lines[n]), "%s: a blank line must end the header", name)
	c.body = strings.Join(lines[n+1:], "")
	require.NotEmpty(t, c.why, "%s: why", name)
	require.False(t, c.accept && (len(c.bypasses) > 0 || c.plane != ""), "%s: an accepted config runs the full data-plane check", name)
	require.True(t, c.accept || len(c.bypasses) > 0 || c.plane != "", "%s: a rejected config needs a bypass or a dataplane line", name)
	return c
}

func parseProbe(t *testing.T, name, value string) dataplane.Probe {
	t.Helper()
	f := strings.SplitN(value, " ", 4)
	require.GreaterOrEqual(t, len(f), 3, "%s: bypass: METHOD TARGET ADDR [Header: value]", name)
	p := dataplane.Probe{Method: f[0], Target: f[1], Addr: hostPort(f[2])}
	if len(f) == 4 {
		p.Header = []string{f[3]}
	}
	return p
}

// hostPort reads PORT (on NODE_IP) or HOST:PORT.
func hostPort(addr string) string {
	if strings.Contains(addr, ":") {
		return addr
	}
	return net.JoinHostPort(dataplane.DefaultNodeIP, addr)
}

// TestCorpusVerdicts checks ValidateConfig's verdict and rule ids on every corpus config.
func TestCorpusVerdicts(t *testing.T) {
	seed, err := os.ReadFile(filepath.Join("..", "inject", "testdata", "seed-haproxy.cfg"))
	require.NoError(t, err)
	for _, c := range loadCorpus(t) {
		t.Run(c.name, func(t *testing.T) {
			vs := policy.ValidateConfig([]byte(c.text), policy.Default())
			var got []string
			for _, v := range vs {
				assert.Equal(t, "haproxy.cfg", v.Source)
				assert.Positive(t, v.Line, "%s", v)
				if !slices.Contains(got, string(v.Rule)) {
					got = append(got, string(v.Rule))
				}
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(c.rules))
			assert.Equal(t, want, got, "why: %s\nviolations: %v", c.why, vs)
			if len(c.off) > 0 {
				var off []policy.RuleID
				for _, r := range c.off {
					off = append(off, policy.RuleID(r))
				}
				rest := policy.ValidateConfigWithout([]byte(c.text), policy.Default(), off...)
				assert.Empty(t, rest, "with %v switched off the config must pass every other check", c.off)
			}
			if c.generated != "" {
				list, err := components.Parse(c.generated)
				require.NoError(t, err)
				want := inject.HAProxyConfig(list)
				if c.tls != nil {
					want = inject.HAProxyConfigTLS(list, c.tls)
				}
				assert.Equal(t, want, c.body, "generated body")
			}
			if c.name == "good-seed.cfg" {
				assert.Equal(t, string(seed), c.body, "the seed config, byte for byte")
			}
		})
	}
}

// bindPort finds the ports of bind lines.
var bindPort = regexp.MustCompile(`:(\d+)`)

// TestCorpusDataPlane runs the real HAProxy on the corpus, 2.6 and 3.0: on each, accepted configs
// forward /metrics only, every bypass a rejected config claims works, and what the corpus marks
// refused is refused.
func TestCorpusDataPlane(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	cases := loadCorpus(t)
	haproxies := testtool.HAProxies(t)
	dir, err := filepath.Abs(corpusDir)
	require.NoError(t, err)
	h := dataplane.New(t, append(dataplane.Components(), dataplane.Neighbours()...)...)
	for _, hp := range haproxies {
		for _, c := range cases {
			t.Run(hp.Branch+"/"+c.name, func(t *testing.T) {
				opts := dataplane.Options{Dir: dir, Binary: hp.Path}
				switch c.plane {
				case "none":
					t.Logf("no data-plane run: %s", c.planeWhy)
					return
				case "refused":
					out, ok := dataplane.Check(t, c.text, opts)
					require.False(t, ok, "haproxy %s -c accepts the config: %s", hp.Version, out)
					return
				}
				if c.needsIPv6 {
					ln, err := net.Listen("tcp6", "[::1]:0")
					if err != nil {
						t.Skipf("needs IPv6 on the host: %v", err)
					}
					_ = ln.Close()
				}
				ports := frontendPorts(c.text)
				for _, p := range ports {
					opts.Wait = append(opts.Wait, net.JoinHostPort(dataplane.DefaultNodeIP, strconv.Itoa(p)))
				}
				for _, b := range c.bypasses {
					if !slices.Contains(opts.Wait, b.Addr) {
						opts.Wait = append(opts.Wait, b.Addr)
					}
				}
				if c.tls != nil {
					useTLSFrontends(t, h, &opts, c.tls)
				}
				if c.accept {
					out, ok := dataplane.Check(t, c.text, opts)
					require.True(t, ok, "haproxy %s -c refuses an accepted config: %s", hp.Version, out)
				}
				proxy := h.StartHAProxy(t, c.text, opts)
				for _, cmd := range c.cli {
					reply, err := dataplane.Talk(cmd.Addr, cmd.Target+"\n")
					require.NoError(t, err, "runtime API %s", cmd.Addr)
					t.Logf("runtime API %s: %s: %q", cmd.Addr, cmd.Target, reply)
				}
				for _, b := range c.bypasses {
					o := h.Probe(b)
					leak := o.Leak(dataplane.DefaultNodeIP, h.Upstreams())
					require.NotEmpty(t, leak, "the bypass does not work on HAProxy %s: %s\nhaproxy output:\n%s", hp.Version, o, proxy.Output())
					t.Logf("bypass shown on %s: %s: %s", hp.Version, b, leak)
				}
				if c.accept || c.plane == "no-leak" {
					require.NotEmpty(t, ports, "no frontend port found")
					for _, p := range ports {
						checkCompliant(t, h, net.JoinHostPort(dataplane.DefaultNodeIP, strconv.Itoa(p)), c.accept)
					}
				}
			})
		}
	}
}

// frontendPorts returns the ports of the bind lines of cfg, in order, without repeats.
func frontendPorts(cfg string) []int {
	var ports []int
	for _, line := range strings.Split(cfg, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "bind" {
			continue
		}
		for _, m := range bindPort.FindAllStringSubmatch(f[1], -1) {
			if p, err := strconv.Atoi(m[1]); err == nil && !slices.Contains(ports, p) {
				ports = append(ports, p)
			}
		}
	}
	return ports
}

// checkCompliant shows that the proxy on addr forwards GET /metrics with its Authorization header
// and nothing else, over HTTP/1.1 (raw, pipelined) and HTTP/2. strict (accepted configs) also
// wants the answers of a compliant proxy: 200 for /metrics, 403 for the rest; otherwise it only
// wants that nothing leaks.
func checkCompliant(t *testing.T, h *dataplane.Harness, addr string, strict bool) {
	t.Helper()
	forbidden := dataplane.ForbiddenTargets(addr)
	outcomes := []dataplane.Outcome{h.Probe(dataplane.Probe{Addr: addr, Method: "GET", Target: dataplane.AllowedPath})}
	for _, target := range forbidden {
		outcomes = append(outcomes, h.Probe(dataplane.Probe{Addr: addr, Method: "GET", Target: target}))
	}
	// HAProxy offers HTTP/2 on a TLS bind only through ALPN, which the generated bind does not
	// configure: cleartext HTTP/2 is probed on plain frontends.
	if h.TLSConfig(addr) == nil {
		outcomes = append(outcomes, h.ProbeH2(addr, dataplane.AllowedPath), h.ProbeH2(addr, "/configz"), h.ProbeH2(addr, "/debug/pprof/"))
	}
	for _, o := range outcomes {
		assert.Empty(t, o.Leak(dataplane.DefaultNodeIP, h.Upstreams()), "%s", o)
		if !strict {
			continue
		}
		if !assert.NoError(t, o.Err, "%s", o) {
			continue
		}
		if o.Target == dataplane.AllowedPath {
			assert.Equal(t, 200, o.Resp.Status, "%s", o)
			if assert.Len(t, o.Seen, 1, "%s", o) {
				assert.Equal(t, dataplane.AllowedPath, o.Seen[0].URI, "%s", o)
				assert.Equal(t, dataplane.TestToken, o.Seen[0].Authorization, "%s", o)
			}
		} else {
			assert.Equal(t, 403, o.Resp.Status, "%s", o)
			assert.Empty(t, o.Seen, "%s", o)
		}
	}
	// Requests pipelined behind an allowed one are checked one by one too.
	answer, seen, err := h.Pipeline(addr, append([]string{dataplane.AllowedPath}, forbidden...)...)
	if strict {
		assert.NoError(t, err)
		assert.Equal(t, strings.Count(answer, "HTTP/1.1 403 "), len(forbidden), "pipelined answers:\n%s", answer)
	}
	for _, r := range seen {
		assert.Equal(t, dataplane.AllowedPath, r.URI, "pipelined request reached the upstream: %+v", r)
	}
}
