package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// sender sends one AdmissionReview and checks the answer.
type sender struct {
	client *http.Client
	url    string
	body   []byte
	expect []byte
}

// send posts the review; an error is a failed request, a non-200 status or an unexpected answer.
func (s *sender) send() error {
	resp, err := s.client.Post(s.url, "application/json", bytes.NewReader(s.body))
	if err != nil {
		return fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d: %.200s", resp.StatusCode, data)
	}
	if !bytes.Contains(data, s.expect) {
		return fmt.Errorf("answer without %s: %.200s", s.expect, data)
	}
	return nil
}

// measured is what a loop saw: the latency of every completed request and the failures.
type measured struct {
	latencies  []time.Duration
	errors     int
	firstError string
	elapsed    time.Duration
}

// recorder collects the results of concurrent workers.
type recorder struct {
	mu sync.Mutex
	m  measured
}

func (r *recorder) record(latency time.Duration, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.m.errors++
		if r.m.firstError == "" {
			r.m.firstError = err.Error()
		}
		return
	}
	r.m.latencies = append(r.m.latencies, latency)
}

// closedLoop runs one worker per connection, each sending its next request as soon as the
// previous one is answered, for d or until maxRequests were sent.
func closedLoop(s *sender, connections int, d time.Duration, maxRequests int) measured {
	var rec recorder
	var wg sync.WaitGroup
	var sent atomic.Int64
	start := time.Now()
	deadline := start.Add(d)
	for range connections {
		wg.Go(func() {
			for sent.Add(1) <= int64(maxRequests) && time.Now().Before(deadline) {
				t := time.Now()
				err := s.send()
				rec.record(time.Since(t), err)
			}
		})
	}
	wg.Wait()
	rec.m.elapsed = time.Since(start)
	return rec.m
}

// openLoop offers rate requests per second for d (at most maxRequests), whatever the server
// does, with at most `connections` in flight. A request's latency counts from the moment it was
// due, so the time it waited for a free connection is charged too (no coordinated omission).
func openLoop(s *sender, connections int, rate float64, d time.Duration, maxRequests int) measured {
	total := min(int(rate*d.Seconds()), maxRequests)
	interval := time.Duration(float64(time.Second) / rate)
	due := make(chan time.Time, total)
	var rec recorder
	var wg sync.WaitGroup
	for range connections {
		wg.Go(func() {
			for t := range due {
				err := s.send()
				rec.record(time.Since(t), err)
			}
		})
	}
	start := time.Now()
	for i := range total {
		next := start.Add(time.Duration(i) * interval)
		if wait := time.Until(next); wait > 0 {
			time.Sleep(wait)
		}
		due <- next
	}
	close(due)
	wg.Wait()
	rec.m.elapsed = time.Since(start)
	return rec.m
}
