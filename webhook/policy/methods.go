package policy

import (
	"slices"
	"strings"
)

// methods checks that, when the policy lists allowed methods, the frontend's deny rules stop every
// other method on every path the path deny lets through.
func (v *validator) methods(sec *section) {
	allowed := v.p.methods()
	if len(allowed) == 0 || sec.pathDeny == nil {
		return
	}
	const other = "\x00other"
	seen := map[string]bool{}
	for _, m := range allowed {
		seen[m] = true
	}
	// A method no condition names behaves like any other: checking the named ones and one
	// stand-in for the rest covers every method.
	var universe []string
	for _, c := range sec.denies {
		c.eachMethod(func(m string) {
			if !seen[m] {
				seen[m] = true
				universe = append(universe, m)
			}
		})
	}
	universe = append(universe, other)
	paths := slices.Compact(slices.Sorted(slices.Values(sec.pathDeny.suites[0][0].preds[0].values)))
	var leaks []string
	for _, m := range universe {
		for _, p := range paths {
			denied, ok := v.denied(sec, p, m)
			if !ok {
				v.add(sec.s.Line, RuleMethodDeny, "the deny rules of %s are too complex to check against the allowed methods %s; use a single %q", sec.what(), strings.Join(allowed, ", "), wantMethods(allowed))
				return
			}
			if !denied {
				leaks = append(leaks, m)
				break
			}
		}
	}
	if len(leaks) == 0 {
		return
	}
	for i, m := range leaks {
		if m == other {
			leaks[i] = "any other method"
		}
	}
	v.add(sec.s.Line, RuleMethodDeny, "%s lets %s through, and the policy allows only %s; add %q", sec.what(), strings.Join(leaks, ", "), strings.Join(allowed, ", "), wantMethods(allowed))
}

// methodBudget bounds the comparisons the method check makes for one config, so that a
// config crafted to be slow to check is refused instead.
const methodBudget = 1 << 22

// denied reports whether a deny rule of sec stops a request for path with method; ok is false
// when the config's budget of comparisons is spent.
func (v *validator) denied(sec *section, path, method string) (denied, ok bool) {
	for _, c := range sec.denies {
		if c != nil && c.form {
			continue // it fires for some requests only, whatever their path and method
		}
		if c != nil {
			v.spent += c.cost
		}
		if v.spent > methodBudget {
			return false, false
		}
		if c.fires(path, method) {
			return true, true
		}
	}
	return false, true
}

// wantMethods is the method deny the messages suggest.
func wantMethods(allowed []string) string {
	s := slices.Sorted(slices.Values(allowed))
	if slices.Equal(slices.Compact(s), []string{"GET", "HEAD"}) {
		return "http-request deny unless METH_GET"
	}
	return "http-request deny unless { method " + strings.Join(allowed, " ") + " }"
}
