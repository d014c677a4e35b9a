// Package rpc serves the Temporal WorkflowService gRPC API and raftflow's own
// AdminService. Any node accepts any call; a follower forwards it, unchanged,
// to the leader, which proposes commands through raft and serves reads and
// long polls from its state machine and leader-only services.
package rpc

import (
	"context"
	"crypto/tls"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/internal/metrics"
	"github.com/raftflow/engine/queue"
	"github.com/raftflow/engine/raftnode"
	"github.com/raftflow/engine/rpc/adminpb"
	"github.com/raftflow/engine/timers"
)

// Config wires a Service.
type Config struct {
	FSM    *fsm.FSM
	Node   *raftnode.Node
	Logger *slog.Logger
	// Clock stamps proposals and drives timers (timers.RealClock if nil).
	Clock timers.Clock
	// Self is this node's advertised addresses, recorded in the replicated
	// member table so followers can find the leader's gRPC address.
	Self *fsmpb.NodeInfo
	// LongPollTimeout bounds a long poll when the client set no shorter
	// deadline (default 60 s, below the SDK's 70 s).
	LongPollTimeout time.Duration
	// MinRetention is the shortest namespace retention RegisterNamespace and
	// UpdateNamespace accept (default one day, as Temporal; tests of
	// retention lower it).
	MinRetention time.Duration
	// Metrics records commit latency, poll waits, timer lateness and run
	// starts and closes (nil: none).
	Metrics *metrics.Metrics
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

	cfg     Config
	fsm     *fsm.FSM
	node    *raftnode.Node
	log     *slog.Logger
	clock   timers.Clock
	queues  *queue.Manager
	timers  *timers.Service
	notify  *notifier
	sticky  *stickyRelease
	workers *workerPolls
	pollers *pollersSeen
	queries queryRegistry
	// knownNamespaces caches namespaces seen to exist (see checkNamespace).
	knownNamespaces sync.Map
	updates         updateRegistry
	fwd             *forwarder
	ready           atomic.Bool
	wg              sync.WaitGroup
	// term is closed when the current leadership term's RunLeader ends;
	// nil outside a term. Long polls served from this node's state end
	// with it (see leaderTermEnd).
	term atomic.Pointer[chan struct{}]
}

// New builds the service and installs itself as the FSM's hint receiver.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = timers.RealClock
	}
	if cfg.LongPollTimeout <= 0 {
		cfg.LongPollTimeout = 60 * time.Second
	}
	s := &Service{
		cfg: cfg, fsm: cfg.FSM, node: cfg.Node, log: cfg.Logger, clock: cfg.Clock,
		queues: queue.NewManager(), notify: newNotifier(), sticky: newStickyRelease(),
		workers: newWorkerPolls(), pollers: newPollersSeen(),
	}
	s.timers = timers.New(timers.Config{Clock: cfg.Clock, Fire: s.fireTimers, Logger: cfg.Logger, OnFired: cfg.Metrics.TimerFired})
	s.fwd = newForwarder(s)
	cfg.FSM.SetHints(hints{s})
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
func (s *Service) Ready() bool { return s.ready.Load() }

// QueueStats lists the live task queues (leader only; empty elsewhere).
func (s *Service) QueueStats() []queue.QueueStats { return s.queues.Stats() }

// QueueMatches is queue.Manager.Matches.
func (s *Service) QueueMatches() (sync, backlog uint64) { return s.queues.Matches() }

// TimersPending counts the timers the leader's timer service holds.
func (s *Service) TimersPending() int { return s.timers.Pending() }

// Close releases forwarding connections.
func (s *Service) Close() { s.fwd.close() }

// RunLeader is the raftnode leadership hook: it rebuilds the task queues and
// timers from Pebble (after raftnode's Barrier), serves until ctx is done,
// then drops them.
func (s *Service) RunLeader(ctx context.Context) {
	term := make(chan struct{})
	s.term.Store(&term)
	defer func() { s.term.Store(nil); close(term) }()
	s.queues.Start(nil)
	for _, t := range s.fsm.ScanTasks() {
		s.queues.Add(taskOf(t.Key, t.Row))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.timers.Run(ctx, timerList(s.fsm.ScanTimers()))
	}()
	movesDone := make(chan struct{})
	go func() {
		defer close(movesDone)
		s.runStickyMoves(ctx)
	}()
	tick := time.NewTicker(time.Millisecond)
	for !s.timers.Active() && ctx.Err() == nil {
		<-tick.C
	}
	tick.Stop()
	// Rows committed between the first scan and activation had their hints
	// ignored; a second scan catches them (Add dedupes by key).
	for _, t := range s.fsm.ScanTimers() {
		s.timers.Add(timers.Timer{Key: t.Key, FireAt: time.Unix(0, t.FireAt)})
	}
	s.registerSelf(ctx)
	if ctx.Err() == nil {
		s.ready.Store(true)
		s.log.Info("leader services ready", "tasks", len(s.queues.Stats()), "timers", s.timers.Pending())
	}
	<-ctx.Done()
	s.ready.Store(false)
	s.queues.Stop()
	s.updates.dropAll()
	<-done
	<-movesDone
	s.sticky.reset()
}

