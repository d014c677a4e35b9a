package main

import (
	"path/filepath"
	"testing"
	"time"
)

// TestHarness runs every workload with tiny counts against a dev engine
// the harness starts, and checks the records carry their figures and no
// errors. It asserts no speed: figures come from scripts/bench.sh runs.
func TestHarness(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and starts engines")
	}
	d, err := raftflowTarget(1).start()
	if err != nil {
		t.Fatal(err)
	}
	defer d.stop()
	o := opts{n: 20, conc: 5, serial: 3, warmup: 2, idle: 300, signals: 3, maxSleep: 2 * time.Second}
	want := map[string][]string{
		"hello":   {"throughput", "p50", "p99"},
		"serial":  {"p50", "p99"},
		"signals": {"signals_per_s", "signal_p99"},
		"idle":    {"rss_per_workflow", "disk_per_workflow"},
		"timers":  {"seen_late_p99", "history_late_p99", "engine_late_p99"},
		"install": {"catch_up"},
	}
	var all []result
	for _, w := range []string{"hello", "signals", "idle", "timers", "install"} {
		rs, err := runWorkload(w, d, o)
		if err != nil {
			t.Fatalf("%s: %v", w, err)
		}
		all = append(all, rs...)
	}
	for _, r := range all {
		t.Logf("%s: %+v %v", r.Workload, r.Figures, r.Notes)
		for _, name := range want[r.Workload] {
			if _, ok := r.get(name); !ok {
				t.Errorf("%s: no figure %q in %+v", r.Workload, name, r.Figures)
			}
		}
		for _, name := range []string{"errors", "history_early", "seen_early", "workflows_wrong_count"} {
			if v, ok := r.get(name); ok && v != 0 {
				t.Errorf("%s: %s = %v", r.Workload, name, v)
			}
		}
	}
	if v, _ := find(all, "idle").get("pending_timers"); v < 300 {
		t.Errorf("idle: %v pending timers after loading 300 workflows with a timer", v)
	}
	if v, _ := find(all, "timers").get("history_sample"); v != 20 {
		t.Errorf("timers: %v histories checked, want 20", v)
	}
	recs := filepath.Join(t.TempDir(), "r.jsonl")
	if err := appendRecords(recs, all); err != nil {
		t.Fatal(err)
	}
	if err := writeReport(recs, filepath.Join(t.TempDir(), "perf.md")); err != nil {
		t.Fatal(err)
	}
}

func find(rs []result, workload string) result {
	for _, r := range rs {
		if r.Workload == workload {
			return r
		}
	}
	return result{}
}
