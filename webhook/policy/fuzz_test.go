package policy_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/metrics-proxy/injector/webhook/policy"
)

// FuzzValidateConfig checks that ValidateConfig never panics, and that what it returns is
// well-formed: lines within the file, rule ids and messages present, messages in lower case,
// violations sorted by line, the same answer twice.
func FuzzValidateConfig(f *testing.F) {
	f.Add(readSeed(f))
	for _, tc := range acceptCases(f) {
		f.Add([]byte(tc.cfg))
	}
	for _, tc := range rejectCases {
		f.Add([]byte(tc.cfg))
	}
	for _, s := range []string{
		"", "\n", "frontend", "acl", "frontend f\n  acl a path /metrics\n  acl a method GET\n  http-request deny unless a or !a\n",
		"frontend f\n  http-request deny if ! ! { method GET } || !{ path /metrics } {\n",
		"backend b\n  server s [::1\n  server t [::1]x\n  server u :\n",
	} {
		f.Add([]byte(s))
	}
	methods := &policy.Policy{AllowedMethods: []string{"GET", "HEAD"}, AllowedPaths: []string{"/metrics", "/x"}}
	f.Fuzz(func(t *testing.T, src []byte) {
		lines := strings.Count(string(src), "\n") + 1
		for _, p := range []*policy.Policy{nil, methods} {
			vs := policy.ValidateConfig(src, p)
			again := policy.ValidateConfig(src, p)
			if len(vs) != len(again) {
				t.Fatalf("two runs differ: %d and %d violations", len(vs), len(again))
			}
			first, more := policy.ValidateConfigN(src, p, 3)
			if len(first) > 3 || len(first)+more < len(vs) || len(vs) >= 3 && len(first) != 3 {
				t.Fatalf("ValidateConfigN kept %d and counted %d more of %d", len(first), more, len(vs))
			}
			for i, v := range first {
				if v != vs[i] {
					t.Fatalf("ValidateConfigN's violation %d is %s, ValidateConfig's %s", i, v, vs[i])
				}
			}
			prev := 0
			for i, v := range vs {
				if v != again[i] {
					t.Fatalf("two runs differ: %s and %s", v, again[i])
				}
				if v.Line < 0 || v.Line > lines+1 || v.Line < prev {
					t.Fatalf("line %d out of range 0..%d or order: %s", v.Line, lines+1, v)
				}
				prev = v.Line
				if v.Rule == "" || v.Message == "" || v.Source != "haproxy.cfg" {
					t.Fatalf("incomplete violation %#v", v)
				}
				if r := []rune(v.Message)[0]; unicode.IsUpper(r) {
					t.Fatalf("message starts in upper case: %s", v)
				}
			}
		}
	})
}
