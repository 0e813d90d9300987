package bench

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Scrape-path targets of issue 15.
const (
	addedP50HTTP = time.Millisecond
	addedP50TLS  = 2 * time.Millisecond
	p99Ratio     = 1.2
	haproxyRSS   = 32 * MiB
)

// scrapeTargets judges the scrape figures.
func scrapeTargets(s *ScrapeFigures, add func(name, limit string, measured bool, figure string, pass bool)) {
	measured := len(s.Results) > 0
	type judged struct {
		figures []string
		pass    bool
		any     bool
	}
	judge := func() *judged { return &judged{pass: true} }
	p50HTTP, p50TLS, p99Normal, p99Stressed, errs := judge(), judge(), judge(), judge(), judge()
	for _, r := range s.Results {
		if r.Path == PathDirect {
			continue
		}
		d := s.Result(r.Load, PathDirect, r.Component)
		if d == nil || d.Completed == 0 || r.Completed == 0 {
			continue
		}
		label := r.Path + " " + r.Component
		added := r.Latency.P50 - d.Latency.P50
		ratio99 := ratio(r.Latency.P99, d.Latency.P99)
		if r.Load == LoadNormal {
			j, limit := p50HTTP, addedP50HTTP
			if r.TLS {
				j, limit = p50TLS, addedP50TLS
			}
			j.any = true
			j.figures = append(j.figures, fmt.Sprintf("%s %+.2f ms", label, Millis(added)))
			j.pass = j.pass && added <= limit
			p99Normal.any = true
			p99Normal.figures = append(p99Normal.figures, fmt.Sprintf("%s %.2f×", label, ratio99))
			p99Normal.pass = p99Normal.pass && ratio99 <= p99Ratio
		} else {
			p99Stressed.any = true
			p99Stressed.figures = append(p99Stressed.figures, fmt.Sprintf("%s %.2f×", label, ratio99))
			p99Stressed.pass = p99Stressed.pass && ratio99 <= p99Ratio
			errs.any = true
			errs.figures = append(errs.figures, fmt.Sprintf("%s %d", label, r.Errors))
			errs.pass = errs.pass && r.Errors == 0
		}
	}
	row := func(name, limit string, j *judged) {
		add(name, limit, measured && j.any, strings.Join(j.figures, "; "), j.pass)
	}
	row("scrape, normal load: added p50 over direct, HTTP frontends", "≤ +1 ms", p50HTTP)
	row("scrape, normal load: added p50 over direct, TLS frontends (terminated and re-encrypted)", "≤ +2 ms", p50TLS)
	row("scrape, normal load: p99 through the proxy vs direct", "≤ 1.2×", p99Normal)
	row(fmt.Sprintf("scrape, stressed (%d scrapers in flight): p99 through the proxy vs direct", s.StressedLoad.Scrapers), "≤ 1.2×", p99Stressed)
	row(fmt.Sprintf("scrape, stressed (%d scrapers in flight): errors through the proxy", s.StressedLoad.Scrapers), "0", errs)

	var rss, cpu []string
	var peakRSS int64
	var peakCPU float64
	for _, u := range s.HAProxy {
		rss = append(rss, fmt.Sprintf("%s %s %s", u.Variant, u.Load, mib(u.PeakRSS)))
		peakRSS = max(peakRSS, u.PeakRSS)
		if u.Load == LoadStressed {
			cpu = append(cpu, fmt.Sprintf("%s %.0fm (mean %.0fm)", u.Variant, 1000*u.PeakCPU, 1000*u.CPU))
			peakCPU = max(peakCPU, u.PeakCPU)
		}
	}
	has := len(s.HAProxy) > 0
	add("haproxy resident memory, peak", "≤ 32 MiB", has, strings.Join(rss, "; "), peakRSS <= haproxyRSS)
	add("haproxy within the injected memory limit (no OOM kill)", fmt.Sprintf("peak < limit %s", mib(s.MemoryLimit)),
		has && s.MemoryLimit > 0, mib(peakRSS), peakRSS < s.MemoryLimit)
	add("haproxy within the injected CPU limit at the stressed load (no throttling: peak CPU in a 100 ms CFS period)",
		fmt.Sprintf("≤ limit %dm", s.CPULimitMilli), has && s.CPULimitMilli > 0, strings.Join(cpu, "; "),
		1000*peakCPU <= float64(s.CPULimitMilli))
}

