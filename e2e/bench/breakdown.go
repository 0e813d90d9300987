package bench

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Sample is one line of the Prometheus text format: a series and its value.
type Sample struct {
	Name   string
	Labels map[string]string
	Value  float64
}

// ParseSamples reads the Prometheus text format, keeping the lines whose metric name has one of
// the prefixes; comments and malformed lines are skipped.
func ParseSamples(r io.Reader, prefixes ...string) ([]Sample, error) {
	var out []Sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		keep := false
		for _, p := range prefixes {
			keep = keep || strings.HasPrefix(line, p)
		}
		if !keep {
			continue
		}
		if s, ok := parseSample(line); ok {
			out = append(out, s)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return out, nil
}

func parseSample(line string) (Sample, bool) {
	s := Sample{Labels: map[string]string{}}
	i := strings.IndexAny(line, "{ ")
	if i < 0 {
		return s, false
	}
	s.Name = line[:i]
	rest := line[i:]
	if rest[0] == '{' {
		rest = rest[1:]
		for {
			rest = strings.TrimLeft(rest, ", ")
			if strings.HasPrefix(rest, "}") {
				rest = rest[1:]
				break
			}
			eq := strings.Index(rest, `="`)
			if eq < 0 {
				return s, false
			}
			key := rest[:eq]
			rest = rest[eq+2:]
			var val strings.Builder
			j := 0
			for ; j < len(rest) && rest[j] != '"'; j++ {
				if rest[j] == '\\' && j+1 < len(rest) {
					j++
				}
				val.WriteByte(rest[j])
			}
			if j >= len(rest) {
				return s, false
			}
			s.Labels[key] = val.String()
			rest = rest[j+1:]
		}
	}
	fields := strings.Fields(rest)
	if len(fields) == 0 {
		return s, false
	}
	v, err := strconv.ParseFloat(fields[0], 64)
	if err != nil {
		return s, false
	}
	s.Value = v
	return s, true
}

// SumSamples adds the values of the samples named name whose labels include match.
func SumSamples(ss []Sample, name string, match map[string]string) float64 {
	var sum float64
	for _, s := range ss {
		if s.Name != name {
			continue
		}
		ok := true
		for k, v := range match {
			ok = ok && s.Labels[k] == v
		}
		if ok {
			sum += s.Value
		}
	}
	return sum
}

// BreakdownRow is one stage of a create, per create of a scenario.
type BreakdownRow struct {
	// Stage names it; Source says which process measured it.
	Stage, Source string
	// PerCreate is the mean time spent in it per create; Calls how many times it ran per create.
	PerCreate time.Duration
	Calls     float64
	// CountOnly is set when only the number of calls is known.
	CountOnly bool
}

// Breakdown is where the time of one scenario's creates went.
type Breakdown struct {
	Scenario string
	Creates  int
	Rows     []BreakdownRow
}

// WebhookNames returns the distinct values of label name among the samples called metric.
func WebhookNames(ss []Sample, metric, label string) []string {
	seen := map[string]bool{}
	for _, s := range ss {
		if s.Name == metric && s.Labels[label] != "" {
			seen[s.Labels[label]] = true
		}
	}
	out := make([]string, 0, len(seen))
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// writeProfile renders the breakdown of the end-to-end creates: one row per stage, one column
// per scenario, the mean time per create and how many times the stage ran per create.
func writeProfile(b *strings.Builder, r *Report) {
	bds := r.EndToEnd.Breakdown
	if len(bds) == 0 {
		return
	}
	var order []string
	source := map[string]string{}
	cell := map[string]map[string]BreakdownRow{}
	for _, bd := range bds {
		for _, row := range bd.Rows {
			if cell[row.Stage] == nil {
				cell[row.Stage] = map[string]BreakdownRow{}
				order = append(order, row.Stage)
				source[row.Stage] = row.Source
			}
			cell[row.Stage][bd.Scenario] = row
		}
	}
	var keys []string
	for _, s := range r.EndToEnd.Scenarios {
		keys = append(keys, s.Key)
	}
	fmt.Fprintf(b, "### Where the time goes\n\nThe growth of kube-apiserver's and serve's own histograms over the measured creates of each "+
		"scenario, per create: mean time in the stage (and how many times it ran per create). Stages nest: a webhook call includes "+
		"its handler, admission includes its plugins, the create includes everything. A webhook call minus its handler is the "+
		"transport: connection and TLS, the AdmissionReview encoded and decoded on both sides, the patch applied.\n\n")
	fmt.Fprintf(b, "| stage | measured by |")
	for _, k := range keys {
		fmt.Fprintf(b, " (%s) |", k)
	}
	fmt.Fprintf(b, "\n|---|---|%s\n", strings.Repeat("--:|", len(keys)))
	for _, stage := range order {
		fmt.Fprintf(b, "| %s | %s |", stage, source[stage])
		for _, k := range keys {
			row, ok := cell[stage][k]
			if !ok {
				fmt.Fprintf(b, " |")
				continue
			}
			if row.CountOnly {
				fmt.Fprintf(b, " ×%.2f |", row.Calls)
				continue
			}
			fmt.Fprintf(b, " %.3f ms (×%.2f) |", float64(row.PerCreate.Microseconds())/1000, row.Calls)
		}
		fmt.Fprintf(b, "\n")
	}
	writeCPUProfile(b, r.EndToEnd.Profile)
	fmt.Fprintf(b, "\n")
}
