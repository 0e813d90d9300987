package bench

import (
	"bufio"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// GoBench is one result line of `go test -bench -benchmem`.
type GoBench struct {
	// Package is the import path of the benchmark's package (the "pkg:" line above it).
	Package string
	// Name is the benchmark's name without the GOMAXPROCS suffix, e.g. BenchmarkX/sub.
	Name string
	// Iterations is how many times the loop ran.
	Iterations int64
	// Metrics are the figures by unit: ns/op, B/op, allocs/op, MB/s and custom ones (patch-ops).
	Metrics map[string]float64
}

// PerOp returns the time per operation.
func (g GoBench) PerOp() time.Duration { return time.Duration(g.Metrics["ns/op"]) }

// procsSuffix is the "-N" GOMAXPROCS suffix go test appends to benchmark names.
var procsSuffix = regexp.MustCompile(`-\d+$`)

// ParseGoBench reads the output of `go test -bench` and returns its result lines, in order.
func ParseGoBench(r io.Reader) ([]GoBench, error) {
	var out []GoBench
	pkg := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimSpace(p)
			continue
		}
		fields := strings.Fields(line)
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") || len(fields)%2 != 0 {
			continue
		}
		n, err := strconv.ParseInt(fields[1], 10, 64)
		if err != nil {
			continue // a benchmark's own log line that starts with its name
		}
		g := GoBench{Package: pkg, Name: procsSuffix.ReplaceAllString(fields[0], ""), Iterations: n, Metrics: map[string]float64{}}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: %w", line, err)
			}
			g.Metrics[fields[i+1]] = v
		}
		out = append(out, g)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read benchmark output: %w", err)
	}
	return out, nil
}

// FindGoBench returns the result called name, the GOMAXPROCS suffix left out.
func FindGoBench(results []GoBench, name string) (GoBench, bool) {
	for _, g := range results {
		if g.Name == name {
			return g, true
		}
	}
	return GoBench{}, false
}

// HostileBenchmark is webhook/policy's benchmark of 1 MiB configs crafted against the validator;
// its sub-benchmark "compliant" is the baseline.
const HostileBenchmark = "BenchmarkValidateHostile1MiB"

// Hostile returns the results of HostileBenchmark's sub-benchmarks, in order.
func Hostile(results []GoBench) []GoBench {
	var out []GoBench
	for _, g := range results {
		if strings.HasPrefix(g.Name, HostileBenchmark+"/") {
			out = append(out, g)
		}
	}
	return out
}
