package rpc

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/raftnode"
	"github.com/raftflow/engine/rpc/adminpb"
)

// Join adds a node as a voter (idempotent) and records its addresses.
func (s *Service) Join(ctx context.Context, req *adminpb.JoinRequest) (*adminpb.JoinResponse, error) {
	if err := checkID("node_id", req.GetNodeId()); err != nil {
		return nil, err
	}
	if err := checkID("raft_addr", req.GetRaftAddr()); err != nil {
		return nil, err
	}
	if err := checkID("grpc_addr", req.GetGrpcAddr()); err != nil {
		return nil, err
	}
	if err := s.checkMemberRow(req.NodeId, req.RaftAddr, req.GrpcAddr, req.HttpAddr); err != nil {
		return nil, err
	}
	if err := s.node.VerifyPeer(ctx, req.NodeId, req.RaftAddr); err != nil {
		return nil, status.Errorf(codes.PermissionDenied, "raftflow: join %s: the raft port at %s does not present a peer certificate naming it: %v", req.NodeId, req.RaftAddr, err)
	}
	if err := s.node.AddVoter(ctx, req.NodeId, req.RaftAddr); err != nil {
		return nil, toStatus(err)
	}
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_SetNode{SetNode: &fsmpb.SetNode{Node: &fsmpb.NodeInfo{
		Id: req.NodeId, RaftAddr: req.RaftAddr, GrpcAddr: req.GrpcAddr, HttpAddr: req.HttpAddr,
	}}}}); err != nil {
		return nil, err
	}
	return &adminpb.JoinResponse{LeaderId: s.node.ID()}, nil
}

// checkMemberRow refuses a member-table row (SetNode) that would move the
// current leader to other addresses: followers forward client calls to the
// gRPC address the table records for the leader, so rewriting that row
// would send every forwarded call, bearer token included, elsewhere. The
// leader records its own row itself (registerSelf); a Join may repeat it
// verbatim, nothing more.
func (s *Service) checkMemberRow(id, raftAddr, grpcAddr, httpAddr string) error {
	leaderID, _ := s.node.Leader()
	if id != s.node.ID() && id != leaderID {
		return nil
	}
	self := s.cfg.Self
	if id == s.node.ID() && self != nil && raftAddr == self.RaftAddr && grpcAddr == self.GrpcAddr && httpAddr == self.HttpAddr {
		return nil
	}
	return status.Errorf(codes.FailedPrecondition, "raftflow: node %s is the leader; its addresses cannot be changed by a join (transfer leadership first)", id)
}

// Remove removes a node from the raft configuration and the member table.
func (s *Service) Remove(ctx context.Context, req *adminpb.RemoveRequest) (*adminpb.RemoveResponse, error) {
	if err := checkID("node_id", req.GetNodeId()); err != nil {
		return nil, err
	}
	// The member-table row goes first: removing the leader itself stops its
	// raft, after which it could propose nothing.
	if _, err := s.apply(ctx, &fsmpb.Command{Op: &fsmpb.Command_RemoveNode{RemoveNode: &fsmpb.RemoveNode{Id: req.NodeId}}}); err != nil {
		return nil, err
	}
	if err := s.node.RemoveServer(ctx, req.NodeId); err != nil {
		return nil, toStatus(err)
	}
	return &adminpb.RemoveResponse{}, nil
}

// Status reports this node's view; answered locally by every node.
func (s *Service) Status(ctx context.Context, _ *adminpb.StatusRequest) (*adminpb.StatusResponse, error) {
	return s.StatusProto(), nil
}

// StatusProto is Status for in-process callers (the HTTP /status page).
func (s *Service) StatusProto() *adminpb.StatusResponse {
	st := s.node.Status()
	nodes := map[string]*fsmpb.NodeInfo{}
	for _, n := range s.fsm.Nodes() {
		nodes[n.Id] = n
	}
	resp := &adminpb.StatusResponse{
		NodeId: st.ID, State: st.State, LeaderId: st.LeaderID, LeaderRaftAddr: st.LeaderAddr,
		Term: st.Term, LastIndex: st.LastIndex, CommitIndex: st.CommitIndex, AppliedIndex: s.fsm.AppliedIndex(),
	}
	if n := nodes[st.LeaderID]; n != nil {
		resp.LeaderGrpcAddr = n.GrpcAddr
	}
	for _, m := range st.Servers {
		mem := &adminpb.Member{Id: m.ID, RaftAddr: m.Address, Suffrage: m.Suffrage, Leader: m.ID == st.LeaderID}
		if n := nodes[m.ID]; n != nil {
			mem.GrpcAddr, mem.HttpAddr = n.GrpcAddr, n.HttpAddr
		}
		resp.Members = append(resp.Members, mem)
	}
	return resp
}

// TransferLeadership hands leadership over (forwarded to the leader).
func (s *Service) TransferLeadership(ctx context.Context, req *adminpb.TransferLeadershipRequest) (*adminpb.TransferLeadershipResponse, error) {
	if id := req.GetNodeId(); id != "" {
		if err := checkID("node_id", id); err != nil {
			return nil, err
		}
	}
	prev := s.node.ID()
	leader, err := s.node.TransferLeadership(ctx, req.GetNodeId())
	if err != nil {
		if errors.Is(err, raftnode.ErrNotLeader) || errors.Is(err, raftnode.ErrShutdown) ||
			errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			return nil, toStatus(err)
		}
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	return &adminpb.TransferLeadershipResponse{PreviousLeaderId: prev, LeaderId: leader}, nil
}

// Snapshot takes a raft snapshot on this node (answered locally).
func (s *Service) Snapshot(ctx context.Context, _ *adminpb.SnapshotRequest) (*adminpb.SnapshotResponse, error) {
	meta, err := s.node.Snapshot(ctx)
	if errors.Is(err, raftnode.ErrNothingToSnapshot) {
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	}
	if err != nil {
		return nil, toStatus(err)
	}
	return &adminpb.SnapshotResponse{NodeId: s.node.ID(), SnapshotId: meta.ID, Index: meta.Index, Term: meta.Term}, nil
}
