package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/samples/helloworld"
	"github.com/raftflow/engine/sdk"
)

type quiet struct{}

func (quiet) Debug(string, ...interface{}) {}
func (quiet) Info(string, ...interface{})  {}
func (quiet) Warn(string, ...interface{})  {}
func (quiet) Error(string, ...interface{}) {}

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

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// pollers is the worker's poller count for each kind of task. Eager start
// and eager activities hand most tasks out with other answers, but the
// workflow task after an activity is polled (from the sticky queue): with
// the SDK's default of 2 pollers, each waiting a raft commit per task, the
// pollers cap throughput well below what engine and worker can do.
var pollers = 16

// withWorker dials addr, starts a worker with the bench's workflows on a
// fresh task queue and calls fn.
func withWorker(c client.Client, fn func(tq string) error) error {
	tq := fmt.Sprintf("bench-%d", time.Now().UnixNano())
	w := worker.New(c, tq, worker.Options{MaxConcurrentWorkflowTaskPollers: pollers, MaxConcurrentActivityTaskPollers: pollers})
	w.RegisterWorkflow(helloworld.Workflow)
	w.RegisterActivity(helloworld.Activity)
	w.RegisterWorkflow(TimerWorkflow)
	w.RegisterWorkflow(SignalsWorkflow)
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop()
	return fn(tq)
}

// latencies are sorted durations with percentile helpers.
type latencies []time.Duration

