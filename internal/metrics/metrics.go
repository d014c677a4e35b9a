// Package metrics is one node's Prometheus metrics: the collectors the rpc
// layer, the FSM wrapper and the gRPC interceptor feed as things happen,
// and gauges read from the node's components at scrape time. Every node
// has its own registry (tests run several nodes in one process); nothing is
// registered globally. docs/metrics.md lists the names.
//
// A nil *Metrics is valid and records nothing, so components built without
// metrics (unit tests) need no checks.
package metrics

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/raftflow/engine/queue"
	"github.com/raftflow/engine/raftnode"
)

// Namespace prefixes every metric name.
const Namespace = "raftflow"

var (
	latencyBuckets  = prometheus.ExponentialBuckets(0.0001, 2, 17) // 100µs .. 6.5s
	batchBuckets    = prometheus.ExponentialBuckets(1, 2, 11)      // 1 .. 1024 entries
	pollWaitBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60}
	latenessBuckets = []float64{0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 60}
)

// Metrics holds one node's collectors. Methods are safe for concurrent use
// and nil-safe.
type Metrics struct {
	reg *prometheus.Registry

	commitLatency prometheus.Histogram
	leaderChanges prometheus.Counter
	applyLatency  prometheus.Histogram
	applyBatch    prometheus.Histogram
	pollWait      *prometheus.HistogramVec
	timerLateness prometheus.Histogram
	rpcRequests   *prometheus.CounterVec
	rpcLatency    *prometheus.HistogramVec
	wfStarted     *prometheus.CounterVec
	wfClosed      *prometheus.CounterVec
	namespaces    *labelCap // bounds the namespace label of wfStarted, wfClosed
}

// New returns a registry with the Go runtime and process collectors and
// every event-fed collector of this package.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), namespaces: newLabelCap(MaxNamespaceLabels)}
	m.commitLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "raft", Name: "commit_duration_seconds",
		Help:    "Time from proposing a command on the leader until it is committed and applied there.",
		Buckets: latencyBuckets,
	})
	m.leaderChanges = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "raft", Name: "leader_changes_total",
		Help: "Times this node saw the cluster's leader change (including to no leader).",
	})
	m.applyLatency = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "fsm", Name: "apply_duration_seconds",
		Help:    "Time the state machine took to apply one batch of raft entries (one Pebble batch).",
		Buckets: latencyBuckets,
	})
	m.applyBatch = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "fsm", Name: "apply_batch_entries",
		Help:    "Raft entries per state-machine apply batch.",
		Buckets: batchBuckets,
	})
	m.pollWait = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "queue", Name: "poll_wait_seconds",
		Help:    "How long a worker's poll waited on the leader's task queue; result is task or empty.",
		Buckets: pollWaitBuckets,
	}, []string{"kind", "result"})
	m.timerLateness = prometheus.NewHistogram(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "timers", Name: "fire_lateness_seconds",
		Help:    "How late a durable timer was proposed for firing, after its fire time.",
		Buckets: latenessBuckets,
	})
	m.rpcRequests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "grpc", Name: "requests_total",
		Help: "gRPC calls this node handled (forwarded calls count on both nodes), by service, method and status code.",
	}, []string{"service", "method", "code"})
	m.rpcLatency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Namespace: Namespace, Subsystem: "grpc", Name: "request_duration_seconds",
		Help:    "gRPC call latency on this node (long polls included), by service and method.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 18), // 0.5ms .. 65s
	}, []string{"service", "method"})
	m.wfStarted = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "workflow", Name: "started_total",
		Help: "Workflow runs started, as applied by this node's state machine.",
	}, []string{"namespace"})
	m.wfClosed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: Namespace, Subsystem: "workflow", Name: "closed_total",
		Help: "Workflow runs closed, by close status (completed, failed, canceled, terminated, continued_as_new, timed_out), as applied by this node's state machine.",
	}, []string{"namespace", "status"})
	m.reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.commitLatency, m.leaderChanges, m.applyLatency, m.applyBatch, m.pollWait,
		m.timerLateness, m.rpcRequests, m.rpcLatency, m.wfStarted, m.wfClosed,
	)
	return m
}

