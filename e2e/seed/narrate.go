package seed

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// narrator prints the scenario step by step: numbered headings with the time since the start,
// commands as a person would type them, their output indented.
type narrator struct {
	out       io.Writer
	start     time.Time
	n, total  int
	stepStart time.Time
}

// step starts the next numbered step and returns how long the previous one took.
func (w *narrator) step(title string) time.Duration {
	took := time.Since(w.stepStart)
	w.n++
	w.stepStart = time.Now()
	fmt.Fprintf(w.out, "\n==> [%d/%d +%.1fs] %s\n", w.n, w.total, time.Since(w.start).Seconds(), title)
	return took
}

// heading prints an unnumbered heading.
func (w *narrator) heading(format string, args ...any) {
	fmt.Fprintf(w.out, "\n==> "+format+"\n", args...)
}

// say prints one indented line.
func (w *narrator) say(format string, args ...any) {
	fmt.Fprint(w.out, indent(fmt.Sprintf(format, args...)))
}

// command prints a command line as typed.
func (w *narrator) command(format string, args ...any) {
	fmt.Fprintf(w.out, "$ "+format+"\n", args...)
}

// shellWords quotes the words that a shell would split or expand, for commands a person can paste.
func shellWords(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = w
		if w == "" || strings.ContainsAny(w, " \t\n'\"$`\\{}[]*?!;&|<>()#~") {
			quoted[i] = "'" + strings.ReplaceAll(w, "'", `'\''`) + "'"
		}
	}
	return strings.Join(quoted, " ")
}

// block prints text indented.
func (w *narrator) block(text string) { fmt.Fprint(w.out, indent(text)) }

// indent indents every line of s by two blanks; "" stays "".
func indent(s string) string {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ") + "\n"
}
