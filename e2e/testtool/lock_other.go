//go:build !linux

package testtool

import (
	"context"
	"time"
)

// MachineLock is a no-op where the heavy end-to-end tests do not run (they need Linux).
func MachineLock(context.Context, time.Duration) (unlock func(), err error) { return func() {}, nil }
