// Package raftnode wires hashicorp/raft for the engine: bolt log and stable
// store, file snapshots, TCP transport, bootstrap/join/restart, context-aware
// proposals, idempotent membership changes and the leader-services hook.
//
// A Node is safe for concurrent use by multiple goroutines.
package raftnode

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// Sentinel errors. Errors returned by Node wrap these; check with errors.Is.
var (
	// ErrNotLeader: this node is not the leader (or is handing leadership
	// over). The command was not proposed; retry on the leader (Leader()).
	ErrNotLeader = errors.New("raftnode: not the leader")
	// ErrLeadershipLost: leadership was lost after the command was proposed.
	// The command may or may not have committed; only an idempotent retry
	// (same request ID) is safe.
	ErrLeadershipLost = errors.New("raftnode: leadership lost")
	// ErrShutdown: the node is shut down (or shutting down). A command in
	// flight may or may not have committed.
	ErrShutdown = errors.New("raftnode: shut down")
)

// FSM is what raftnode needs from the state machine.
type FSM interface {
	raft.BatchingFSM
	// AppliedIndex returns the raft index last applied and stored
	// durably-enough by the FSM (0 if none). Open reads it once, before raft
	// starts, to decide whether raft must restore a snapshot on start.
	AppliedIndex() uint64
}

// Node is one raft server: its stores, its transport and the raft instance,
// plus the leadership observer that runs the leader-services hook.
type Node struct {
	cfg         Config
	log         *slog.Logger
	raft        *raft.Raft
	trans       *raft.NetworkTransport
	store       *failStore
	stable      *guardedStable // what failStore writes raft's term and vote through
	hasState    bool
	skipRestore bool // the NoSnapshotRestoreOnStart decision Open took

	leader leadership // observer state, see leadership.go

	peers *peerIdentity // raft peer certificate checks (peer.go)

	storageErr atomic.Pointer[error] // first raft store write failure (failStore)

	stopping     atomic.Bool   // Shutdown has begun: refuse new proposals
	closing      chan struct{} // closed once raft is shut down: unblocks waiters
	shutdownOnce sync.Once
	shutdownErr  error
}

// Open creates the stores and transport and starts raft, but does not
// bootstrap: call Decide(n.HasState(), join) and then Bootstrap, or ask a
// leader to AddVoter this node, or do nothing (restart).
//
// fsm must already be open: its AppliedIndex decides
// NoSnapshotRestoreOnStart (see skipRestoreOnStart). On error everything
// opened so far is closed again.
func Open(cfg Config, fsm FSM) (_ *Node, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if fsm == nil {
		return nil, errors.New("raftnode: Open: nil FSM")
	}
	cfg = cfg.withDefaults()
	dir := filepath.Join(cfg.DataDir, "raft")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("raftnode: %w", err)
	}
	n := &Node{
		cfg:     cfg,
		log:     cfg.Logger.With("node_id", cfg.NodeID),
		closing: make(chan struct{}),
	}
	hl := newHCLog(n.log, "raft")

	var cleanup []func() error
	defer func() {
		if err != nil {
			for i := len(cleanup) - 1; i >= 0; i-- {
				_ = cleanup[i]()
			}
		}
	}()

	recordID, err := checkNodeID(cfg.DataDir, cfg.NodeID)
	if err != nil {
		return nil, err
	}
	bolt, err := openBoltStore(filepath.Join(dir, "raft.db"))
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, bolt.Close)
	n.stable = newGuardedStable(bolt)
	n.store = newFailStore(bolt, n.stable, n.storageFailed, cfg.StoreFault)
	if err := n.store.probe(); err != nil {
		return nil, err
	}
	logs, err := raft.NewLogCache(logCacheSize, n.store)
	if err != nil {
		return nil, fmt.Errorf("raftnode: log cache: %w", err)
	}
	snaps, err := raft.NewFileSnapshotStoreWithLogger(dir, snapshotsRetained, hl.Named("snapshot"))
	if err != nil {
		return nil, fmt.Errorf("raftnode: snapshot store: %w", err)
	}

	n.hasState, err = raft.HasExistingState(logs, n.store, snaps)
	if err != nil {
		return nil, fmt.Errorf("raftnode: inspect existing state: %w", err)
	}
	metas, err := snaps.List()
	if err != nil {
		return nil, fmt.Errorf("raftnode: list snapshots: %w", err)
	}
	if err := checkLogCoversFSM(n.store, metas, fsm.AppliedIndex(), cfg.DataDir); err != nil {
		return nil, err
	}
	n.skipRestore = skipRestoreOnStart(metas, fsm.AppliedIndex())

	n.peers = newPeerIdentity(cfg.DialTLS)
	n.trans, err = newTransport(cfg.RaftBind, cfg.RaftAdvertise, cfg.Fault, cfg.TLS, cfg.DialTLS, n.peers, hl.Named("transport"))
	if err != nil {
		return nil, err
	}
	cleanup = append(cleanup, n.trans.Close)

	if recordID { // every check passed: this directory is now this node's
		if err := recordNodeID(cfg.DataDir, cfg.NodeID); err != nil {
			return nil, err
		}
	}
	notify := make(chan bool, 16)
	n.leader.init(notify)
	n.raft, err = raft.NewRaft(cfg.raftConfig(n.skipRestore, notify, hl), fsm, logs, n.store, snaps, n.trans)
	if err != nil {
		return nil, fmt.Errorf("raftnode: start raft: %w", err)
	}
	n.peers.setRaft(n.raft)
	go n.observe()

	n.log.Info("raft started", "addr", n.RaftAddr(), "has_state", n.hasState,
		"fsm_applied", fsm.AppliedIndex(), "snapshots", len(metas), "restore_on_start", !n.skipRestore)
	return n, nil
}

