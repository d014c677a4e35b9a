package timers

import (
	"context"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

// TestLoadActiveOnReturn: Load returns with the service active, so an Add
// right after it (a hint of a row committed after the leader's scan) is
// scheduled without waiting for any goroutine, and fires in order with the
// loaded timers.
func TestLoadActiveOnReturn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		r := &recorder{}
		s := newService(t, r, nil)
		ctx, cancel := context.WithCancel(t.Context())
		done := s.Load(ctx, []Timer{tm("scanned", base.Add(2*time.Second)), tm("scanned", base.Add(2*time.Second))})
		if !s.Active() {
			t.Fatal("not active when Load returned")
		}
		s.Add(tm("hinted", base.Add(time.Second)))
		if n := s.Pending(); n != 2 {
			t.Fatalf("Pending = %d right after Load and one Add, want 2", n)
		}
		time.Sleep(time.Minute)
		r.checkNeverEarly(t)
		if got := r.fired(); !slices.Equal(got, []string{"hinted", "scanned"}) {
			t.Fatalf("fired %v", got)
		}
		cancel()
		<-done // synctest fails on a goroutine that outlives the test
		if s.Active() || s.Pending() != 0 {
			t.Fatal("state survived the term")
		}
	})
}

// TestLoadWithDoneCtx: a term whose ctx ended before it began loads
// nothing and reports done at once.
func TestLoadWithDoneCtx(t *testing.T) {
	r := &recorder{}
	s := newService(t, r, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	<-s.Load(ctx, []Timer{tm("a", time.Now().Add(-time.Hour))})
	if s.Active() || s.Pending() != 0 || len(r.snapshot()) != 0 {
		t.Fatal("Load with a done ctx did something")
	}
}

// TestLoadWaitsForPreviousTerm: a Load while the previous term's Fire is
// still in flight waits for that term to return, so two terms never fire
// at once, and the new term then fires its own timers.
func TestLoadWaitsForPreviousTerm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		base := time.Now()
		release := make(chan struct{})
		r := &recorder{}
		r.hook = func(_ context.Context, n int, _ []Timer) ([]Timer, error) {
			if n == 0 {
				<-release // a slow Fire that ignores cancellation for a while
			}
			return nil, nil
		}
		s := newService(t, r, nil)
		ctx1, cancel1 := context.WithCancel(t.Context())
		done1 := s.Load(ctx1, []Timer{tm("a", base)})
		synctest.Wait()
		cancel1()
		loaded := make(chan (<-chan struct{}))
		ctx2, cancel2 := context.WithCancel(t.Context())
		go func() { loaded <- s.Load(ctx2, []Timer{tm("b", base)}) }()
		time.Sleep(time.Minute)
		select {
		case <-loaded:
			t.Fatal("Load returned while the previous term's Fire was in flight")
		default:
		}
		close(release)
		<-done1
		done2 := <-loaded
		synctest.Wait()
		if got := r.fired(); !slices.Equal(got, []string{"a", "b"}) {
			t.Fatalf("fired %v", got)
		}
		cancel2()
		<-done2
	})
}
