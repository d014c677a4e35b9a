package jepsen

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// finalizers is how many clients Finalize drives at once: a long run ends
// with a hundred thousand workflows or more, and one client reading them in
// turn would spend the whole liveness bound just looking.
const finalizers = 16

// Finalize runs after the final heal: every workflow whose start is still
// unknown is started again with its request id, every open workflow without
// a finish signal gets one, and every workflow must reach a terminal event
// before the deadline. It returns the workflows that never closed, and
// records a final read of every workflow (the set-full checks use them).
func (w *Workload) Finalize(ctx context.Context, bound time.Duration) (unfinished []string, err error) {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	clients := make([]*client, finalizers)
	for i := range clients {
		clients[i] = w.newClient()
	}
	w.mu.Lock()
	all := make([]*wf, 0, len(w.order))
	for _, id := range w.order {
		all = append(all, w.wfs[id])
	}
	w.mu.Unlock()
	each(all, clients, func(c *client, x *wf) bool {
		for !x.startOK && ctx.Err() == nil {
			if op := c.start(x, x.startReq, true); op.Outcome == OK {
				break
			}
			sleepCtx(ctx, 100*time.Millisecond)
		}
		return false
	})
	pending := all
	for len(pending) > 0 && ctx.Err() == nil {
		pending = each(pending, clients, func(c *client, x *wf) bool {
			op := c.read(x.id, true)
			if op.Outcome != OK || !op.Found {
				return true
			}
			if op.Closed {
				return false
			}
			hasFinish := op.Summary != nil && op.Summary.CancelReq
			for _, v := range op.Signals {
				if v >= 1000 {
					hasFinish = true
				}
			}
			if !hasFinish {
				// Finish values are >= 1000 so the checks can tell them apart.
				w.mu.Lock()
				v := 1000 + x.nextSig
				x.nextSig++
				w.mu.Unlock()
				c.signal(x, v, true, c.reqID("fin"), true)
			}
			return true
		})
		if len(pending) > 0 {
			sleepCtx(ctx, 500*time.Millisecond)
		}
	}
	for _, x := range pending {
		unfinished = append(unfinished, x.id)
	}
	// Final reads of everything, for the set-full checks.
	rctx, rcancel := context.WithTimeout(context.Background(), bound)
	defer rcancel()
	failed := each(all, clients, func(c *client, x *wf) bool {
		for {
			if op := c.read(x.id, true); op.Outcome == OK {
				return false
			}
			if rctx.Err() != nil {
				return true
			}
			sleepCtx(rctx, 200*time.Millisecond)
		}
	})
	if len(failed) > 0 {
		return unfinished, fmt.Errorf("no final read of %d workflows (first %s) within %v", len(failed), failed[0].id, bound)
	}
	return unfinished, nil
}

// each runs fn on every workflow, one client per goroutine, and returns the
// workflows fn kept (returned true for), in their original order.
func each(xs []*wf, clients []*client, fn func(c *client, x *wf) bool) []*wf {
	keep := make([]bool, len(xs))
	next := make(chan int)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				keep[i] = fn(c, xs[i])
			}
		}()
	}
	for i := range xs {
		next <- i
	}
	close(next)
	wg.Wait()
	var out []*wf
	for i, x := range xs {
		if keep[i] {
			out = append(out, x)
		}
	}
	return out
}
