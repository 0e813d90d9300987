package dataplane

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// RequestTimeout bounds a whole raw exchange: connect, write, and read until the server closes.
var RequestTimeout = 3 * time.Second

// maxResponse bounds what Send reads.
const maxResponse = 1 << 20

// Response is a parsed HTTP response read from the wire.
type Response struct {
	// Status is the status code.
	Status int
	// Header holds the response headers.
	Header http.Header
	// Body is the decoded body.
	Body string
}

// Raw returns an HTTP/1.1 request exactly as written: request line "METHOD TARGET HTTP/1.1",
// Host: host, every header line given ("Name: value"), Connection: close, and no body. The
// target is not cleaned or encoded, so "//metrics", "/metrics/../configz" and absolute-form
// targets reach the server as they are.
func Raw(method, target, host string, headers ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, target, host)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Connection: close\r\n\r\n")
	return b.String()
}

// Send writes the request text raw to the TCP address addr (host:port, which must be a loopback
// address) and reads the response until the server closes the connection, within
// RequestTimeout. A connection refused or reset, a timeout or an unparsable response is an error.
func Send(addr, raw string) (*Response, error) {
	return send(addr, raw, dialer(nil))
}

// send is Send over the connections dial makes.
func send(addr, raw string, dial func(string) (net.Conn, error)) (*Response, error) {
	data, err := talk(addr, raw, dial)
	if err != nil {
		return nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(data)), nil)
	if err != nil {
		return nil, fmt.Errorf("response from %s: %w: %q", addr, err, truncate(data, 200))
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil && len(body) == 0 {
		return nil, fmt.Errorf("response body from %s: %w", addr, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: string(body)}, nil
}

// Talk writes text to the TCP address addr (loopback only) and returns what the server sends
// until it closes the connection, at most 1 MiB, within RequestTimeout: an HTTP exchange with
// "Connection: close", or one command of HAProxy's runtime API. Receiving nothing is an error.
func Talk(addr, text string) (string, error) {
	return talk(addr, text, dialer(nil))
}

// talk is Talk over the connection dial makes.
func talk(addr, text string, dial func(string) (net.Conn, error)) (string, error) {
	if err := checkLoopback(addr); err != nil {
		return "", err
	}
	deadline := time.Now().Add(RequestTimeout)
	conn, err := dial(addr)
	if err != nil {
		return "", err
	}
	defer func() { _ = conn.Close() }()
	if err := conn.SetDeadline(deadline); err != nil {
		return "", err
	}
	if _, err := io.WriteString(conn, text); err != nil {
		return "", fmt.Errorf("write to %s: %w", addr, err)
	}
	data, err := io.ReadAll(io.LimitReader(conn, maxResponse))
	if len(data) == 0 {
		if err == nil {
			err = errors.New("connection closed without an answer")
		}
		return "", fmt.Errorf("read from %s: %w", addr, err)
	}
	return string(data), nil
}

// checkLoopback refuses an address outside 127.0.0.0/8 and ::1: tests send traffic to loopback
// only.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s: test traffic goes to loopback addresses only", addr)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