func (l latencies) sorted() latencies { slices.Sort(l); return l }
func (l latencies) pct(p float64) float64 {
	if len(l) == 0 {
		return 0
	}
	return ms(l[min(len(l)-1, int(float64(len(l))*p))])
}
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// forEach runs fn(i) for i in [0, n) with conc goroutines.
func forEach(n, conc int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < min(conc, n); g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// ---- hello: throughput and serial latency ----

func hello(d *deployment, o opts) ([]result, error) {
	c, err := dialRetry(d.addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var out []result
	err = withWorker(c, func(tq string) error {
		if o.warmup > 0 {
			runHello(c, tq, "warmup", o.warmup, min(o.conc, o.warmup))
		}
		out = append(out, runHello(c, tq, "hello", orDefault(o.n, 2000), o.conc))
		if o.serial > 0 {
			out = append(out, runHello(c, tq, "serial", o.serial, 1))
		}
		return nil
	})
	return out, err
}

// runHello executes n hello-world workflows with conc in flight, started
// eagerly (the SDK's EnableEagerStart: the worker on this client gets the
// first workflow task in the start's answer) as a latency-minded Temporal
// user would.
func runHello(c client.Client, tq, workload string, n, conc int) result {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	lat := make(latencies, n)
	var errs atomic.Int64
	prefix := fmt.Sprintf("%s-%s-%d", tq, workload, time.Now().UnixNano())
	start := time.Now()
	forEach(n, conc, func(i int) {
		t0 := time.Now()
		r, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-%d", prefix, i), TaskQueue: tq, EnableEagerStart: true}, helloworld.Workflow, "bench")
		if err == nil {
			var s string
			err = r.Get(ctx, &s)
		}
		if err != nil {
			errs.Add(1)
		}
		lat[i] = time.Since(t0)
	})
	el := time.Since(start)
	lat.sorted()
	r := result{Workload: workload}
	if workload != "serial" {
		r.add("throughput", float64(n)/el.Seconds(), "wf/s")
	}
	r.add("p50", lat.pct(0.5), "ms")
	r.add("p99", lat.pct(0.99), "ms")
	r.add("max", ms(lat[n-1]), "ms")
	r.add("errors", float64(errs.Load()), "")
	r.note("%d workflows, %d in flight, %.1f s", n, conc, el.Seconds())
	return r
}

// ---- timers ----

// TimerWorkflow sleeps d and returns by how much its timer was late, as the
// workflow sees time (workflow.Now is the time of the workflow task that
// runs the code). The figure includes handing the task to the worker.
func TimerWorkflow(ctx workflow.Context, d time.Duration) (time.Duration, error) {
	t0 := workflow.Now(ctx)
	if err := workflow.Sleep(ctx, d); err != nil {
		return 0, err
	}
	return workflow.Now(ctx).Sub(t0) - d, nil
}

// timers starts n workflows that each sleep a random 1 s to o.maxSleep, optionally on
// top of o.pending idle workflows with a 24 h timer, and reports fire
// lateness: as the engine measured it (its histogram), as the workflows saw
// it, and from the history of a sample (TimerFired against TimerStarted +
// duration: never early).
func timers(d *deployment, o opts) ([]result, error) {
	n := orDefault(o.n, 100000)
	r := result{Workload: "timers"}
	if o.pending > 0 {
		lr, err := loadIdle(d.addr, o.pending, max(o.conc, 200), 24*time.Hour, false)
		if err != nil {
			return nil, err
		}
		r.note("%d idle workflows with a 24 h timer loaded first (%.0f/s)", o.pending, lr)
	}
	c, err := dialRetry(d.addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	var before map[string]float64
	ld := d.leaderOrNil()
	if ld != nil {
		before, _ = scrape(ld.http)
		r.add("pending_timers_before", before["raftflow_timers_pending"], "")
	}
	err = withWorker(c, func(tq string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
		defer cancel()
		runs := make([]client.WorkflowRun, n)
		sleeps := make([]time.Duration, n)
		var errs atomic.Int64
		rng := rand.New(rand.NewPCG(uint64(n), 7))
		for i := range sleeps {
			sleeps[i] = time.Second + time.Duration(rng.Int64N(int64(max(o.maxSleep-time.Second, 1))))
		}
		t0 := time.Now()
		forEach(n, o.conc, func(i int) {
			if o.rate > 0 { // paced: the timers, not the starts, are the load
				time.Sleep(time.Until(t0.Add(time.Duration(float64(i) / o.rate * float64(time.Second)))))
			}
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-t-%d", tq, i), TaskQueue: tq, EnableEagerStart: true}, TimerWorkflow, sleeps[i])
			if err != nil {
				errs.Add(1)
				return
			}
			runs[i] = run
		})
		started := time.Since(t0)
		var seen, hist lateness
		forEach(n, o.conc, func(i int) {
			if runs[i] == nil {
				return
			}
			var late time.Duration
			if err := runs[i].Get(ctx, &late); err != nil {
				errs.Add(1)
				return
			}
			seen.record(late)
		})
		r.add("workflows", float64(n), "")
		r.add("start_rate", float64(n)/started.Seconds(), "wf/s")
		if o.pending > 0 {
			r.note("%d timer workflows started at %.0f/s on top of %d pending 24 h timers", n, float64(n)/started.Seconds(), o.pending)
		}
		seen.figures(&r, "seen")
		// Exact check on a sample: the engine's own event times.
		sample := min(n, 2000)
		forEach(sample, 50, func(k int) {
			i := k * n / sample
			if runs[i] == nil {
				return
			}
			ev, err := timerEvents(ctx, c, runs[i])
			if err != nil {
				errs.Add(1)
				return
			}
			hist.record(ev.fired.Sub(ev.started) - ev.d)
		})
		r.add("history_sample", float64(len(hist.l)), "")
		hist.figures(&r, "history")
		r.add("errors", float64(errs.Load()), "")
		return nil
	})
	if ld != nil && before != nil {
		after, _ := scrape(ld.http)
		r.add("engine_late_p99", histQuantile(before, after, "raftflow_timers_fire_lateness_seconds", 0.99)*1000, "ms")
	}
	return []result{r}, err
}

// lateness collects timer lateness from many goroutines.
type lateness struct {
	mu    sync.Mutex
	l     latencies
	early int
}

func (x *lateness) record(late time.Duration) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.l = append(x.l, late)
	if late < 0 {
		x.early++
	}
}

// figures adds prefix_late_p50, prefix_late_p99 and prefix_early.
func (x *lateness) figures(r *result, prefix string) {
	x.l.sorted()
	r.add(prefix+"_late_p50", x.l.pct(0.5), "ms")
	r.add(prefix+"_late_p99", x.l.pct(0.99), "ms")
	r.add(prefix+"_early", float64(x.early), "")
}

type timerEv struct {
	started, fired time.Time
	d              time.Duration
}

func timerEvents(ctx context.Context, c client.Client, run client.WorkflowRun) (timerEv, error) {
	var ev timerEv
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return ev, err
		}
		switch e.EventType {
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			ev.started, ev.d = e.EventTime.AsTime(), e.GetTimerStartedEventAttributes().StartToFireTimeout.AsDuration()
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			ev.fired = e.EventTime.AsTime()
		}
	}
	if ev.started.IsZero() || ev.fired.IsZero() {
		return ev, errors.New("no TimerStarted/TimerFired pair")
	}
	return ev, nil
}

