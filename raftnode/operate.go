package raftnode

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// ErrNothingToSnapshot: Snapshot found nothing applied since the last one.
var ErrNothingToSnapshot = errors.New("raftnode: nothing new to snapshot")

// TransferLeadership hands leadership to the voter id, or with id "" to
// the most up-to-date other voter, and waits until another node leads
// (bounded by ctx, default limit without a deadline). It returns the new
// leader's ID. Only the leader can do it (ErrNotLeader otherwise); an id
// that is not a voter, or this node itself, is an error.
func (n *Node) TransferLeadership(ctx context.Context, id string) (string, error) {
	if err := n.checkProposable(ctx, "transfer leadership"); err != nil {
		return "", err
	}
	if !n.IsLeader() {
		return "", n.notLeader("transfer leadership", nil)
	}
	ctx, cancel := opContext(ctx)
	defer cancel()
	var f raft.Future
	if id == "" {
		f = n.raft.LeadershipTransfer()
	} else {
		if id == n.cfg.NodeID {
			return "", fmt.Errorf("raftnode: transfer leadership: %s already leads", id)
		}
		cfg, _, err := n.configuration()
		if err != nil {
			return "", err
		}
		var addr raft.ServerAddress
		for _, s := range cfg.Servers {
			if string(s.ID) == id && s.Suffrage == raft.Voter {
				addr = s.Address
			}
		}
		if addr == "" {
			return "", fmt.Errorf("raftnode: transfer leadership: %q is not a voter", id)
		}
		f = n.raft.LeadershipTransferToServer(raft.ServerID(id), addr)
	}
	if err := n.wait(ctx, f); err != nil {
		return "", n.mapErr("transfer leadership", err)
	}
	t := time.NewTicker(leaderPollInterval)
	defer t.Stop()
	for {
		if l, _ := n.Leader(); l != "" && l != n.cfg.NodeID {
			return l, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("raftnode: transfer leadership: waiting for the new leader: %w", ctx.Err())
		case <-n.closing:
			return "", fmt.Errorf("raftnode: transfer leadership: %w", ErrShutdown)
		case <-t.C:
		}
	}
}

// SnapshotMeta describes a snapshot Snapshot took.
type SnapshotMeta struct {
	ID          string
	Index, Term uint64
}

// Snapshot takes a raft snapshot of this node now (any node, leader or
// not) and compacts its log down to TrailingLogs. ErrNothingToSnapshot
// when nothing was applied since the last snapshot.
func (n *Node) Snapshot(ctx context.Context) (SnapshotMeta, error) {
	if err := n.checkProposable(ctx, "snapshot"); err != nil {
		return SnapshotMeta{}, err
	}
	ctx, cancel := opContext(ctx)
	defer cancel()
	f := n.raft.Snapshot()
	if err := n.wait(ctx, f); err != nil {
		if errors.Is(err, raft.ErrNothingNewToSnapshot) {
			return SnapshotMeta{}, fmt.Errorf("%w: %w", ErrNothingToSnapshot, err)
		}
		return SnapshotMeta{}, n.mapErr("snapshot", err)
	}
	meta, rc, err := f.Open()
	if err != nil {
		return SnapshotMeta{}, fmt.Errorf("raftnode: snapshot: open: %w", err)
	}
	rc.Close()
	return SnapshotMeta{ID: meta.ID, Index: meta.Index, Term: meta.Term}, nil
}
