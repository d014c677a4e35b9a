package raftnode

import (
	"crypto/tls"
	"errors"
	"log/slog"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// Defaults applied by Open to zero-valued Config fields. The timeouts suit a
// LAN; tests shrink them.
const (
	DefaultSnapshotThreshold  = 8192
	DefaultSnapshotInterval   = 30 * time.Second
	DefaultTrailingLogs       = 10240
	DefaultHeartbeatTimeout   = time.Second
	DefaultElectionTimeout    = time.Second
	DefaultLeaderLeaseTimeout = 500 * time.Millisecond
	DefaultCommitTimeout      = 50 * time.Millisecond
)

// Fixed wiring parameters (one place, see DESIGN.md).
const (
	logCacheSize       = 512              // entries kept in memory in front of bolt
	snapshotsRetained  = 2                // snapshot files kept on disk
	transportMaxPool   = 3                // pooled TCP connections per peer
	transportTimeout   = 10 * time.Second // per-RPC I/O deadline
	maxAppendEntries   = 1024             // raft's upper bound; also the apply batch size
	defaultOpTimeout   = 10 * time.Second // Apply/Barrier/membership without a ctx deadline
	transferTimeout    = 5 * time.Second  // leadership transfer on Shutdown
	leaderPollInterval = 20 * time.Millisecond
)

// Config configures a Node. Zero values take the defaults above.
type Config struct {
	NodeID        string // raft server ID; stable for the life of the data dir
	DataDir       string // raft files live in DataDir/raft (created)
	RaftBind      string // listen address; "127.0.0.1:0" picks a free port
	RaftAdvertise string // address peers dial; default: the listener's actual address
	// Logger receives raft's own log output (through an hclog adapter).
	// nil means slog.Default().
	Logger *slog.Logger

	SnapshotThreshold uint64        // 0 = DefaultSnapshotThreshold
	SnapshotInterval  time.Duration // 0 = DefaultSnapshotInterval
	TrailingLogs      uint64        // 0 = DefaultTrailingLogs

	HeartbeatTimeout   time.Duration // 0 = DefaultHeartbeatTimeout
	ElectionTimeout    time.Duration // 0 = max(DefaultElectionTimeout, HeartbeatTimeout)
	LeaderLeaseTimeout time.Duration // 0 = min(DefaultLeaderLeaseTimeout, HeartbeatTimeout)
	CommitTimeout      time.Duration // 0 = DefaultCommitTimeout

	// Fault is a test hook for network partitions; leave it nil outside
	// tests. When set, it is called with this node's advertised raft
	// address and a peer's address before every dial to that peer and
	// around every read and write on a connection this node dialed; true
	// fails the operation (and closes the connection), so the raft RPCs
	// from -> to fail. Responses travel on the requester's connection, so
	// cutting both directions takes true for (a, b) and for (b, a).
	// Accepted connections are not checked (the peer's raft address is not
	// known there); their dialing end, which uses the same hook in a test
	// cluster, cuts them. Must be safe for concurrent use and fast.
	Fault func(from, to string) bool

	// TLS, when set, makes the raft listener speak mutual TLS with it
	// (ClientCAs required; client certificates are always required).
	// DialTLS is used to dial peers (RootCAs to verify them, Certificates
	// to present). Both or neither. Beyond the chain, each end checks the
	// other's identity: a peer certificate allows server authentication
	// and names a member by the host of its raft address or by the DNS
	// SAN PeerName(id) (see peerIdentity in peer.go). ServerName, if set,
	// is sent as SNI only. A TLS node and a plaintext node cannot talk.
	TLS, DialTLS *tls.Config

	// StoreFault is a test hook for disk faults; leave it nil outside
	// tests. When set, it is called before every raft log or stable store
	// write with the operation ("store logs", "stable set", ...); a non-nil
	// error fails that write as the disk would, without writing.
	StoreFault func(op string) error

	// OnStorageFailure, when set, is called at most once, on the goroutine
	// whose raft log or stable store write failed, before raft sees the
	// error (Node.StorageErr reports it from then on). The node must stop:
	// the caller should exit the process (crash-only) or, embedded, shut
	// the node down from another goroutine; it must not call Shutdown
	// itself, which waits for that goroutine.
	OnStorageFailure func(error)
}

func (c Config) validate() error {
	switch {
	case c.NodeID == "":
		return errors.New("raftnode: Config.NodeID is required")
	case c.DataDir == "":
		return errors.New("raftnode: Config.DataDir is required")
	case c.RaftBind == "":
		return errors.New("raftnode: Config.RaftBind is required")
	}
	return validatePeerTLS(c.TLS, c.DialTLS)
}

// withDefaults fills zero fields. Derived defaults keep raft's invariants
// (lease <= heartbeat <= election) when a caller sets only some timeouts.
func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.SnapshotThreshold == 0 {
		c.SnapshotThreshold = DefaultSnapshotThreshold
	}
	if c.SnapshotInterval == 0 {
		c.SnapshotInterval = DefaultSnapshotInterval
	}
	if c.TrailingLogs == 0 {
		c.TrailingLogs = DefaultTrailingLogs
	}
	if c.HeartbeatTimeout == 0 {
		c.HeartbeatTimeout = DefaultHeartbeatTimeout
	}
	if c.ElectionTimeout == 0 {
		c.ElectionTimeout = max(DefaultElectionTimeout, c.HeartbeatTimeout)
	}
	if c.LeaderLeaseTimeout == 0 {
		c.LeaderLeaseTimeout = min(DefaultLeaderLeaseTimeout, c.HeartbeatTimeout)
	}
	if c.CommitTimeout == 0 {
		c.CommitTimeout = DefaultCommitTimeout
	}
	return c
}

