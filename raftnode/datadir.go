package raftnode

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/raft"
)

// Data-directory errors: Open refuses to start rather than run on a data
// directory that would make it lose or skip acknowledged writes.
var (
	// ErrFSMAhead: the state machine has applied entries the raft log and
	// snapshots no longer hold (raft/ lost, reset or restored from an older
	// backup while fsm/ was kept). Starting would bootstrap or accept a new
	// log at a lower index and acknowledge entries the FSM then skips.
	ErrFSMAhead = errors.New("raftnode: state machine ahead of the raft log")
	// ErrNodeIDMismatch: the data directory was created by a node with
	// another ID. Its raft state names that ID; running it under another one
	// wedges the node ("no leader known") or confuses the cluster.
	ErrNodeIDMismatch = errors.New("raftnode: data dir belongs to another node id")
)

// nodeIDFile holds the node ID a data directory was created with.
const nodeIDFile = "node-id"

// checkNodeID refuses to start when dataDir records another node ID than
// id. It reports whether no ID is recorded yet (first start, or a data dir
// from before the file existed): Open records it with recordNodeID once
// raft has started, so a start that fails early (a typo in --node-id and a
// port in use) does not tie the directory to a wrong ID.
func checkNodeID(dataDir, id string) (missing bool, err error) {
	path := filepath.Join(dataDir, nodeIDFile)
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("raftnode: read %s: %w", path, err)
	}
	got := strings.TrimSpace(string(b))
	if got == "" { // never written by writeFileSync; treat as not recorded
		return true, nil
	}
	if got != id {
		return false, fmt.Errorf("%w: data dir %s was created by node %q, but this node was started as %q (--node-id); "+
			"start it with --node-id %s, or give node %q a data dir of its own", ErrNodeIDMismatch, dataDir, got, id, got, id)
	}
	return false, nil
}

// recordNodeID writes id into dataDir, durably.
func recordNodeID(dataDir, id string) error {
	if err := writeFileSync(filepath.Join(dataDir, nodeIDFile), []byte(id+"\n")); err != nil {
		return fmt.Errorf("raftnode: record node id: %w", err)
	}
	return nil
}

// checkLogCoversFSM refuses to start when the FSM's applied index is beyond
// both the log's last index and the newest snapshot: then raft/ no longer
// holds what fsm/ was built from (design guide §3.5: the log is the durable
// record, the FSM only a cache of it). Normally applied <= last log index,
// because raft stores an entry durably before it is committed and applied,
// and a snapshot install persists the snapshot before restoring the FSM.
func checkLogCoversFSM(logs raft.LogStore, snaps []*raft.SnapshotMeta, applied uint64, dataDir string) error {
	last, err := logs.LastIndex()
	if err != nil {
		return fmt.Errorf("raftnode: read last log index: %w", err)
	}
	var snap uint64
	for _, s := range snaps {
		snap = max(snap, s.Index)
	}
	if applied <= max(last, snap) {
		return nil
	}
	return fmt.Errorf("%w: fsm/ has applied raft index %d, but raft/ ends at %d (last log index %d, newest snapshot %d). "+
		"raft/ was lost, reset or restored from an older backup while fsm/ was kept; starting would acknowledge new writes "+
		"that the state machine then skips, so the node refuses to start. To recover: restore raft/ from a backup taken "+
		"together with fsm/, or delete %s so the state machine is rebuilt from raft's log and snapshots (in a cluster the "+
		"leader sends this node everything; on a single node whose raft/ is lost, deleting fsm/ discards the data it holds). "+
		"See docs/operations.md, Storage faults and recovery",
		ErrFSMAhead, applied, max(last, snap), last, snap, filepath.Join(dataDir, "fsm"))
}

// writeFileSync writes path atomically and durably: a synced temporary file
// renamed over it, then the directory synced.
func writeFileSync(path string, data []byte) error {
	tmp := path + ".tmp"
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o640)
	if err != nil {
		return err
	}
	_, err = fh.Write(data)
	if err == nil {
		err = fh.Sync()
	}
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(filepath.Dir(path))
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
