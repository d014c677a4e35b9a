package timers

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// Every test runs inside a synctest bubble with RealClock (or a clock built
// on it): time is fake and advances only when every goroutine in the bubble
// is blocked, so "sleep 5s" is instant and deterministic, and after it the term
// has done everything that was due in those 5s.

type call struct {
	at     time.Time // clock.Now() when Fire was called
	timers []Timer
}

// recorder is a FireFunc that records its calls; hook, if set, decides the
// outcome of call n (0-based).
type recorder struct {
	clock Clock
	mu    sync.Mutex
	calls []call
	hook  func(ctx context.Context, n int, due []Timer) ([]Timer, error)
}

func (r *recorder) fire(ctx context.Context, due []Timer) ([]Timer, error) {
	r.mu.Lock()
	n := len(r.calls)
	r.calls = append(r.calls, call{r.clock.Now(), slices.Clone(due)})
	hook := r.hook
	r.mu.Unlock()
	if hook != nil {
		return hook(ctx, n, due)
	}
	return nil, nil
}

func (r *recorder) snapshot() []call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// fired lists the keys of all timers passed to Fire, in order.
func (r *recorder) fired() []string {
	var keys []string
	for _, c := range r.snapshot() {
		for _, t := range c.timers {
			keys = append(keys, string(t.Key))
		}
	}
	return keys
}

// checkNeverEarly fails if any timer was passed to Fire before its FireAt.
func (r *recorder) checkNeverEarly(t *testing.T) {
	t.Helper()
	for _, c := range r.snapshot() {
		for _, tm := range c.timers {
			if c.at.Before(tm.FireAt) {
				t.Errorf("timer %s fired at %v, %v early", tm.Key, c.at, tm.FireAt.Sub(c.at))
			}
		}
	}
}

func newService(t *testing.T, r *recorder, mod func(*Config)) *Service {
	t.Helper()
	if r.clock == nil {
		r.clock = RealClock
	}
	cfg := Config{Clock: r.clock, Fire: r.fire}
	if mod != nil {
		mod(&cfg)
	}
	return New(cfg)
}

// start loads a term, waits until it is idle, and returns a function that
// cancels it and waits for its firing goroutine to return.
func start(t *testing.T, s *Service, pending []Timer) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := s.Load(ctx, pending)
	synctest.Wait()
	return func() {
		cancel()
		<-done
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func tm(key string, at time.Time) Timer { return Timer{Key: []byte(key), FireAt: at} }

func TestFiresInOrderNeverEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		r := &recorder{}
		var (
			mu       sync.Mutex
			lateness []time.Duration
		)
		s := newService(t, r, func(c *Config) {
			c.OnFired = func(d time.Duration) {
				mu.Lock()
				lateness = append(lateness, d)
				mu.Unlock()
			}
		})
		stop := start(t, s, []Timer{
			tm("c", base.Add(3*time.Second)),
			tm("a2", base.Add(time.Second)),
			tm("b", base.Add(2*time.Second)),
			tm("a1", base.Add(time.Second)),
		})
		defer stop()
		if n := s.Pending(); n != 4 {
			t.Fatalf("Pending = %d", n)
		}
		time.Sleep(5 * time.Second)
		calls := r.snapshot()
		if len(calls) != 3 {
			t.Fatalf("%d Fire calls, want 3: %v", len(calls), calls)
		}
		if got := r.fired(); !slices.Equal(got, []string{"a1", "a2", "b", "c"}) {
			t.Fatalf("fired %v", got)
		}
		for _, c := range calls {
			if !c.at.Equal(c.timers[0].FireAt) {
				t.Errorf("call at %v for timers due %v", c.at, c.timers[0].FireAt)
			}
		}
		r.checkNeverEarly(t)
		mu.Lock()
		defer mu.Unlock()
		if !slices.Equal(lateness, []time.Duration{0, 0, 0, 0}) {
			t.Errorf("lateness %v", lateness)
		}
		if n := s.Pending(); n != 0 {
			t.Fatalf("Pending = %d after all fired", n)
		}
	})
}

func TestPastDueFireAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		r := &recorder{}
		s := newService(t, r, nil)
		stop := start(t, s, []Timer{tm("b", base.Add(-time.Second)), tm("a", base.Add(-time.Hour)), tm("now", base)})
		defer stop()
		calls := r.snapshot()
		if len(calls) != 1 || !calls[0].at.Equal(base) {
			t.Fatalf("calls %v", calls)
		}
		if got := r.fired(); !slices.Equal(got, []string{"a", "b", "now"}) {
			t.Fatalf("fired %v", got)
		}
	})
}