// Registry is the node's registry (to add collectors or gather in tests).
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Committed records the commit latency of one proposal that succeeded.
func (m *Metrics) Committed(d time.Duration) {
	if m != nil {
		m.commitLatency.Observe(d.Seconds())
	}
}

// Polled records one poll's wait on the task queue.
func (m *Metrics) Polled(kind queue.Kind, wait time.Duration, gotTask bool) {
	if m == nil {
		return
	}
	result := "empty"
	if gotTask {
		result = "task"
	}
	m.pollWait.WithLabelValues(kind.String(), result).Observe(wait.Seconds())
}

// TimerFired is timers.Config.OnFired.
func (m *Metrics) TimerFired(lateness time.Duration) {
	if m != nil {
		m.timerLateness.Observe(max(lateness, 0).Seconds())
	}
}

// WorkflowStarted counts a run start (fsm.LifecycleHints).
func (m *Metrics) WorkflowStarted(ns string) {
	if m != nil {
		m.wfStarted.WithLabelValues(m.namespaces.value(ns)).Inc()
	}
}

// WorkflowClosed counts a run close by status (fsm.LifecycleHints).
func (m *Metrics) WorkflowClosed(ns string, st enumspb.WorkflowExecutionStatus) {
	if m != nil {
		m.wfClosed.WithLabelValues(m.namespaces.value(ns), statusLabel(st)).Inc()
	}
}

func statusLabel(st enumspb.WorkflowExecutionStatus) string {
	return strings.ToLower(strings.TrimPrefix(st.String(), "WORKFLOW_EXECUTION_STATUS_"))
}

// UnaryInterceptor counts and times every unary call. Install it first in
// the chain, so refused (unauthenticated) and forwarded calls count too.
func (m *Metrics) UnaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if m == nil {
			return handler(ctx, req)
		}
		start := time.Now()
		resp, err := handler(ctx, req)
		svc, method := splitMethod(info.FullMethod)
		m.rpcLatency.WithLabelValues(svc, method).Observe(time.Since(start).Seconds())
		m.rpcRequests.WithLabelValues(svc, method, status.Code(err).String()).Inc()
		return resp, err
	}
}

// splitMethod turns "/pkg.Service/Method" into ("Service", "Method").
func splitMethod(full string) (svc, method string) {
	svc, method, _ = strings.Cut(strings.TrimPrefix(full, "/"), "/")
	if i := strings.LastIndexByte(svc, '.'); i >= 0 {
		svc = svc[i+1:]
	}
	return svc, method
}

// WatchLeader counts leader changes seen by r until ctx is done. It
// registers a non-blocking raft observer (a dropped observation at worst
// merges two changes into one) and deregisters it on return.
func (m *Metrics) WatchLeader(ctx context.Context, r *raft.Raft) {
	if m == nil {
		return
	}
	ch := make(chan raft.Observation, 16)
	obs := raft.NewObserver(ch, false, func(o *raft.Observation) bool {
		_, ok := o.Data.(raft.LeaderObservation)
		return ok
	})
	r.RegisterObserver(obs)
	defer r.DeregisterObserver(obs)
	_, last := r.LeaderWithID()
	for {
		select {
		case <-ctx.Done():
			return
		case o := <-ch:
			lo := o.Data.(raft.LeaderObservation)
			if lo.LeaderID != last {
				last = lo.LeaderID
				m.leaderChanges.Inc()
			}
		}
	}
}

// Sources are what the scrape-time gauges read. Nil funcs are skipped.
type Sources struct {
	Raft          func() raftnode.Status
	FSMApplied    func() uint64
	Ready         func() bool
	Queues        func() []queue.QueueStats
	Matches       func() (sync, backlog uint64)
	TimersPending func() int
}

// Observe registers gauges computed from src at every scrape.
func (m *Metrics) Observe(src Sources) {
	if m != nil {
		m.reg.MustRegister(&sourceCollector{src: src})
	}
}

