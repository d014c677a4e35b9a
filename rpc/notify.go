package rpc

import "sync"

// notifier wakes long-polls waiting for new history events of one run.
// Wait returns a channel closed by the next Notify for that key; callers
// re-check state after taking the channel and before waiting on it.
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
