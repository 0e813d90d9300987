package bench

import _ "embed" // the admission policies below

// MutatingAdmissionPolicyYAML is the native alternative the end-to-end benchmark compares our
// webhook with: a MutatingAdmissionPolicy and its two bindings that inject a DaemonSet stub the
// way the webhook does (see the file's comments for what it does not do).
//
//go:embed mutating-admission-policy.yaml
var MutatingAdmissionPolicyYAML []byte

// MutatingAdmissionPolicyVersion is the version the policy writes into the status annotation.
const MutatingAdmissionPolicyVersion = "mutating-admission-policy"

// ValidatingAdmissionPolicyYAML is the native alternative to our validating webhook for
// DaemonSets: a ValidatingAdmissionPolicy and its two bindings (see the file's comments for what
// CEL cannot check).
//
//go:embed validating-admission-policy.yaml
var ValidatingAdmissionPolicyYAML []byte
