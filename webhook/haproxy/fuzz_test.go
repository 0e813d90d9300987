package haproxy_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/metrics-proxy/injector/webhook/haproxy"
)

// FuzzParse checks that Parse never panics and that what it returns is consistent with its
// input: line numbers in range and increasing, Raw texts taken from the source, words that
// split the same way when written again.
func FuzzParse(f *testing.F) {
	f.Add(readSeed(f))
	for _, s := range []string{
		"",
		"\n",
		"global\r\n  daemon\r\n",
		"global\n  daemon",
		"frontend fe from base\n  bind \"${NODE_IP}\":10249 # c\n",
		`bind '${X}' "\${X}" \$X "${X-d f}" "${X[*]}" "$.LINE" a\ b\#c\\d\"e\'f \x41 \1`,
		`"a#b" a#b 'it''s' "" '' a""b`,
		"\"abc\n'abc\n\\xZ\n\"$1\"\n\"${X\"\n\"${X[x]}\"\n\"$.X\"\n",
		".if defined(X)\n.elif 1\n.else\n.endif\n.endif\n.if\n",
		".notice \"hi\"\n.warning a b\n.bogus\n[scope]\n[]\n[a b]\n",
		"no frontend x\ndefaults a from\nfrontend\nlisten l 0.0.0.0:80\n",
		"a\x00b\nc\rd\n" + strings.Repeat("x", 3000) + "\n",
		"log-format" + strings.Repeat(" w", 63) + " \n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, err := haproxy.Parse(src)
		if cfg == nil {
			t.Fatal("nil Config")
		}
		lines := sourceLines(string(src))
		if cfg.Lines != len(lines) {
			t.Fatalf("Lines = %d, want %d", cfg.Lines, len(lines))
		}
		checkErrors(t, err, lines)
		prev := 0
		for i, s := range cfg.Sections {
			if s.Kind == haproxy.NoSection {
				if i != 0 || s.Header.Line != 0 || len(s.Directives) == 0 || s.Line != s.Directives[0].Line {
					t.Fatalf("bad pseudo-section %d: %+v", i, s)
				}
			} else {
				if s.Line != s.Header.Line || string(s.Kind) != s.Header.Keyword || !haproxy.IsSectionKeyword(s.Header.Keyword) {
					t.Fatalf("section %d: header %+v does not match %s at line %d", i, s.Header, s.Kind, s.Line)
				}
				prev = checkDirective(t, s.Header, lines, prev)
			}
			for _, d := range s.Directives {
				if d.Kind == haproxy.Statement && haproxy.IsSectionKeyword(d.Keyword) {
					t.Fatalf("line %d: section keyword %q inside a section", d.Line, d.Keyword)
				}
				prev = checkDirective(t, d, lines, prev)
			}
		}
	})
}

// sourceLines splits src the way Parse numbers lines.
func sourceLines(src string) []string {
	if src == "" {
		return nil
	}
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines
}

func checkErrors(t *testing.T, err error, lines []string) {
	t.Helper()
	if err == nil {
		return
	}
	var list haproxy.ErrorList
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("error %v is not a non-empty ErrorList", err)
	}
	prev := 0
	for _, e := range list {
		if e.Line < prev || e.Line < 1 || e.Line > len(lines) {
			t.Fatalf("error line %d out of order or range (%d lines): %v", e.Line, len(lines), e)
		}
		if e.Col < 0 || e.Col > len(lines[e.Line-1])+1 {
			t.Fatalf("error column out of range: %v", e)
		}
		if e.Err == nil || e.Error() == "" {
			t.Fatalf("empty error at line %d", e.Line)
		}
		prev = e.Line
	}
}

// checkDirective checks d against the source and returns its line.
func checkDirective(t *testing.T, d haproxy.Directive, lines []string, prev int) int {
	t.Helper()
	if d.Line <= prev || d.Line > len(lines) {
		t.Fatalf("directive line %d after %d, out of order or range (%d lines)", d.Line, prev, len(lines))
	}
	line := lines[d.Line-1]
	if d.Raw != line {
		t.Fatalf("line %d: Raw %q, source %q", d.Line, d.Raw, line)
	}
	if len(line) > haproxy.MaxLineLength || len(d.Args) >= haproxy.MaxWords {
		t.Fatalf("line %d: over the limits but accepted", d.Line)
	}
	if d.Kind == haproxy.Scope {
		if len(d.Args) != 0 || !strings.Contains(line, d.Keyword) {
			t.Fatalf("line %d: bad scope directive %+v", d.Line, d)
		}
		return d.Line
	}
	if (d.Kind == haproxy.Statement) == strings.HasPrefix(d.Keyword, ".") {
		t.Fatalf("line %d: kind %v for keyword %q", d.Line, d.Kind, d.Keyword)
	}
	raws := []string{"k"}
	for _, w := range d.Args {
		if w.Raw == "" || w.Col < 1 || w.Col-1+len(w.Raw) > len(line) || line[w.Col-1:w.Col-1+len(w.Raw)] != w.Raw {
			t.Fatalf("line %d: word %+v is not in the line", d.Line, w)
		}
		if w.SingleQuoted && !w.Quoted {
			t.Fatalf("line %d: single-quoted but not quoted: %+v", d.Line, w)
		}
		if !w.Quoted && !strings.Contains(w.Raw, `\`) && w.Value != w.Raw {
			t.Fatalf("line %d: plain word with Value %q != Raw %q", d.Line, w.Value, w.Raw)
		}
		raws = append(raws, w.Raw)
	}
	// The words, written again with tabs between them, split the same way.
	again, err := haproxy.Parse([]byte(strings.Join(raws, "\t") + "\n"))
	if err != nil {
		t.Fatalf("line %d: rejoined words %q do not parse: %v", d.Line, raws, err)
	}
	got := again.Sections[0].Directives[0]
	if len(got.Args) != len(d.Args) {
		t.Fatalf("line %d: rejoined words split into %d args, want %d", d.Line, len(got.Args), len(d.Args))
	}
	for i, w := range got.Args {
		want := d.Args[i]
		w.Col, want.Col = 0, 0
		if w != want {
			t.Fatalf("line %d: rejoined word %d is %+v, want %+v", d.Line, i, w, want)
		}
	}
	return d.Line
}
