package raftnode

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftflow/engine/internal/testutil"
)

// TestTruncatedBoltStore: a truncated raft.db is a clear start error naming
// the file, never a panic or a fault inside bbolt (which killed the process
// when the file was cut past its meta pages).
func TestTruncatedBoltStore(t *testing.T) {
	for _, size := range []int64{10, 4096, 8192, 12288, -1} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "raft", "raft.db")
			if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
				t.Fatal(err)
			}
			st, err := openBoltStore(path)
			if err != nil {
				t.Fatal(err)
			}
			logs := make([]*raft.Log, 2000)
			for i := range logs {
				logs[i] = &raft.Log{Index: uint64(i + 1), Term: 1, Data: bytes.Repeat([]byte("x"), 200)}
			}
			if err := st.StoreLogs(logs); err != nil {
				t.Fatal(err)
			}
			st.Close()
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if size < 0 {
				size = fi.Size() / 2
			}
			if err := os.Truncate(path, size); err != nil {
				t.Fatal(err)
			}
			_, err = Open(testConfig("n1", dir, "127.0.0.1:0"), &testFSM{})
			if !errors.Is(err, ErrStorage) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "corrupt or truncated") {
				t.Fatalf("Open with raft.db cut from %d to %d bytes = %v; want ErrStorage naming the file", fi.Size(), size, err)
			}
			t.Logf("%d -> %d bytes: %v", fi.Size(), size, err)
		})
	}
}

// TestStoreWriteFails: a failed raft log write is reported once to
// Config.OnStorageFailure, with ErrStorage and the disk's error, and
// StorageErr reports it; nothing more is acknowledged. When every write
// fails, the term write raft makes next (stepping down, electing itself)
// must not panic the process: it is parked, and Shutdown still returns.
func TestStoreWriteFails(t *testing.T) {
	for _, tt := range []struct {
		name   string
		failOp func(op string) bool
	}{
		{"log", func(op string) bool { return strings.HasPrefix(op, "store log") }},
		{"all", func(string) bool { return true }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var armed atomic.Bool
			var mu sync.Mutex
			var failures []error
			cfg := testConfig("n1", t.TempDir(), "127.0.0.1:0")
			cfg.StoreFault = func(op string) error {
				if armed.Load() && tt.failOp(op) {
					return syscall.ENOSPC
				}
				return nil
			}
			cfg.OnStorageFailure = func(err error) {
				mu.Lock()
				defer mu.Unlock()
				failures = append(failures, err)
			}
			n, err := Open(cfg, &testFSM{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = n.Shutdown() })
			if err := n.Bootstrap(); err != nil {
				t.Fatal(err)
			}
			ctx := testutil.Context(t, 10*time.Second)
			if err := n.WaitLeader(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := n.Apply(ctx, []byte("a")); err != nil {
				t.Fatal(err)
			}
			if n.StorageErr() != nil {
				t.Fatalf("StorageErr before any fault: %v", n.StorageErr())
			}
			armed.Store(true)
			if _, err := n.Apply(ctx, []byte("b")); err == nil {
				t.Fatal("Apply acknowledged a write the log store failed")
			}
			err = n.StorageErr()
			if !errors.Is(err, ErrStorage) || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("StorageErr = %v, want ErrStorage wrapping ENOSPC", err)
			}
			if tt.name == "all" { // raft steps down and tries to elect itself again
				testutil.EventuallyTrue(t, 10*time.Second, "a candidate (its term write parked)", func() bool { return n.raft.State() == raft.Candidate })
			}
			if err := n.Shutdown(); err != nil {
				t.Logf("Shutdown: %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(failures) != 1 || !errors.Is(failures[0], syscall.ENOSPC) {
				t.Fatalf("OnStorageFailure calls = %v, want one with ENOSPC", failures)
			}
			t.Logf("reported: %v", failures[0])
		})
	}
}
