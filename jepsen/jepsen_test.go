package jepsen

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The CI matrix: each entry is a seeded nemesis schedule run for at least
// 60 s of traffic against three real engine processes with every checker.
var matrix = []struct {
	name    string
	nemeses string
	seed    int64
	chaos   bool // run the chaos-tag build (clock skew hook), bug switch off
}{
	{"kill", "kill", 1, false},
	{"pause", "pause", 2, false},
	{"partition", "partition", 3, false},
	{"loss-client", "loss,client", 4, false},
	{"membership", "membership,kill-leader", 5, false},
	{"clock-mixed", "clock,kill-leader,partition-leader,pause-leader", 6, true},
}

func skipUnlessRoot(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("jepsen: long test (real processes and faults); skipped in -short")
	}
	if why := NeedsRoot(); why != "" {
		t.Skip(why)
	}
}

func duration() time.Duration {
	if v := os.Getenv("RAFTFLOW_JEPSEN_DURATION"); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return 60 * time.Second
}

func reportDir(t *testing.T, name string) string {
	base := os.Getenv("RAFTFLOW_JEPSEN_OUT")
	if base == "" {
		base = filepath.Join(os.TempDir(), "raftflow-jepsen")
	}
	dir := filepath.Join(base, fmt.Sprintf("%s-%s", time.Now().Format("20060102-150405"), name))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

var (
	totalMu  sync.Mutex
	totalAck int
	recovery []int64
)

func TestMatrix(t *testing.T) {
	skipUnlessRoot(t)
	for _, m := range matrix {
		t.Run(m.name, func(t *testing.T) {
			tags := ""
			if m.chaos {
				tags = "chaos"
			}
			bin, err := EngineBinary(tags)
			if err != nil {
				t.Fatal(err)
			}
			kinds, err := ParseNemeses(m.nemeses)
			if err != nil {
				t.Fatal(err)
			}
			res, err := Run(context.Background(), Config{
				Name: m.name, Bin: bin, Dir: reportDir(t, m.name), Seed: m.seed, Nemeses: kinds,
				Duration: duration(), Logf: t.Logf,
			})
			if err != nil {
				t.Fatalf("harness: %v", err)
			}
			t.Logf("%s: %s (report %s, %v)", m.name, res.Summary(), res.Dir, res.Elapsed.Round(time.Second))
			totalMu.Lock()
			totalAck += res.Acked
			recovery = append(recovery, res.Recovery...)
			totalMu.Unlock()
			if !res.Valid {
				b, _ := os.ReadFile(filepath.Join(res.Dir, "summary.txt"))
				t.Errorf("checkers failed: %s\n%s", strings.Join(res.Failed(), ", "), b)
			}
		})
	}
	t.Logf("matrix: %d acknowledged operations; leader-kill recovery p50=%v p99=%v over %d kills",
		totalAck, Percentile(recovery, 50).Round(time.Millisecond), Percentile(recovery, 99).Round(time.Millisecond), len(recovery))
}

// TestBrokenBuildIsCaught runs the chaos-tag build with its signal-dropping
// bug switched on: the checkers must notice the lost acknowledged signals.
func TestBrokenBuildIsCaught(t *testing.T) {
	skipUnlessRoot(t)
	bin, err := EngineBinary("chaos")
	if err != nil {
		t.Fatal(err)
	}
	kinds, _ := ParseNemeses("kill-leader,partition-leader")
	res, err := Run(context.Background(), Config{
		Name: "broken-drop-signal", Bin: bin, Dir: reportDir(t, "broken-drop-signal"), Seed: 42, Nemeses: kinds,
		Duration: 25 * time.Second, Env: []string{"RAFTFLOW_CHAOS_BUG=drop-signal"}, Logf: t.Logf,
	})
	if err != nil {
		t.Fatalf("harness: %v", err)
	}
	t.Logf("broken build: %s (report %s)", res.Summary(), res.Dir)
	failed := map[string]bool{}
	for _, c := range res.Failed() {
		failed[c] = true
	}
	for _, want := range []string{"no-lost-acks", "linearizable"} {
		if !failed[want] {
			t.Errorf("the %s checker did not catch the dropped signals", want)
		}
	}
}
