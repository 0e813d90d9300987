package harness

import (
	"bytes"
	"strings"
	"sync"
)

// TailBuffer keeps the last Size bytes written to it (16 KiB when Size is 0): a process's output,
// shown when it fails. It is safe for concurrent writers and readers.
type TailBuffer struct {
	// Size is how many bytes are kept; 0 means 16 KiB.
	Size int

	mu sync.Mutex
	b  bytes.Buffer
}

// Write implements io.Writer, dropping what falls out of the tail.
func (t *TailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b.Write(p)
	size := t.Size
	if size <= 0 {
		size = 16 << 10
	}
	if extra := t.b.Len() - size; extra > 0 {
		t.b.Next(extra)
	}
	return len(p), nil
}

// String returns the tail without trailing line feeds.
func (t *TailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimRight(t.b.String(), "\n")
}
