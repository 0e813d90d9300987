package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestValidateMaxViolations: a config breaking a rule on each of its 1 MiB of lines gives
// --max-violations lines (20 by default) and one that says how many more there are, in text and
// JSON; 0 lists them all.
func TestValidateMaxViolations(t *testing.T) {
	const lines = 262000
	path := filepath.Join(t.TempDir(), "hostile.cfg")
	require.NoError(t, os.WriteFile(path, []byte("frontend f\n"+strings.Repeat("  x\n", lines)), 0o600))
	validate := func(args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), goldenVersion, append([]string{"validate"}, args...), strings.NewReader(""), &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	// Every "  x" line is an unknown keyword; the frontend has no bind, no path deny, no mode.
	const total = lines + 3

	code, out, errOut := validate(path)
	assert.Equal(t, exitRejected, code)
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	require.Len(t, got, 21, "20 violations and the count of the others")
	for i, want := range []string{"hostile.cfg:1: ", "hostile.cfg:1: ", "hostile.cfg:1: ", "hostile.cfg:2: unknown-keyword: "} {
		assert.Contains(t, got[i], want)
	}
	assert.Equal(t, "... and 261983 more violations (--max-violations 0 lists all)", got[20])
	assert.Contains(t, errOut, "262003 policy violations")

	code, out, _ = validate("--max-violations", "3", "-o", "json", path)
	assert.Equal(t, exitRejected, code)
	var findings []finding
	require.NoError(t, json.Unmarshal([]byte(out), &findings))
	assert.Len(t, findings, 3)

	code, out, _ = validate("--max-violations", "0", path)
	assert.Equal(t, exitRejected, code)
	assert.Equal(t, total, strings.Count(out, "\n"))

	code, _, errOut = validate("--max-violations", "-1", path)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--max-violations -1")
}
