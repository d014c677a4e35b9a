// Command bench drives a workflow engine with the official Temporal Go SDK
// (worker and starters in this process) and prints its figures. It starts
// what it measures itself: a dev engine, a 3-node raftflow cluster on this
// machine, or Temporal's own dev server (for --compare-temporal), one after
// the other, with the same client and workload. scripts/bench.sh runs every
// workload and regenerates docs/performance.md from the JSON records.
//
//	go run ./scripts/bench --mode dev --workflows 2000 --concurrency 100
//	go run ./scripts/bench --mode cluster
//	go run ./scripts/bench --mode dev --compare-temporal
//	go run ./scripts/bench --workload timers --workflows 100000 --pending 1000000
//	go run ./scripts/bench --workload idle,timers,install --idle 1000000 --workflows 100000
//	go run ./scripts/bench --mode cluster --workload leaderkill
//	go run ./scripts/bench --address 127.0.0.1:7233   # an engine you run
//	go run ./scripts/bench --report docs/performance.md --json results.jsonl
//
// Workloads: hello (throughput at --concurrency, then --serial one at a
// time), timers, signals, idle, install, leaderkill; see workloads.go.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// result is one workload's figures on one target (one JSON record).
type result struct {
	Target   string    `json:"target"`
	Workload string    `json:"workload"`
	Figures  []figure  `json:"figures"`
	Notes    []string  `json:"notes,omitempty"`
	Command  string    `json:"command"`
	When     time.Time `json:"when"`
	CPUs     int       `json:"cpus"`
	Go       string    `json:"go"`
}

type figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

func (r *result) add(name string, v float64, unit string) {
	r.Figures = append(r.Figures, figure{name, v, unit})
}

