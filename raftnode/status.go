package raftnode

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/raft"
)

// IsLeader reports whether this node is currently the raft leader. It may
// be stale by the time the caller acts on it; proposals are what decide.
func (n *Node) IsLeader() bool { return n.raft.State() == raft.Leader }

// Leader returns the current leader's ID and raft address as this node
// knows them; both "" when unknown.
func (n *Node) Leader() (id, raftAddr string) {
	addr, sid := n.raft.LeaderWithID()
	return string(sid), string(addr)
}

// ConfiguredLeader returns the leader's ID and raft address only when the
// leader this node follows is a voter of the latest raft configuration at
// the address raft reports for it; both "" otherwise (no leader known, or a
// "leader" the configuration does not list there). Callers that send
// anything to the leader (forwarded client calls, credentials included)
// use this rather than Leader, as defence in depth against a rogue raft
// peer that got a follower to accept it.
func (n *Node) ConfiguredLeader() (id, raftAddr string) {
	id, raftAddr = n.Leader()
	if id == "" {
		return "", ""
	}
	cfg, _, err := n.configuration()
	if err != nil {
		return "", ""
	}
	for _, s := range cfg.Servers {
		if string(s.ID) == id && string(s.Address) == raftAddr && s.Suffrage == raft.Voter {
			return id, raftAddr
		}
	}
	return "", ""
}

// WaitLeader polls until a leader (any node) is known or ctx ends.
func (n *Node) WaitLeader(ctx context.Context) error {
	t := time.NewTicker(leaderPollInterval)
	defer t.Stop()
	for {
		if id, _ := n.Leader(); id != "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("raftnode: wait for leader: %w", ctx.Err())
		case <-n.closing:
			return fmt.Errorf("raftnode: wait for leader: %w", ErrShutdown)
		case <-t.C:
		}
	}
}

// Server is one member of the raft configuration.
type Server struct{ ID, Address, Suffrage string }

// Status is a point-in-time view of this node's raft state.
type Status struct {
	ID, State, LeaderID, LeaderAddr            string
	Term, LastIndex, CommitIndex, AppliedIndex uint64
	Servers                                    []Server // nil if the configuration could not be read
}

// Status returns a snapshot of this node's raft state. The fields are read
// separately and are not mutually consistent under load. State is
// "Shutdown" once the node has stopped, whatever raft last recorded (raft's
// leader loop can step down to Follower after Shutdown set its state, e.g.
// when a log write failed).
func (n *Node) Status() Status {
	id, addr := n.Leader()
	state := n.raft.State().String()
	select {
	case <-n.closing:
		state = raft.Shutdown.String()
	default:
	}
	st := Status{
		ID:           n.cfg.NodeID,
		State:        state,
		LeaderID:     id,
		LeaderAddr:   addr,
		Term:         n.raft.CurrentTerm(),
		LastIndex:    n.raft.LastIndex(),
		CommitIndex:  n.raft.CommitIndex(),
		AppliedIndex: n.raft.AppliedIndex(),
	}
	if cfg, _, err := n.configuration(); err == nil {
		for _, s := range cfg.Servers {
			st.Servers = append(st.Servers, Server{ID: string(s.ID), Address: string(s.Address), Suffrage: s.Suffrage.String()})
		}
	}
	return st
}

// configuration returns the latest (possibly uncommitted) configuration and
// its log index. raft answers it immediately from memory, also after
// shutdown.
func (n *Node) configuration() (raft.Configuration, uint64, error) {
	f := n.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return raft.Configuration{}, 0, n.mapErr("get configuration", err)
	}
	return f.Configuration(), f.Index(), nil
}
