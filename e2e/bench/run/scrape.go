package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/metrics-proxy/injector/e2e/bench"
	"github.com/metrics-proxy/injector/webhook/components"
)

// Variant names of the scrape part.
const (
	variantRender = "render"
	variantHTTP   = "http"
)

// scrapeVariants are the proxy configurations measured: what render writes, the same all-HTTP
// (tls none), and render's with another default-server maxconn.
func scrapeVariants(maxConn int) []bench.ScrapeVariant {
	def := components.DefaultTLS(components.All())
	var tlsNames []string
	for _, c := range def {
		tlsNames = append(tlsNames, c.Name)
	}
	return []bench.ScrapeVariant{
		{Name: variantRender, Description: "what `metrics-proxy render` writes for the control-plane proxy: TLS frontends for " +
			strings.Join(tlsNames, " and ") + " (re-encrypting to the component), HTTP for the others, `default-server maxconn 10`",
			TLS: tlsNames, MaxConn: 10, Loads: []string{bench.LoadNormal, bench.LoadStressed}},
		{Name: variantHTTP, Description: "the same with the annotation `metrics-proxy.io/tls: none` (the seed's all-HTTP proxy; " +
			"HTTPS components still re-encrypted)", MaxConn: 10, Loads: []string{bench.LoadNormal}},
		{Name: fmt.Sprintf("maxconn-%d", maxConn), Description: fmt.Sprintf("render's, with `default-server maxconn %d`", maxConn),
			TLS: tlsNames, MaxConn: maxConn, Loads: []string{bench.LoadStressed}},
	}
}

// runScrapePart runs the scrape part in a network namespace of its own (this program again,
// under `unshare --net`), so that the components' fixed ports and the proxies' node IPs collide
// with nothing on the machine, and reads its figures.
func runScrapePart(ctx context.Context, out *bench.ScrapeFigures) error {
	if os.Geteuid() != 0 {
		return errors.New("the scrape part runs in a network namespace of its own (unshare --net): run as root")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("this program: %w", err)
	}
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, "unshare", append([]string{"--net", "--", exe, "-scrape-child"}, os.Args[1:]...)...)
	cmd.Stdout, cmd.Stderr = &stdout, os.Stdout
	cmd.SysProcAttr = childAttrs()
	// On cancellation the child stops what it started (etcd and kube-apiserver included).
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("scrape part: %w", err)
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		return fmt.Errorf("scrape part: result: %w", err)
	}
	return nil
}

