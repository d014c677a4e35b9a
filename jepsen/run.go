// Package jepsen is raftflow's chaos harness: three real engine processes,
// each in its own network namespace, driven through the Temporal gRPC API
// while a seeded nemesis kills, pauses and partitions them; checkers then
// look for lost, duplicated or reordered workflow state. See README.md.
package jepsen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Config is one run.
type Config struct {
	Name     string
	Bin      string   // engine binary
	Dir      string   // report directory (created)
	Seed     int64    // schedule seed
	Nemeses  []string // fault kinds
	Duration time.Duration
	Schedule *Schedule // replay instead of drawing one (--repro)
	Env      []string  // extra engine environment (e.g. the chaos bug switch)
	Workload WorkloadConfig
	// Raft snapshot tuning passed to every engine (0: low chaos defaults).
	SnapshotThreshold, TrailingLogs int
	LivenessBound                   time.Duration
	Logf                            func(string, ...any)
}

// Result is a run's outcome.
type Result struct {
	Dir       string        `json:"dir"`
	Valid     bool          `json:"valid"`
	Verdicts  []Verdict     `json:"verdicts"`
	Ops       int           `json:"ops"`
	Acked     int           `json:"acknowledged"`
	Info      int           `json:"info"`
	Workflows int           `json:"workflows"`
	Recovery  []int64       `json:"leader_kill_recovery_ns"`
	Timeline  []Event       `json:"-"`
	Elapsed   time.Duration `json:"elapsed_ns"`
}

// Failed lists the checkers that failed.
func (r *Result) Failed() []string {
	var out []string
	for _, v := range r.Verdicts {
		if !v.Valid {
			out = append(out, v.Checker)
		}
	}
	return out
}

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// Run starts a cluster, drives traffic under the schedule, heals, checks and
// writes the report. An error means the harness itself failed (no verdict).
func Run(ctx context.Context, cfg Config) (*Result, error) {
	began := time.Now()
	logf := cfg.Logf
	if logf == nil {
		logf = func(f string, a ...any) { fmt.Fprintf(os.Stderr, f+"\n", a...) }
	}
	if cfg.LivenessBound == 0 {
		cfg.LivenessBound = 90 * time.Second
	}
	if cfg.SnapshotThreshold == 0 {
		cfg.SnapshotThreshold = 256
	}
	if cfg.TrailingLogs == 0 {
		cfg.TrailingLogs = 128
	}
	if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
		return nil, err
	}
	sched := cfg.Schedule
	if sched == nil {
		sched = NewSchedule(cfg.Seed, cfg.Nemeses, cfg.Duration)
	}
	if err := writeJSON(filepath.Join(cfg.Dir, "schedule.json"), sched); err != nil {
		return nil, err
	}
	args := []string{"--raft-snapshot-threshold", fmt.Sprint(cfg.SnapshotThreshold), "--raft-trailing-logs", fmt.Sprint(cfg.TrailingLogs)}
	cl, err := StartCluster(ctx, cfg.Bin, cfg.Dir, 3, cfg.Env, args)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	logf("jepsen %s: cluster up on %s.0/24 (%s); %d faults over %v", cfg.Name, cl.Net.Prefix, cl.Net.ID, len(sched.Faults), sched.Duration)

	rec := NewRecorder()
	w, err := NewWorkload(cl, rec, cfg.Workload, sched.Seed)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	nem := NewNemesis(cl, rec, logf)

	workCtx, stopWorkers := context.WithCancel(ctx)
	defer stopWorkers()
	var workers sync.WaitGroup
	workers.Add(1)
	go func() { defer workers.Done(); w.RunWorkers(workCtx) }()

	t0 := time.Now()
	trafficCtx, stopTraffic := context.WithTimeout(ctx, sched.Duration)
	var nemDone sync.WaitGroup
	nemDone.Add(1)
	go func() { defer nemDone.Done(); nem.Run(trafficCtx, sched, t0) }()
	w.Run(trafficCtx)
	stopTraffic()
	nemDone.Wait()

	// Final heal, then liveness.
	healAt := rec.Now()
	if err := nem.HealAll(); err != nil {
		logf("jepsen: heal: %v", err)
	}
	in := CheckInput{Dir: cfg.Dir}
	lctx, lcancel := context.WithTimeout(ctx, 60*time.Second)
	for cl.Leader() == nil && lctx.Err() == nil {
		sleepCtx(lctx, 100*time.Millisecond)
	}
	if cl.Leader() == nil {
		in.LeaderErr = errors.New("no leader within 60 s")
	}
	lcancel()
	in.LeaderAfter = time.Duration(rec.Now() - healAt)
	logf("jepsen %s: healed; leader after %v; finishing %d workflows", cfg.Name, in.LeaderAfter.Round(time.Millisecond), len(w.order))
	unfinished, ferr := w.Finalize(ctx, cfg.LivenessBound)
	if ferr != nil {
		logf("jepsen: finalize: %v", ferr)
	}
	in.Unfinished = unfinished
	stopWorkers()
	workers.Wait()

	// Convergence: every node at the same applied index with the same digest.
	if err := cl.WaitHealthy(ctx, 60*time.Second); err != nil {
		in.DigestErr = err
	} else {
		in.Digests, in.DigestErr = converge(ctx, cl)
	}
	ops := rec.Ops()
	in.Ops = ops
	timeline := nem.Timeline()
	verdicts := Check(in)
	res := &Result{Dir: cfg.Dir, Valid: true, Verdicts: verdicts, Timeline: timeline, Elapsed: time.Since(began)}
	for _, v := range verdicts {
		res.Valid = res.Valid && v.Valid
	}
	wfs := map[string]bool{}
	for _, op := range ops {
		res.Ops++
		switch op.Outcome {
		case OK:
			res.Acked++
		case Info:
			res.Info++
		}
		if op.WorkflowID != "" {
			wfs[op.WorkflowID] = true
		}
	}
	res.Workflows = len(wfs)
	res.Recovery = recoveryTimes(ops, timeline)
	if err := writeReport(cfg, res, ops, timeline); err != nil {
		return res, err
	}
	return res, nil
}

