package jepsen

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// writeReport writes the run's directory: history.jsonl, verdicts.json,
// timeline.json, result.json, summary.txt and plot.svg (node logs are
// already under nodes/, porcupine visualizations beside them on failure).
func writeReport(cfg Config, res *Result, ops []*Op, timeline []Event) error {
	dir := cfg.Dir
	if err := WriteJSONL(filepath.Join(dir, "history.jsonl"), ops); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "verdicts.json"), res.Verdicts); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "timeline.json"), timeline); err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(dir, "result.json"), res); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "run %s seed %d nemeses %s\n%s\n\n", cfg.Name, cfg.Seed, strings.Join(cfg.Nemeses, ","), res.Summary())
	for _, v := range res.Verdicts {
		mark := "PASS"
		if !v.Valid {
			mark = "FAIL"
		}
		fmt.Fprintf(&b, "%s %-22s checked %d\n", mark, v.Checker, v.Checked)
		for _, p := range v.Problems {
			fmt.Fprintf(&b, "     %s\n", p)
		}
	}
	b.WriteString("\nnemesis timeline:\n")
	for _, ev := range timeline {
		fmt.Fprintf(&b, "  %7.2fs-%7.2fs %-18s %v %s %s\n", float64(ev.Start)/1e9, float64(ev.End)/1e9, ev.Kind, ev.Nodes, ev.Detail, ev.Error)
	}
	if err := os.WriteFile(filepath.Join(dir, "summary.txt"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "plot.svg"), []byte(plotSVG(ops, timeline)), 0o644)
}

var faultColors = map[string]string{
	KillRandom: "#f4a6a6", KillLeader: "#e57373", PauseRandom: "#ffe08a", PauseLeader: "#ffc947",
	PartitionLeader: "#a5c8f0", PartitionMajority: "#90b8e8", PartitionBridge: "#7fa8e0", PartitionOneWay: "#b9d4f5",
	PacketLoss: "#c9b3e6", ClientCut: "#b3e6c9", Membership: "#e6c9b3", ClockSkew: "#d0d0d0",
}

// plotSVG draws two panels over time (1 s buckets), fault intervals shaded:
// acknowledged operations per second, and latency of every client call
// (dots; ok black, info red) with the per-second median.
func plotSVG(ops []*Op, timeline []Event) string {
	const W, H, left, right, top, gap, panel = 1100, 560, 70, 20, 30, 60, 200
	var end int64
	for _, op := range ops {
		end = max(end, op.Complete)
	}
	for _, ev := range timeline {
		end = max(end, ev.End)
	}
	secs := int(end/1e9) + 1
	tput := make([]int, secs)
	lat := make([][]float64, secs)
	maxLat := 0.1
	for _, op := range ops {
		if op.Kind == OpClose || op.Kind == OpActivity {
			continue
		}
		s := int(op.Complete / 1e9)
		if op.Outcome == OK {
			tput[s]++
		}
		l := float64(op.Complete-op.Invoke) / 1e9
		lat[s] = append(lat[s], l)
		maxLat = max(maxLat, l)
	}
	maxT := 1
	for _, t := range tput {
		maxT = max(maxT, t)
	}
	x := func(ns int64) float64 { return left + float64(ns)/float64(max(end, 1))*float64(W-left-right) }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", W, H)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="white"/>`+"\n", W, H)
	y0, y1 := float64(top), float64(top+panel+gap)
	// Fault shading over both panels, with labels.
	for i, ev := range timeline {
		c := faultColors[ev.Kind]
		if c == "" {
			c = "#dddddd"
		}
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%d" fill="%s" opacity="0.6"><title>%s %v %s</title></rect>`+"\n",
			x(ev.Start), y0, max(x(ev.End)-x(ev.Start), 1), 2*panel+gap, c, ev.Kind, ev.Nodes, ev.Detail)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="9" fill="#444">%s</text>`+"\n", x(ev.Start)+2, y0-4-float64(i%2)*10+10, ev.Kind)
	}
	// Throughput.
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13">acknowledged ops/s (max %d)</text>`+"\n", left, top-14+2, maxT)
	var pts []string
	for s, t := range tput {
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(int64(s)*1e9+5e8), y0+float64(panel)-float64(t)/float64(maxT)*panel))
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#1f4e9c" stroke-width="1.5" points="%s"/>`+"\n", strings.Join(pts, " "))
	// Latency (log scale 1 ms .. maxLat).
	fmt.Fprintf(&b, `<text x="%d" y="%.0f" font-size="13">latency per call, log scale 1 ms - %.1f s (ok black, unknown red; line: median)</text>`+"\n", left, y1-8, maxLat)
	lo, hi := -3.0, log10(maxLat)
	ly := func(l float64) float64 {
		v := (log10(max(l, 0.001)) - lo) / (hi - lo)
		return y1 + float64(panel) - v*panel
	}
	// At most ~6000 dots (every unknown outcome, a sample of the rest).
	every := max(1, len(ops)/6000)
	for i, op := range ops {
		if op.Kind == OpClose || op.Kind == OpActivity || (op.Outcome != Info && i%every != 0) {
			continue
		}
		col := "#000"
		if op.Outcome == Info {
			col = "#d00"
		}
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="1" fill="%s" opacity="0.35"/>`+"\n", x(op.Complete), ly(float64(op.Complete-op.Invoke)/1e9), col)
	}
	pts = pts[:0]
	for s, ls := range lat {
		if len(ls) == 0 {
			continue
		}
		sort.Float64s(ls)
		pts = append(pts, fmt.Sprintf("%.1f,%.1f", x(int64(s)*1e9+5e8), ly(ls[len(ls)/2])))
	}
	fmt.Fprintf(&b, `<polyline fill="none" stroke="#0a7d2c" stroke-width="1.5" points="%s"/>`+"\n", strings.Join(pts, " "))
	// Axes.
	for _, py := range []float64{y0, y1} {
		fmt.Fprintf(&b, `<rect x="%d" y="%.0f" width="%d" height="%d" fill="none" stroke="#888"/>`+"\n", left, py, W-left-right, panel)
	}
	for s := 0; s <= secs; s += max(1, secs/20) {
		px := x(int64(s) * 1e9)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle">%ds</text>`+"\n", px, y1+float64(panel)+14, s)
	}
	for _, l := range []float64{0.001, 0.01, 0.1, 1, 10} {
		if l <= maxLat*1.01 {
			fmt.Fprintf(&b, `<text x="%d" y="%.1f" text-anchor="end">%v</text>`+"\n", left-4, ly(l)+4, time.Duration(l*1e9))
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

func log10(v float64) float64 { return math.Log10(v) }
