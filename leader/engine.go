// Package leader is the leader's live side of the engine: Temporal's
// matching and history-notification roles. While this node leads, the
// Engine holds the task queues and timers rebuilt from the state machine,
// matches tasks to polling workers, fires timers, routes the state
// machine's post-commit hints, and keeps the in-memory registries (queries,
// updates, worker polls, history notifications). It proposes every state
// change through raft; the state machine re-validates each one. Nothing
// here is durable: a leader change drops it all and the next leader
// rebuilds from Pebble. See DESIGN.md.
package leader

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/internal/metrics"
	"github.com/raftflow/engine/queue"
	"github.com/raftflow/engine/raftnode"
	"github.com/raftflow/engine/timers"
)

// Domain errors. Callers map them to their protocol's errors.
var (
	// ErrNotReady: this node's leader services are not running (it is not
	// the leader, or its term is starting or ending). Retry, possibly on
	// another node.
	ErrNotReady = errors.New("leader: services not ready")
	// ErrQueryTimeout: no worker answered a query in time.
	ErrQueryTimeout = errors.New("leader: no worker answered the query")
	// ErrQueryNotFound: no query waits under that id.
	ErrQueryNotFound = errors.New("leader: query not found or already timed out")
	// ErrQueryNamespace: the query belongs to another namespace.
	ErrQueryNamespace = errors.New("leader: query of another namespace")
)

// Config wires an Engine.
type Config struct {
	FSM    *fsm.FSM
	Node   *raftnode.Node
	Logger *slog.Logger
	// Clock stamps proposals and drives timers (timers.RealClock if nil).
	Clock timers.Clock
	// Self is this node's advertised addresses, recorded in the replicated
	// member table when it leads, so followers can find its gRPC address.
	Self *fsmpb.NodeInfo
	// Metrics records commit latency, poll waits, timer lateness and run
	// starts and closes (nil: none).
	Metrics *metrics.Metrics
}

// Engine is the leader's live side. Its methods are safe for concurrent
// use. Run is raftnode's leadership hook; everything else may be called at
// any time and reports ErrNotReady (or finds nothing) outside a term.
type Engine struct {
	fsm     *fsm.FSM
	node    *raftnode.Node
	log     *slog.Logger
	clock   timers.Clock
	self    *fsmpb.NodeInfo
	metrics *metrics.Metrics

	queues  *queue.Manager
	timers  *timers.Service
	notify  *notifier
	sticky  *stickyRelease
	workers *workerPolls
	pollers *pollersSeen
	// workerHBs: the latest heartbeat of each worker (workerhb.go).
	workerHBs *workerRegistry
	// purgeWake wakes the namespace purger (purge.go).
	purgeWake chan struct{}
	queries   queryRegistry
	updates   updateRegistry
	hints     *hints

	ready atomic.Bool
	// term is closed when the current leadership term's Run ends; nil
	// outside a term (see TermEnd).
	term atomic.Pointer[chan struct{}]
}

// New builds an idle engine and installs it as the FSM's hint receiver.
func New(cfg Config) *Engine {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Clock == nil {
		cfg.Clock = timers.RealClock
	}
	e := &Engine{
		fsm: cfg.FSM, node: cfg.Node, log: cfg.Logger, clock: cfg.Clock, self: cfg.Self, metrics: cfg.Metrics,
		queues: queue.NewManager(), notify: newNotifier(), sticky: newStickyRelease(),
		workers: newWorkerPolls(), pollers: newPollersSeen(), workerHBs: newWorkerRegistry(),
		purgeWake: make(chan struct{}, 1),
	}
	e.timers = timers.New(timers.Config{Clock: cfg.Clock, Fire: e.fireTimers, Logger: cfg.Logger, OnFired: cfg.Metrics.TimerFired})
	e.hints = &hints{e: e}
	cfg.FSM.SetHints(e.hints)
	return e
}

// Ready reports whether this node leads with its services rebuilt.
func (e *Engine) Ready() bool { return e.ready.Load() }

