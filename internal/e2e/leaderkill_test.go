// Package e2e runs real engine processes (the built binary) and drives them
// with the official Temporal Go SDK.
package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/raftflow/engine/internal/testutil"
	"github.com/raftflow/engine/samples/helloworld"
)

// TestLeaderKillUnderLoad: a 3-process cluster, the official SDK's worker
// and starter connected to a follower, N hello-world workflows; the leader is
// killed with SIGKILL mid-run. Every workflow must complete with the right
// result, and the killed node must rejoin and catch up after a restart.
func TestLeaderKillUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	n := 1000
	if v := os.Getenv("RAFTFLOW_E2E_WORKFLOWS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	p1 := newProc(t, "n1", nil)
	p1.start(t)
	testutil.EventuallyTrue(t, 30*time.Second, "n1 ready", p1.ready)
	p2 := newProc(t, "n2", []string{p1.grpc})
	p3 := newProc(t, "n3", []string{p1.grpc})
	p2.start(t)
	p3.start(t)
	procs := []*proc{p1, p2, p3}
	testutil.EventuallyTrue(t, 30*time.Second, "3 members, all ready", func() bool {
		for _, p := range procs {
			st, err := p.status()
			if err != nil || len(st.Members) != 3 || !p.ready() {
				return false
			}
		}
		return true
	})
	leader := func() *proc {
		for _, p := range procs {
			if st, err := p.status(); err == nil && p.alive() && st.State == "Leader" {
				return p
			}
		}
		return nil
	}
	lead := leader()
	if lead == nil {
		t.Fatal("no leader")
	}
	var follower *proc
	for _, p := range procs {
		if p != lead {
			follower = p
			break
		}
	}
	t.Logf("leader %s, clients on follower %s", lead.id, follower.id)

	c, err := client.Dial(client.Options{HostPort: follower.grpc, Logger: quietLogger{}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := worker.New(c, helloworld.TaskQueue, worker.Options{})
	w.RegisterWorkflow(helloworld.Workflow)
	w.RegisterActivity(helloworld.Activity)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var done atomic.Int64
	killed := make(chan time.Time, 1)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 50)
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			name := fmt.Sprintf("w%d", i)
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
				ID: "leaderkill-" + name, TaskQueue: helloworld.TaskQueue,
			}, helloworld.Workflow, name)
			if err != nil {
				errs <- fmt.Errorf("start %s: %w", name, err)
				return
			}
			var got string
			if err := run.Get(ctx, &got); err != nil {
				errs <- fmt.Errorf("result %s: %w", name, err)
				return
			}
			if want := "Hello " + name + "!"; got != want {
				errs <- fmt.Errorf("%s: got %q want %q", name, got, want)
				return
			}
			if done.Add(1) == int64(n/3) {
				lead.stop(syscall.SIGKILL)
				killed <- time.Now()
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	killAt := <-killed
	t.Logf("%d workflows completed in %v (leader %s killed after %d, at +%v)",
		done.Load(), time.Since(start).Round(time.Millisecond), lead.id, n/3, killAt.Sub(start).Round(time.Millisecond))

	// The killed node restarts from its data dir, ignores --join, catches up.
	lead.start(t)
	testutil.EventuallyTrue(t, 60*time.Second, "restarted node caught up", func() bool {
		var applied []string
		for _, p := range procs {
			st, err := p.status()
			if err != nil || st.LeaderID == "" || len(st.Members) != 3 {
				return false
			}
			applied = append(applied, st.AppliedIndex)
		}
		return applied[0] == applied[1] && applied[1] == applied[2]
	})
}

type quietLogger struct{}

func (quietLogger) Debug(string, ...interface{}) {}
func (quietLogger) Info(string, ...interface{})  {}
func (quietLogger) Warn(string, ...interface{})  {}
func (quietLogger) Error(string, ...interface{}) {}