// scrapeChild is the scrape part inside its namespace: it starts the rig, measures and returns
// the figures.
func scrapeChild(ctx context.Context, o options) (*bench.ScrapeFigures, error) {
	variants := scrapeVariants(o.scrapeMaxConn)
	if err := netnsSetup(scrapeIPs[:len(variants)]); err != nil {
		return nil, err
	}
	say := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "bench:   "+format+"  [%s]\n", append(args, time.Now().Format("15:04:05"))...)
	}
	say("starting etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy")
	rig, err := startScrapeRig(ctx)
	if err != nil {
		return nil, err
	}
	defer rig.stop()
	f := &bench.ScrapeFigures{Variants: variants, Skipped: rig.skipped,
		NormalLoad:   bench.NormalLoad{Scrapers: 2, Period: o.scrapePeriod, Duration: o.scrapeNormal, Rounds: o.scrapeRounds},
		StressedLoad: bench.StressedLoad{Scrapers: o.scrapeStress, Duration: o.scrapeStressed, Rounds: o.scrapeStressRounds}}
	for _, c := range rig.up {
		f.Components = append(f.Components, c.Name)
	}
	if err := injectedResources(f); err != nil {
		return nil, err
	}
	idle := map[string]int64{}
	for i, v := range variants {
		if err := rig.addProxy(ctx, v, scrapeIPs[i]); err != nil {
			return nil, err
		}
	}
	time.Sleep(time.Second)
	for _, v := range variants {
		idle[v.Name], _ = bench.RSS(rig.proxies[v.Name].pid())
	}
	paths := append([]string{bench.PathDirect}, variantNames(variants)...)
	targets := map[string][]scrapeTarget{}
	for _, p := range paths {
		for _, c := range rig.up {
			t := scrapeTarget{component: c.Name}
			host := "127.0.0.1"
			t.tls = c.TLS
			if p != bench.PathDirect {
				v := variants[slices.IndexFunc(variants, func(v bench.ScrapeVariant) bool { return v.Name == p })]
				host, t.tls = rig.ips[p], slices.Contains(v.TLS, c.Name)
			}
			scheme := "http"
			if t.tls {
				scheme = "https"
			}
			t.url = fmt.Sprintf("%s://%s:%d/metrics", scheme, host, c.Port)
			// Each path must answer before it is measured.
			if _, _, err := scrapeOnce(ctx, newScraper(), t.url, rig.token); err != nil {
				return nil, fmt.Errorf("scrape %s: %w", t.url, err)
			}
			targets[p] = append(targets[p], t)
		}
	}
	tallies := map[string]map[string]*tally{} // load/path -> component
	get := func(load, path string) map[string]*tally {
		k := load + "/" + path
		if tallies[k] == nil {
			tallies[k] = map[string]*tally{}
			for _, c := range rig.up {
				tallies[k][c.Name] = &tally{}
			}
		}
		return tallies[k]
	}
	usage := map[string]*usageSum{}
	measure := func(load, path string, run func()) error {
		p := rig.proxies[path]
		if p == nil {
			run()
			return nil
		}
		w := watchUsage(p.pid())
		run()
		err := w.finish()
		k := load + "/" + path
		if usage[k] == nil {
			usage[k] = &usageSum{}
		}
		usage[k].add(w)
		return err
	}
	takes := func(v string, load string) bool {
		i := slices.IndexFunc(variants, func(x bench.ScrapeVariant) bool { return x.Name == v })
		return i < 0 || slices.Contains(variants[i].Loads, load)
	}
	say("normal load: %d scrapers per target every %s, all targets at once, %d runs of %s per path", f.NormalLoad.Scrapers,
		f.NormalLoad.Period, f.NormalLoad.Rounds, f.NormalLoad.Duration)
	// Unmeasured first: the components settle after their start (kube-controller-manager's
	// informers sync, caches fill) and every path opens its connections.
	warm := f.NormalLoad
	warm.Duration = 2 * time.Second
	for _, p := range paths {
		normalRun(ctx, warm, rig.token, targets[p], map[string]*tally{}, true)
	}
	for round := range f.NormalLoad.Rounds {
		// The paths take turns, each round starting with the next one, so that a drift of the
		// machine's load over a round hits no path more than another.
		for k := range paths {
			p := paths[(round+k)%len(paths)]
			if !takes(p, bench.LoadNormal) {
				continue
			}
			if err := measure(bench.LoadNormal, p, func() { normalRun(ctx, f.NormalLoad, rig.token, targets[p], get(bench.LoadNormal, p), false) }); err != nil {
				return nil, err
			}
		}
	}
	say("stressed load: %d scrapers in flight on one target, %d runs of %s per path and target", f.StressedLoad.Scrapers,
		f.StressedLoad.Rounds, f.StressedLoad.Duration)
	for round := range f.StressedLoad.Rounds {
		for i := range rig.up {
			for k := range paths {
				p := paths[(round+i+k)%len(paths)]
				if !takes(p, bench.LoadStressed) {
					continue
				}
				t := targets[p][i]
				if err := measure(bench.LoadStressed, p, func() {
					stressedRun(ctx, f.StressedLoad, rig.token, t, get(bench.LoadStressed, p)[t.component])
				}); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, load := range []string{bench.LoadNormal, bench.LoadStressed} {
		for _, p := range paths {
			if !takes(p, load) {
				continue
			}
			for i, c := range rig.up {
				r := get(load, p)[c.Name].result(load, p, c.Name, targets[p][i].tls)
				f.Results = append(f.Results, r)
				say("%-8s %-12s %-24s p50 %7.2f ms  p99 %7.2f ms  %7d B  %5d scrapes  errors %d", load, p, c.Name,
					bench.Millis(r.Latency.P50), bench.Millis(r.Latency.P99), r.Bytes, r.Completed, r.Errors)
			}
			if u := usage[load+"/"+p]; u != nil {
				hu := &bench.HAProxyUsage{Variant: p, Load: load, PeakRSS: u.peakRSS, IdleRSS: idle[p], PeakCPU: u.peakCPU}
				if u.wall > 0 {
					hu.CPU = float64(u.cpu) / float64(u.wall)
				}
				f.HAProxy = append(f.HAProxy, hu)
				say("%-8s %-12s haproxy RSS idle %.1f MiB, peak %.1f MiB; CPU mean %.0f m, peak %.0f m (100 ms)", load, p,
					float64(hu.IdleRSS)/bench.MiB, float64(hu.PeakRSS)/bench.MiB, 1000*hu.CPU, 1000*hu.PeakCPU)
			}
		}
	}
	return f, nil
}

func variantNames(vs []bench.ScrapeVariant) []string {
	var out []string
	for _, v := range vs {
		out = append(out, v.Name)
	}
	return out
}

// injectedResources records the requests and limits injection gives the haproxy container.
func injectedResources(f *bench.ScrapeFigures) error {
	ds, err := complete("resources", "default")
	if err != nil {
		return err
	}
	for _, c := range ds.Spec.Template.Spec.Containers {
		if c.Name != "haproxy" {
			continue
		}
		f.CPULimitMilli = c.Resources.Limits.Cpu().MilliValue()
		f.CPURequestMilli = c.Resources.Requests.Cpu().MilliValue()
		f.MemoryLimit = c.Resources.Limits.Memory().Value()
		f.MemoryRequest = c.Resources.Requests.Memory().Value()
		return nil
	}
	return errors.New("injection wrote no haproxy container")
}
