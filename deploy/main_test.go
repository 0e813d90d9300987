package deploy_test

import (
	"log/slog"
	"os"
	"strconv"
	"testing"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
)

// TestMain sends the logs of the servers and controllers the tests run (ours, cert-manager's CA
// injector) to stderr from warnings up; TEST_LOG_LEVEL=-4 shows everything.
func TestMain(m *testing.M) {
	level := slog.LevelWarn
	if v, err := strconv.Atoi(os.Getenv("TEST_LOG_LEVEL")); err == nil {
		level = slog.Level(v)
	}
	ctrl.SetLogger(logr.FromSlogHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	os.Exit(m.Run())
}
