package raftnode

import (
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/hashicorp/raft"
)

// testFSM is an in-memory append-only list. A command "err:<msg>" makes the
// entry's response an error. Entries at or below the applied index are
// skipped, as the real FSM does after a restart without restore.
type testFSM struct {
	mu       sync.Mutex
	values   []string
	applied  uint64
	restores int
}

var _ FSM = (*testFSM)(nil)

func (f *testFSM) ApplyBatch(logs []*raft.Log) []any {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]any, len(logs))
	for i, l := range logs {
		if l.Index <= f.applied {
			continue
		}
		f.applied = l.Index
		if l.Type != raft.LogCommand {
			continue
		}
		if msg, ok := strings.CutPrefix(string(l.Data), "err:"); ok {
			out[i] = errors.New(msg)
			continue
		}
		f.values = append(f.values, string(l.Data))
		out[i] = len(f.values)
	}
	return out
}

func (f *testFSM) Apply(l *raft.Log) any { return f.ApplyBatch([]*raft.Log{l})[0] }

func (f *testFSM) AppliedIndex() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.applied
}

func (f *testFSM) Values() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.values)
}

func (f *testFSM) Restores() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.restores
}

type fsmState struct {
	Values  []string
	Applied uint64
}

func (f *testFSM) Snapshot() (raft.FSMSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return &testSnapshot{fsmState{Values: slices.Clone(f.values), Applied: f.applied}}, nil
}

func (f *testFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	var st fsmState
	if err := json.NewDecoder(rc).Decode(&st); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values, f.applied = st.Values, st.Applied
	f.restores++
	return nil
}

type testSnapshot struct{ st fsmState }

func (s *testSnapshot) Persist(sink raft.SnapshotSink) error {
	if err := json.NewEncoder(sink).Encode(s.st); err != nil {
		sink.Cancel()
		return err
	}
	return sink.Close()
}

func (s *testSnapshot) Release() {}
