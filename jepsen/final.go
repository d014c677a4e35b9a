package jepsen

import (
	"context"
	"fmt"
	"time"
)

// Finalize runs after the final heal: every workflow whose start is still
// unknown is started again with its request id, every open workflow without
// a finish signal gets one, and every workflow must reach a terminal event
// before the deadline. It returns the workflows that never closed, and
// records a final read of every workflow (the set-full checks use them).
func (w *Workload) Finalize(ctx context.Context, bound time.Duration) (unfinished []string, err error) {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	c := w.newClient()
	w.mu.Lock()
	all := make([]*wf, 0, len(w.order))
	for _, id := range w.order {
		all = append(all, w.wfs[id])
	}
	w.mu.Unlock()
	for _, x := range all {
		if x.startOK {
			continue
		}
		for ctx.Err() == nil {
			op := c.start(x, x.startReq, true)
			if op.Outcome == OK {
				break
			}
			sleepCtx(ctx, 100*time.Millisecond)
		}
	}
	pending := all
	for len(pending) > 0 && ctx.Err() == nil {
		var next []*wf
		for _, x := range pending {
			op := c.read(x.id, true)
			if op.Outcome != OK || !op.Found {
				next = append(next, x)
				continue
			}
			if op.Closed {
				continue
			}
			next = append(next, x)
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
		}
		pending = next
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
	for _, x := range all {
		for {
			op := c.read(x.id, true)
			if op.Outcome == OK {
				break
			}
			if rctx.Err() != nil {
				return unfinished, fmt.Errorf("final read of %s: %s", x.id, op.Error)
			}
			sleepCtx(rctx, 200*time.Millisecond)
		}
	}
	return unfinished, nil
}
