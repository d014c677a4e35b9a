// Package timers is the leader's durable-timer service: it keeps the pending
// timers in a min-heap and, when they come due, hands them in batches to a
// FireFunc that proposes the firing through raft.
//
// The service is derived state. The durable truth is the timer rows the state
// machine keeps in Pebble, ordered by fire time. The leader calls Load with the
// rows it scanned, post-commit hints call Add and Remove as rows come and go,
// and losing leadership cancels the term's context, which drops everything. Firing
// is a proposal the state machine re-validates, so a timer fired twice or for
// a stale attempt is a no-op there; this package's job is to never fire early,
// never lose a pending timer while it runs, and not hammer raft. See DESIGN.md.
package timers

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Timer is one pending timer. Key is the Pebble key of its row and is unique;
// the service copies it, so the caller may reuse its buffer. FireAt is the
// earliest moment the timer may fire.
type Timer struct {
	Key    []byte
	FireAt time.Time
}

// FireFunc proposes firing the due timers (one raft command). It returns the
// timers that must be retried later (for example the state machine judged
// them early; a returned FireAt later than the one given moves the timer
// later), or an error, after which all of them are retried after a backoff
// (50ms doubling to 1s, reset by a successful call). Timers neither returned
// in retry nor covered by an error are done.
//
// Fire is called from the term's firing goroutine only (the one Load
// started), one call at a time, with the term's ctx: it must return
// promptly once ctx is done. It must not call back into the Service's
// Load; Add, Remove and Pending are fine. The due slice and the
// Keys in it must not be modified.
type FireFunc func(ctx context.Context, due []Timer) (retry []Timer, err error)

// Config configures a Service.
type Config struct {
	Clock    Clock    // default RealClock
	Fire     FireFunc // required
	MaxBatch int      // timers per Fire call; default DefaultMaxBatch
	Logger   *slog.Logger
	// OnFired, if set, is called from the firing goroutine for every timer Fire
	// accepted, with how late the call was (the time the batch was taken
	// minus FireAt). For metrics; it must be quick.
	OnFired func(lateness time.Duration)
}

// DefaultMaxBatch is the MaxBatch used when Config.MaxBatch is not positive.
const DefaultMaxBatch = 1000

const (
	minBackoff = 50 * time.Millisecond
	maxBackoff = time.Second
)

// Service schedules timers for one leadership term at a time. Add, Remove,
// Pending and Active are safe for concurrent use and never block for long
// (they hold a mutex for O(log n) work; Fire is never called under it).
type Service struct {
	clock    Clock
	fire     FireFunc
	maxBatch int
	log      *slog.Logger
	onFired  func(time.Duration)

	runSem chan struct{} // capacity 1: held by the term (Load) that owns the state
	wake   chan struct{} // capacity 1: the earliest deadline may have moved

	mu     sync.Mutex
	active bool
	heap   timerHeap
	index  map[string]*item // every pending timer, in the heap or in flight
}

