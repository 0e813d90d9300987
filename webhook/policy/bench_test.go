package policy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/webhook/components"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// compliantConfig returns a compliant config of at least size bytes: the four components,
// each frontend and backend padded with harmless settings, comments, ACLs and method denies.
func compliantConfig(size int) []byte {
	var b strings.Builder
	b.WriteString("global\n  log stdout format raw local0\n  maxconn 4096\n" + head)
	cs := components.All()
	per := size / len(cs)
	for _, c := range cs {
		start := b.Len()
		fmt.Fprintf(&b, "frontend %[1]s\n  bind \"${NODE_IP}\":%[2]d\n  acl ok path -m str /metrics\n  http-request deny unless ok\n  default_backend %[1]s\n", c.Name, c.Port)
		for i := 0; b.Len()-start < per; i++ {
			fmt.Fprintf(&b, "  # padding %d\n  acl m%d method GET HEAD\n  http-request deny unless m%d METH_GET or { path /other } !METH_POST\n  timeout client %ds\n  option httplog\n", i, i, i, i%60+1)
		}
		fmt.Fprintf(&b, "backend %[1]s\n  server %[1]s 127.0.0.1:%[2]d check inter 2s\n", c.Name, c.Port)
	}
	return []byte(b.String())
}

// violatingConfig returns a config of at least size bytes that breaks rules on most lines.
func violatingConfig(size int) []byte {
	var b strings.Builder
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "frontend f%[1]d\n  bind *:%[2]d\n  http-request allow\n  http-request deny if !{ path_beg /metrics }\n"+
			"  http-request set-path /configz\n  stats uri /\n  use_backend %%[req.hdr(host)]\nbackend b%[1]d\n  server s 10.0.0.1:%[2]d sni str(x)\n", i, 10000+i%50000)
	}
	return []byte(b.String())
}

func TestBenchConfigs(t *testing.T) {
	require.Empty(t, policy.ValidateConfig(compliantConfig(64<<10), nil))
	require.Empty(t, policy.ValidateConfig(compliantConfig(64<<10), &policy.Policy{AllowedMethods: []string{"GET", "HEAD"}}))
	require.NotEmpty(t, policy.ValidateConfig(violatingConfig(4<<10), nil))
}

func BenchmarkValidateConfig1MiB(b *testing.B) {
	src := compliantConfig(1 << 20)
	p := &policy.Policy{AllowedMethods: []string{"GET", "HEAD"}}
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if vs := policy.ValidateConfig(src, p); len(vs) != 0 {
			b.Fatal(vs[0])
		}
	}
}

func BenchmarkValidateConfig1MiBViolations(b *testing.B) {
	src := violatingConfig(1 << 20)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		policy.ValidateConfig(src, nil)
	}
}

func BenchmarkValidateSeed(b *testing.B) {
	src := readSeed(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if vs := policy.ValidateConfig(src, nil); len(vs) != 0 {
			b.Fatal(vs[0])
		}
	}
}

// BenchmarkValidateHostile1MiB validates 1 MiB configs crafted against the validator the way
// the webhook and the CLI do, keeping the first policy.DefaultMaxViolations; the compliant 1 MiB
// config is the baseline e2e/bench compares them with.
func BenchmarkValidateHostile1MiB(b *testing.B) {
	cases := append([]hostileCase{{"compliant", compliantConfig}}, hostileCases...)
	for _, hc := range cases {
		src := hc.cfg(1 << 20)
		b.Run(hc.name, func(b *testing.B) {
			b.SetBytes(int64(len(src)))
			b.ReportAllocs()
			for b.Loop() {
				policy.ValidateConfigN(src, nil, policy.DefaultMaxViolations)
			}
		})
	}
}
