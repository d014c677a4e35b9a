package queue

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func task(key, ns, q string, kind Kind) Task {
	return Task{Key: []byte(key), Namespace: ns, Queue: q, Kind: kind, Payload: key}
}

func wf(key string) Task { return task(key, "ns", "q", KindWorkflow) }

// mustPoll polls and fails the test unless it gets a task.
func mustPoll(t *testing.T, m *Manager, ns, q string, kind Kind) Task {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	got, ok, err := m.Poll(ctx, ns, q, kind)
	if err != nil || !ok {
		t.Fatalf("Poll(%s/%s/%v) = %v, %v; want a task", ns, q, kind, ok, err)
	}
	return got
}

func wantKeys(t *testing.T, m *Manager, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if got := string(mustPoll(t, m, "ns", "q", KindWorkflow).Key); got != k {
			t.Fatalf("Poll got %q, want %q", got, k)
		}
	}
	assertEmpty(t, m)
}

// assertEmpty checks that no queue is left behind, tasks or pollers.
func assertEmpty(t *testing.T, m *Manager) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.queues) != 0 || len(m.keys) != 0 {
		t.Fatalf("leftover state: %d queues, %d keys", len(m.queues), len(m.keys))
	}
}

func TestFIFO(t *testing.T) {
	m := NewManager()
	m.Start(nil)
	for i := range 5 {
		m.Add(wf(fmt.Sprint(i)))
	}
	if s := m.Stats(); len(s) != 1 || s[0].Backlog != 5 || s[0].Pollers != 0 {
		t.Fatalf("Stats = %+v", s)
	}
	wantKeys(t, m, "0", "1", "2", "3", "4")
}

func TestStartWithBacklog(t *testing.T) {
	m := NewManager()
	m.Start([]Task{wf("a"), wf("b"), wf("a"), wf("c")}) // duplicate in the scan
	m.Add(wf("b"))                                      // hint overlapping the scan
	m.Add(wf("d"))
	wantKeys(t, m, "a", "b", "c", "d")
}

func TestStartReplaces(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewManager()
		m.Start([]Task{wf("old1"), wf("old2")})
		errc := make(chan error, 1)
		go func() {
			_, _, err := m.Poll(t.Context(), "ns", "other", KindWorkflow)
			errc <- err
		}()
		synctest.Wait()
		m.Start([]Task{wf("new")})
		if err := <-errc; !errors.Is(err, ErrNotActive) {
			t.Fatalf("poller across Start: err = %v, want ErrNotActive", err)
		}
		wantKeys(t, m, "new")
	})
}

func TestNotActive(t *testing.T) {
	m := NewManager()
	m.Add(wf("x"))
	m.Requeue(wf("y"))
	if _, ok, err := m.Poll(context.Background(), "ns", "q", KindWorkflow); ok || !errors.Is(err, ErrNotActive) {
		t.Fatalf("Poll before Start = %v, %v", ok, err)
	}
	m.Start(nil)
	m.Add(wf("z"))
	m.Stop()
	m.Add(wf("w"))
	if _, ok, err := m.Poll(context.Background(), "ns", "q", KindWorkflow); ok || !errors.Is(err, ErrNotActive) {
		t.Fatalf("Poll after Stop = %v, %v", ok, err)
	}
	m.Stop() // idempotent
	m.Start(nil)
	assertEmpty(t, m) // nothing from before Start or after Stop survived
}

func TestSyncMatchFIFOPollers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewManager()
		m.Start(nil)
		const n = 3
		got := make([]chan string, n)
		for i := range n {
			got[i] = make(chan string, 1)
			go func() {
				tk, ok, err := m.Poll(t.Context(), "ns", "q", KindWorkflow)
				if !ok || err != nil {
					t.Errorf("poller %d: %v %v", i, ok, err)
				}
				got[i] <- string(tk.Key)
			}()
			synctest.Wait() // poller i is now queued behind i-1
		}
		if s := m.Stats(); len(s) != 1 || s[0].Pollers != n || s[0].Backlog != 0 {
			t.Fatalf("Stats = %+v", s)
		}
		for i := range n {
			m.Add(wf(fmt.Sprint(i)))
		}
		for i := range n {
			if k := <-got[i]; k != fmt.Sprint(i) {
				t.Errorf("poller %d got %q", i, k)
			}
		}
		assertEmpty(t, m)
	})
}

func TestPollDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewManager()
		m.Start(nil)
		start := time.Now()
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		defer cancel()
		tk, ok, err := m.Poll(ctx, "ns", "q", KindWorkflow)
		if ok || err != nil || tk.Key != nil {
			t.Fatalf("Poll at deadline = %v, %v, %v", tk, ok, err)
		}
		if d := time.Since(start); d != 30*time.Second {
			t.Fatalf("Poll returned after %v", d)
		}
		assertEmpty(t, m)
		// A done ctx returns at once even with a task queued, and leaves it there.
		m.Add(wf("a"))
		if _, ok, err := m.Poll(ctx, "ns", "q", KindWorkflow); ok || err != nil {
			t.Fatalf("Poll with done ctx = %v, %v", ok, err)
		}
		wantKeys(t, m, "a")
	})
}

