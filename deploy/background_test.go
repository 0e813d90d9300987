package deploy_test

import (
	"context"
	"errors"
	"testing"
	"time"
)

// stopTimeout bounds how long a background runnable may take to return once cancelled.
const stopTimeout = 30 * time.Second

// runInBackground runs start (a manager, a certificate source) until the test ends, then cancels
// it and waits for it to return, at most stopTimeout; an error other than cancellation fails
// the test.
func runInBackground(t *testing.T, what string, start func(context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- start(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("%s: %v", what, err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("%s did not stop within %s", what, stopTimeout)
		}
	})
}
