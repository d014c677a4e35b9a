package server

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
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

// probeFile is written, synced, read back and removed at start.
const probeFile = "probe.tmp"

// probeFSM proves the state machine's storage healthy at start, before the
// node can report ready: a synced write of a small file beside Pebble's
// files (the same file system as its WAL: full, read-only or failing shows
// here, not at the first write hours later), read back, and an FSM that
// has not failed. raftnode.Open probes raft's store the same way.
func probeFSM(dir string, f *fsm.FSM) error {
	path := filepath.Join(dir, probeFile)
	want := []byte("raftflow storage probe\n")
	err := func() error {
		fh, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
		if err != nil {
			return err
		}
		_, err = fh.Write(want)
		if err == nil {
			err = fh.Sync()
		}
		if cerr := fh.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		got, err := os.ReadFile(path)
		if err == nil && !bytes.Equal(got, want) {
			err = fmt.Errorf("read back %q", got)
		}
		return err
	}()
	os.Remove(path)
	if err != nil {
		return fmt.Errorf("server: start-up probe of %s failed (full, read-only or failing disk?): %w", dir, err)
	}
	if err := f.Probe(); err != nil {
		return fmt.Errorf("server: state machine failed at start: %w", err)
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
