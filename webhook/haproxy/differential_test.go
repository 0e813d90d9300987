package haproxy_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/metrics-proxy/injector/e2e/testtool"
	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// Sizes of the tokenizer differential: generated lines, the most lines per haproxy run, and
// the most lines per run that HAProxy's tokenizer refuses (it stops after 50 of those).
const (
	differentialLines  = 100000
	linesPerRun        = 2500
	tokenErrorsPerRun  = 40
	differentialWorker = 2
)

// fragment pieces: plain text, quoted text with every '$' form HAProxy 2.6 expands, escapes,
// comments; junk pieces break the syntax now and then.
var (
	plainPieces  = []string{"a", "b7", "x.y", "-", "_", "/m", "é", "A:b", "%[src]", "{", "}", "[*]"}
	quotedPieces = []string{"a b", "#", "'", `\"`, `\\`, `\x41`, `\$`, "$X", "${X}", "${X-def}", "${X-a b}",
		"${X[*]}", "${X[*]-a b}", "${X[*]-a  b}", "$.LINE", "${.LINE}", "$.SECTION", "${.SECTION}", "$.FILE",
		"$_Y1", `${X-a"b}`, "${X-}", "${X[*]-}", "${X-#x}", "${NODE_IP}", "${X[*]- a }", "$X.y", "${X-{}", "x"}
	singlePieces = []string{"a b", "$X", `\`, "#", `${NODE_IP}`, `"`, ""}
	escapePieces = []string{`\ `, `\#`, `\\`, `\"`, `\'`, `\x41`, `\x24`, `\t`, `\$X`, `\1`, `\.`}
	junkPieces   = []string{`"`, `'`, `"${`, `"$1"`, `"${X`, `"${X[x]}"`, `"$.FOO"`, `\xZ1`, `\x4`, `"${X[*"`, "\t", " "}
)

// fragment returns a random fragment; most are one word that HAProxy reads without error.
func fragment(r *rand.Rand) string {
	var b strings.Builder
	for i := range 1 + r.IntN(4) {
		if i > 0 && r.IntN(6) == 0 {
			b.WriteString(" ")
		}
		switch k := r.IntN(20); {
		case k < 5:
			b.WriteString(plainPieces[r.IntN(len(plainPieces))])
		case k < 13:
			b.WriteString(`"` + quotedPieces[r.IntN(len(quotedPieces))] + `"`)
		case k < 15:
			b.WriteString("'" + singlePieces[r.IntN(len(singlePieces))] + "'")
		case k < 18:
			b.WriteString(escapePieces[r.IntN(len(escapePieces))])
		case k < 19:
			b.WriteString(junkPieces[r.IntN(len(junkPieces))])
		default:
			b.WriteString("$" + plainPieces[r.IntN(len(plainPieces))])
		}
	}
	if r.IntN(20) == 0 {
		b.WriteString(" #" + quotedPieces[r.IntN(len(quotedPieces))])
	}
	return b.String()
}

// expandWords splits frag as HAProxy 2.6 does with every environment variable unset, the
// $.LINE, $.FILE and $.SECTION of a line before any section, expanding as it goes: the model
// the differential checks against HAProxy for the words with '$' references (vars.go documents
// the syntax; Parse keeps references as written). ok is false when HAProxy refuses the line.
func expandWords(frag string, line int, file string) (words []string, ok bool) {
	var cur []byte
	started, squote, dquote := false, false, false
	finish := func() {
		if started {
			words = append(words, string(cur))
		}
		cur, started = nil, false
	}
	for i := 0; i < len(frag); {
		c := frag[i]
		switch {
		case c == '#' && !squote && !dquote:
			i = len(frag)
			continue
		case c == '"' && !squote:
			dquote, started = !dquote, true
		case c == '\'' && !dquote:
			squote, started = !squote, true
		case (c == ' ' || c == '\t' || c == '\v' || c == '\f') && !squote && !dquote:
			finish()
		case c == '\\' && !squote:
			started = true
			next := byte(0)
			if i+1 < len(frag) {
				next = frag[i+1]
			}
			switch {
			case next == ' ' || next == '\\' || next == '#' || next == '\'' || next == '"' || next == '$' && dquote:
				cur = append(cur, next)
			case next == 't':
				cur = append(cur, '\t')
			case next == 'x':
				v, err := strconv.ParseUint(frag[min(i+2, len(frag)):min(i+4, len(frag))], 16, 8)
				if err != nil || i+4 > len(frag) || strings.ContainsAny(frag[i+2:i+4], "+-") {
					return nil, false
				}
				cur = append(cur, byte(v))
				i += 4
				continue
			default:
				cur = append(cur, '\\')
				i++
				continue
			}
			i += 2
			continue
		case c == '$' && dquote:
			started = true
			n, value, split, good := reference(frag[i:], line, file)
			if !good {
				return nil, false
			}
			for j := 0; j < len(value); j++ {
				switch b := value[j]; {
				case !split || !isBlank(b):
					cur = append(cur, b)
				case j == 0 || !isBlank(value[j-1]):
					// [*]: a run of blanks ends the word, even an empty one, and opens the next
					finish()
					started = true
				}
			}
			i += n
			continue
		default:
			started = true
			cur = append(cur, c)
		}
		i++
	}
	if squote || dquote {
		return nil, false
	}
	finish()
	return words, true
}

// reference reads the '$' reference at the start of s: its length, its value with every
// variable unset, whether [*] splits it, and whether it is well-formed.
func reference(s string, line int, file string) (n int, value string, split, ok bool) {
	p, brace := 1, false
	if p < len(s) && s[p] == '{' {
		brace = true
		p++
	}
	start := p
	if p < len(s) && s[p] == '.' {
		p++
	}
	for p < len(s) && (s[p] == '_' || 'a' <= s[p] && s[p] <= 'z' || 'A' <= s[p] && s[p] <= 'Z' || p > start && '0' <= s[p] && s[p] <= '9') {
		p++
	}
	name := s[start:p]
	if name == "" || name == "." || name[0] >= '0' && name[0] <= '9' {
		return 0, "", false, false
	}
	if name[0] == '.' {
		switch name {
		case ".LINE":
			value = strconv.Itoa(line)
		case ".FILE":
			value = file
		case ".SECTION":
		default:
			return 0, "", false, false
		}
	}
	if !brace {
		return p, value, false, true
	}
	if strings.HasPrefix(s[p:], "[*]") {
		split = true
		p += 3
	} else if p < len(s) && s[p] == '[' {
		return 0, "", false, false
	}
	if p < len(s) && s[p] == '-' {
		end := strings.IndexByte(s[p:], '}')
		if end < 0 {
			return 0, "", false, false
		}
		if name[0] != '.' {
			value = s[p+1 : p+end]
		}
		return p + end + 1, value, split, true
	}
	if p >= len(s) || s[p] != '}' {
		return 0, "", false, false
	}
	return p + 1, value, split, true
}

// predicted is what HAProxy prints for ".notice FRAGMENT": "notice:VALUE", "alert:argument"
// or "alert:tokenizer"; "" when it cannot be compared (an empty second word).
func predicted(t *testing.T, frag string, line int, file string) string {
	words, ok := expandWords(frag, line, file)
	_, err := haproxy.Parse([]byte(".notice " + frag + "\n"))
	tokErr := false
	for _, tok := range []error{haproxy.ErrUnterminatedQuote, haproxy.ErrInvalidEscape, haproxy.ErrInvalidVariable} {
		tokErr = tokErr || errors.Is(err, tok)
	}
	// The model and the parser agree on which lines split; HAProxy decides who is right.
	require.Equal(t, !ok, tokErr, "model and parser disagree on %q: %v", frag, err)
	if !strings.Contains(frag, "$") {
		// Without '$' the parser's own words are the prediction; the model must agree.
		if want, cmp := expectNotice(t, frag); cmp && ok {
			got := "notice:"
			switch {
			case len(words) > 1 && words[1] != "":
				got = "alert:argument"
			case len(words) > 0:
				got += words[0]
			}
			require.Equal(t, want, got, "model and parser disagree on %q", frag)
		}
	}
	switch {
	case !ok:
		return "alert:tokenizer"
	case len(words) > 1 && words[1] != "":
		return "alert:argument" // .notice looks at its second word only
	case len(words) == 0:
		return "notice:"
	}
	return "notice:" + words[0]
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' || c == '\v' || c == '\f' }

// TestTokenizerDifferential checks the parser's word splitting, and the expansion HAProxy
// does on top of it, against HAProxy 2.6 and 3.0 themselves on differentialLines generated lines: quotes,
// backslashes, '#', and every '$' form. Lines go to haproxy -c as ".notice FRAGMENT", which
// prints one word's value, in runs of up to linesPerRun lines holding at most
// tokenErrorsPerRun lines HAProxy's tokenizer refuses.
func TestTokenizerDifferential(t *testing.T) {
	if testing.Short() {
		t.Skip("runs haproxy")
	}
	for _, hp := range testtool.HAProxies(t) {
		baseline := hp.Branch == testtool.ProvenHAProxyBranches[0]
		t.Run(hp.Branch, func(t *testing.T) { tokenizerDifferential(t, hp.Path, baseline) })
	}
}

// tokenizerDifferential is TestTokenizerDifferential on the haproxy at bin. The model is 2.6's
// (the baseline); later branches expand differently (3.0 drops a word that a quoted expansion
// leaves empty, where 2.6 keeps an empty word), so on them only fragments without '$' are
// compared: the expansion rule refuses every '$' but the bind address's ${NODE_IP}, whose
// expansion the corpus's data-plane runs show on each branch.
func tokenizerDifferential(t *testing.T, bin string, baseline bool) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 11))
	type run struct {
		frags []string
		want  []string
	}
	var runs []run
	cur, errs := run{}, 0
	for range differentialLines {
		frag := fragment(rng)
		if !baseline && strings.Contains(frag, "$") {
			continue
		}
		// Line 1 is a long line (see runNotices); the fragment lands on line len+2.
		want := predicted(t, frag, len(cur.frags)+2, filepath.Join(dir, fmt.Sprintf("run-%d.cfg", len(runs))))
		if len(cur.frags) == linesPerRun || want == "alert:tokenizer" && errs == tokenErrorsPerRun {
			runs = append(runs, cur)
			cur, errs = run{}, 0
			want = predicted(t, frag, 2, filepath.Join(dir, fmt.Sprintf("run-%d.cfg", len(runs))))
		}
		if want == "alert:tokenizer" {
			errs++
		}
		cur.frags, cur.want = append(cur.frags, frag), append(cur.want, want)
	}
	runs = append(runs, cur)

	start := time.Now()
	var mu sync.Mutex
	var mismatches []string
	compared := 0
	work := make(chan int)
	var wg sync.WaitGroup
	for range differentialWorker {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				got := noticesAt(bin, filepath.Join(dir, fmt.Sprintf("run-%d.cfg", i)), runs[i].frags)
				mu.Lock()
				for j, want := range runs[i].want {
					if want == "" {
						continue
					}
					compared++
					if g := got[j+2]; g != want {
						mismatches = append(mismatches, fmt.Sprintf("%q: haproxy %q, predicted %q", runs[i].frags[j], g, want))
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := range runs {
		work <- i
	}
	close(work)
	wg.Wait()
	lines := 0
	for _, r := range runs {
		lines += len(r.frags)
	}
	t.Logf("%d lines in %d haproxy runs, %d compared, %v", lines, len(runs), compared, time.Since(start).Round(time.Millisecond))
	assert.Empty(t, mismatches, "%d mismatches, the first:\n%s", len(mismatches), strings.Join(mismatches[:min(len(mismatches), 20)], "\n"))
	assert.Greater(t, compared, lines*9/10)
}

// noticesAt writes the ".notice" lines of frags to path after a long first line and returns
// what haproxy printed per line, as runNotices does.
func noticesAt(bin, path string, frags []string) map[int]string {
	var b strings.Builder
	b.WriteString(".notice " + strings.Repeat("x", 1100) + "\n")
	for _, f := range frags {
		b.WriteString(".notice " + f + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return map[int]string{}
	}
	return parseNotices(runHAProxyCheck(bin, path))
}
