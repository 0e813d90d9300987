package seed

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// maxBody bounds how much of a response body is read.
const maxBody = 4 << 20

// plainClient talks plain HTTP to loopback addresses only, never through a proxy.
var plainClient = &http.Client{
	Timeout:   5 * time.Second,
	Transport: &http.Transport{Proxy: nil, DialContext: loopbackDial, DisableKeepAlives: true},
}

// localIPs are the node addresses UseNodeIPs added: local addresses of the scenario's own
// network namespace, as private as loopback.
var localIPs = map[string]bool{}

// loopbackDial dials only loopback addresses (and localIPs): the scenario sends nothing off this
// machine.
func loopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() && !localIPs[host] {
		return nil, fmt.Errorf("dial %s: the scenario talks to loopback addresses only", addr)
	}
	return (&net.Dialer{Timeout: 2 * time.Second}).DialContext(ctx, network, addr)
}

// get sends GET url with "Authorization: Bearer token" (none when token is empty) and returns
// the status and the body.
func get(ctx context.Context, c *http.Client, url, token string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", fmt.Errorf("GET %s: %w", url, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", fmt.Errorf("GET %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, string(body), fmt.Errorf("GET %s: read body: %w", url, err)
	}
	return resp.StatusCode, string(body), nil
}

// waitListening waits until every addr accepts TCP connections, at most timeout each, and fails
// early when p, which should listen there, exits.
func waitListening(ctx context.Context, p *process, timeout time.Duration, addrs ...string) error {
	for _, addr := range addrs {
		err := p.waitFor(ctx, p.name+" listening on "+addr, timeout, func(ctx context.Context) error {
			c, err := loopbackDial(ctx, "tcp", addr)
			if err == nil {
				_ = c.Close()
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}
