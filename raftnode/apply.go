package raftnode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// Apply proposes data as one raft log entry and waits until it is applied
// to the local FSM, returning the FSM's response. If that response is an
// error value it is returned as the error (with a nil response).
//
// ctx bounds the whole call; without a deadline defaultOpTimeout applies.
// Errors:
//   - ErrNotLeader: not proposed; retry on Leader().
//   - ErrLeadershipLost: proposed, then leadership was lost; it may or may
//     not have committed.
//   - context.DeadlineExceeded / context.Canceled after the proposal was
//     queued, or ErrShutdown: outcome unknown, as for ErrLeadershipLost.
//   - raft.ErrEnqueueTimeout, or ctx already done on entry: never proposed.
func (n *Node) Apply(ctx context.Context, data []byte) (any, error) {
	if err := n.checkProposable(ctx, "apply"); err != nil {
		return nil, err
	}
	ctx, cancel := opContext(ctx)
	defer cancel()
	f := n.raft.Apply(data, enqueueTimeout(ctx))
	if err := n.wait(ctx, f); err != nil {
		return nil, n.mapErr("apply", err)
	}
	resp := f.Response()
	if err, ok := resp.(error); ok {
		return nil, err
	}
	return resp, nil
}

// Barrier waits until every entry committed before it has been applied to
// the local FSM. Only the leader can issue it (ErrNotLeader otherwise). A
// leader that returns from Barrier has applied everything of earlier terms,
// so its FSM is safe to read for rebuilding leader state.
func (n *Node) Barrier(ctx context.Context) error {
	if err := n.checkProposable(ctx, "barrier"); err != nil {
		return err
	}
	ctx, cancel := opContext(ctx)
	defer cancel()
	if err := n.wait(ctx, n.raft.Barrier(enqueueTimeout(ctx))); err != nil {
		return n.mapErr("barrier", err)
	}
	return nil
}

// checkProposable fails fast, before anything reaches raft, when ctx is
// already done or Shutdown has begun. The second matters beyond speed: raft
// never answers a request queued after it stopped, so its waiter would
// stay blocked (see wait).
func (n *Node) checkProposable(ctx context.Context, op string) error {
	if n.stopping.Load() {
		return fmt.Errorf("raftnode: %s: not proposed: %w", op, ErrShutdown)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("raftnode: %s: not proposed: %w", op, err)
	}
	return nil
}

// opContext applies defaultOpTimeout when ctx has no deadline.
func opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, defaultOpTimeout)
}

// enqueueTimeout is how long raft may wait to queue a request: the time
// left on ctx (opContext guarantees a deadline).
func enqueueTimeout(ctx context.Context) time.Duration {
	dl, _ := ctx.Deadline()
	return max(time.Until(dl), time.Millisecond)
}

// wait blocks until f resolves, ctx ends or the node has shut down.
//
// raft futures cannot be selected on, so Error() runs in a helper
// goroutine. It ends when the future resolves, which raft guarantees except
// for a request still queued (applyCh, fsmMutateCh) at the moment raft shuts
// down: raft never answers those, so their helpers stay blocked for the
// life of the process. The caller itself is released by n.closing. This is
// bounded by the requests in flight at Shutdown and happens once per Node.
func (n *Node) wait(ctx context.Context, f raft.Future) error {
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("outcome unknown: %w", ctx.Err())
	case <-n.closing:
		return ErrShutdown
	}
}

// mapErr translates raft's errors into this package's sentinels, keeping
// raft's error in the chain too.
func (n *Node) mapErr(op string, err error) error {
	switch {
	case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
		return n.notLeader(op, err)
	case errors.Is(err, raft.ErrLeadershipLost):
		return fmt.Errorf("raftnode: %s: %w (outcome unknown): %w", op, ErrLeadershipLost, err)
	case errors.Is(err, ErrShutdown):
		return fmt.Errorf("raftnode: %s: outcome unknown: %w", op, err)
	case errors.Is(err, raft.ErrRaftShutdown):
		return fmt.Errorf("raftnode: %s: %w: %w", op, ErrShutdown, err)
	default:
		return fmt.Errorf("raftnode: %s: %w", op, err)
	}
}

// notLeader builds an ErrNotLeader error carrying the leader hint.
func (n *Node) notLeader(op string, cause error) error {
	id, addr := n.Leader()
	hint := "leader unknown"
	if id != "" {
		hint = fmt.Sprintf("leader %s at %s", id, addr)
	}
	if cause == nil {
		return fmt.Errorf("raftnode: %s: %w (%s)", op, ErrNotLeader, hint)
	}
	return fmt.Errorf("raftnode: %s: %w (%s): %w", op, ErrNotLeader, hint, cause)
}
