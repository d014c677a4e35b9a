package server_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/raftflow/engine/internal/server"
	"github.com/raftflow/engine/raftnode"
)

// fatalRec is a Config.Fatal for tests: it records instead of exiting.
type fatalRec struct {
	mu   sync.Mutex
	errs []error
}

func (r *fatalRec) fatal(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, err)
}

func (r *fatalRec) get() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func nodeConfig(id, dir, raftAddr string, rec *fatalRec) server.Config {
	cfg := server.Config{
		NodeID: id, DataDir: dir,
		GRPCAddr: "127.0.0.1:0", RaftAddr: raftAddr, HTTPAddr: "127.0.0.1:0",
		Logger:           slog.New(slog.NewTextHandler(io.Discard, nil)),
		HeartbeatTimeout: 100 * time.Millisecond, ElectionTimeout: 100 * time.Millisecond,
		LeaderLeaseTimeout: 50 * time.Millisecond, CommitTimeout: 5 * time.Millisecond,
	}
	if rec != nil {
		cfg.Fatal = rec.fatal
	}
	return cfg
}

func startNode(t *testing.T, cfg server.Config) *server.Server {
	t.Helper()
	s, err := server.Start(cfg)
	if err != nil {
		t.Fatalf("Start %s: %v", cfg.NodeID, err)
	}
	t.Cleanup(func() { s.Kill() })
	waitReady(t, s)
	return s
}

func waitReady(t *testing.T, s *server.Server) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, why := s.Ready()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not ready: %s", why)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dialNode(t *testing.T, s *server.Server) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: s.GRPCAddr(), Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// startWorkflows starts n workflows (no worker needed: a start is one
// acknowledged write) and returns their ids.
func startWorkflows(t *testing.T, c client.Client, prefix string, n int) []string {
	t.Helper()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%s-%d", prefix, i)
		if _, err := c.ExecuteWorkflow(ctxFor(t, 10*time.Second), client.StartWorkflowOptions{ID: id, TaskQueue: "storage"}, "noop"); err != nil {
			t.Fatalf("start %s: %v", id, err)
		}
		ids = append(ids, id)
	}
	return ids
}