// histQuantile estimates quantile q of what a Prometheus histogram observed
// between two scrapes (upper bound of the bucket holding it).
func histQuantile(before, after map[string]float64, name string, q float64) float64 {
	type bucket struct{ le, n float64 }
	var bs []bucket
	for k, v := range after {
		var le float64
		if _, err := fmt.Sscanf(k, name+`_bucket{le="%g"}`, &le); err == nil {
			bs = append(bs, bucket{le, v - before[k]})
		}
	}
	sort.Slice(bs, func(i, j int) bool { return bs[i].le < bs[j].le })
	if len(bs) == 0 || bs[len(bs)-1].n == 0 {
		return 0
	}
	total := bs[len(bs)-1].n
	for _, b := range bs {
		if b.n >= q*total {
			return b.le
		}
	}
	return bs[len(bs)-1].le
}

// ---- signals ----

// SignalsWorkflow waits for k signals named "s" and returns how many came.
func SignalsWorkflow(ctx workflow.Context, k int) (int, error) {
	ch := workflow.GetSignalChannel(ctx, "s")
	got := 0
	for got < k {
		ch.Receive(ctx, nil)
		got++
	}
	return got, nil
}

// signals starts n workflows waiting for o.signals signals each, sends them
// all with o.conc senders and checks every workflow counted exactly its own.
func signals(d *deployment, o opts) ([]result, error) {
	n, k := orDefault(o.n, 1000), o.signals
	c, err := dialRetry(d.addr)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	r := result{Workload: "signals"}
	err = withWorker(c, func(tq string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		runs := make([]client.WorkflowRun, n)
		var errs atomic.Int64
		forEach(n, o.conc, func(i int) {
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-s-%d", tq, i), TaskQueue: tq, EnableEagerStart: true}, SignalsWorkflow, k)
			if err != nil {
				errs.Add(1)
			}
			runs[i] = run
		})
		lat := make(latencies, n*k)
		t0 := time.Now()
		forEach(n*k, o.conc, func(j int) {
			i := j % n // round robin: consecutive sends go to different workflows
			if runs[i] == nil {
				return
			}
			s := time.Now()
			if err := c.SignalWorkflow(ctx, runs[i].GetID(), runs[i].GetRunID(), "s", nil); err != nil {
				errs.Add(1)
			}
			lat[j] = time.Since(s)
		})
		el := time.Since(t0)
		var wrong atomic.Int64
		forEach(n, o.conc, func(i int) {
			var got int
			if runs[i] == nil {
				return
			}
			if err := runs[i].Get(ctx, &got); err != nil || got != k {
				wrong.Add(1)
			}
		})
		all := time.Since(t0)
		lat.sorted()
		r.add("signals_per_s", float64(n*k)/el.Seconds(), "/s")
		r.add("signal_p50", lat.pct(0.5), "ms")
		r.add("signal_p99", lat.pct(0.99), "ms")
		r.add("workflows_wrong_count", float64(wrong.Load()), "")
		r.add("errors", float64(errs.Load()), "")
		r.note("%d workflows x %d signals, %d senders; all delivered and counted in %.1f s", n, k, o.conc, all.Seconds())
		return nil
	})
	return []result{r}, err
}

// ---- idle workflows: memory and disk ----