func (r *result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

func (r result) get(name string) (float64, bool) {
	for _, f := range r.Figures {
		if f.Name == name {
			return f.Value, true
		}
	}
	return 0, false
}

// opts are the workload parameters from the command line.
type opts struct {
	n, conc, serial, warmup int
	pending, idle           int
	signals                 int
	duration, maxSleep      time.Duration
	rate                    float64
}

func main() {
	mode := flag.String("mode", "dev", "what to start: dev (one engine), cluster (three engines)")
	address := flag.String("address", "", "gRPC address of an engine you started (instead of --mode)")
	workloads := flag.String("workload", "hello", "comma-separated: hello, timers, signals, idle, install, leaderkill")
	var o opts
	flag.IntVar(&o.n, "workflows", 0, "workflows (default per workload: hello 2000, timers 100000, signals 1000; leaderkill runs for --duration)")
	flag.IntVar(&o.conc, "concurrency", 100, "operations in flight")
	flag.IntVar(&o.serial, "serial", 200, "hello: workflows run one at a time for the latency figure (0: skip)")
	flag.IntVar(&o.warmup, "warmup", 200, "hello: workflows run before measuring")
	flag.IntVar(&o.idle, "idle", 100000, "idle: workflows loaded to wait on a 24 h timer (memory, disk; install then copies them)")
	flag.IntVar(&o.pending, "pending", 0, "timers: idle workflows with a 24 h timer loaded first (pending timers beside the measured ones)")
	flag.IntVar(&o.signals, "signals", 20, "signals: signals per workflow")
	flag.Float64Var(&o.rate, "rate", 0, "timers: start at most this many workflows per second (0: as fast as --concurrency allows)")
	flag.DurationVar(&o.maxSleep, "max-sleep", 60*time.Second, "timers: each workflow sleeps a random 1 s to this")
	flag.DurationVar(&o.duration, "duration", 30*time.Second, "leaderkill: load duration (the leader is killed a third of the way in)")
	compare := flag.Bool("compare-temporal", false, "also run the hello workload on Temporal's dev server (temporal server start-dev) and print the ratio")
	temporalBin := flag.String("temporal-bin", "", "path of the temporal CLI (default: install the pinned version with go install)")
	out := flag.String("json", "", "append JSON records to this file")
	report := flag.String("report", "", "write the results table (markdown) from the --json records to this file and exit")
	flag.Parse()

	if *report != "" {
		if *out == "" {
			log.Fatal("--report needs --json (the records to read)")
		}
		must(writeReport(*out, *report))
		return
	}
	var tg target
	switch {
	case *address != "":
		tg = external(*address)
	case *mode == "dev":
		tg = raftflowTarget(1)
	case *mode == "cluster":
		tg = raftflowTarget(3)
	default:
		log.Fatalf("--mode %q: want dev or cluster (or --address)", *mode)
	}
	cmdline := "go run ./scripts/bench " + strings.Join(os.Args[1:], " ")
	var results []result
	d, err := tg.start()
	if err != nil {
		log.Fatalf("%s: %v", tg.name, err)
	}
	for _, w := range strings.Split(*workloads, ",") {
		rs, err := runWorkload(strings.TrimSpace(w), d, o)
		if err != nil {
			d.stop()
			log.Fatalf("%s %s: %v", tg.name, w, err)
		}
		for i := range rs {
			rs[i].Target = tg.name
		}
		results = append(results, rs...)
	}
	d.stop()
	if *compare {
		td, err := temporalTarget(*temporalBin).start()
		if err != nil {
			log.Fatalf("temporal: %v", err)
		}
		rs, err := hello(td, o)
		td.stop()
		if err != nil {
			log.Fatalf("temporal: %v", err)
		}
		for i := range rs {
			rs[i].Target = "temporal-dev-server"
		}
		results = append(results, compareResult(results, rs))
		results = append(results, rs...)
	}
	for i := range results {
		r := &results[i]
		r.Command, r.When, r.CPUs, r.Go = cmdline, time.Now().UTC(), runtime.NumCPU(), runtime.Version()
		fmt.Printf("%-20s %-11s", r.Target, r.Workload)
		for _, f := range r.Figures {
			fmt.Printf("  %s %s %s", f.Name, trim(f.Value), f.Unit)
		}
		fmt.Println()
		for _, n := range r.Notes {
			fmt.Printf("%-32s note: %s\n", "", n)
		}
	}
	if *out != "" {
		must(appendRecords(*out, results))
	}
}

// appendRecords appends results to the JSON-lines file path.
func appendRecords(path string, results []result) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(f)
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// compareResult puts the raftflow hello figures beside Temporal's.
func compareResult(ours, theirs []result) result {
	r := result{Target: "raftflow/temporal", Workload: "ratio"}
	find := func(rs []result, w, fig string) float64 {
		for _, x := range rs {
			if v, ok := x.get(fig); ok && x.Workload == w {
				return v
			}
		}
		return 0
	}
	if t := find(theirs, "hello", "throughput"); t > 0 {
		r.add("throughput", find(ours, "hello", "throughput")/t, "x")
	}
	if o := find(ours, "serial", "p50"); o > 0 {
		r.add("serial_p50_lower", find(theirs, "serial", "p50")/o, "x")
	}
	return r
}

func runWorkload(w string, d *deployment, o opts) ([]result, error) {
	switch w {
	case "hello":
		return hello(d, o)
	case "timers":
		return timers(d, o)
	case "signals":
		return signals(d, o)
	case "idle":
		return idle(d, o)
	case "install":
		return install(d)
	case "leaderkill":
		return leaderKill(d, o)
	}
	return nil, fmt.Errorf("unknown workload %q", w)
}

func trim(v float64) string {
	switch {
	case v == float64(int64(v)) && v < 1e15:
		return fmt.Sprintf("%d", int64(v))
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.2f", v)
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func repoRoot() string {
	dir, _ := os.Getwd()
	for d := dir; d != "/"; d = filepath.Dir(d) {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/raftflow/engine") {
			return d
		}
	}
	return dir
}
