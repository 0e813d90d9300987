package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, version, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes, shared by every subcommand.
const (
	exitOK       = 0
	exitRejected = 1 // the input asks for something invalid (a denial, a violation)
	exitUsage    = 2 // bad flags, unreadable files, malformed YAML
)

// exitError carries an exit code other than exitUsage.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// run executes one command line as metrics-proxy of the given version and returns its exit code;
// main and the tests both call it.
func run(ctx context.Context, version string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmd := newRootCommand(version, stdin, stdout, stderr)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	fmt.Fprintf(stderr, "metrics-proxy: %v\n", err)
	if ee := (*exitError)(nil); errors.As(err, &ee) {
		return ee.code
	}
	return exitUsage
}
