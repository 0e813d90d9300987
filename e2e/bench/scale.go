package bench

import (
	"fmt"
	"strings"
	"time"
)

// ScaleFigures are serve's costs as the cluster grows.
type ScaleFigures struct {
	// Steps is how many equal steps the objects were created in; Points the readings at 0 and
	// after each step.
	Steps  int
	Points []ScalePoint
}

// ScalePoint is one reading.
type ScalePoint struct {
	// DaemonSets and ConfigMaps are all the cluster holds (the end-to-end part's included);
	// Growth how long the last step's creates took.
	DaemonSets, ConfigMaps int
	Growth                 time.Duration
	// RSS is serve's resident memory, Audit one `metrics-proxy audit` pass and AuditFindings its
	// findings, Create the latency of DaemonSet creates through the full admission path and
	// Baseline of the same DaemonSet created where no webhook of ours is called.
	RSS              int64
	Audit            time.Duration
	AuditFindings    int
	Create, Baseline Summary
}

// perThousand returns the growth from the first to the last point per 1,000 objects, and the
// ratio of the second half's growth to the first half's (1 for linear), when there are 3 points.
func (s *ScaleFigures) perThousand(v func(ScalePoint) float64) (per1000, linearity float64, ok bool) {
	if len(s.Points) < 2 {
		return 0, 0, false
	}
	first, last := s.Points[0], s.Points[len(s.Points)-1]
	objects := float64(last.DaemonSets + last.ConfigMaps - first.DaemonSets - first.ConfigMaps)
	if objects <= 0 {
		return 0, 0, false
	}
	per1000 = (v(last) - v(first)) / objects * 1000
	if len(s.Points) == 3 {
		a, b := v(s.Points[1])-v(first), v(last)-v(s.Points[1])
		if a != 0 {
			linearity = b / a
		}
	}
	return per1000, linearity, true
}

func scaleTargets(s *ScaleFigures, add func(name, limit string, measured bool, figure string, pass bool)) {
	n := len(s.Points)
	last := ScalePoint{}
	if n > 0 {
		last = s.Points[n-1]
	}
	at := fmt.Sprintf("at %d DaemonSets and %d ConfigMaps", last.DaemonSets, last.ConfigMaps)
	rss, lin, ok := s.perThousand(func(p ScalePoint) float64 { return float64(p.RSS) / MiB })
	add("scale: serve's resident memory", "a figure per 1,000 objects, growing linearly (halves within 1.5×)", ok && n > 1,
		fmt.Sprintf("%s %s (from %s): %+.2f MiB per 1,000 objects; second half / first half %.2f", mib(last.RSS), at, mibOf(s.Points, 0), rss, lin),
		lin > 0 && lin < 1.5)
	audit, alin, ok := s.perThousand(func(p ScalePoint) float64 { return p.Audit.Seconds() })
	add("scale: one audit pass", "a figure per 1,000 objects, growing linearly (halves within 1.5×)", ok && n > 1,
		fmt.Sprintf("%.2f s %s: %+.3f s per 1,000 objects; second half / first half %.2f", last.Audit.Seconds(), at, audit, alin),
		alin > 0 && alin < 1.5)
	const created, added = "scale: full-path DaemonSet create p50 at that scale vs an empty cluster",
		"scale: what admission adds to a create at p50 (full path − no webhook of ours, same cluster), at that scale vs an empty cluster"
	if n < 2 {
		add(created, "unchanged (≤ +10%)", false, "", false)
		add(added, "unchanged (≤ +10% of the empty cluster's full-path create)", false, "", false)
		return
	}
	first := s.Points[0]
	d := last.Create.P50 - first.Create.P50
	add(created, "unchanged (≤ +10%)", true,
		fmt.Sprintf("%.2f vs %.2f ms (%.2f×); without webhooks %.2f vs %.2f ms (%.2f×)", Millis(last.Create.P50), Millis(first.Create.P50),
			ratio(last.Create.P50, first.Create.P50), Millis(last.Baseline.P50), Millis(first.Baseline.P50), ratio(last.Baseline.P50, first.Baseline.P50)),
		d*10 <= first.Create.P50)
	addedLast, addedFirst := last.Create.P50-last.Baseline.P50, first.Create.P50-first.Baseline.P50
	add(added, "unchanged (≤ +10% of the empty cluster's full-path create)", true,
		fmt.Sprintf("%+.2f vs %+.2f ms (%+.2f ms; the empty cluster's full-path create %.2f ms)", Millis(addedLast), Millis(addedFirst),
			Millis(addedLast-addedFirst), Millis(first.Create.P50)),
		(addedLast-addedFirst)*10 <= first.Create.P50)
}

func mibOf(ps []ScalePoint, i int) string {
	if i >= len(ps) {
		return "—"
	}
	return mib(ps[i].RSS)
}

func writeScale(b *strings.Builder, r *Report) {
	s := r.Scale
	fmt.Fprintf(b, "## 6. Scale\n\n")
	if len(s.Points) == 0 {
		fmt.Fprintf(b, "Not measured in this run.\n\n")
		return
	}
	fmt.Fprintf(b, "The same `metrics-proxy serve` and control plane after part 5, the full admission path installed (deploy/base's "+
		"webhooks); the first row is the cluster as part 4 left it (its DaemonSets, the system ConfigMaps). The cluster then grows in %d equal steps over 10 namespaces enabled for injection: per proxy DaemonSet a labelled proxy "+
		"ConfigMap (filled and validated by the webhooks) then the DaemonSet stub naming it (injected and validated), and plain "+
		"ConfigMaps (about 220 bytes of data each) up to the ConfigMap count; eight creates at a time. At each step: serve's VmRSS "+
		"after 3 s, one `metrics-proxy audit -o json` pass (a process of its own, listing what it checks), and sequential DaemonSet "+
		"creates through the full path, taking turns with creates of the same DaemonSet complete but plain (no label or annotation of ours) "+
		"in a namespace not enabled for injection, where no webhook of ours is called: what kube-apiserver and etcd cost at that scale, "+
		"so that what admission adds is told from what the API server's own growth adds.\n\n", s.Steps)
	fmt.Fprintf(b, "| DaemonSets | ConfigMaps | grown in | serve VmRSS | audit pass | audit findings | create p50 | create p99 | without webhooks p50 | admission adds at p50 |\n"+
		"|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n")
	for _, p := range s.Points {
		fmt.Fprintf(b, "| %d | %d | %.1f s | %s | %.2f s | %d | %s | %s | %s | %+.2f ms |\n", p.DaemonSets, p.ConfigMaps, p.Growth.Seconds(),
			mib(p.RSS), p.Audit.Seconds(), p.AuditFindings, ms(p.Create.P50), ms(p.Create.P99), ms(p.Baseline.P50),
			Millis(p.Create.P50-p.Baseline.P50))
	}
	fmt.Fprintf(b, "\n")
}