var (
	descState = prometheus.NewDesc(Namespace+"_raft_state",
		"This node's raft state: 1 for the current one of follower, candidate, leader, shutdown.", []string{"state"}, nil)
	descTerm        = prometheus.NewDesc(Namespace+"_raft_term", "Current raft term.", nil, nil)
	descLastIndex   = prometheus.NewDesc(Namespace+"_raft_last_index", "Index of the last entry in this node's raft log.", nil, nil)
	descCommitIndex = prometheus.NewDesc(Namespace+"_raft_commit_index", "Highest raft index this node knows committed.", nil, nil)
	descApplied     = prometheus.NewDesc(Namespace+"_raft_applied_index", "Highest raft index raft has handed to the state machine.", nil, nil)
	descFSMApplied  = prometheus.NewDesc(Namespace+"_fsm_applied_index", "Highest raft index whose effects are in the state machine's store.", nil, nil)
	descMembers     = prometheus.NewDesc(Namespace+"_raft_members", "Servers in the raft configuration, by suffrage.", []string{"suffrage"}, nil)
	descReady       = prometheus.NewDesc(Namespace+"_ready", "1 when the node is ready (as /readyz).", nil, nil)
	descBacklog     = prometheus.NewDesc(Namespace+"_queue_backlog",
		"Tasks waiting in a task queue (leader only).", []string{"namespace", "task_queue", "kind"}, nil)
	descPollers = prometheus.NewDesc(Namespace+"_queue_pollers",
		"Polls waiting on a task queue (leader only).", []string{"namespace", "task_queue", "kind"}, nil)
	descMatches = prometheus.NewDesc(Namespace+"_queue_matches_total",
		"Tasks handed to pollers: sync (straight to a waiting poller) or backlog; sync/(sync+backlog) is the sync-match rate.", []string{"type"}, nil)
	descTimers = prometheus.NewDesc(Namespace+"_timers_pending", "Durable timers scheduled in the leader's timer service (0 on followers).", nil, nil)
)

var raftStates = []string{raft.Follower.String(), raft.Candidate.String(), raft.Leader.String(), raft.Shutdown.String()}

type sourceCollector struct{ src Sources }

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descState, descTerm, descLastIndex, descCommitIndex, descApplied,
		descFSMApplied, descMembers, descReady, descBacklog, descPollers, descMatches, descTimers} {
		ch <- d
	}
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	if c.src.Raft != nil {
		st := c.src.Raft()
		for _, s := range raftStates {
			gauge(descState, b2f(st.State == s), s)
		}
		gauge(descTerm, float64(st.Term))
		gauge(descLastIndex, float64(st.LastIndex))
		gauge(descCommitIndex, float64(st.CommitIndex))
		gauge(descApplied, float64(st.AppliedIndex))
		counts := map[string]int{raft.Voter.String(): 0, raft.Nonvoter.String(): 0}
		for _, s := range st.Servers {
			counts[s.Suffrage]++
		}
		for k, v := range counts {
			gauge(descMembers, float64(v), k)
		}
	}
	if c.src.FSMApplied != nil {
		gauge(descFSMApplied, float64(c.src.FSMApplied()))
	}
	if c.src.Ready != nil {
		gauge(descReady, b2f(c.src.Ready()))
	}
	if c.src.Queues != nil {
		for k, v := range capQueues(c.src.Queues(), MaxQueueSeries) {
			gauge(descBacklog, float64(v[0]), k.ns, k.queue, k.kind)
			gauge(descPollers, float64(v[1]), k.ns, k.queue, k.kind)
		}
	}
	if c.src.Matches != nil {
		sync, backlog := c.src.Matches()
		ch <- prometheus.MustNewConstMetric(descMatches, prometheus.CounterValue, float64(sync), "sync")
		ch <- prometheus.MustNewConstMetric(descMatches, prometheus.CounterValue, float64(backlog), "backlog")
	}
	if c.src.TimersPending != nil {
		gauge(descTimers, float64(c.src.TimersPending()))
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