// TestDataDirChecks is issue 11 item 3 end to end on the real state
// machine: a normal restart keeps every acknowledged start; another
// --node-id is refused naming both ids; raft/ deleted with fsm/ kept is
// refused (it used to bootstrap a new log and acknowledge starts the FSM
// then skipped: 100 acknowledged, 0 present).
func TestDataDirChecks(t *testing.T) {
	rec := &fatalRec{}
	dir := t.TempDir()
	s := startNode(t, nodeConfig("n1", dir, "127.0.0.1:0", rec))
	raftAddr := s.RaftAddr()
	ids := startWorkflows(t, dialNode(t, s), "wf", 20)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = startNode(t, nodeConfig("n1", dir, raftAddr, rec))
	c := dialNode(t, s)
	for _, id := range ids {
		if _, err := c.DescribeWorkflowExecution(ctxFor(t, 10*time.Second), id, ""); err != nil {
			t.Fatalf("after restart, %s: %v", id, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	_, err := server.Start(nodeConfig("n2", dir, raftAddr, rec))
	if !errors.Is(err, raftnode.ErrNodeIDMismatch) || !strings.Contains(err.Error(), `"n1"`) || !strings.Contains(err.Error(), `"n2"`) {
		t.Fatalf("Start as n2 = %v; want ErrNodeIDMismatch naming n1 and n2", err)
	}

	if err := os.RemoveAll(filepath.Join(dir, "raft")); err != nil {
		t.Fatal(err)
	}
	_, err = server.Start(nodeConfig("n1", dir, raftAddr, rec))
	if !errors.Is(err, raftnode.ErrFSMAhead) || !strings.Contains(err.Error(), filepath.Join(dir, "fsm")) {
		t.Fatalf("Start with raft/ deleted = %v; want ErrFSMAhead naming %s", err, filepath.Join(dir, "fsm"))
	}
	t.Logf("raft/ deleted: %v", err)
	if errs := rec.get(); len(errs) != 0 {
		t.Fatalf("Fatal called: %v", errs)
	}
}

// TestRaftStoreFailureIsFatal: a raft log-store write error calls
// Config.Fatal once and the node is not ready from then on (/readyz 503).
func TestRaftStoreFailureIsFatal(t *testing.T) {
	rec := &fatalRec{}
	var armed atomic.Bool
	cfg := nodeConfig("n1", t.TempDir(), "127.0.0.1:0", rec)
	cfg.RaftStoreFault = func(op string) error {
		if armed.Load() && strings.HasPrefix(op, "store log") {
			return syscall.EIO
		}
		return nil
	}
	s := startNode(t, cfg)
	c := dialNode(t, s)
	startWorkflows(t, c, "ok", 1)
	armed.Store(true)
	if _, err := c.ExecuteWorkflow(ctxFor(t, 5*time.Second), client.StartWorkflowOptions{ID: "lost", TaskQueue: "storage"}, "noop"); err == nil {
		t.Fatal("a start was acknowledged although the raft log write failed")
	}
	errs := rec.get()
	if len(errs) != 1 || !errors.Is(errs[0], raftnode.ErrStorage) || !errors.Is(errs[0], syscall.EIO) {
		t.Fatalf("Fatal calls = %v; want one ErrStorage wrapping EIO", errs)
	}
	if ok, why := s.Ready(); ok || !strings.Contains(why, "storage failed") {
		t.Fatalf("Ready = %v %q after a storage failure", ok, why)
	}
	resp, err := http.Get("http://" + s.HTTPAddr() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !bytes.Contains(body, []byte("input/output error")) {
		t.Fatalf("/readyz = %d %q", resp.StatusCode, body)
	}
}

// TestStorageFailureWithoutFatal: without Config.Fatal (tests, embedders)
// a storage failure kills the node in the background.
func TestStorageFailureWithoutFatal(t *testing.T) {
	var armed atomic.Bool
	cfg := nodeConfig("n1", t.TempDir(), "127.0.0.1:0", nil)
	cfg.Fatal = nil
	cfg.RaftStoreFault = func(op string) error {
		if armed.Load() && strings.HasPrefix(op, "store log") {
			return syscall.EIO
		}
		return nil
	}
	s := startNode(t, cfg)
	c := dialNode(t, s)
	armed.Store(true)
	if _, err := c.ExecuteWorkflow(ctxFor(t, 5*time.Second), client.StartWorkflowOptions{ID: "lost", TaskQueue: "storage"}, "noop"); err == nil {
		t.Fatal("a start was acknowledged although the raft log write failed")
	}
	deadline := time.Now().Add(20 * time.Second)
	for s.Node.Status().State != "Shutdown" {
		if time.Now().After(deadline) {
			t.Fatalf("node still %s after the storage failure", s.Node.Status().State)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ok, _ := s.Ready(); ok {
		t.Fatal("ready after the storage failure")
	}
}

// TestDiskFull fills a small tmpfs mounted on the data dir's raft/ (needs
// root; skipped otherwise): the node stops through Fatal with ENOSPC named,
// instead of reporting ready and failing later.
func TestDiskFull(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs")
	}
	dir := t.TempDir()
	raftDir := filepath.Join(dir, "raft")
	if err := os.MkdirAll(raftDir, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", raftDir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (%v: %s)", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { // registered first, so it runs after the node's Kill
		if out, err := exec.Command("umount", raftDir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", raftDir, err, out)
		}
	})
	rec := &fatalRec{}
	s := startNode(t, nodeConfig("n1", dir, "127.0.0.1:0", rec))
	c := dialNode(t, s)
	payload := bytes.Repeat([]byte("x"), 64<<10)
	for i := 0; len(rec.get()) == 0; i++ {
		if i == 200 { // 12 MB into a 2 MB file system
			t.Fatal("the raft log never failed on a full disk")
		}
		_, err := c.ExecuteWorkflow(ctxFor(t, 5*time.Second), client.StartWorkflowOptions{ID: fmt.Sprint("big-", i), TaskQueue: "storage"}, "noop", payload)
		if err != nil && len(rec.get()) == 0 {
			t.Fatalf("start %d failed without a storage failure: %v", i, err)
		}
	}
	errs := rec.get()
	if len(errs) != 1 || !errors.Is(errs[0], syscall.ENOSPC) {
		t.Fatalf("Fatal calls = %v; want one naming ENOSPC", errs)
	}
	if ok, _ := s.Ready(); ok {
		t.Fatal("ready after the disk filled")
	}
	t.Logf("stopped with: %v", errs[0])
}
