package controller_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/controller"
	"github.com/metrics-proxy/injector/webhook/names"
)

// TestDocsListEveryEventReason: docs/day-two.md has a table row for every Event reason the
// controllers record and for both annotations they write, and the README names them.
func TestDocsListEveryEventReason(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(testtool.RepoRoot(), "docs", "day-two.md"))
	require.NoError(t, err)
	readme, err := os.ReadFile(filepath.Join(testtool.RepoRoot(), "README.md"))
	require.NoError(t, err)
	for _, r := range controller.EventReasons() {
		assert.Contains(t, string(doc), "| `"+r+"` |", "docs/day-two.md lists the Event reason %s", r)
	}
	for _, a := range []string{names.ConfigHashAnnotation, names.AuditAnnotation} {
		assert.Contains(t, string(doc), "`"+a+"`", "docs/day-two.md documents %s", a)
		assert.Contains(t, string(readme), "`"+a+"`", "the README names %s", a)
	}
	assert.True(t, strings.Contains(string(readme), "## Day two"), "the README has a Day two section")
}
