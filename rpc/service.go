// Package rpc serves the Temporal WorkflowService gRPC API and raftflow's own
// AdminService: it translates between Temporal's protocol and the engine.
// Any node accepts any call; a follower forwards it, unchanged, to the
// leader, which proposes commands through its leader.Engine and serves
// reads from its state machine and long polls from the engine.
package rpc

import (
	"context"
	"crypto/tls"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/leader"
	"github.com/raftflow/engine/raftnode"
	"github.com/raftflow/engine/rpc/adminpb"
)

// Config wires a Service.
type Config struct {
	FSM    *fsm.FSM
	Node   *raftnode.Node
	Logger *slog.Logger
	// Engine is the leader's live side (queues, timers, proposals, the
	// in-memory registries); required.
	Engine *leader.Engine
	// Self is this node's advertised addresses (Join keeps the leader's own
	// member row as it is; see checkMemberRow).
	Self *fsmpb.NodeInfo
	// LongPollTimeout bounds a long poll when the client set no shorter
	// deadline (default 60 s, below the SDK's 70 s).
	LongPollTimeout time.Duration
	// MinRetention is the shortest namespace retention RegisterNamespace and
	// UpdateNamespace accept (default one day, as Temporal; tests of
	// retention lower it).
	MinRetention time.Duration
	// ClientTLS, when set, is how this node dials the leader's gRPC port
	// to forward calls (nil: plaintext). The caller's metadata, its API
	// key included, is forwarded as it came.
	ClientTLS *tls.Config
}

// Service implements workflowservice.WorkflowServiceServer and
// adminpb.AdminServiceServer.
type Service struct {
	workflowservice.UnimplementedWorkflowServiceServer
	adminpb.UnimplementedAdminServiceServer

	cfg  Config
	fsm  *fsm.FSM
	node *raftnode.Node
	log  *slog.Logger
	eng  *leader.Engine
	// knownNamespaces caches namespaces seen to exist, each with the fsm's
	// namespace epoch it was seen at (see checkNamespace).
	knownNamespaces sync.Map
	fwd             *forwarder
}

// New builds the service on cfg.Engine.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.LongPollTimeout <= 0 {
		cfg.LongPollTimeout = 60 * time.Second
	}
	s := &Service{cfg: cfg, fsm: cfg.FSM, node: cfg.Node, log: cfg.Logger, eng: cfg.Engine}
	s.fwd = newForwarder(s)
	return s
}

// Register registers the services on gs (of OperatorService only what the
// Web UI needs; see operator).
func (s *Service) Register(gs *grpc.Server) {
	workflowservice.RegisterWorkflowServiceServer(gs, s)
	adminpb.RegisterAdminServiceServer(gs, s)
	operatorservice.RegisterOperatorServiceServer(gs, operator{s: s})
}

// UnaryInterceptor forwards calls to the leader when this node is not it.
func (s *Service) UnaryInterceptor() grpc.UnaryServerInterceptor { return s.fwd.intercept }

// Ready reports whether this node is the leader with its services running.
func (s *Service) Ready() bool { return s.eng.Ready() }

// Close releases forwarding connections.
func (s *Service) Close() { s.fwd.close() }

// apply proposes cmd through the engine and maps a raft error or the FSM's
// domain error to a gRPC status (see toStatus): on Unavailable after
// leadership was lost the command may or may not have been applied.
func (s *Service) apply(ctx context.Context, cmd *fsmpb.Command) (*fsm.Result, error) {
	res, err := s.eng.Propose(ctx, cmd)
	if err != nil {
		return nil, toStatus(err)
	}
	if res.Err != nil {
		return res, toStatus(res.Err)
	}
	return res, nil
}
