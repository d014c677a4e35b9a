package server

import (
	"context"
	"fmt"
	"time"

	"github.com/raftflow/engine/fsm"
)

// fatal is the fail-stop path for storage failures (design guide §3.3:
// only storage I/O failure stops a node, at once and with a clear message).
// raftnode calls it on a raft log or stable store write error, the FSM on a
// Pebble error; either may call it on any goroutine, the first call wins.
// The node is not ready from then on (Ready); then Config.Fatal decides
// (main.go exits), or, without one, the node is killed in the background
// once Start has returned.
func (s *Server) fatal(err error) {
	if !s.failed.CompareAndSwap(nil, &err) {
		return
	}
	s.log.Error("storage failed: the node stops (crash-only); see docs/operations.md, Storage faults and recovery", "err", err)
	if s.cfg.Fatal != nil {
		s.cfg.Fatal(err)
		return
	}
	go func() {
		<-s.started
		s.Kill()
	}()
}

// StorageErr returns the storage failure that stopped this node, or nil.
func (s *Server) StorageErr() error {
	if p := s.failed.Load(); p != nil {
		return *p
	}
	if s.FSM != nil {
		if err := s.FSM.Failed(); err != nil {
			return err
		}
	}
	if s.Node != nil {
		return s.Node.StorageErr()
	}
	return nil
}

// probeFSM proves the state machine's storage healthy at start, before the
// node can report ready: a synced WAL record through Pebble itself (a full,
// read-only or failing disk, or a WAL error Pebble latched, shows here, not
// at the first write hours later). raftnode.Open probes raft's store the
// same way.
func probeFSM(dir string, f *fsm.FSM) error {
	if err := f.Probe(); err != nil {
		return fmt.Errorf("server: start-up probe of %s failed (full, read-only or failing disk?): %w", dir, err)
	}
	return nil
}

// storageProbeInterval is how often a running node proves its state
// machine's write path (FSM.Probe, one synced keyless WAL record).
const storageProbeInterval = 10 * time.Second

// probeLoop probes the state machine until ctx is done or a probe fails; a
// failure reaches fatal through the FSM's fail handler. So a WAL error that
// Pebble latched (a disk that filled up and emptied again) stops the node
// within seconds, not at its next write hours later.
func (s *Server) probeLoop(ctx context.Context) {
	t := time.NewTicker(storageProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.FSM.Probe() != nil {
				return
			}
		}
	}
}
