package raftnode

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// leadership is the observer's state. raft pushes every leadership
// transition (true on entering the leader loop, false on leaving it) into
// notify, which the observer goroutine always drains promptly; raft blocks
// on that channel, so transitions are never coalesced and each true is one
// term of leadership.
type leadership struct {
	notify chan bool
	stop   chan struct{} // closed by stopObserver
	done   chan struct{} // closed when observe returns
	once   sync.Once     // guards close(stop)

	mu      sync.Mutex
	hook    func(ctx context.Context)
	hookSet chan struct{} // closed when hook is registered
	cur     *session      // the running (or winding-down) session, nil if none
}

func (l *leadership) init(notify chan bool) {
	l.notify = notify
	l.stop = make(chan struct{})
	l.done = make(chan struct{})
	l.hookSet = make(chan struct{})
}

// session is one term of leader services.
type session struct {
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{} // closed when the session goroutine has returned
	ready  atomic.Bool   // start is running (set after Barrier)
	term   uint64        // raft term when the session began
}

// OnLeadership registers the leader-services hook. Call it once, right
// after Open and before Bootstrap (a second call panics). Each time this node becomes
// leader, after a successful Barrier (retried while still leader), start
// runs in its own goroutine with a ctx that is cancelled when leadership is
// lost or on Shutdown. start must block until ctx is done and then return
// promptly: a new term's start is not run until the previous one returned,
// so two starts never overlap, and Shutdown waits for it.
//
// If leadership is gained before the hook is registered, the hook is run as
// soon as it is registered (within that term).
func (n *Node) OnLeadership(start func(ctx context.Context)) {
	if start == nil {
		panic("raftnode: OnLeadership(nil)")
	}
	l := &n.leader
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hook != nil {
		panic("raftnode: OnLeadership called twice")
	}
	l.hook = start
	close(l.hookSet)
}

// LeaderReady reports whether leader services were started on this node
// (after Barrier) and are running: the hook's start is executing, its ctx
// has not been cancelled, and raft is still in the term the session began
// in. A leader whose FSM lags entries of earlier terms (a new leader before
// its Barrier, or one that lost and regained leadership since) is not
// ready: its state machine must not answer reads yet.
func (n *Node) LeaderReady() bool {
	l := &n.leader
	l.mu.Lock()
	s := l.cur
	l.mu.Unlock()
	return s != nil && s.ready.Load() && s.ctx.Err() == nil && s.term == n.raft.CurrentTerm()
}

// VerifyLeader confirms with a quorum that this node is still the leader
// (raft's VerifyLeader: one heartbeat round; immediate on a single voter).
// A leader cut off from the others keeps believing it leads until its lease
// runs out; a read it answered meanwhile could miss writes a new leader has
// already acknowledged.
func (n *Node) VerifyLeader(ctx context.Context) error {
	if err := n.checkProposable(ctx, "verify leader"); err != nil {
		return err
	}
	if err := n.wait(ctx, n.raft.VerifyLeader()); err != nil {
		return n.mapErr("verify leader", err)
	}
	return nil
}

// observe is the single observer goroutine. It owns l.cur.
func (n *Node) observe() {
	l := &n.leader
	defer close(l.done)
	pending := false // a leadership term began and has no session yet
	for {
		var curDone <-chan struct{}
		if s := l.current(); s != nil {
			curDone = s.done
		}
		select {
		case v := <-l.notify:
			// Any transition ends the current term's session. A true that
			// arrives while the old session is still winding down waits
			// for it (pending) so starts never overlap.
			if s := l.current(); s != nil {
				s.cancel()
			}
			pending = v
			if v {
				n.log.Info("gained leadership", "term", n.raft.CurrentTerm())
			} else {
				n.log.Info("lost leadership")
			}
		case <-curDone:
			l.setCurrent(nil)
		case <-l.stop:
			if s := l.current(); s != nil {
				s.cancel()
				<-s.done
				l.setCurrent(nil)
			}
			return
		}
		if pending && l.current() == nil {
			pending = false
			ctx, cancel := context.WithCancel(context.Background())
			s := &session{ctx: ctx, cancel: cancel, done: make(chan struct{}), term: n.raft.CurrentTerm()}
			l.setCurrent(s)
			go n.runSession(s)
		}
	}
}

func (l *leadership) current() *session {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur
}

func (l *leadership) setCurrent(s *session) {
	l.mu.Lock()
	l.cur = s
	l.mu.Unlock()
}

// runSession is one term: Barrier, wait for the hook, run it until ctx ends.
func (n *Node) runSession(s *session) {
	defer close(s.done)
	defer s.cancel()
	if !n.leaderBarrier(s.ctx) {
		return
	}
	select {
	case <-n.leader.hookSet:
	case <-s.ctx.Done():
		return
	}
	n.leader.mu.Lock()
	start := n.leader.hook
	n.leader.mu.Unlock()

	n.log.Info("leader services starting", "term", n.raft.CurrentTerm())
	s.ready.Store(true)
	defer s.ready.Store(false)
	start(s.ctx)
	n.log.Info("leader services stopped")
}

// leaderBarrier retries Barrier with backoff until it succeeds (true) or
// the session ends (false). Leader state must only be rebuilt from an FSM
// that has applied every entry of earlier terms, which Barrier guarantees.
func (n *Node) leaderBarrier(ctx context.Context) bool {
	backoff := 50 * time.Millisecond
	for {
		err := n.Barrier(ctx)
		if err == nil {
			return true
		}
		if ctx.Err() != nil || errors.Is(err, ErrShutdown) {
			return false
		}
		n.log.Warn("leader barrier failed; retrying", "err", err, "backoff", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}

// stopObserver ends the observer, cancelling leader services and waiting
// for start to return. Idempotent.
func (n *Node) stopObserver() {
	n.leader.once.Do(func() { close(n.leader.stop) })
	<-n.leader.done
}

// transferLeadership hands leadership to another voter if this node leads
// and one exists, waiting at most transferTimeout. Failure is logged, not
// returned: shutdown proceeds and the others elect a leader on their own.
func (n *Node) transferLeadership() {
	if !n.IsLeader() {
		return
	}
	cfg, _, err := n.configuration()
	if err != nil {
		n.log.Warn("shutdown: cannot read configuration; not transferring leadership", "err", err)
		return
	}
	others := false
	for _, s := range cfg.Servers {
		if s.Suffrage == raft.Voter && string(s.ID) != n.cfg.NodeID {
			others = true
		}
	}
	if !others {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), transferTimeout)
	defer cancel()
	if err := n.wait(ctx, n.raft.LeadershipTransfer()); err != nil {
		n.log.Warn("shutdown: leadership transfer failed", "err", err)
		return
	}
	n.log.Info("shutdown: leadership transferred")
}