// New returns an inactive service. It panics if cfg.Fire is nil.
func New(cfg Config) *Service {
	if cfg.Fire == nil {
		panic("timers: Config.Fire is nil")
	}
	s := &Service{
		clock:    cfg.Clock,
		fire:     cfg.Fire,
		maxBatch: cfg.MaxBatch,
		log:      cfg.Logger,
		onFired:  cfg.OnFired,
		runSem:   make(chan struct{}, 1),
		wake:     make(chan struct{}, 1),
	}
	if s.clock == nil {
		s.clock = RealClock
	}
	if s.maxBatch <= 0 {
		s.maxBatch = DefaultMaxBatch
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Load begins a leadership term: it schedules pending (the timers scanned
// from storage; duplicates are ignored) and returns at once, with the
// service active: Add and Remove act on the running set from the moment
// Load returns, so a leader that routes hints to Add after Load loses no
// timer committed after its scan. A goroutine fires timers as they come
// due until ctx is done, then drops every pending timer and closes the
// returned channel. If ctx is done before the term began, nothing is
// loaded and the channel is returned closed.
//
// Terms never overlap: Load waits (only then does it block) for a previous
// term's goroutine to return, including its in-flight Fire, so timers are
// never fired by two terms at once. Load may be called again once the
// previous term's channel is closed (leadership flapping).
func (s *Service) Load(ctx context.Context, pending []Timer) <-chan struct{} {
	done := make(chan struct{})
	if !s.begin(ctx, pending) {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		s.serve(ctx)
	}()
	return done
}

// begin waits for the previous term to end, then activates the service
// with pending; false if ctx ended first (nothing activated).
func (s *Service) begin(ctx context.Context, pending []Timer) bool {
	select {
	case s.runSem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	if ctx.Err() != nil {
		<-s.runSem
		return false
	}
	s.mu.Lock()
	s.active = true
	s.index = make(map[string]*item, len(pending))
	s.heap = make(timerHeap, 0, len(pending))
	for _, t := range pending {
		s.addLocked(t)
	}
	s.mu.Unlock()
	return true
}

// serve is an active term's body: the firing loop until ctx is done, then
// everything dropped and the term's slot released.
func (s *Service) serve(ctx context.Context) {
	defer func() { <-s.runSem }()
	defer s.deactivate()
	s.loop(ctx)
}

func (s *Service) deactivate() {
	s.mu.Lock()
	s.active = false
	s.heap = nil
	s.index = nil
	s.mu.Unlock()
	select {
	case <-s.wake: // a stale signal would only cost the next term a loop turn
	default:
	}
}

// Active reports whether a term (Load) is active, that is, whether Add is
// accepted. Load activates before it returns.
func (s *Service) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Add schedules t unless a timer with the same Key is pending (including one
// being fired right now: the outcome of that Fire decides its fate) or no term
// is active. Called from post-commit hints; it never blocks for long.
func (s *Service) Add(t Timer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active {
		s.addLocked(t)
	}
}

func (s *Service) addLocked(t Timer) {
	if _, dup := s.index[string(t.Key)]; dup {
		return
	}
	key := string(t.Key)
	it := &item{timer: Timer{Key: []byte(key), FireAt: t.FireAt}, key: key, due: t.FireAt}
	s.index[key] = it
	s.heap.push(it)
	if it.pos == 0 {
		select {
		case s.wake <- struct{}{}:
		default: // a wake-up is already pending
		}
	}
}

// Remove unschedules the timer with key, if pending. A timer already handed
// to an in-flight Fire cannot be recalled, but will not be retried.
func (s *Service) Remove(key []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	it, ok := s.index[string(key)]
	if !ok {
		return
	}
	if it.pos < 0 {
		it.removed = true // in flight
		return
	}
	s.heap.remove(it.pos)
	delete(s.index, it.key)
}

// Pending returns the number of scheduled timers, counting those in an
// in-flight Fire call; 0 when no term is active.
func (s *Service) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.index)
}

// loop is a term's firing loop: take what is due, fire it, otherwise sleep until the
// earliest deadline or a wake-up from Add.
func (s *Service) loop(ctx context.Context) {
	failures := 0 // consecutive failed Fire calls
	for ctx.Err() == nil {
		now := s.clock.Now()
		due, next, haveNext := s.takeDue(now)
		if len(due) == 0 {
			if !s.wait(ctx, now, next, haveNext) {
				return
			}
			continue
		}
		err := s.fireBatch(ctx, now, due)
		if err == nil {
			failures = 0
			continue
		}
		if ctx.Err() != nil {
			return
		}
		failures++
		d := backoff(failures)
		s.log.Warn("timers: fire failed; will retry", "timers", len(due), "backoff", d, "err", err)
		if !s.sleep(ctx, d) {
			return
		}
	}
}

// takeDue pops up to maxBatch timers due at now (in (due, key) order) and
// marks them in flight. It also returns the earliest remaining deadline.
func (s *Service) takeDue(now time.Time) (due []*item, next time.Time, haveNext bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.heap) > 0 && len(due) < s.maxBatch && !s.heap[0].due.After(now) {
		due = append(due, s.heap.pop())
	}
	if len(s.heap) > 0 {
		return due, s.heap[0].due, true
	}
	return due, time.Time{}, false
}

// fireBatch calls Fire for due (taken at now) and settles each timer: done,
// rescheduled for a retry, or put back as it was after an error.
func (s *Service) fireBatch(ctx context.Context, now time.Time, due []*item) error {
	batch := make([]Timer, len(due))
	for i, it := range due {
		batch[i] = it.timer
	}
	retry, err := s.fire(ctx, batch)
	after := s.clock.Now()

	var again map[string]Timer
	if err == nil && len(retry) > 0 {
		again = make(map[string]Timer, len(retry))
		for _, t := range retry {
			again[string(t.Key)] = t
		}
	}
	var late []time.Duration
	s.mu.Lock()
	for _, it := range due {
		switch rt, ok := again[it.key]; {
		case it.removed:
			delete(s.index, it.key)
		case err != nil:
			s.heap.push(it) // same deadline; the loop backs off first
		case ok:
			it.attempts++
			if rt.FireAt.After(it.timer.FireAt) {
				it.timer.FireAt = rt.FireAt
			}
			it.due = laterOf(it.timer.FireAt, after.Add(backoff(it.attempts)))
			s.heap.push(it)
		default:
			delete(s.index, it.key)
			if s.onFired != nil {
				late = append(late, now.Sub(it.timer.FireAt))
			}
		}
	}
	s.mu.Unlock()
	for _, d := range late {
		s.onFired(d)
	}
	return err
}

// wait blocks until the deadline next (if any), a wake-up, or ctx is done;
// it reports false for the latter.
func (s *Service) wait(ctx context.Context, now, next time.Time, haveNext bool) bool {
	var c <-chan time.Time
	if haveNext {
		var stop func() bool
		c, stop = s.clock.NewTimer(next.Sub(now))
		defer stop()
	}
	select {
	case <-ctx.Done():
		return false
	case <-s.wake:
	case <-c:
	}
	return true
}

// sleep waits d (ignoring wake-ups) and reports false if ctx ended first.
func (s *Service) sleep(ctx context.Context, d time.Duration) bool {
	c, stop := s.clock.NewTimer(d)
	defer stop()
	select {
	case <-ctx.Done():
		return false
	case <-c:
		return true
	}
}

// backoff returns the delay after the n-th consecutive failure (n >= 1):
// 50ms, 100ms, 200ms, ... capped at 1s.
func backoff(n int) time.Duration {
	d := minBackoff
	for i := 1; i < n && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
