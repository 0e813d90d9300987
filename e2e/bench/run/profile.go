package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/google/pprof/profile"

	"github.com/metrics-proxy/injector/e2e/bench"
)

// profilePiece is the length of each CPU profile taken of serve.
const profilePiece = 10

// profilePath is name in dir, or empty (no profile) when dir is.
func profilePath(dir, name string) string {
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, name)
}

// profileServe takes CPU profiles of srv through its /debug/pprof/, one after another, each
// profilePiece seconds long, into dir as serve-N.pprof (`go tool pprof` merges them), until the
// returned function is called; that waits for the piece under way and returns the profiles'
// summary, nil when there is none. With dir empty it does nothing.
func profileServe(ctx context.Context, dir string, srv *server) func() *bench.CPUProfile {
	if dir == "" || srv.pprof == "" {
		return func() *bench.CPUProfile { return nil }
	}
	reviews0, err0 := reviewCount(ctx, srv)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var paths []string
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= 60 && ctx.Err() == nil; i++ {
			path := filepath.Join(dir, fmt.Sprintf("serve-%d.pprof", i))
			if err := fetchProfile(ctx, srv.pprof, path); err != nil {
				fmt.Fprintf(os.Stderr, "bench: profile of serve: %v\n", err)
				return
			}
			paths = append(paths, path)
		}
	}()
	return func() *bench.CPUProfile {
		cancel()
		wg.Wait()
		p, err := summarizeProfiles(paths)
		if err != nil {
			fmt.Fprintf(os.Stderr, "bench: profile of serve: %v\n", err)
			return nil
		}
		if reviews1, err1 := reviewCount(context.Background(), srv); err0 == nil && err1 == nil {
			p.Reviews = reviews1 - reviews0
		}
		return p
	}
}

// summarizeProfiles merges the CPU profiles at paths and sums their samples by kind of work.
func summarizeProfiles(paths []string) (*bench.CPUProfile, error) {
	if len(paths) == 0 {
		return nil, fmt.Errorf("no profile was taken")
	}
	var ps []*profile.Profile
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		p, err := profile.Parse(f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", path, err)
		}
		ps = append(ps, p)
	}
	merged, err := profile.Merge(ps)
	if err != nil {
		return nil, fmt.Errorf("merge profiles: %w", err)
	}
	cpu := -1
	for i, st := range merged.SampleType {
		if st.Type == "cpu" && st.Unit == "nanoseconds" {
			cpu = i
		}
	}
	if cpu < 0 {
		return nil, fmt.Errorf("the profiles hold no cpu nanoseconds")
	}
	out := &bench.CPUProfile{Duration: time.Duration(merged.DurationNanos)}
	for _, s := range merged.Sample {
		var frames []string
		for _, loc := range s.Location {
			for _, line := range loc.Line { // inlined calls first, as pprof lists them
				if line.Function != nil {
					frames = append(frames, line.Function.Name)
				}
			}
		}
		out.AddSample(frames, time.Duration(s.Value[cpu]))
	}
	out.Sort()
	return out, nil
}

// reviewCount is how many admission reviews srv has answered (controller-runtime's count of
// webhook requests).
func reviewCount(ctx context.Context, srv *server) (int, error) {
	ss, err := getSamplesWith(ctx, http.DefaultClient, "http://"+srv.metrics+"/metrics", "controller_runtime_webhook_requests_total")
	if err != nil {
		return 0, err
	}
	return int(bench.SumSamples(ss, "controller_runtime_webhook_requests_total", nil)), nil
}

// fetchProfile writes one CPU profile from the pprof server at addr to path; the piece under way
// runs to its end when ctx is cancelled.
func fetchProfile(ctx context.Context, addr, path string) error {
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodGet,
		fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, profilePiece), nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", req.URL, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	return f.Close()
}
