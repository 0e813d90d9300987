package haproxy_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// TestWordsMatchHAProxy writes each fragment after ".notice" and compares what Parse reads with
// what the real HAProxy prints: ".notice WORD" prints WORD's value, and more than one word is an
// "Unexpected argument" alert.
func TestWordsMatchHAProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	for _, hp := range testtool.HAProxies(t) {
		t.Run(hp.Branch, func(t *testing.T) { wordsMatchHAProxy(t, hp.Path) })
	}
}

// wordsMatchHAProxy is TestWordsMatchHAProxy on the haproxy at bin.
func wordsMatchHAProxy(t *testing.T, bin string) {
	fragments := []string{
		`a`, `a b`, `a  `, `a ""`, `"" a`, `a#b`, `a #b`, `"a#b"`, `'a#b'`, `a\ b`, `a\#b`, `a\\b`,
		`a\"b`, `a\'b`, `\x41\x6a`, `'\x41'`, `"\x41"`, `\1\.`, `\$x`, `"\$x"`, `a""b''c`, `"it's"`,
		`'say "hi"'`, `'\'`, `"\'"`, `a\`, "a\\\tb", "a\vb", "a\fb", `"a b"`, `'a b'`, `é`,
		`"abc`, `'abc`, `\xZ1`, `\x4`, `"$1"`, `"$"`, `"${1}"`, `"${X"`, `"${X:-d}"`, `"${X[x]}"`,
		`"${X[*"`, `"$.FOO"`, `"${.}"`, `"${X-def}"`, `"${X-a"b}"`, `"${X[*]}"`, `"$X[1]"`,
		`"$NODE_IP"`, `${NODE_IP}:1`, `'${NODE_IP}'`, `"$.LINE"`,
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "b", " ", "\t", `"`, `'`, `\`, "#", "$", "{", "}", "-", "[", "*", "]", "x", "4", "1", "F", ".", "_", "E"}
	for range 1000 {
		var b strings.Builder
		for range 1 + rng.IntN(12) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		fragments = append(fragments, b.String())
	}

	// HAProxy stops after 50 fatal errors: check the fragments 40 at a time.
	compared := 0
	for start := 0; start < len(fragments); start += 40 {
		chunk := fragments[start:min(start+40, len(fragments))]
		got := runNotices(t, bin, chunk)
		for i, frag := range chunk {
			line := i + 2
			want, cmp := expectNotice(t, frag)
			if !cmp {
				// At least both agree that the line splits without error.
				assert.NotEqual(t, "alert:tokenizer", got[line], "fragment %q", frag)
				continue
			}
			compared++
			assert.Equal(t, want, got[line], "fragment %q", frag)
		}
	}
	assert.Greater(t, compared, len(fragments)/2)
}

// runNotices runs haproxy -c on ".notice FRAGMENT" lines (from line 2) and returns, per line,
// "notice:VALUE", "alert:tokenizer", "alert:argument" or "alert:other".
func runNotices(t *testing.T, bin string, fragments []string) map[int]string {
	t.Helper()
	var b strings.Builder
	// A long first line makes HAProxy grow its output buffer once and for all: with a small
	// buffer it parses a line twice, and ${X-default} breaks on the second pass.
	b.WriteString(".notice " + strings.Repeat("x", 1100) + "\n")
	for _, f := range fragments {
		b.WriteString(".notice " + f + "\n")
	}
	path := filepath.Join(t.TempDir(), "notice.cfg")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))
	return parseNotices(runHAProxyCheck(bin, path))
}

// runHAProxyCheck runs haproxy -c on path with no environment at all: every variable unset.
func runHAProxyCheck(bin, path string) []byte {
	cmd := exec.Command(bin, "-c", "-f", path)
	cmd.Env = []string{} // no NODE_IP, no X: every variable is unset
	out, _ := cmd.CombinedOutput()
	return out
}

var (
	msgStart = regexp.MustCompile(`\[(?:NOTICE|ALERT|WARNING)\]\s+\(\d+\) : `)
	msgHead  = regexp.MustCompile(`^\[(NOTICE|ALERT|WARNING)\]\s+\(\d+\) : config : parsing \[[^\]]*:(\d+)\]: `)
)

// parseNotices reads haproxy's output and returns, per line, "notice:VALUE",
// "alert:tokenizer", "alert:argument" or "alert:other".
func parseNotices(out []byte) map[int]string {
	got := map[int]string{}
	idx := msgStart.FindAllIndex(out, -1)
	for i, loc := range idx {
		end := len(out)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		msg := string(out[loc[0]:end])
		m := msgHead.FindStringSubmatch(msg)
		if m == nil {
			continue
		}
		line, _ := strconv.Atoi(m[2])
		text := msg[len(m[0]):]
		switch {
		case m[1] == "NOTICE":
			text = strings.TrimSuffix(text, "\n")
			got[line] = "notice:" + strings.TrimSuffix(strings.TrimPrefix(text, "'"), "'.")
		case strings.HasPrefix(text, "Unexpected argument"):
			got[line] = "alert:argument"
		case strings.Contains(text, "unmatched quote"), strings.Contains(text, "unmatched brace"),
			strings.Contains(text, "forbidden first char"), strings.Contains(text, "hexadecimal sequence"),
			strings.Contains(text, "word expansion sequence"):
			got[line] = "alert:tokenizer"
		default:
			got[line] = "alert:other " + text
		}
	}
	return got
}

// expectNotice returns what HAProxy should print for ".notice FRAGMENT", according to Parse,
// and whether that can be compared: values with '$' depend on variable expansion.
func expectNotice(t *testing.T, frag string) (string, bool) {
	t.Helper()
	cfg, err := haproxy.Parse([]byte(".notice " + frag + "\n"))
	if err != nil {
		for _, tok := range []error{haproxy.ErrUnterminatedQuote, haproxy.ErrInvalidEscape, haproxy.ErrInvalidVariable} {
			if errors.Is(err, tok) {
				return "alert:tokenizer", true
			}
		}
		require.ErrorIs(t, err, haproxy.ErrInvalidDirective, "fragment %q", frag)
		if args := cfg.Sections[0].Directives[0].Args; args[1].Value == "" {
			return "", false // Parse refuses an empty second word that HAProxy does not see
		}
		return "alert:argument", true
	}
	d := cfg.Sections[0].Directives[0]
	for _, a := range d.Args {
		if strings.Contains(a.Raw, "$") {
			return "", false
		}
	}
	switch {
	case len(d.Args) == 0:
		return "notice:", true
	case len(d.Args) > 1 && d.Args[1].Value != "":
		return "alert:argument", true
	case len(d.Args) > 1:
		return "", false // Parse reports an empty second word that HAProxy does not see
	}
	return fmt.Sprintf("notice:%s", d.Args[0].Value), true
}
