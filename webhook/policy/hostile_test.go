package policy_test

import (
	"fmt"
	"strings"
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
			fmt.Fprintf(&b, "  acl a%d path /x\n", i)
		}
		return []byte(b.String())
	}},
}