// converge polls every node's /digest until all report the same applied
// index and digest (or 3 minutes pass), and returns the last digests seen.
func converge(ctx context.Context, cl *Cluster) (map[string]*Digest, error) {
	deadline := time.Now().Add(3 * time.Minute)
	var last map[string]*Digest
	var lastErr error
	for time.Now().Before(deadline) && ctx.Err() == nil {
		last, lastErr = map[string]*Digest{}, nil
		same := true
		var ref *Digest
		for _, nd := range cl.Nodes {
			d, err := nd.Digest()
			if err != nil {
				lastErr = err
				same = false
				break
			}
			last[nd.ID] = d
			if ref == nil {
				ref = d
			} else if *d != *ref {
				same = false
			}
		}
		if same {
			return last, nil
		}
		sleepCtx(ctx, 200*time.Millisecond)
	}
	if lastErr != nil {
		return last, lastErr
	}
	return last, nil // the checker reports the difference
}

// recoveryTimes: for each leader kill, the time from the kill to the first
// acknowledged write invoked after it.
func recoveryTimes(ops []*Op, timeline []Event) []int64 {
	var out []int64
	for _, ev := range timeline {
		if ev.Kind != KillLeader || ev.Detail != "leader" {
			continue
		}
		best := int64(-1)
		for _, op := range ops {
			if op.Outcome != OK || op.Invoke < ev.Start {
				continue
			}
			switch op.Kind {
			case OpStart, OpSignal, OpCancel:
				if op.Result == "" || op.Result == ResStarted {
					if d := op.Complete - ev.Start; best < 0 || d < best {
						best = d
					}
				}
			}
		}
		if best >= 0 {
			out = append(out, best)
		}
	}
	return out
}

// Percentile of ns values (p in 0..100).
func Percentile(ns []int64, p float64) time.Duration {
	if len(ns) == 0 {
		return 0
	}
	s := append([]int64(nil), ns...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(p / 100 * float64(len(s)-1))
	return time.Duration(s[i])
}

// Summary is a one-line description of a result.
func (r *Result) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "valid=%v ops=%d acked=%d info=%d workflows=%d", r.Valid, r.Ops, r.Acked, r.Info, r.Workflows)
	if len(r.Recovery) > 0 {
		fmt.Fprintf(&b, " leader-kill recovery p50=%v p99=%v (n=%d)", Percentile(r.Recovery, 50).Round(time.Millisecond), Percentile(r.Recovery, 99).Round(time.Millisecond), len(r.Recovery))
	}
	if f := r.Failed(); len(f) > 0 {
		fmt.Fprintf(&b, " FAILED: %s", strings.Join(f, ", "))
	}
	return b.String()
}
