package policy

import (
	"fmt"
	"strings"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// acl is a named ACL of one proxy: HAProxy ORs the predicates of every definition of a name.
type acl struct {
	line      int // first definition
	preds     []predicate
	bad       string // why a definition is outside the grammar; empty when every one is in it
	redefined bool   // defined more than once
}

// redefinedError is parseCondition's error when the condition uses an ACL defined more than once.
type redefinedError struct{ msg string }

func (e *redefinedError) Error() string { return e.msg }

// aclDefinition checks "acl NAME path [-m str] PATH..." and "acl NAME method METHOD...".
func (v *validator) aclDefinition(sec *section, d haproxy.Directive) {
	if len(d.Args) < 2 {
		v.add(d.Line, RuleACLDefinition, "acl wants a name and a test")
		return
	}
	name := d.Args[0].Value
	var bad string
	switch {
	case !validACLName(name):
		bad = "its name has characters haproxy refuses"
	case predefinedMethods[name] != nil || predefinedOthers[name]:
		bad = "it shadows the predefined ACL of that name"
	case strings.EqualFold(name, "or"):
		bad = "its name is the keyword or"
	}
	p, err := parseExpr(d.Args[1:])
	if bad == "" && err != nil {
		bad = err.Error()
	}
	if bad != "" && !v.counted(d.Line) {
		v.add(d.Line, RuleACLDefinition, "acl %s: %s; only ACLs that test the exact path or the method are allowed", name, bad)
	}
	if a := sec.acls[name]; a != nil {
		v.add(d.Line, RuleACLRedefined, "acl %s is already defined at line %d; haproxy ORs the definitions, so it matches more than either line says", name, a.line)
		if !a.redefined {
			a.redefined = true
			a.bad = fmt.Sprintf("is defined again at line %d, and haproxy ORs the definitions", d.Line)
		}
		return
	}
	if sec.acls == nil {
		sec.acls = map[string]*acl{}
	}
	a := &acl{line: d.Line, bad: bad}
	if bad == "" {
		a.preds = []predicate{p}
	}
	sec.acls[name] = a
}

// validACLName mirrors HAProxy's invalid_char(), like validName.
func validACLName(name string) bool { return validName(name) }
