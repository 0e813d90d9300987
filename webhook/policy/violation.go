package policy

import (
	"cmp"
	"fmt"
	"slices"
)

// Violation is one reason why a config or a DaemonSet does not comply.
type Violation struct {
	// Source is "haproxy.cfg" for config text, or a field path such as
	// "spec.template.spec.hostNetwork" for a DaemonSet.
	Source string
	// Line is the 1-based line in the config; 0 for DaemonSet fields.
	Line int
	// Rule is the id of the check that failed.
	Rule RuleID
	// Message says what is wrong and what is wanted, starting in lower case.
	Message string
}

// String returns "haproxy.cfg:12: RULE-ID: message", or "SOURCE: RULE-ID: message" when Line is 0.
func (v Violation) String() string {
	if v.Line == 0 {
		return fmt.Sprintf("%s: %s: %s", v.Source, v.Rule, v.Message)
	}
	return fmt.Sprintf("%s:%d: %s: %s", v.Source, v.Line, v.Rule, v.Message)
}

// sortByLine orders vs by line, keeping the order of violations on one line.
func sortByLine(vs []Violation) {
	slices.SortStableFunc(vs, func(a, b Violation) int { return cmp.Compare(a.Line, b.Line) })
}

// lastByLine returns the index of the violation that sorts last by line (of those on the last
// line, the one added last); vs is not empty.
func lastByLine(vs []Violation) int {
	last := 0
	for i, v := range vs {
		if v.Line >= vs[last].Line {
			last = i
		}
	}
	return last
}

// DefaultMaxViolations is how many violations a denial and the validate command list by default.
const DefaultMaxViolations = 20

// First returns the first max violations of vs, in their order (every one when max <= 0), and
// how many it left out.
func First(vs []Violation, max int) (first []Violation, more int) {
	if max <= 0 || len(vs) <= max {
		return vs, 0
	}
	return vs[:max:max], len(vs) - max
}

// More is the line that ends a list cut by First or a ValidateConfigN call: "... and 3 more
// violations"; empty when more is 0.
func More(more int) string {
	switch {
	case more <= 0:
		return ""
	case more == 1:
		return "... and 1 more violation"
	}
	return fmt.Sprintf("... and %d more violations", more)
}