// registerSelf records this node's addresses in the member table if missing.
func (s *Service) registerSelf(ctx context.Context) {
	if s.cfg.Self == nil {
		return
	}
	for _, n := range s.fsm.Nodes() {
		if proto.Equal(n, s.cfg.Self) {
			return
		}
	}
	if _, err := s.propose(ctx, &fsmpb.Command{Op: &fsmpb.Command_SetNode{SetNode: &fsmpb.SetNode{Node: s.cfg.Self}}}); err != nil {
		s.log.Warn("could not record own addresses", "err", err)
	}
}

func timerList(es []fsm.TimerEntry) []timers.Timer {
	out := make([]timers.Timer, len(es))
	for i, e := range es {
		out[i] = timers.Timer{Key: e.Key, FireAt: time.Unix(0, e.FireAt)}
	}
	return out
}

func taskOf(key []byte, row *fsmpb.TaskRow) queue.Task {
	k := queue.KindWorkflow
	if row.Kind == fsmpb.TaskKind_TASK_KIND_ACTIVITY {
		k = queue.KindActivity
	}
	return queue.Task{Key: key, Namespace: row.Namespace, Queue: row.TaskQueue, Kind: k, Payload: row}
}

// fireTimers is the timer service's FireFunc: one raft command for the batch.
func (s *Service) fireTimers(ctx context.Context, due []timers.Timer) ([]timers.Timer, error) {
	keys := make([][]byte, len(due))
	for i, t := range due {
		keys[i] = t.Key
	}
	res, err := s.propose(ctx, &fsmpb.Command{Op: &fsmpb.Command_FireTimers{FireTimers: &fsmpb.FireTimers{Keys: keys}}})
	if err != nil {
		return nil, err
	}
	var retry []timers.Timer
	for _, k := range res.NotDue {
		at, _ := fsm.TimerFireAt(k)
		retry = append(retry, timers.Timer{Key: k, FireAt: time.Unix(0, at)})
	}
	return retry, nil
}

// propose stamps the command (request id, leader time), replicates it and
// returns the FSM's result. A raft error is returned as is (see toStatus):
// on ErrLeadershipLost the command may or may not have been applied.
func (s *Service) propose(ctx context.Context, cmd *fsmpb.Command) (*fsm.Result, error) {
	if cmd.RequestId == "" {
		cmd.RequestId = uuid.NewString()
	}
	cmd.ProposedAt = s.clock.Now().UnixNano()
	b, err := proto.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	resp, err := s.node.Apply(ctx, b)
	if err != nil {
		return nil, err
	}
	s.cfg.Metrics.Committed(time.Since(start))
	res, ok := resp.(*fsm.Result)
	if !ok || res == nil {
		return &fsm.Result{}, nil
	}
	return res, nil
}

// apply is propose plus mapping of the domain error to a gRPC status.
func (s *Service) apply(ctx context.Context, cmd *fsmpb.Command) (*fsm.Result, error) {
	res, err := s.propose(ctx, cmd)
	if err != nil {
		return nil, toStatus(err)
	}
	if res.Err != nil {
		return res, toStatus(res.Err)
	}
	return res, nil
}

// hints adapts the FSM's post-commit hints to the leader services.
type hints struct{ s *Service }

func (h hints) TaskAdded(key []byte, row *fsmpb.TaskRow) {
	if h.s.sticky.offer(row) {
		return // on a shut-down sticky queue: moved, never handed out
	}
	h.s.queues.Add(taskOf(key, row))
}
func (h hints) TaskRemoved(key []byte) { h.s.queues.Remove(key) }
func (h hints) TimerAdded(key []byte, fireAt int64) {
	h.s.timers.Add(timers.Timer{Key: key, FireAt: time.Unix(0, fireAt)})
}
func (h hints) TimerRemoved(key []byte) { h.s.timers.Remove(key) }
func (h hints) HistoryAppended(ns, wfID, runID string) {
	h.s.notify.Notify(runKey(ns, wfID, runID))
}

// WorkflowStarted and WorkflowClosed implement fsm.LifecycleHints.
func (h hints) WorkflowStarted(ns string) { h.s.cfg.Metrics.WorkflowStarted(ns) }

func (h hints) WorkflowClosed(ns string, st enumspb.WorkflowExecutionStatus) {
	h.s.cfg.Metrics.WorkflowClosed(ns, st)
}