// storageFailed records the first raft store failure and reports it to
// Config.OnStorageFailure (failStore calls it at most once).
func (n *Node) storageFailed(err error) {
	n.storageErr.CompareAndSwap(nil, &err)
	n.log.Error("raft storage failed; the node must stop", "err", err)
	if n.cfg.OnStorageFailure != nil {
		n.cfg.OnStorageFailure(err)
	}
}

// StorageErr returns the raft log or stable store write error that failed
// the node (it wraps ErrStorage), or nil. Once set, the node is not fit to
// serve: see Config.OnStorageFailure.
func (n *Node) StorageErr() error {
	if p := n.storageErr.Load(); p != nil {
		return *p
	}
	return nil
}

// HasState reports whether raft found existing state (term, log or
// snapshot) on disk when Open ran, i.e. before raft started.
func (n *Node) HasState() bool { return n.hasState }

// ID returns this node's raft server ID.
func (n *Node) ID() string { return n.cfg.NodeID }

// RaftAddr returns the advertised raft address (with the actual port when
// bound to port 0).
func (n *Node) RaftAddr() string { return string(n.trans.LocalAddr()) }

// Raft exposes the underlying raft instance for what this package does not
// wrap (stats, user snapshots). Do not call Shutdown on it; use Node.Shutdown.
func (n *Node) Raft() *raft.Raft { return n.raft }

// Bootstrap forms a new cluster with this node as the only voter. Calling it
// on a node that already has state is harmless (raft.ErrCantBootstrap is
// treated as success), so a crash between Bootstrap and the first election
// cannot wedge start-up.
func (n *Node) Bootstrap() error {
	err := n.raft.BootstrapCluster(raft.Configuration{Servers: []raft.Server{{
		Suffrage: raft.Voter,
		ID:       raft.ServerID(n.cfg.NodeID),
		Address:  n.trans.LocalAddr(),
	}}}).Error()
	if err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
		return fmt.Errorf("raftnode: bootstrap: %w", err)
	}
	return nil
}

// Shutdown stops the node. If it is the leader and other voters exist, it
// first hands leadership over (bounded by transferTimeout) so the cluster
// does not wait an election timeout. Then it stops leader services (waiting
// for the hook's start to return), shuts raft down and closes transport and
// stores. Safe to call more than once; later calls return the first result.
func (n *Node) Shutdown() error {
	n.shutdownOnce.Do(func() { n.shutdownErr = n.shutdown(true) })
	return n.shutdownErr
}

// Kill stops the node as a crash would, as far as the cluster can tell:
// no leadership transfer, so the others notice only by missed heartbeats
// and elect a new leader after an election timeout. Locally it cleans up
// like Shutdown (leader services stopped, raft, transport and stores
// closed), so the data directory can be opened again in the same process.
// Meant for tests; shares Shutdown's once (whichever runs first wins).
func (n *Node) Kill() error {
	n.shutdownOnce.Do(func() { n.shutdownErr = n.shutdown(false) })
	return n.shutdownErr
}

func (n *Node) shutdown(transfer bool) error {
	n.stopping.Store(true)
	if transfer {
		n.transferLeadership()
	}
	n.stopObserver()

	var errs []error
	if err := n.shutdownRaft(); err != nil {
		errs = append(errs, fmt.Errorf("raftnode: raft shutdown: %w", err))
	}
	close(n.closing)
	if err := n.trans.Close(); err != nil {
		errs = append(errs, fmt.Errorf("raftnode: close transport: %w", err))
	}
	if n.stable != nil {
		n.stable.close() // no stray heartbeat may write after this
	}
	if err := n.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("raftnode: close bolt store: %w", err))
	}
	n.log.Info("raft stopped")
	return errors.Join(errs...)
}

// failedShutdownWait bounds Shutdown's wait for raft after a storage failure.
const failedShutdownWait = 2 * time.Second

// shutdownRaft stops raft and waits for its goroutines. After a storage
// failure one of them may be parked for good in a stable-store write (see
// failStore); then the wait is bounded and that goroutine is abandoned, as
// a crash would abandon it.
func (n *Node) shutdownRaft() error {
	f := n.raft.Shutdown()
	if n.StorageErr() == nil {
		return f.Error()
	}
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	select {
	case err := <-done:
		return err
	case <-time.After(failedShutdownWait):
		n.log.Warn("raft did not stop after the storage failure; abandoning it")
		return nil
	}
}
