package raftnode

import (
	"context"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"testing"
	"time"
)

// testLogger discards raft output unless RAFTNODE_TEST_LOG is set.
func testLogger() *slog.Logger {
	if os.Getenv("RAFTNODE_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func testConfig(id, dir, bind string) Config {
	return Config{
		NodeID:             id,
		DataDir:            dir,
		RaftBind:           bind,
		Logger:             testLogger(),
		HeartbeatTimeout:   200 * time.Millisecond,
		ElectionTimeout:    200 * time.Millisecond,
		LeaderLeaseTimeout: 100 * time.Millisecond,
		CommitTimeout:      5 * time.Millisecond,
	}
}

// openNode opens a node on 127.0.0.1:0 (or bind, if given) and shuts it
// down at the end of the test.
func openNode(t *testing.T, id, dir string, fsm FSM, bind ...string) *Node {
	t.Helper()
	addr := "127.0.0.1:0"
	if len(bind) > 0 {
		addr = bind[0]
	}
	n, err := Open(testConfig(id, dir, addr), fsm)
	if err != nil {
		t.Fatalf("Open %s: %v", id, err)
	}
	t.Cleanup(func() { _ = n.Shutdown() })
	return n
}

// hookRec records leader-service runs.
type hookRec struct {
	starts, stops, active atomic.Int32
	overlap               atomic.Bool
}

func (h *hookRec) start(ctx context.Context) {
	h.starts.Add(1)
	if h.active.Add(1) > 1 {
		h.overlap.Store(true)
	}
	<-ctx.Done()
	h.active.Add(-1)
	h.stops.Add(1)
}
