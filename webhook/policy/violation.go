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
