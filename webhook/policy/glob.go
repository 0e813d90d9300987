package policy

import (
	"fmt"
	"strings"
)

// checkGlob reports why pattern is not a valid image pattern: it must be non-empty, without
// blanks or control characters, and without the reserved characters '[', ']' and '\'.
func checkGlob(pattern string) error {
	if pattern == "" {
		return fmt.Errorf("empty pattern")
	}
	for _, r := range pattern {
		switch {
		case r <= ' ' || r == 0x7f:
			return fmt.Errorf("pattern %q has a blank or control character", pattern)
		case r == '[' || r == ']' || r == '\\':
			return fmt.Errorf("pattern %q uses %q: only '*' and '?' are special", pattern, r)
		}
	}
	return nil
}

// globMatch reports whether s matches pattern as a whole: '*' matches any run of bytes, '?' any
// one byte, every other byte itself. It runs in O(len(pattern)*len(s)) at worst, without
// recursion.
func globMatch(pattern, s string) bool {
	if !strings.ContainsAny(pattern, "*?") {
		return pattern == s
	}
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && (pattern[p] == '?' || pattern[p] == s[i]) && pattern[p] != '*':
			p++
			i++
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