// earlyClock is RealClock with timers that go off at half the requested
// delay: a wrong clock must not make the service fire early.
type earlyClock struct{}

func (earlyClock) Now() time.Time { return time.Now() }
func (earlyClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	return RealClock.NewTimer(max(d/2, time.Nanosecond))
}

func TestNeverEarlyWithEarlyClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		r := &recorder{clock: earlyClock{}}
		s := newService(t, r, nil)
		stop := start(t, s, []Timer{tm("a", base.Add(time.Second)), tm("b", base.Add(time.Hour))})
		defer stop()
		time.Sleep(2 * time.Hour)
		r.checkNeverEarly(t)
		if got := r.fired(); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("fired %v", got)
		}
	})
}

func TestBatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		r := &recorder{}
		s := newService(t, r, func(c *Config) { c.MaxBatch = 1000 })
		var pending []Timer
		for i := range 2500 {
			pending = append(pending, tm(fmt.Sprintf("%05d", 2499-i), base.Add(time.Second)))
		}
		stop := start(t, s, pending)
		defer stop()
		time.Sleep(2 * time.Second)
		calls := r.snapshot()
		var sizes []int
		for _, c := range calls {
			sizes = append(sizes, len(c.timers))
			if !c.at.Equal(base.Add(time.Second)) {
				t.Errorf("call at %v", c.at)
			}
		}
		if !slices.Equal(sizes, []int{1000, 1000, 500}) {
			t.Fatalf("batch sizes %v", sizes)
		}
		if got := r.fired(); !slices.IsSorted(got) || len(got) != 2500 {
			t.Fatalf("fired %d timers, sorted=%v", len(got), slices.IsSorted(got))
		}
	})
}

func TestDefaultMaxBatch(t *testing.T) {
	s := New(Config{Fire: func(context.Context, []Timer) ([]Timer, error) { return nil, nil }})
	if s.maxBatch != DefaultMaxBatch || s.clock != RealClock || s.log == nil {
		t.Fatalf("defaults not applied: %+v", s)
	}
}

func TestRetry(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		r := &recorder{}
		r.hook = func(_ context.Context, n int, due []Timer) ([]Timer, error) {
			var retry []Timer
			for _, d := range due {
				switch {
				case string(d.Key) == "early" && n < 3: // judged early three times
					retry = append(retry, d)
				case string(d.Key) == "later" && n == 0: // moved 10s later
					retry = append(retry, tm("later", d.FireAt.Add(10*time.Second)))
				}
			}
			return retry, nil
		}
		s := newService(t, r, nil)
		stop := start(t, s, []Timer{tm("ok", base), tm("early", base), tm("later", base)})
		defer stop()
		time.Sleep(time.Minute)
		type fire struct {
			at   time.Duration
			keys string
		}
		var got []fire
		for _, c := range r.snapshot() {
			var keys []string
			for _, x := range c.timers {
				keys = append(keys, string(x.Key))
			}
			got = append(got, fire{c.at.Sub(base), fmt.Sprint(keys)})
		}
		want := []fire{
			{0, "[early later ok]"},
			{50 * time.Millisecond, "[early]"},  // retry backoff 50ms
			{150 * time.Millisecond, "[early]"}, // then 100ms
			{350 * time.Millisecond, "[early]"}, // then 200ms, accepted
			{10 * time.Second, "[later]"},       // at its new FireAt
		}
		if !slices.Equal(got, want) {
			t.Fatalf("fires\n got %v\nwant %v", got, want)
		}
		r.checkNeverEarly(t)
		if n := s.Pending(); n != 0 {
			t.Fatalf("Pending = %d", n)
		}
	})
}

func TestErrorBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		r := &recorder{}
		errBoom := errors.New("boom")
		r.hook = func(_ context.Context, n int, due []Timer) ([]Timer, error) {
			if n < 7 {
				return nil, errBoom
			}
			return nil, nil
		}
		s := newService(t, r, func(c *Config) { c.Logger = discard() })
		stop := start(t, s, []Timer{tm("a", base), tm("b", base)})
		defer stop()
		time.Sleep(time.Second) // inside the backoff sequence
		s.Add(tm("c", base.Add(time.Second)))
		time.Sleep(time.Minute)
		var gaps []time.Duration
		var sizes []int
		calls := r.snapshot()
		for i, c := range calls {
			sizes = append(sizes, len(c.timers))
			if i > 0 {
				gaps = append(gaps, c.at.Sub(calls[i-1].at))
			}
		}
		ms := time.Millisecond
		if want := []time.Duration{50 * ms, 100 * ms, 200 * ms, 400 * ms, 800 * ms, 1000 * ms, 1000 * ms}; !slices.Equal(gaps, want) {
			t.Fatalf("gaps %v, want %v", gaps, want)
		}
		// a, b every time; c (due at 1s) joins the retries from then on.
		if want := []int{2, 2, 2, 2, 2, 3, 3, 3}; !slices.Equal(sizes, want) {
			t.Fatalf("batch sizes %v, want %v", sizes, want)
		}
		if n := s.Pending(); n != 0 {
			t.Fatalf("Pending = %d", n)
		}
	})
}

func TestBackoff(t *testing.T) {
	ms := time.Millisecond
	for n, want := range map[int]time.Duration{1: 50 * ms, 2: 100 * ms, 5: 800 * ms, 6: time.Second, 100: time.Second} {
		if backoff(n) != want {
			t.Errorf("backoff(%d) = %v, want %v", n, backoff(n), want)
		}
	}
}

func TestRemove(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		r := &recorder{}
		release := make(chan struct{})
		r.hook = func(_ context.Context, n int, due []Timer) ([]Timer, error) {
			if n == 0 {
				<-release
				return due, nil // asks for a retry of everything
			}
			return nil, nil
		}
		s := newService(t, r, nil)
		stop := start(t, s, []Timer{tm("a", base.Add(time.Second)), tm("b", base.Add(time.Second)), tm("gone", base.Add(2*time.Second))})
		defer stop()
		s.Remove([]byte("gone"))
		s.Remove([]byte("unknown"))
		if n := s.Pending(); n != 2 {
			t.Fatalf("Pending = %d", n)
		}
		time.Sleep(time.Second) // a, b in flight, Fire blocked
		synctest.Wait()
		s.Remove([]byte("a")) // cannot recall it, but it must not be retried
		if n := s.Pending(); n != 2 {
			t.Fatalf("Pending in flight = %d", n)
		}
		close(release)
		time.Sleep(time.Minute)
		if got := r.fired(); !slices.Equal(got, []string{"a", "b", "b"}) {
			t.Fatalf("fired %v", got)
		}
	})
}

func TestAddWakesForEarlierTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		r := &recorder{}
		s := newService(t, r, nil)
		stop := start(t, s, nil)
		defer stop()
		time.Sleep(time.Second)
		s.Add(tm("late", base.Add(time.Hour))) // first timer: heap was empty
		time.Sleep(time.Second)
		s.Add(tm("soon", base.Add(3*time.Second))) // earlier than the armed deadline
		s.Add(tm("past", base))                    // already due
		synctest.Wait()
		time.Sleep(2 * time.Hour)
		var at []time.Duration
		for _, c := range r.snapshot() {
			at = append(at, c.at.Sub(base))
		}
		if want := []time.Duration{2 * time.Second, 3 * time.Second, time.Hour}; !slices.Equal(at, want) {
			t.Fatalf("fired at %v, want %v", at, want)
		}
		if got := r.fired(); !slices.Equal(got, []string{"past", "soon", "late"}) {
			t.Fatalf("fired %v", got)
		}
	})
}

func TestDedupe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		r := &recorder{}
		release := make(chan struct{})
		r.hook = func(_ context.Context, n int, due []Timer) ([]Timer, error) {
			if n == 0 {
				<-release
			}
			return nil, nil
		}
		s := newService(t, r, nil)
		key := []byte("a")
		stop := start(t, s, []Timer{tm("a", base.Add(time.Second)), tm("a", base.Add(time.Second))})
		defer stop()
		s.Add(Timer{Key: key, FireAt: base.Add(time.Second)})
		copy(key, "b") // the service copied the key; "b" is new
		s.Add(Timer{Key: key, FireAt: base.Add(2 * time.Second)})
		if n := s.Pending(); n != 2 {
			t.Fatalf("Pending = %d", n)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		s.Add(tm("a", base.Add(time.Second))) // duplicate hint while "a" is in flight
		close(release)
		time.Sleep(time.Minute)
		if got := r.fired(); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("fired %v", got)
		}
	})
}

