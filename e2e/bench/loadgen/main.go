package main

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/metrics-proxy/injector/e2e/bench"
)

// options are loadgen's flags.
type options struct {
	url, caFile, bodyFile, mode, expect string
	connections                         int
	rate                                float64
	duration, warmup, timeout           time.Duration
	maxRequests                         int
}

func main() {
	var o options
	flag.StringVar(&o.url, "url", "", "webhook URL (https, loopback host only)")
	flag.StringVar(&o.caFile, "ca", "", "PEM file of the CA that signed the server's certificate")
	flag.StringVar(&o.bodyFile, "body", "", "file with the AdmissionReview to send")
	flag.StringVar(&o.mode, "mode", bench.ModeClosed, "closed (saturation) or open (fixed rate)")
	flag.StringVar(&o.expect, "expect", `"allowed":true`, "text every answer must contain")
	flag.IntVar(&o.connections, "connections", 16, "keep-alive connections, and the most requests in flight")
	flag.Float64Var(&o.rate, "rate", 500, "requests per second of an open-loop run")
	flag.DurationVar(&o.duration, "duration", 5*time.Second, "how long to measure")
	flag.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured traffic of the same mode before measuring")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "timeout of one request")
	flag.IntVar(&o.maxRequests, "max-requests", 1_000_000, "the most requests one measured run sends")
	flag.Parse()
	res, err := run(o)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(1)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		fmt.Fprintf(os.Stderr, "loadgen: %v\n", err)
		os.Exit(1)
	}
}

// run checks the options, warms the connections up and runs the measured load.
func run(o options) (bench.LoadResult, error) {
	if err := checkLoopback(o.url); err != nil {
		return bench.LoadResult{}, err
	}
	if o.connections < 1 || o.duration <= 0 || o.maxRequests < 1 || (o.mode == bench.ModeOpen && o.rate <= 0) {
		return bench.LoadResult{}, errors.New("want -connections >= 1, -duration > 0, -max-requests >= 1 and, open loop, -rate > 0")
	}
	body, err := os.ReadFile(o.bodyFile)
	if err != nil {
		return bench.LoadResult{}, fmt.Errorf("body: %w", err)
	}
	c, err := newClient(o)
	if err != nil {
		return bench.LoadResult{}, err
	}
	s := &sender{client: c, url: o.url, body: body, expect: []byte(o.expect)}
	if o.warmup > 0 { // the same traffic, unmeasured: connections, TLS sessions and heaps warm up
		if o.mode == bench.ModeOpen {
			openLoop(s, o.connections, o.rate, o.warmup, o.maxRequests)
		} else {
			closedLoop(s, o.connections, o.warmup, o.maxRequests)
		}
	}
	var m measured
	switch o.mode {
	case bench.ModeClosed:
		m = closedLoop(s, o.connections, o.duration, o.maxRequests)
	case bench.ModeOpen:
		m = openLoop(s, o.connections, o.rate, o.duration, o.maxRequests)
	default:
		return bench.LoadResult{}, fmt.Errorf("-mode %q: want %s or %s", o.mode, bench.ModeClosed, bench.ModeOpen)
	}
	res := bench.LoadResult{Mode: o.mode, URL: o.url, Connections: o.connections, Elapsed: m.elapsed,
		Completed: len(m.latencies), Errors: m.errors, FirstError: m.firstError, Samples: m.latencies}
	res.Latency = bench.Summarize(append([]time.Duration(nil), m.latencies...))
	if o.mode == bench.ModeOpen {
		res.Rate = o.rate
	}
	if m.elapsed > 0 {
		res.PerSecond = float64(res.Completed) / m.elapsed.Seconds()
	}
	return res, nil
}

// checkLoopback refuses any URL but https to a loopback address.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("-url: %w", err)
	}
	ip := net.ParseIP(u.Hostname())
	if u.Scheme != "https" || (u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback())) {
		return fmt.Errorf("-url %q: want https to a loopback address", raw)
	}
	return nil
}

// newClient returns an HTTP/1.1 client that keeps one connection per request in flight alive.
func newClient(o options) (*http.Client, error) {
	pem, err := os.ReadFile(o.caFile)
	if err != nil {
		return nil, fmt.Errorf("CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("CA %s: no PEM certificate", o.caFile)
	}
	return &http.Client{
		Timeout: o.timeout,
		Transport: &http.Transport{
			TLSClientConfig:     &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			MaxIdleConns:        o.connections,
			MaxIdleConnsPerHost: o.connections,
			MaxConnsPerHost:     o.connections,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}, nil
}