// writeScrape renders the scrape part.
func writeScrape(b *strings.Builder, r *Report) {
	s := r.Scrape
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("## 2. Scrape path: /metrics through haproxy against direct\n\n")
	if len(s.Results) == 0 {
		w("Not measured in this run.\n\n")
		return
	}
	w("A control-plane node in a network namespace of the benchmark's own (loopback only): etcd with `--listen-metrics-urls=http://127.0.0.1:2381`, " +
		"kube-apiserver, kube-controller-manager (all its controllers but the token signer) on 127.0.0.1:10257 and kube-scheduler on 127.0.0.1:10259, " +
		"both authenticating and authorizing every scrape through kube-apiserver (TokenReview, SubjectAccessReview, cached as in a cluster), " +
		"and the real kube-proxy (iptables mode) on 127.0.0.1:10249, all from `bin/`; their payloads are their own. ")
	if len(s.Skipped) > 0 {
		w("Not scraped: %s. ", strings.Join(s.Skipped, "; "))
	}
	w("One real haproxy (the distribution's) per proxy variant, each with `NODE_IP` set to its own address in the namespace, " +
		"each frontend certificate made as `metrics-proxy proxy-cert` makes it; the only edit to the generated config is the certificate's path:\n\n")
	for _, v := range s.Variants {
		w("- `%s`: %s; measured under the %s load.\n", v.Name, v.Description, strings.Join(v.Loads, " and "))
	}
	w("\nThe scraper: Prometheus's request (GET, its `Accept` header, `Accept-Encoding: gzip`, the scrape-timeout header, " +
		"a TokenRequest token of a service account bound to `metrics-reader`), one keep-alive HTTP/1.1 connection per scraper and " +
		"target, certificates not verified (kube-prometheus-stack's `insecureSkipVerify`), 10 s timeout; latency from the request " +
		"to the last byte of the body; bytes are the body on the wire (gzip). The floor, `direct`, is the same request to the component's " +
		"127.0.0.1 port (HTTPS for kube-controller-manager and kube-scheduler).\n\n")
	n, st := s.NormalLoad, s.StressedLoad
	w("- Normal load: %d scrapers per target, each scraping every %s (Prometheus's default is 15 s: the period is shortened "+
		"to collect samples, the shape kept: every target at once, the scrapes spread over the period, one at a time per scraper), "+
		"%d runs of %s per path after 2 s of each unmeasured, the paths taking turns (each round starting with the next path).\n", n.Scrapers, n.Period, n.Rounds, n.Duration)
	w("- Stressed load: %d scrapers on one target at once, each sending its next scrape as soon as the last one ends (the issue's "+
		"50 concurrent scrapers; 30 s shortened to %d runs of %s per path and target, after %s unmeasured), one target at a time.\n\n",
		st.Scrapers, st.Rounds, st.Duration, "0.5 s")
	for _, load := range []string{LoadNormal, LoadStressed} {
		w("### %s load\n\n", strings.ToUpper(load[:1])+load[1:])
		w("| component | path | client speaks | p50 | p99 | max | p50 − direct | p99 / direct | bytes | scrapes/s | scrapes | errors |\n")
		w("|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
		for _, c := range s.Components {
			d := s.Result(load, PathDirect, c)
			for _, res := range s.Results {
				if res.Load != load || res.Component != c {
					continue
				}
				proto := "HTTP"
				if res.TLS {
					proto = "HTTPS"
				}
				delta, rr := "", ""
				if res.Path != PathDirect && d != nil && d.Completed > 0 && res.Completed > 0 {
					delta = fmt.Sprintf("%+.2f ms", Millis(res.Latency.P50-d.Latency.P50))
					rr = fmt.Sprintf("%.2f×", ratio(res.Latency.P99, d.Latency.P99))
				}
				w("| %s | %s | %s | %s | %s | %s | %s | %s | %d | %.1f | %d | %d |\n", c, res.Path, proto, ms(res.Latency.P50),
					ms(res.Latency.P99), ms(res.Latency.Max), delta, rr, res.Bytes, res.PerSecond, res.Completed, res.Errors)
			}
		}
		w("\n")
		for _, res := range s.Results {
			if res.Load == load && res.FirstError != "" {
				w("- first error, %s %s: `%s`\n", res.Path, res.Component, res.FirstError)
			}
		}
	}
	w("### haproxy's memory and CPU\n\n")
	w("Per haproxy process (one per node in a cluster): VmRSS and the CPU time of all its threads (schedstat), sampled every 100 ms "+
		"while the load ran through it; the peak CPU is the most used in one 100 ms window, the period over which a CPU limit is enforced. "+
		"Injection gives the haproxy container requests cpu %dm, memory %s and limits cpu %dm, memory %s.\n\n",
		s.CPURequestMilli, mib(s.MemoryRequest), s.CPULimitMilli, mib(s.MemoryLimit))
	w("| variant | load | VmRSS idle | VmRSS peak | CPU mean | CPU peak (100 ms) |\n|---|---|--:|--:|--:|--:|\n")
	for _, u := range s.HAProxy {
		w("| %s | %s | %s | %s | %.0fm | %.0fm |\n", u.Variant, u.Load, mib(u.IdleRSS), mib(u.PeakRSS), 1000*u.CPU, 1000*u.PeakCPU)
	}
	w("\n")
	writeMaxConn(b, s)
}

// writeMaxConn compares render's maxconn with the other one measured under the stressed load.
func writeMaxConn(b *strings.Builder, s ScrapeFigures) {
	var other *ScrapeVariant
	for i, v := range s.Variants {
		if v.Name != "render" && slices.Contains(v.Loads, LoadStressed) {
			other = &s.Variants[i]
		}
	}
	if other == nil {
		return
	}
	fmt.Fprintf(b, "`default-server maxconn`: 10 (the seed's) against %d under the stressed load, p99 and errors per component: ", other.MaxConn)
	var parts []string
	for _, c := range s.Components {
		a, o := s.Result(LoadStressed, "render", c), s.Result(LoadStressed, other.Name, c)
		if a == nil || o == nil {
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %s (%d errors) vs %s (%d errors)", c, ms(a.Latency.P99), a.Errors, ms(o.Latency.P99), o.Errors))
	}
	fmt.Fprintf(b, "%s. With maxconn 10 haproxy queues the scrapes beyond 10 per component (for at most `timeout connect`, 5 s, "+
		"before a 503) instead of passing all of them to the component at once.\n\n", strings.Join(parts, "; "))
}