func TestNotRunningIgnoresAdd(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		r := &recorder{}
		s := newService(t, r, nil)
		s.Add(tm("before", base))
		s.Remove([]byte("before"))
		if s.Pending() != 0 || s.Active() {
			t.Fatal("inactive service holds timers")
		}
		stop := start(t, s, nil)
		if !s.Active() {
			t.Fatal("not active while running")
		}
		time.Sleep(time.Hour)
		stop()
		s.Add(tm("after", base))
		if s.Pending() != 0 || s.Active() {
			t.Fatal("stopped service holds timers")
		}
		if got := r.fired(); len(got) != 0 {
			t.Fatalf("fired %v", got)
		}
	})
}

func TestCancelDropsAndRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		r := &recorder{}
		s := newService(t, r, nil)
		stop := start(t, s, []Timer{tm("old", base.Add(10*time.Second))})
		time.Sleep(time.Second)
		stop()
		if n := s.Pending(); n != 0 {
			t.Fatalf("Pending after stop = %d", n)
		}
		stop = start(t, s, []Timer{tm("new", base.Add(2*time.Second))})
		defer stop()
		s.Add(tm("added", base.Add(3*time.Second)))
		time.Sleep(time.Minute)
		if got := r.fired(); !slices.Equal(got, []string{"new", "added"}) {
			t.Fatalf("fired %v", got)
		}
		// And a third term, back to back.
		stop()
		stop = start(t, s, []Timer{tm("third", base)})
		if got := r.fired(); !slices.Equal(got, []string{"new", "added", "third"}) {
			t.Fatalf("fired %v", got)
		}
	})
}

func TestCancelWhileFireInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{}
		r.hook = func(ctx context.Context, _ int, _ []Timer) ([]Timer, error) {
			<-ctx.Done() // a raft apply that only ends with the term
			return nil, ctx.Err()
		}
		s := newService(t, r, func(c *Config) { c.Logger = discard() })
		stop := start(t, s, []Timer{tm("a", time.Now())})
		if len(r.snapshot()) != 1 {
			t.Fatal("Fire not in flight")
		}
		stop() // returns only once the term has; synctest fails on leaked goroutines
		if s.Pending() != 0 || s.Active() {
			t.Fatal("state survived cancel")
		}
	})
}

func TestManyTimers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 100_000
		base := time.Now()
		rng := rand.New(rand.NewPCG(1, 2))
		pending := make([]Timer, n)
		for i := range pending {
			pending[i] = tm(fmt.Sprintf("%06d", i), base.Add(time.Duration(1+rng.IntN(10_000))*time.Millisecond))
		}
		r := &recorder{}
		s := newService(t, r, nil)
		stop := start(t, s, pending)
		defer stop()
		for i := 0; i < n; i += 10 {
			s.Remove(pending[i].Key)
		}
		if got := s.Pending(); got != n-n/10 {
			t.Fatalf("Pending = %d", got)
		}
		time.Sleep(11 * time.Second)
		r.checkNeverEarly(t)
		seen := make(map[string]bool, n)
		var prev Timer
		for _, c := range r.snapshot() {
			for _, x := range c.timers {
				if seen[string(x.Key)] {
					t.Fatalf("%s fired twice", x.Key)
				}
				seen[string(x.Key)] = true
				if c := x.FireAt.Compare(prev.FireAt); c < 0 || c == 0 && bytes.Compare(x.Key, prev.Key) < 0 {
					t.Fatalf("%s (%v) fired after %s (%v)", x.Key, x.FireAt, prev.Key, prev.FireAt)
				}
				prev = x
			}
		}
		if len(seen) != n-n/10 || s.Pending() != 0 {
			t.Fatalf("fired %d, pending %d", len(seen), s.Pending())
		}
	})
}

func TestCancelDuringBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := &recorder{}
		r.hook = func(context.Context, int, []Timer) ([]Timer, error) { return nil, errors.New("no quorum") }
		s := newService(t, r, func(c *Config) { c.Logger = discard() })
		stop := start(t, s, []Timer{tm("a", time.Now())})
		time.Sleep(10 * time.Second)
		stop()
		if n := len(r.snapshot()); n < 10 || n > 20 {
			t.Fatalf("%d Fire calls in 10s of failures", n)
		}
		if s.Pending() != 0 {
			t.Fatal("state survived cancel")
		}
	})
}

func TestNewWithoutFirePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	New(Config{})
}
