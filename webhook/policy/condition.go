package policy

import (
	"fmt"
	"strings"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// predicate is an ACL expression the grammar allows: an exact match of the path or of the method
// against a list of values (any value matches).
type predicate struct {
	fetch  string // "path" or "method"
	values []string
}

func (p predicate) match(path, method string) bool {
	subject := path
	if p.fetch == "method" {
		subject = method
	}
	for _, v := range p.values {
		if v == subject {
			return true
		}
	}
	return false
}

// term is one test of a condition, possibly negated: an anonymous ACL or a named one.
type term struct {
	neg   bool
	name  string // the ACL's name; empty for an anonymous ACL
	preds []predicate
	form  bool // a predefined ACL on the request's form (HTTP_URL_ABS, HTTP_1.0, ...): no preds
}

func (t term) holds(path, method string) bool {
	m := false
	for _, p := range t.preds {
		if p.match(path, method) {
			m = true
			break
		}
	}
	return m != t.neg
}

// condition is "if" or "unless" and terms ANDed within suites, the suites ORed.
type condition struct {
	unless bool
	suites [][]term
	cost   int  // an upper bound of the comparisons fires makes
	form   bool // a term tests the request's form: fires cannot tell, the method check skips it
}

// fires reports whether the rule applies to a request for path with method.
func (c *condition) fires(path, method string) bool {
	if c == nil {
		return true // an unconditional rule
	}
	matched := false
	for _, suite := range c.suites {
		all := true
		for _, t := range suite {
			if !t.holds(path, method) {
				all = false
				break
			}
		}
		if all {
			matched = true
			break
		}
	}
	return matched != c.unless
}

// predefinedMethods are HAProxy's predefined method ACLs; METH_GET matches HEAD too.
var predefinedMethods = map[string][]string{
	"METH_CONNECT": {"CONNECT"}, "METH_DELETE": {"DELETE"}, "METH_GET": {"GET", "HEAD"},
	"METH_HEAD": {"HEAD"}, "METH_OPTIONS": {"OPTIONS"}, "METH_POST": {"POST"}, "METH_PUT": {"PUT"},
	"METH_TRACE": {"TRACE"},
}

// requestForms are the predefined ACLs on the request's form that deny rules after the path deny
// may test: they only ever deny more. "http-request deny if HTTP_URL_ABS !HTTP_2.0" refuses
// absolute-form HTTP/1 requests, whose path HAProxy 2.6 and the upstream read differently
// (GET http://h?/metrics: HAProxy's path is /metrics, the upstream's is empty). HTTP/2 requests
// are absolute inside HAProxy and reach the upstream in origin form: hence !HTTP_2.0.
var requestForms = map[string]bool{"HTTP_URL_ABS": true, "HTTP_1.0": true, "HTTP_1.1": true, "HTTP_2.0": true}

// predefinedOthers are HAProxy 2.6's other predefined ACLs, which the grammar does not allow.
var predefinedOthers = map[string]bool{
	"TRUE": true, "FALSE": true, "LOCALHOST": true, "HTTP": true, "HTTP_1.0": true, "HTTP_1.1": true,
	"HTTP_2.0": true, "HTTP_3.0": true, "HTTP_URL_ABS": true, "HTTP_URL_SLASH": true, "HTTP_URL_STAR": true,
	"HTTP_CONTENT": true, "RDP_COOKIE": true, "REQ_CONTENT": true, "WAIT_END": true,
}

// fetchReasons explain why well-known fetches are not exact path tests.
var fetchReasons = map[string]string{
	"path_beg": "matches every path that starts with the value (/metricsX, /metrics/../configz)",
	"path_end": "matches every path that ends with the value (/debug/metrics)",
	"path_sub": "matches every path that contains the value",
	"path_reg": "matches by regular expression",
	"path_dir": "matches every path with the value as a segment (/metrics/../configz)",
	"path_dom": "matches every path with the value as a domain-like part",
	"path_len": "tests the length of the path, not the path",
	"pathq":    "includes the query string",
	"url":      "tests the whole URL, which absolute-form requests change",
	"url_beg":  "matches every URL that starts with the value",
	"base":     "includes the Host header, which the client chooses",
}

// fetchReasonErrors are the errors of fetchReasons' fetches written without argument.
var fetchReasonErrors = func() map[string]error {
	out := map[string]error{}
	for name, why := range fetchReasons {
		out[name] = fmt.Errorf("%s %s; only an exact path test is allowed", name, why)
	}
	return out
}()

// parseExpr reads an ACL expression: "path [-m str] VALUE..." or "method VALUE...".
func parseExpr(words []haproxy.Word) (predicate, error) {
	if len(words) == 0 {
		return predicate{}, fmt.Errorf("empty ACL expression")
	}
	fetch := words[0].Value
	if fetch != "path" && fetch != "method" {
		return predicate{}, fetchError(fetch)
	}
	i := 1
	for i < len(words) && strings.HasPrefix(words[i].Value, "-") {
		flag := words[i].Value
		switch {
		case flag == "-m" && fetch == "path" && i+1 < len(words) && words[i+1].Value == "str":
			i += 2
			continue
		case flag == "-m" && i+1 < len(words):
			return predicate{}, fmt.Errorf("%s -m %s is not an exact match; only path -m str is", fetch, words[i+1].Value)
		case flag == "-i":
			return predicate{}, fmt.Errorf("-i makes the match ignore case (/METRICS)")
		case flag == "-f":
			return predicate{}, fmt.Errorf("-f loads patterns from a file the validator cannot see")
		}
		return predicate{}, fmt.Errorf("flag %s is not allowed; only path -m str", flag)
	}
	if i == len(words) {
		return predicate{}, fmt.Errorf("%s without a value", fetch)
	}
	p := predicate{fetch: fetch, values: make([]string, 0, len(words)-i)}
	for _, w := range words[i:] {
		if fetch == "method" && !isToken(w.Value) {
			return predicate{}, fmt.Errorf("method %q is not an HTTP method token", w.Value)
		}
		p.values = append(p.values, w.Value)
	}
	return p, nil
}

// fetchError explains why fetch is not allowed.
func fetchError(fetch string) error {
	name, conv, hasConv := strings.Cut(fetch, ",")
	if i := strings.IndexByte(name, '('); i >= 0 {
		name = name[:i]
	}
	switch {
	case hasConv && (name == "path" || name == "method"):
		return fmt.Errorf("converter ,%s changes the %s before the test; test the %s as is", conv, name, name)
	case fetchReasons[name] != "" && fetch == name:
		return fetchReasonErrors[name] // written once: a hostile config repeats them
	case fetchReasons[name] != "":
		return fmt.Errorf("%s %s; only an exact path test is allowed", fetch, fetchReasons[name])
	case name == "path" || name == "method":
		return fmt.Errorf("%s: the fetch takes no argument", fetch)
	}
	return fmt.Errorf("%s is not an exact path or method test", fetch)
}

// parseCondition reads the words after "if" or "unless" the way HAProxy's parse_acl_cond does:
// leading '!' toggle negation, "or" (any case) and "||" start an alternative, "{ ... }" is an
// anonymous ACL, any other word a named ACL, looked up in acls (defined above) and then among the
// predefined METH_* ACLs.
func parseCondition(unless bool, words []haproxy.Word, acls map[string]*acl) (*condition, error) {
	c := &condition{unless: unless, suites: [][]term{nil}}
	if len(words) == 0 {
		return nil, fmt.Errorf("missing condition after %s", map[bool]string{true: "unless", false: "if"}[unless])
	}
	neg := false
	for i := 0; i < len(words); i++ {
		w := words[i].Value
		for strings.HasPrefix(w, "!") {
			neg = !neg
			w = w[1:]
		}
		if w == "" {
			continue
		}
		last := len(c.suites) - 1
		if strings.EqualFold(w, "or") || w == "||" {
			if neg || len(c.suites[last]) == 0 {
				return nil, fmt.Errorf("%s needs a test on each side", words[i].Raw)
			}
			c.suites = append(c.suites, nil)
			continue
		}
		t := term{neg: neg}
		neg = false
		switch {
		case w == "{":
			end := i + 1
			for end < len(words) && words[end].Value != "}" {
				end++
			}
			if end == len(words) {
				return nil, fmt.Errorf("missing closing '}'")
			}
			p, err := parseExpr(words[i+1 : end])
			if err != nil {
				return nil, err
			}
			t.preds = []predicate{p}
			i = end
		case acls[w] != nil:
			a := acls[w]
			if a.redefined {
				return nil, &redefinedError{fmt.Sprintf("acl %s (line %d) %s", w, a.line, a.bad)}
			}
			if a.bad != "" {
				return nil, fmt.Errorf("acl %s (line %d): %s", w, a.line, a.bad)
			}
			t.name, t.preds = w, a.preds
		case predefinedMethods[w] != nil:
			t.name, t.preds = w, []predicate{{fetch: "method", values: predefinedMethods[w]}}
		case requestForms[w]:
			t.name, t.form, c.form = w, true, true
		case predefinedOthers[w]:
			return nil, fmt.Errorf("predefined acl %s is not a path or method test; of the predefined ACLs only METH_*, HTTP_URL_ABS and HTTP_1.0, HTTP_1.1, HTTP_2.0 are allowed", w)
		default:
			return nil, fmt.Errorf("acl %s is not defined above this line (haproxy refuses it)", w)
		}
		c.suites[last] = append(c.suites[last], t)
		c.cost++
		for _, p := range t.preds {
			c.cost += len(p.values)
		}
	}
	if neg {
		return nil, fmt.Errorf("'!' negates nothing at the end of the condition")
	}
	if len(c.suites[len(c.suites)-1]) == 0 {
		return nil, fmt.Errorf("the condition ends without a test")
	}
	return c, nil
}

// eachMethod calls f with every method value the condition names.
func (c *condition) eachMethod(f func(string)) {
	if c == nil {
		return
	}
	for _, s := range c.suites {
		for _, t := range s {
			for _, p := range t.preds {
				if p.fetch == "method" {
					for _, m := range p.values {
						f(m)
					}
				}
			}
		}
	}
}
