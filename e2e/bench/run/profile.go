package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
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
// returned function is called; it waits for the piece under way. With dir empty it does nothing.
func profileServe(ctx context.Context, dir string, srv *server) func() {
	if dir == "" || srv.pprof == "" {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= 60 && ctx.Err() == nil; i++ {
			if err := fetchProfile(ctx, srv.pprof, filepath.Join(dir, fmt.Sprintf("serve-%d.pprof", i))); err != nil {
				fmt.Fprintf(os.Stderr, "bench: profile of serve: %v\n", err)
				return
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
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
