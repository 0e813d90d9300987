package admission_test

import (
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// watchLag is how far behind the API server the webhook server's watches run (0: not at all);
// a test sets it for its duration with withWatchLag. The cache then trails the API server as it
// does under load, by a known time.
var watchLag atomic.Int64

// withWatchLag delays the server's watches by d until the returned function is called.
func withWatchLag(d time.Duration) (restore func()) {
	watchLag.Store(int64(d))
	return func() { watchLag.Store(0) }
}

// lagWatches wraps the server's transport to the API server: the body of a watch passes
// through a delay line that hands each chunk on watchLag after it arrived.
func lagWatches(rt http.RoundTripper) http.RoundTripper {
	return roundTripper(func(req *http.Request) (*http.Response, error) {
		resp, err := rt.RoundTrip(req)
		if err != nil || req.URL.Query().Get("watch") != "true" {
			return resp, err
		}
		resp.Body = newDelayLine(resp.Body)
		return resp, nil
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// delayLine reads its body ahead and returns each chunk no sooner than watchLag (read when the
// chunk arrived) after it arrived.
type delayLine struct {
	body   io.ReadCloser
	chunks chan chunk
	cur    []byte
	err    error // the body's, returned once cur is handed on
}

type chunk struct {
	data []byte
	due  time.Time
	err  error
}

func newDelayLine(body io.ReadCloser) *delayLine {
	d := &delayLine{body: body, chunks: make(chan chunk, 1024)}
	go func() {
		defer close(d.chunks)
		for {
			buf := make([]byte, 32<<10)
			n, err := body.Read(buf)
			d.chunks <- chunk{data: buf[:n], due: time.Now().Add(time.Duration(watchLag.Load())), err: err}
			if err != nil {
				return
			}
		}
	}()
	return d
}

func (d *delayLine) Read(p []byte) (int, error) {
	if len(d.cur) == 0 {
		if d.err != nil {
			return 0, d.err
		}
		c, ok := <-d.chunks
		if !ok {
			return 0, io.EOF
		}
		time.Sleep(time.Until(c.due))
		d.cur, d.err = c.data, c.err
		if len(d.cur) == 0 {
			return 0, d.err
		}
	}
	n := copy(p, d.cur)
	d.cur = d.cur[n:]
	return n, nil
}

// Close closes the body; the reader goroutine ends with its next read.
func (d *delayLine) Close() error {
	err := d.body.Close()
	go func() { // let the reader goroutine finish if it is blocked on a full channel
		for range d.chunks {
		}
	}()
	return err
}
