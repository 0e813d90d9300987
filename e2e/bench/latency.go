package bench

import (
	"slices"
	"time"
)

// Summary summarises a set of latencies.
type Summary struct {
	// Count is the number of samples.
	Count int `json:"count"`
	// P50, P99 and Max are percentiles of the samples (nearest rank).
	P50 time.Duration `json:"p50"`
	P99 time.Duration `json:"p99"`
	Max time.Duration `json:"max"`
}

// Summarize sorts ds in place and returns their summary; the zero Summary for none.
func Summarize(ds []time.Duration) Summary {
	if len(ds) == 0 {
		return Summary{}
	}
	slices.Sort(ds)
	return Summary{Count: len(ds), P50: Percentile(ds, 50), P99: Percentile(ds, 99), Max: ds[len(ds)-1]}
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the nearest-rank method:
// the smallest sample that at least p percent of the samples do not exceed.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(p/100*float64(len(sorted)) + 0.999999)
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// Millis formats d in milliseconds with two decimals, as the report does.
func Millis(d time.Duration) float64 {
	return float64(d.Microseconds()) / 1000
}