// raftConfig builds the hashicorp/raft configuration. notify must be
// buffered; the leadership observer drains it. logger receives raft's output.
func (c Config) raftConfig(skipRestore bool, notify chan bool, logger hclog.Logger) *raft.Config {
	rc := raft.DefaultConfig()
	rc.Logger = logger
	rc.LocalID = raft.ServerID(c.NodeID)
	rc.BatchApplyCh = true
	rc.MaxAppendEntries = maxAppendEntries
	rc.NoSnapshotRestoreOnStart = skipRestore
	rc.SnapshotThreshold = c.SnapshotThreshold
	rc.SnapshotInterval = c.SnapshotInterval
	rc.TrailingLogs = c.TrailingLogs
	rc.HeartbeatTimeout = c.HeartbeatTimeout
	rc.ElectionTimeout = c.ElectionTimeout
	rc.LeaderLeaseTimeout = c.LeaderLeaseTimeout
	rc.CommitTimeout = c.CommitTimeout
	rc.NotifyCh = notify
	return rc
}

// skipRestoreOnStart decides raft.Config.NoSnapshotRestoreOnStart (design
// guide §3.5). snaps is the snapshot store listing, newest first, as
// raft.SnapshotStore.List returns it; applied is the FSM's durable applied
// index.
//
//   - No snapshot: nothing to restore; raft replays the log from its start
//     and the FSM skips entries <= applied.
//   - applied >= newest snapshot index: the FSM already holds everything the
//     snapshot holds (and maybe more). Restoring would move it backwards and
//     cost a full rebuild; skip, raft delivers entries after the snapshot
//     and the FSM skips those <= applied.
//   - applied < snapshot index: the entries between may already be
//     compacted out of the log, so the FSM can only catch up from the
//     snapshot; restore.
func skipRestoreOnStart(snaps []*raft.SnapshotMeta, applied uint64) bool {
	if len(snaps) == 0 {
		return true
	}
	newest := snaps[0].Index
	for _, s := range snaps[1:] { // do not rely on the order
		newest = max(newest, s.Index)
	}
	return applied >= newest
}