func TestStopWakesPollers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewManager()
		m.Start([]Task{task("other", "ns", "q2", KindActivity)})
		const n = 5
		errc := make(chan error, n)
		for i := range n {
			go func() {
				_, _, err := m.Poll(t.Context(), "ns", fmt.Sprint("q", i%2), KindWorkflow)
				errc <- err
			}()
		}
		synctest.Wait()
		m.Stop()
		for range n {
			if err := <-errc; !errors.Is(err, ErrNotActive) {
				t.Fatalf("err = %v, want ErrNotActive", err)
			}
		}
		if s := m.Stats(); len(s) != 0 {
			t.Fatalf("Stats after Stop = %+v", s)
		}
	})
}

func TestQueuesAreSeparate(t *testing.T) {
	m := NewManager()
	m.Start(nil)
	ids := []struct {
		ns, q string
		kind  Kind
	}{
		{"ns1", "q", KindWorkflow}, {"ns1", "q", KindActivity},
		{"ns2", "q", KindWorkflow}, {"ns1", "q2", KindWorkflow},
	}
	for i, id := range ids {
		m.Add(task(fmt.Sprint(i), id.ns, id.q, id.kind))
	}
	if s := m.Stats(); len(s) != len(ids) {
		t.Fatalf("Stats = %+v", s)
	}
	for i := len(ids) - 1; i >= 0; i-- {
		id := ids[i]
		if k := string(mustPoll(t, m, id.ns, id.q, id.kind).Key); k != fmt.Sprint(i) {
			t.Fatalf("queue %v got %q, want %d", id, k, i)
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, ok, _ := m.Poll(ctx, id.ns, id.q, id.kind); ok {
			t.Fatalf("queue %v had a second task", id)
		}
	}
	assertEmpty(t, m)
}

func TestRequeueGoesToFront(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewManager()
		m.Start([]Task{wf("a"), wf("b")})
		a := mustPoll(t, m, "ns", "q", KindWorkflow)
		m.Requeue(a)
		m.Requeue(wf("b")) // already queued: ignored
		wantKeys(t, m, "a", "b")

		// With a poller waiting, a requeued task goes straight to it.
		got := make(chan string, 1)
		go func() {
			tk, _, _ := m.Poll(t.Context(), "ns", "q", KindWorkflow)
			got <- string(tk.Key)
		}()
		synctest.Wait()
		m.Requeue(a)
		if k := <-got; k != "a" {
			t.Fatalf("got %q", k)
		}
		assertEmpty(t, m)
	})
}

func TestRemove(t *testing.T) {
	m := NewManager()
	m.Start([]Task{wf("a"), wf("b"), wf("c")})
	m.Remove([]byte("b"))
	m.Remove([]byte("nope"))
	wantKeys(t, m, "a", "c")
	m.Add(wf("x"))
	m.Remove([]byte("x"))
	assertEmpty(t, m) // removing the last task deletes the queue
	m.Add(wf("b"))    // a removed key may be added again
	wantKeys(t, m, "b")
}

func TestKeyIsCopied(t *testing.T) {
	m := NewManager()
	m.Start(nil)
	buf := []byte("k1")
	m.Add(Task{Key: buf, Namespace: "ns", Queue: "q", Kind: KindWorkflow})
	copy(buf, "k2") // an iterator reusing its buffer
	m.Add(Task{Key: buf, Namespace: "ns", Queue: "q", Kind: KindWorkflow})
	wantKeys(t, m, "k1", "k2")
}

// TestHandOffRacesCancel hands a task to a poller whose ctx is being
// cancelled at the same moment. Whichever side wins, the task is delivered
// exactly once and, if the poller gave up, sits at the FRONT of its queue.
func TestHandOffRacesCancel(t *testing.T) {
	for i := range 200 {
		synctest.Test(t, func(t *testing.T) {
			m := NewManager()
			m.Start(nil)
			ctx, cancel := context.WithCancel(t.Context())
			type res struct {
				tk  Task
				ok  bool
				err error
			}
			done := make(chan res, 1)
			go func() {
				tk, ok, err := m.Poll(ctx, "ns", "q", KindWorkflow)
				done <- res{tk, ok, err}
			}()
			synctest.Wait()
			if i%2 == 0 {
				cancel()
				m.Add(wf("a"))
			} else {
				m.Add(wf("a"))
				cancel()
			}
			m.Add(wf("b"))
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.ok {
				if string(r.tk.Key) != "a" {
					t.Fatalf("poller got %q", r.tk.Key)
				}
				wantKeys(t, m, "b")
			} else {
				wantKeys(t, m, "a", "b")
			}
		})
	}
}

