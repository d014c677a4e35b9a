package leader

import "sync"

// notifier wakes long polls waiting for new history events of one run (the
// fsm's HistoryAppended hint). Wait returns a channel closed by the next
// Notify for that key; callers re-check state after taking the channel and
// before waiting on it, so no append is missed.
type notifier struct {
	mu      sync.Mutex
	waiting map[string]chan struct{}
}

func newNotifier() *notifier { return &notifier{waiting: map[string]chan struct{}{}} }

func runKey(ns, wfID, runID string) string { return ns + "\x00" + wfID + "\x00" + runID }

func (n *notifier) Wait(key string) <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	ch, ok := n.waiting[key]
	if !ok {
		ch = make(chan struct{})
		n.waiting[key] = ch
	}
	return ch
}

func (n *notifier) Notify(key string) {
	n.mu.Lock()
	ch, ok := n.waiting[key]
	delete(n.waiting, key)
	n.mu.Unlock()
	if ok {
		close(ch)
	}
}

// HistoryChanged returns a channel closed when the run's history next grows
// (or its state changes with it). Take it before reading the run's state,
// then wait on it: an append between the two still closes it. It works on
// every node (hints come on every replica), but only the leader's state is
// sure to keep advancing; see TermEnd.
func (e *Engine) HistoryChanged(ns, wfID, runID string) <-chan struct{} {
	return e.notify.Wait(runKey(ns, wfID, runID))
}