// idle loads o.idle workflows that wait on a 24 h timer (the costlier kind
// of idle: the timer also sits in the leader's timer service) and reports
// the leader's memory and disk per workflow as a slope: measured after the
// first half and after the second, each time after a garbage collection
// and a raft snapshot (which compacts the log), so fixed costs (Pebble's
// cache and memtables, the Go runtime, the raft log buffer) cancel out.
func idle(d *deployment, o opts) ([]result, error) {
	n := o.idle
	ld, err := d.leader()
	if err != nil {
		return nil, errors.New("idle needs a raftflow target the bench started (for memory and disk)")
	}
	r := result{Workload: "idle"}
	type sample struct{ rss, heap, state, snaps, log float64 }
	measure := func() (sample, error) {
		if err := snapshotNode(d, ld); err != nil {
			return sample{}, err
		}
		time.Sleep(2 * time.Second) // the snapshot's log compaction, then a quiet heap
		if resp, err := http.Get("http://" + ld.http + "/debug/pprof/heap?gc=1"); err == nil {
			resp.Body.Close()
		}
		m, _ := scrape(ld.http)
		return sample{
			rss: float64(rssBytes(ld.cmd.Process.Pid)), heap: m["go_memstats_heap_inuse_bytes"],
			state: float64(diskBytes(filepath.Join(ld.dir, "fsm"))), snaps: float64(diskBytes(filepath.Join(ld.dir, "raft", "snapshots"))),
			log: float64(diskBytes(filepath.Join(ld.dir, "raft", "raft.db"))),
		}, nil
	}
	var rate float64
	var at [2]sample
	for half := 0; half < 2; half++ {
		if rate, err = loadIdle(d.addr, n/2, max(o.conc, 200), 24*time.Hour, false); err != nil {
			return nil, err
		}
		if at[half], err = measure(); err != nil {
			return nil, err
		}
	}
	per := func(f func(sample) float64) float64 { return (f(at[1]) - f(at[0])) / float64(n/2) }
	r.add("workflows", float64(n/2*2), "")
	r.add("rss_per_workflow", per(func(s sample) float64 { return s.rss }), "B")
	r.add("heap_per_workflow", per(func(s sample) float64 { return s.heap }), "B")
	r.add("state_disk_per_workflow", per(func(s sample) float64 { return s.state }), "B")
	r.add("snapshot_disk_per_workflow", per(func(s sample) float64 { return s.snaps }), "B")
	r.add("disk_per_workflow", per(func(s sample) float64 { return s.state + s.snaps + s.log }), "B")
	m, _ := scrape(ld.http)
	r.add("pending_timers", m["raftflow_timers_pending"], "")
	r.add("leader_rss", at[1].rss/(1<<20), "MiB")
	r.add("leader_raft_log_file", at[1].log/(1<<20), "MiB")
	r.note("loaded %d idle workflows at %.0f/s (raw gRPC: eager start + one workflow task completion starting the timer); per-workflow figures are the slope between %d and %d",
		n/2*2, rate, n/2, n/2*2)
	return []result{r}, nil
}

func snapshotNode(d *deployment, nd *node) error {
	out, err := exec.Command(d.bin, "cluster", "snapshot", "--address", nd.grpc).CombinedOutput()
	if err != nil {
		return fmt.Errorf("snapshot: %v: %s", err, out)
	}
	return nil
}

