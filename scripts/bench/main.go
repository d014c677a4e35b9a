// Command bench drives a workflow engine with the official Temporal Go SDK
// (worker and starters in this process) and prints throughput and
// start-to-result latency. It can start what it measures itself: a dev
// engine, a 3-node raftflow cluster on this machine, or Temporal's own dev
// server (for --compare-temporal), one after the other, with the same
// client and workload.
//
//	go run ./scripts/bench --mode dev --workflows 2000 --concurrency 100
//	go run ./scripts/bench --mode cluster
//	go run ./scripts/bench --mode dev --compare-temporal
//	go run ./scripts/bench --address 127.0.0.1:7233   # an engine you run
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/raftflow/engine/samples/helloworld"
)

type result struct {
	Target      string    `json:"target"`
	Workload    string    `json:"workload"`
	Workflows   int       `json:"workflows"`
	Concurrency int       `json:"concurrency"`
	Seconds     float64   `json:"seconds"`
	PerSecond   float64   `json:"workflows_per_second"`
	P50ms       float64   `json:"latency_p50_ms"`
	P99ms       float64   `json:"latency_p99_ms"`
	Maxms       float64   `json:"latency_max_ms"`
	Errors      int       `json:"errors"`
	When        time.Time `json:"when"`
	CPUs        int       `json:"cpus"`
	GoVersion   string    `json:"go"`
}

func main() {
	mode := flag.String("mode", "dev", "what to start: dev (one engine), cluster (three engines), none (use --address)")
	address := flag.String("address", "", "gRPC address of an engine you started (implies --mode none)")
	n := flag.Int("workflows", 1000, "hello-world workflows to run")
	conc := flag.Int("concurrency", 100, "workflows in flight")
	serial := flag.Int("serial", 200, "workflows run one at a time for the latency figure (0: skip)")
	warmup := flag.Int("warmup", 100, "workflows run before measuring")
	compare := flag.Bool("compare-temporal", false, "also run Temporal's dev server (temporal server start-dev) and print the ratio")
	temporalBin := flag.String("temporal-bin", "", "path of the temporal CLI (default: install the pinned version with go install)")
	out := flag.String("json", "", "append JSON records to this file")
	flag.Parse()

	targets := []target{}
	switch {
	case *address != "":
		targets = append(targets, external(*address))
	case *mode == "dev":
		targets = append(targets, raftflowTarget(1))
	case *mode == "cluster":
		targets = append(targets, raftflowTarget(3))
	default:
		log.Fatalf("--mode %q needs --address", *mode)
	}
	if *compare {
		targets = append(targets, temporalTarget(*temporalBin))
	}
	var results []result
	for _, tg := range targets {
		addr, stop, err := tg.start()
		if err != nil {
			log.Fatalf("%s: %v", tg.name, err)
		}
		rs, err := measure(tg.name, addr, *n, *conc, *serial, *warmup)
		stop()
		if err != nil {
			log.Fatalf("%s: %v", tg.name, err)
		}
		results = append(results, rs...)
	}
	for _, r := range results {
		fmt.Printf("%-22s %-10s n=%-6d c=%-4d %8.1f wf/s  p50 %7.2f ms  p99 %7.2f ms  max %7.2f ms  errors %d\n",
			r.Target, r.Workload, r.Workflows, r.Concurrency, r.PerSecond, r.P50ms, r.P99ms, r.Maxms, r.Errors)
	}
	if *compare && len(results) >= 4 {
		fmt.Printf("ratio raftflow/temporal: throughput %.1fx, serial p50 latency %.1fx lower\n",
			results[0].PerSecond/results[2].PerSecond, results[3].P50ms/results[1].P50ms)
	}
	if *out != "" {
		f, err := os.OpenFile(*out, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			log.Fatal(err)
		}
		enc := json.NewEncoder(f)
		for _, r := range results {
			enc.Encode(r)
		}
		f.Close()
	}
}

type quiet struct{}

func (quiet) Debug(string, ...interface{}) {}
func (quiet) Info(string, ...interface{})  {}
func (quiet) Warn(string, ...interface{})  {}
func (quiet) Error(string, ...interface{}) {}

// measure runs the throughput workload (n workflows, conc in flight) and the
// serial latency workload against addr.
func measure(name, addr string, n, conc, serial, warmup int) ([]result, error) {
	c, err := dialRetry(addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	tq := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	w := worker.New(c, tq, worker.Options{MaxConcurrentWorkflowTaskPollers: 4, MaxConcurrentActivityTaskPollers: 4})
	w.RegisterWorkflow(helloworld.Workflow)
	w.RegisterActivity(helloworld.Activity)
	if err := w.Start(); err != nil {
		return nil, err
	}
	defer w.Stop()
	if warmup > 0 {
		run(c, tq, "warmup", warmup, min(conc, warmup))
	}
	var out []result
	out = append(out, run(c, tq, "hello", n, conc))
	out[len(out)-1].Target = name
	if serial > 0 {
		r := run(c, tq, "serial", serial, 1)
		r.Target = name
		out = append(out, r)
	}
	return out, nil
}

func dialRetry(addr string) (client.Client, error) {
	var lastErr error
	for i := 0; i < 100; i++ {
		c, err := client.Dial(client.Options{HostPort: addr, Logger: quiet{}})
		if err == nil {
			return c, nil
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	return nil, lastErr
}

// run executes n hello-world workflows with conc in flight.
func run(c client.Client, tq, workload string, n, conc int) result {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	lat := make([]time.Duration, n)
	var errs atomic.Int64
	var next atomic.Int64
	var wg sync.WaitGroup
	prefix := fmt.Sprintf("%s-%s-%d", tq, workload, time.Now().UnixNano())
	start := time.Now()
	for g := 0; g < conc; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				t0 := time.Now()
				r, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-%d", prefix, i), TaskQueue: tq}, helloworld.Workflow, "bench")
				if err == nil {
					var s string
					err = r.Get(ctx, &s)
				}
				if err != nil {
					errs.Add(1)
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return result{
		Workload: workload, Workflows: n, Concurrency: conc, Seconds: el.Seconds(),
		PerSecond: float64(n) / el.Seconds(), P50ms: ms(lat[n/2]), P99ms: ms(lat[min(n-1, n*99/100)]), Maxms: ms(lat[n-1]),
		Errors: int(errs.Load()), When: time.Now().UTC(), CPUs: runtime.NumCPU(), GoVersion: runtime.Version(),
	}
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
