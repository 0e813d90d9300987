package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/policy"
)

// hostileCase is a config of at least 1 MiB crafted to make validation slow or its answer big.
type hostileCase struct {
	name string
	cfg  func(size int) []byte
}

// repeatTo returns head, then line repeated until the text holds at least size bytes.
func repeatTo(size int, head, line string) []byte {
	var b strings.Builder
	b.Grow(size + len(line))
	b.WriteString(head)
	for b.Len() < size {
		b.WriteString(line)
	}
	return []byte(b.String())
}

// hostileCases: every line violates a rule, with the longest messages the validator writes,
// the most words per line, the most sections, the most syntax errors.
var hostileCases = []hostileCase{
	{"unknown-keywords", func(n int) []byte { return repeatTo(n, "frontend f\n", "  x\n") }},
	{"syntax-errors", func(n int) []byte { return repeatTo(n, "", "\"\n") }},
	{"outside-section", func(n int) []byte { return repeatTo(n, "", "x\n") }},
	{"many-words", func(n int) []byte {
		return repeatTo(n, "frontend f\n", "  x"+strings.Repeat(" x", 62)+"\n")
	}},
	{"sections", func(n int) []byte { return repeatTo(n, "", "frontend f\n") }},
	{"expansions", func(n int) []byte {
		return repeatTo(n, "frontend f\n", "  log \"${X[*]-a b c}\"\n")
	}},
	{"acls", func(n int) []byte {
		var b strings.Builder
		b.WriteString("frontend f\n")
		for i := 0; b.Len() < n; i++ {
			fmt.Fprintf(&b, "  acl a%d path_beg /x\n", i) // a violation, and an ACL to keep

		}
		return []byte(b.String())
	}},
}

// TestHostileConfigs: every hostile case breaks rules throughout (so the benchmark measures a
// hostile input, not an early exit), and ValidateConfigN keeps exactly the first violations of
// ValidateConfig's list and counts the others.
func TestHostileConfigs(t *testing.T) {
	for _, hc := range hostileCases {
		t.Run(hc.name, func(t *testing.T) {
			src := hc.cfg(64 << 10)
			all := policy.ValidateConfig(src, nil)
			first, more := policy.ValidateConfigN(src, nil, policy.DefaultMaxViolations)
			require.Len(t, first, policy.DefaultMaxViolations)
			assert.Equal(t, all[:policy.DefaultMaxViolations], first)
			assert.GreaterOrEqual(t, len(first)+more, len(all), "ValidateConfig lists at most haproxy.MaxErrors syntax errors")
			assert.Greater(t, len(first)+more, len(src)/150, "a violation every 150 bytes at least")
		})
	}
}