// install adds a fresh node to the cluster and times it from process start
// to having applied everything the leader had when it started: a snapshot
// install of the whole state plus the log after it.
func install(d *deployment) ([]result, error) {
	ld, err := d.leader()
	if err != nil {
		return nil, errors.New("install needs a raftflow target the bench started")
	}
	if err := snapshotNode(d, ld); err != nil {
		return nil, err
	}
	m, _ := scrape(ld.http)
	want := m["raftflow_fsm_applied_index"]
	t0 := time.Now()
	nd, err := d.startNode(fmt.Sprintf("n%d", len(d.nodes)+1), ld.grpc, false)
	if err != nil {
		return nil, err
	}
	for {
		if mm, err := scrape(nd.http); err == nil && mm["raftflow_fsm_applied_index"] >= want {
			break
		}
		if time.Since(t0) > 30*time.Minute {
			return nil, errors.New("new node did not catch up in 30 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	el := time.Since(t0)
	r := result{Workload: "install"}
	r.add("catch_up", el.Seconds(), "s")
	r.add("leader_applied_index", want, "")
	r.add("new_node_disk", float64(diskBytes(nd.dir))/(1<<20), "MiB")
	return []result{r}, nil
}

// leaderOrNil is the leader when the bench runs raftflow itself.
func (d *deployment) leaderOrNil() *node {
	if len(d.nodes) == 0 {
		return nil
	}
	ld, _ := d.leader()
	return ld
}

// ---- leader kill under load ----

// leaderKill runs hello workflows through sdk.Dial (all nodes) for
// o.duration, SIGKILLs the leader a third of the way in, and reports the
// time until a write is accepted again (a probe starting a workflow every
// 10 ms) and until completions per second are back to 80 % of the rate
// before the kill.
func leaderKill(d *deployment, o opts) ([]result, error) {
	if len(d.nodes) < 3 {
		return nil, errors.New("leaderkill needs --mode cluster")
	}
	var eps []string
	for _, nd := range d.nodes {
		eps = append(eps, nd.grpc)
	}
	c, err := sdk.Dial(context.Background(), sdk.Options{Endpoints: eps, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	r := result{Workload: "leaderkill"}
	err = withWorker(c, func(tq string) error {
		ctx, cancel := context.WithTimeout(context.Background(), o.duration+2*time.Minute)
		defer cancel()
		runHello(c, tq, "warmup", o.warmup, min(o.conc, max(o.warmup, 1)))
		var mu sync.Mutex
		var done []time.Time
		stop := make(chan struct{})
		var seq atomic.Int64
		var wg sync.WaitGroup
		t0 := time.Now()
		for g := 0; g < o.conc; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("%s-lk-%d", tq, seq.Add(1))
					run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: tq, EnableEagerStart: true}, helloworld.Workflow, "bench")
					if err == nil {
						var s string
						err = run.Get(ctx, &s)
					}
					if err == nil {
						mu.Lock()
						done = append(done, time.Now())
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(o.duration / 3)
		ld, err := d.leader()
		if err != nil {
			return err
		}
		killAt := time.Now()
		ld.cmd.Process.Signal(syscall.SIGKILL)
		ld.cmd.Wait()
		// Probe: the first acknowledged start invoked after the kill.
		var accepted time.Duration
		for i := 0; ; i++ {
			pctx, pcancel := context.WithTimeout(ctx, time.Second)
			_, err := c.ExecuteWorkflow(pctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s-probe-%d", tq, i), TaskQueue: tq + "-probe"}, helloworld.Workflow, "probe")
			pcancel()
			if err == nil {
				accepted = time.Since(killAt)
				break
			}
			if time.Since(killAt) > time.Minute {
				return errors.New("no write accepted within a minute of the kill")
			}
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Until(t0.Add(o.duration)))
		close(stop)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		// Baseline: completions per second over the 5 s before the kill
		// (after a 2 s ramp); recovery: the end of the first 1 s window
		// after the kill whose rate is back to 80 % of it.
		from := killAt.Add(-5 * time.Second)
		if ramp := t0.Add(2 * time.Second); ramp.After(from) {
			from = ramp
		}
		base := rate(done, from, killAt)
		var back time.Duration = -1
		for w := killAt; w.Add(time.Second).Before(t0.Add(o.duration)); w = w.Add(100 * time.Millisecond) {
			if rate(done, w, w.Add(time.Second)) >= 0.8*base {
				back = w.Add(time.Second).Sub(killAt)
				break
			}
		}
		r.add("writes_accepted_after", accepted.Seconds(), "s")
		r.add("throughput_80pct_after", back.Seconds(), "s")
		r.add("throughput_before", base, "wf/s")
		r.add("throughput_after", rate(done, killAt.Add(10*time.Second), t0.Add(o.duration)), "wf/s")
		r.note("leader %s killed %.0f s into a %.0f s run with %d in flight through sdk.Dial (all nodes); %d workflows completed",
			ld.id, killAt.Sub(t0).Seconds(), o.duration.Seconds(), o.conc, len(done))
		return nil
	})
	return []result{r}, err
}

// rate is completions per second within [from, to).
func rate(done []time.Time, from, to time.Time) float64 {
	n := 0
	for _, t := range done {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return float64(n) / to.Sub(from).Seconds()
}
