package policy

// ValidateConfigWithout is ValidateConfig with the checks of the given rules switched off:
// the corpus test shows with it that an attack passes every other check.
func ValidateConfigWithout(cfg []byte, p *Policy, off ...RuleID) []Violation {
	skip := map[RuleID]bool{}
	for _, r := range off {
		skip[r] = true
	}
	vs, _ := validateConfig(cfg, p, 0, skip)
	return vs
}
