package policy

import (
	"fmt"

	kjson "sigs.k8s.io/json"

	"github.com/metrics-proxy/injector/webhook/names"
)

// Bounds on what a proxy needs. Anything beyond them is refused before it costs memory: the
// webhook reviews objects any tenant may submit.
const (
	// MaxContainers is the most containers and init containers, together, a proxy pod may have.
	MaxContainers = 32
	// MaxConfigBytes is the largest haproxy.cfg the validator parses (the seed's is 1.5 KiB).
	MaxConfigBytes = 64 << 10
	// MaxNesting is the deepest nesting of JSON objects and arrays an object may have (a
	// DaemonSet with its managedFields needs about 20).
	MaxNesting = 64
	// MaxDaemonSetBytes is the largest DaemonSet, as JSON, a proxy may be (an injected one is
	// about 5 KiB).
	MaxDaemonSetBytes = 512 << 10
)

// CheckNesting returns a RuleObjectSize violation when the JSON text nests objects and arrays
// deeper than MaxNesting. It scans the bytes once and allocates nothing, so it can run before
// any decoding; it does not validate the JSON otherwise.
func CheckNesting(raw []byte) *Violation {
	depth, inString, escaped := 0, false, false
	for _, c := range raw {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			if depth++; depth > MaxNesting {
				return &Violation{Source: "object", Rule: RuleObjectSize, Message: fmt.Sprintf(
					"the object nests deeper than %d levels; no proxy needs that", MaxNesting)}
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return nil
}

// podShape is the part of a DaemonSet CheckDaemonSetJSON decodes: the containers, counted
// without decoding them.
type podShape struct {
	Spec struct {
		Template struct {
			Spec struct {
				Containers     []struct{} `json:"containers"`
				InitContainers []struct{} `json:"initContainers"`
			} `json:"spec"`
		} `json:"template"`
	} `json:"spec"`
}

// CheckDaemonSetJSON returns a RuleObjectSize violation for a DaemonSet, as JSON, that no proxy
// needs: larger than MaxDaemonSetBytes, nesting deeper than MaxNesting, more than MaxContainers
// containers and init containers.
// It runs before the DaemonSet is decoded, and costs a scan of the bytes; JSON it cannot read is
// left to the decoder that follows (no violation).
func CheckDaemonSetJSON(raw []byte) *Violation {
	if len(raw) > MaxDaemonSetBytes {
		return &Violation{Source: "object", Rule: RuleObjectSize, Message: fmt.Sprintf(
			"the DaemonSet is %d bytes as JSON; a proxy is a few KiB, at most %d", len(raw), MaxDaemonSetBytes)}
	}
	if v := CheckNesting(raw); v != nil {
		return v
	}
	var shape podShape // case-sensitive like the decoder that follows: "Containers" cannot hide a count
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &shape); err != nil {
		return nil
	}
	spec := shape.Spec.Template.Spec
	if n := len(spec.Containers) + len(spec.InitContainers); n > MaxContainers {
		return &Violation{Source: podSpecPath, Rule: RuleObjectSize, Message: fmt.Sprintf(
			"the pod has %d containers and init containers; a proxy runs %s and at most %d in all", n, names.ContainerName, MaxContainers)}
	}
	return nil
}
