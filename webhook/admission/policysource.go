package admission

import "github.com/metrics-proxy/injector/webhook/policy"

// PolicySource hands the validating handlers the policy in force.
type PolicySource interface {
	// Policy returns the current policy; never nil.
	Policy() *policy.Policy
}

// StaticPolicy is a PolicySource that never changes.
type StaticPolicy struct{ P *policy.Policy }

// Policy implements PolicySource.
func (s StaticPolicy) Policy() *policy.Policy { return s.P }
