// Command chaos runs one jepsen run outside go test (scripts/chaos.sh):
//
//	chaos --nemesis all --time-limit 30m --seed 7 [--out DIR] [--chaos-build]
//	chaos --repro DIR      # replay DIR/schedule.json (same faults, same times)
//
// It exits 1 when a checker fails, 2 when the harness itself fails.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/raftflow/engine/jepsen"
)

func main() {
	nemesis := flag.String("nemesis", "all", "comma-separated fault kinds or groups (kill, pause, partition, loss, client, membership, clock, all)")
	limit := flag.Duration("time-limit", 60*time.Second, "traffic duration")
	seed := flag.Int64("seed", time.Now().UnixNano()%1_000_000, "schedule seed")
	out := flag.String("out", "", "report directory (default: a new dir under $TMPDIR/raftflow-jepsen)")
	repro := flag.String("repro", "", "replay the schedule recorded in this report directory")
	chaosBuild := flag.Bool("chaos-build", false, "use the -tags chaos engine build (needed for clock skew; on by default when the clock nemesis is selected)")
	bug := flag.String("bug", "", "arm the chaos build's deliberate bug (drop-signal), to see the checkers fail")
	flag.Parse()
	if why := jepsen.NeedsRoot(); why != "" {
		fmt.Fprintln(os.Stderr, why)
		os.Exit(2)
	}
	var sched *jepsen.Schedule
	kinds, err := jepsen.ParseNemeses(*nemesis)
	if err != nil {
		fatal(err)
	}
	if *repro != "" {
		if sched, err = jepsen.LoadSchedule(filepath.Join(*repro, "schedule.json")); err != nil {
			fatal(err)
		}
		kinds, *seed, *limit = sched.Nemeses, sched.Seed, sched.Duration
		if b, err := os.ReadFile(filepath.Join(*repro, "run.json")); err == nil {
			var prev runInfo
			if json.Unmarshal(b, &prev) == nil {
				*chaosBuild, *bug = prev.ChaosBuild, prev.Bug
			}
		}
	}
	for _, k := range kinds {
		if k == jepsen.ClockSkew {
			*chaosBuild = true
		}
	}
	if *bug != "" {
		*chaosBuild = true
	}
	tags := ""
	if *chaosBuild {
		tags = "chaos"
	}
	bin, err := jepsen.EngineBinary(tags)
	if err != nil {
		fatal(err)
	}
	dir := *out
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "raftflow-jepsen", fmt.Sprintf("%s-chaos-seed%d", time.Now().Format("20060102-150405"), *seed))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fatal(err)
	}
	info := runInfo{Seed: *seed, Nemeses: kinds, Duration: limit.String(), ChaosBuild: *chaosBuild, Bug: *bug, Repro: *repro}
	b, _ := json.MarshalIndent(info, "", "  ")
	os.WriteFile(filepath.Join(dir, "run.json"), b, 0o644)
	var env []string
	if *bug != "" {
		env = append(env, "RAFTFLOW_CHAOS_BUG="+*bug)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	fmt.Printf("report: %s\n", dir)
	res, err := jepsen.Run(ctx, jepsen.Config{
		Name: "chaos", Bin: bin, Dir: dir, Seed: *seed, Nemeses: kinds, Duration: *limit, Schedule: sched, Env: env,
		// Long runs leave far more workflows to finish after the final heal.
		LivenessBound: max(3*time.Minute, *limit/3),
	})
	if err != nil {
		fatal(err)
	}
	s, _ := os.ReadFile(filepath.Join(dir, "summary.txt"))
	os.Stdout.Write(s)
	fmt.Printf("report: %s\n", dir)
	if !res.Valid {
		os.Exit(1)
	}
}

type runInfo struct {
	Seed       int64    `json:"seed"`
	Nemeses    []string `json:"nemeses"`
	Duration   string   `json:"duration"`
	ChaosBuild bool     `json:"chaos_build"`
	Bug        string   `json:"bug,omitempty"`
	Repro      string   `json:"repro_of,omitempty"`
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "chaos:", err)
	os.Exit(2)
}
