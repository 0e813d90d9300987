package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/metrics-proxy/injector/e2e/bench"
)

// scrapeTimeout is Prometheus's default scrape_timeout.
const scrapeTimeout = 10 * time.Second

// prometheusAccept is the Accept header Prometheus 3 sends with its default scrape protocols.
const prometheusAccept = "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.5," +
	"application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=underscores;q=0.3," +
	"text/plain;version=0.0.4;q=0.2,*/*;q=0.1"

// newScraper is one scraper's HTTP client: its own keep-alive connection per target, HTTP/1.1,
// gzip asked for and counted as it comes off the wire, certificates not verified (the
// insecureSkipVerify of kube-prometheus-stack's HTTPS jobs).
func newScraper() *http.Client {
	return &http.Client{Timeout: scrapeTimeout, Transport: &http.Transport{
		Proxy:               nil,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 1,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // self-signed, loopback
	}}
}

// scrapeOnce GETs url as Prometheus does and returns how long it took to the body's last byte
// and the body's size on the wire.
func scrapeOnce(ctx context.Context, c *http.Client, url, token string) (time.Duration, int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Accept", prometheusAccept)
	req.Header.Set("Accept-Encoding", "gzip")
	req.Header.Set("User-Agent", "Prometheus/3.7.0")
	req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", strconv.FormatFloat(scrapeTimeout.Seconds(), 'f', -1, 64))
	req.Header.Set("Authorization", "Bearer "+token)
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(start)
	if err != nil {
		return d, n, err
	}
	if resp.StatusCode != http.StatusOK {
		return d, n, fmt.Errorf("status %d", resp.StatusCode)
	}
	return d, n, nil
}

// tally collects one load, path and component over all its runs.
type tally struct {
	mu         sync.Mutex
	samples    []time.Duration
	bytes      int64
	errors     int
	firstError string
	elapsed    time.Duration
}

func (t *tally) record(d time.Duration, n int64, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if err != nil {
		t.errors++
		if t.firstError == "" {
			t.firstError = err.Error()
		}
		return
	}
	t.samples = append(t.samples, d)
	t.bytes += n
}

func (t *tally) result(load, path, component string, tlsClient bool) *bench.ScrapeResult {
	r := &bench.ScrapeResult{Load: load, Path: path, Component: component, TLS: tlsClient, Completed: len(t.samples),
		Errors: t.errors, FirstError: t.firstError, Latency: bench.Summarize(append([]time.Duration(nil), t.samples...))}
	if len(t.samples) > 0 {
		r.Bytes = t.bytes / int64(len(t.samples))
	}
	if t.elapsed > 0 {
		r.PerSecond = float64(len(t.samples)) / t.elapsed.Seconds()
	}
	return r
}

// scrapeTarget is one component reached on one path.
type scrapeTarget struct {
	component string
	url       string
	tls       bool
}

// normalRun scrapes every target at once, each with o.Scrapers scrapers every o.Period (spread
// over the period, as Prometheus spreads its scrape loops), for o.Duration; discard leaves the
// tallies alone (a warmup).
func normalRun(ctx context.Context, o bench.NormalLoad, token string, targets []scrapeTarget, tallies map[string]*tally, discard bool) {
	var wg sync.WaitGroup
	end := time.Now().Add(o.Duration)
	slots := o.Scrapers * len(targets)
	slot := 0
	for _, t := range targets {
		for range o.Scrapers {
			offset := o.Period * time.Duration(slot) / time.Duration(slots)
			slot++
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := newScraper()
				defer c.CloseIdleConnections()
				next := time.Now().Add(offset)
				for next.Before(end) {
					select {
					case <-ctx.Done():
						return
					case <-time.After(time.Until(next)):
					}
					d, n, err := scrapeOnce(ctx, c, t.url, token)
					if !discard {
						tallies[t.component].record(d, n, err)
					}
					for next = next.Add(o.Period); next.Before(time.Now()); next = next.Add(o.Period) {
						// a scrape longer than the period skips the missed ticks, as Prometheus does
					}
				}
			}()
		}
	}
	wg.Wait()
	if discard {
		return
	}
	for _, t := range targets {
		tallies[t.component].elapsed += o.Duration
	}
}

// stressedWarmup is the unmeasured start of each stressed run: connections open, caches fill.
const stressedWarmup = 500 * time.Millisecond

// stressedRun keeps o.Scrapers scrapes of one target in flight for o.Duration after a warmup.
func stressedRun(ctx context.Context, o bench.StressedLoad, token string, t scrapeTarget, into *tally) {
	var wg sync.WaitGroup
	measured := time.Now().Add(stressedWarmup)
	end := measured.Add(o.Duration)
	for range o.Scrapers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newScraper()
			defer c.CloseIdleConnections()
			for ctx.Err() == nil {
				start := time.Now()
				if !start.Before(end) {
					return
				}
				d, n, err := scrapeOnce(ctx, c, t.url, token)
				if !start.Before(measured) {
					into.record(d, n, err)
				}
			}
		}()
	}
	wg.Wait()
	into.elapsed += o.Duration
}

// usageWatch samples a haproxy process every 100 ms: resident memory and the CPU time of all its
// threads (schedstat, nanoseconds).
type usageWatch struct {
	pid      int
	stop     chan struct{}
	done     chan struct{}
	peakRSS  int64
	peakCPU  float64
	cpu      time.Duration
	wall     time.Duration
	firstErr error
}

const usageInterval = 100 * time.Millisecond

func watchUsage(pid int) *usageWatch {
	w := &usageWatch{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		lastCPU, err := cpuTime(pid)
		if err != nil {
			w.firstErr = err
			return
		}
		lastAt := time.Now()
		first := lastCPU
		start := lastAt
		tick := time.NewTicker(usageInterval)
		defer tick.Stop()
		for {
			stopping := false
			select {
			case <-w.stop:
				stopping = true
			case <-tick.C:
			}
			now := time.Now()
			c, err := cpuTime(pid)
			if err == nil {
				if wall := now.Sub(lastAt); wall >= usageInterval/2 {
					w.peakCPU = max(w.peakCPU, float64(c-lastCPU)/float64(wall))
				}
				lastCPU, lastAt = c, now
			} else if w.firstErr == nil {
				w.firstErr = err
			}
			if rss, err := bench.RSS(pid); err == nil {
				w.peakRSS = max(w.peakRSS, rss)
			}
			if stopping {
				w.cpu, w.wall = lastCPU-first, lastAt.Sub(start)
				return
			}
		}
	}()
	return w
}

func (w *usageWatch) finish() error {
	close(w.stop)
	<-w.done
	return w.firstErr
}

// cpuTime sums the time on CPU of every thread of pid, from /proc/PID/task/*/schedstat.
func cpuTime(pid int) (time.Duration, error) {
	paths, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	if err != nil || len(paths) == 0 {
		return 0, fmt.Errorf("no threads of process %d", pid)
	}
	var sum time.Duration
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			continue // a thread that just ended
		}
		f := strings.Fields(string(data))
		if len(f) == 0 {
			continue
		}
		ns, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", p, err)
		}
		sum += time.Duration(ns)
	}
	return sum, nil
}

// usageSum accumulates a proxy's usage over the runs of one load.
type usageSum struct {
	peakRSS   int64
	peakCPU   float64
	cpu, wall time.Duration
}

func (u *usageSum) add(w *usageWatch) {
	u.peakRSS = max(u.peakRSS, w.peakRSS)
	u.peakCPU = max(u.peakCPU, w.peakCPU)
	u.cpu += w.cpu
	u.wall += w.wall
}
