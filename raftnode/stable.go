package raftnode

import (
	"sync"

	"github.com/hashicorp/raft"
)

// guardedStable is the StableStore raft sees. hashicorp/raft answers
// heartbeats on the transport's connection goroutines, outside its main loop,
// and one that passed raft's shutdown check can still write the current term
// after Shutdown returned. Against a closed bolt store that write fails and
// raft panics ("failed to save current term"). Acknowledging without
// persisting would be unsafe (the node could vote twice in a term after a
// restart), so once the store is closing, writes wait forever instead: the
// stray heartbeat is never acknowledged, exactly as if the process had died.
type guardedStable struct {
	raft.StableStore
	mu      sync.RWMutex
	closing bool
	never   chan struct{}
}

func newGuardedStable(s raft.StableStore) *guardedStable {
	return &guardedStable{StableStore: s, never: make(chan struct{})}
}

// close marks the store closing and waits for writes in progress.
func (g *guardedStable) close() {
	g.mu.Lock()
	g.closing = true
	g.mu.Unlock()
}

func (g *guardedStable) enter() {
	g.mu.RLock()
	if g.closing {
		g.mu.RUnlock()
		<-g.never
	}
}

func (g *guardedStable) Set(k, v []byte) error {
	g.enter()
	defer g.mu.RUnlock()
	return g.StableStore.Set(k, v)
}

func (g *guardedStable) SetUint64(k []byte, v uint64) error {
	g.enter()
	defer g.mu.RUnlock()
	return g.StableStore.SetUint64(k, v)
}