// TermEnd returns a channel closed when this node's current leadership
// term ends, or nil when it is not in one (not the leader, or its services
// have not started). A long poll waiting on this node's state, which only
// the leader's is sure to keep receiving, must not outlive the term it
// started in.
func (e *Engine) TermEnd() <-chan struct{} {
	if p := e.term.Load(); p != nil {
		return *p
	}
	return nil
}

// QueueStats lists the live task queues (leader only; empty elsewhere).
func (e *Engine) QueueStats() []queue.QueueStats { return e.queues.Stats() }

// QueueMatches is queue.Manager.Matches.
func (e *Engine) QueueMatches() (sync, backlog uint64) { return e.queues.Matches() }

// TimersPending counts the timers the leader's timer service holds.
func (e *Engine) TimersPending() int { return e.timers.Pending() }

// Backlog is the number of tasks queued on the task queue (0 outside a
// term).
func (e *Engine) Backlog(ns, taskQueue string, kind fsmpb.TaskKind) int {
	k := kindOf(kind)
	for _, q := range e.queues.Stats() {
		if q.Namespace == ns && q.Queue == taskQueue && q.Kind == k {
			return q.Backlog
		}
	}
	return 0
}

// Run is the raftnode leadership hook, called after the term's Barrier:
// it scans the fsm once and rebuilds the task queues (queue.Start) and
// timers (timers.Load) from it, replays the task and timer hints held
// since before the scan, records this node's addresses, reports ready,
// serves until ctx is done, then drops everything. It returns once
// everything it started has stopped.
func (e *Engine) Run(ctx context.Context) {
	term := make(chan struct{})
	e.term.Store(&term)
	defer func() { e.term.Store(nil); close(term) }()

	e.hints.hold()
	tasks, pending := e.fsm.ScanTasks(), e.fsm.ScanTimers()
	e.queues.Start(taskList(tasks))
	timersDone := e.timers.Load(ctx, timerList(pending))
	e.hints.release()

	movesDone := make(chan struct{})
	go func() {
		defer close(movesDone)
		e.runStickyMoves(ctx)
	}()
	purgeDone := make(chan struct{})
	go func() {
		defer close(purgeDone)
		e.runPurger(ctx)
	}()
	e.registerSelf(ctx)
	if ctx.Err() == nil {
		e.ready.Store(true)
		e.log.Info("leader services ready", "tasks", len(tasks), "timers", len(pending))
	}
	<-ctx.Done()
	e.ready.Store(false)
	e.queues.Stop()
	e.updates.dropAll()
	<-timersDone
	<-movesDone
	<-purgeDone
	e.sticky.reset()
}

// registerSelf records this node's addresses in the member table if missing.
func (e *Engine) registerSelf(ctx context.Context) {
	if e.self == nil {
		return
	}
	for _, n := range e.fsm.Nodes() {
		if proto.Equal(n, e.self) {
			return
		}
	}
	if _, err := e.Propose(ctx, &fsmpb.Command{Op: &fsmpb.Command_SetNode{SetNode: &fsmpb.SetNode{Node: e.self}}}); err != nil {
		e.log.Warn("could not record own addresses", "err", err)
	}
}

func taskList(es []fsm.TaskEntry) []queue.Task {
	out := make([]queue.Task, len(es))
	for i, t := range es {
		out[i] = taskOf(t.Key, t.Row)
	}
	return out
}

func timerList(es []fsm.TimerEntry) []timers.Timer {
	out := make([]timers.Timer, len(es))
	for i, e := range es {
		out[i] = timers.Timer{Key: e.Key, FireAt: time.Unix(0, e.FireAt)}
	}
	return out
}

// fireTimers is the timer service's FireFunc: one raft command for the batch.
func (e *Engine) fireTimers(ctx context.Context, due []timers.Timer) ([]timers.Timer, error) {
	keys := make([][]byte, len(due))
	for i, t := range due {
		keys[i] = t.Key
	}
	res, err := e.Propose(ctx, &fsmpb.Command{Op: &fsmpb.Command_FireTimers{FireTimers: &fsmpb.FireTimers{Keys: keys}}})
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
