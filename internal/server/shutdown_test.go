package server_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftflow/engine/internal/testcluster"
)

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestGracefulStopTransfersLeadership: Close (what main does on SIGTERM)
// on the leader hands leadership to another node before stopping, and
// the rest of the cluster serves on.
func TestGracefulStopTransfersLeadership(t *testing.T) {
	var logs syncBuffer
	c := testcluster.Start(t, 3, testcluster.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	l := c.Leader()
	c.Stop(l)
	transferred := false
	for _, line := range strings.Split(logs.String(), "\n") {
		transferred = transferred || strings.Contains(line, "shutdown: leadership transferred") && strings.Contains(line, "node="+c.ID(l)+" ")
	}
	if !transferred {
		t.Fatalf("the stopped leader did not transfer leadership; log:\n%s", logs.String())
	}
	deadline := time.Now().Add(30 * time.Second)
	for i := range 3 {
		for i != l {
			if id, _ := c.Node(i).Node.Leader(); id != "" && id != c.ID(l) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s sees no new leader", c.ID(i))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}
