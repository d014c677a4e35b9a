package raftnode

import (
	"context"
	"fmt"

	"github.com/hashicorp/raft"
)

// AddVoter makes id a voter at addr. Only the leader can change membership
// (ErrNotLeader otherwise). It is idempotent, so a joining node may simply
// retry:
//   - id is already a voter at addr: nothing happens;
//   - id is known at another address (a node came back with a new IP):
//     it is removed, then added at addr;
//   - another id holds addr (a wiped node re-joining under a new ID): that
//     server is removed first;
//   - id is a non-voter at addr: it is promoted.
//
// Each change is conditioned on the configuration index it was computed
// from, so a concurrent change makes this call fail rather than clobber it.
// Changing this node's own entry is refused: transfer leadership first.
func (n *Node) AddVoter(ctx context.Context, id, addr string) error {
	if id == "" || addr == "" {
		return fmt.Errorf("raftnode: add voter: empty id or address")
	}
	if err := n.checkProposable(ctx, "add voter"); err != nil {
		return err
	}
	if !n.IsLeader() {
		return n.notLeader("add voter", nil)
	}
	ctx, cancel := opContext(ctx)
	defer cancel()
	cfg, index, err := n.configuration()
	if err != nil {
		return err
	}
	var remove []raft.ServerID
	for _, s := range cfg.Servers {
		sameID, sameAddr := s.ID == raft.ServerID(id), s.Address == raft.ServerAddress(addr)
		switch {
		case sameID && sameAddr && s.Suffrage == raft.Voter:
			return nil
		case sameID && sameAddr: // non-voter or staging: AddVoter promotes it
		case sameID || sameAddr:
			if string(s.ID) == n.cfg.NodeID {
				return fmt.Errorf("raftnode: add voter %s at %s: conflicts with the leader itself (%s at %s)", id, addr, s.ID, s.Address)
			}
			remove = append(remove, s.ID)
		}
	}
	for _, rid := range remove {
		n.log.Info("replacing raft server", "id", rid, "for_id", id, "addr", addr)
		if index, err = n.removeServer(ctx, rid, index); err != nil {
			return err
		}
	}
	f := n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(addr), index, enqueueTimeout(ctx))
	if err := n.wait(ctx, f); err != nil {
		return n.mapErr("add voter", err)
	}
	n.log.Info("added raft voter", "id", id, "addr", addr, "index", f.Index())
	return nil
}

// RemoveServer removes id from the configuration. Only the leader can do it
// (ErrNotLeader otherwise); an unknown id is not an error. Removing the
// leader itself makes it step down once the change commits.
func (n *Node) RemoveServer(ctx context.Context, id string) error {
	if err := n.checkProposable(ctx, "remove server"); err != nil {
		return err
	}
	if !n.IsLeader() {
		return n.notLeader("remove server", nil)
	}
	ctx, cancel := opContext(ctx)
	defer cancel()
	cfg, index, err := n.configuration()
	if err != nil {
		return err
	}
	for _, s := range cfg.Servers {
		if s.ID == raft.ServerID(id) {
			_, err := n.removeServer(ctx, s.ID, index)
			return err
		}
	}
	return nil
}

// removeServer removes id conditioned on prevIndex and returns the index of
// the new configuration.
func (n *Node) removeServer(ctx context.Context, id raft.ServerID, prevIndex uint64) (uint64, error) {
	f := n.raft.RemoveServer(id, prevIndex, enqueueTimeout(ctx))
	if err := n.wait(ctx, f); err != nil {
		return 0, n.mapErr("remove server", err)
	}
	n.log.Info("removed raft server", "id", id, "index", f.Index())
	return f.Index(), nil
}
