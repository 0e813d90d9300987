package haproxy_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// bigConfig returns a realistic configuration of at least size bytes: a global and a defaults
// section, then frontend and backend pairs with comments, quoting, escapes and variables.
func bigConfig(size int) []byte {
	var b strings.Builder
	b.WriteString("global\n  log stdout format raw local0\n  maxconn 4096\n\n" +
		"defaults\n  mode http\n  timeout connect 5000ms\n  timeout client 5000ms\n  timeout server 5000ms\n" +
		"  default-server maxconn 10\n\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "# component %d\n"+
			"frontend fe-%[1]d from base\n"+
			"  bind \"${NODE_IP}\":%[2]d\n"+
			"  acl metrics path /metrics\n"+
			"  http-request deny if !{ path /metrics } # only metrics\n"+
			"  http-request set-header X-Forwarded-For \"%%[src]\"\n"+
			"  log-format \"%%ci:%%cp [%%tr] %%ft %%b/%%s %%ST %%B\\ %%{+Q}r\"\n"+
			"  default_backend be-%[1]d\n"+
			"backend be-%[1]d\n"+
			"  http-request replace-header Host '^(.*)$' \\1\\x2e\n"+
			"  server s%[1]d 127.0.0.1:%[2]d ssl verify none check inter 2s\n\n",
			i, 10000+i%50000)
	}
	return []byte(b.String())
}

func BenchmarkParse1MiB(b *testing.B) {
	src := bigConfig(1 << 20)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := haproxy.Parse(src); err != nil {
			b.Fatal(err)
		}
	}
}