// TestExactlyOnce runs producers and pollers with cancelling contexts against
// each other (real time, real scheduler) and checks every task is delivered
// exactly once.
func TestExactlyOnce(t *testing.T) {
	const (
		producers   = 8
		perProducer = 2000
		pollers     = 16
		queues      = 3
		total       = producers * perProducer
	)
	m := NewManager()
	m.Start(nil)
	var (
		delivered atomic.Int64
		counts    sync.Map // key → *atomic.Int32
		wg        sync.WaitGroup
	)
	deadline, stop := context.WithTimeout(context.Background(), 15*time.Second)
	defer stop()
	for p := range producers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(p), 1))
			for i := range perProducer {
				k := fmt.Sprintf("%d/%d", p, i)
				counts.Store(k, new(atomic.Int32))
				m.Add(task(k, "ns", fmt.Sprint(r.IntN(queues)), KindActivity))
			}
		})
	}
	for p := range pollers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(p), 2))
			for delivered.Load() < total && deadline.Err() == nil {
				var (
					ctx    context.Context
					cancel context.CancelFunc
				)
				if r.IntN(2) == 0 {
					// Cancel concurrently with the poll, at a random moment.
					ctx, cancel = context.WithCancel(deadline)
					spins := r.IntN(50)
					go func() {
						for range spins {
							runtime.Gosched()
						}
						cancel()
					}()
				} else {
					ctx, cancel = context.WithTimeout(deadline, time.Duration(r.IntN(200))*time.Microsecond)
				}
				tk, ok, err := m.Poll(ctx, "ns", fmt.Sprint(r.IntN(queues)), KindActivity)
				cancel()
				if err != nil {
					t.Error(err)
					return
				}
				if !ok {
					continue
				}
				if r.IntN(10) == 0 {
					m.Requeue(tk) // could not hand it out: give it back
					continue
				}
				v, _ := counts.Load(string(tk.Key))
				v.(*atomic.Int32).Add(1)
				delivered.Add(1)
			}
		})
	}
	wg.Wait()
	if deadline.Err() != nil {
		t.Fatalf("timed out with %d of %d delivered; stats %+v", delivered.Load(), total, m.Stats())
	}
	n := 0
	counts.Range(func(k, v any) bool {
		n++
		if c := v.(*atomic.Int32).Load(); c != 1 {
			t.Errorf("task %s delivered %d times", k, c)
		}
		return true
	})
	if n != total || delivered.Load() != total {
		t.Fatalf("%d keys, %d delivered, want %d", n, delivered.Load(), total)
	}
	assertEmpty(t, m)
}

func TestLargeBacklog(t *testing.T) {
	const n = 100_000
	backlog := make([]Task, n)
	for i := range backlog {
		backlog[i] = task(fmt.Sprintf("%08d", i), "ns", fmt.Sprint(i%10), KindWorkflow)
	}
	m := NewManager()
	m.Start(backlog)
	for i := 0; i < n; i += 7 {
		m.Remove(backlog[i].Key)
	}
	next := make([]int, 10) // per queue: expected next index
	got := 0
	for q := range 10 {
		next[q] = q
		for {
			for next[q] < n && next[q]%7 == 0 {
				next[q] += 10
			}
			if next[q] >= n {
				break
			}
			tk := mustPoll(t, m, "ns", fmt.Sprint(q), KindWorkflow)
			if want := fmt.Sprintf("%08d", next[q]); string(tk.Key) != want {
				t.Fatalf("queue %d: got %s want %s", q, tk.Key, want)
			}
			next[q] += 10
			got++
		}
	}
	if want := n - (n+6)/7; got != want {
		t.Fatalf("got %d tasks, want %d", got, want)
	}
	assertEmpty(t, m)
}

// TestHandOffAcrossTerms: a task handed to a poller that gives up after the
// leadership term ended is dropped, not pushed into the new term (whose
// backlog scan owns it).
func TestHandOffAcrossTerms(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		m := NewManager()
		m.Start(nil)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan bool, 1)
		go func() {
			_, ok, _ := m.Poll(ctx, "ns", "q", KindWorkflow)
			done <- ok
		}()
		synctest.Wait()
		cancel()
		m.Add(wf("a"))
		m.Start(nil) // new term, empty scan
		if <-done {
			t.Fatal("poller with a cancelled ctx returned a task")
		}
		assertEmpty(t, m)
	})
}

func TestKindString(t *testing.T) {
	for k, want := range map[Kind]string{KindWorkflow: "workflow", KindActivity: "activity", 7: "kind(7)"} {
		if got := k.String(); got != want {
			t.Errorf("%d: %q", k, got)
		}
	}
}
