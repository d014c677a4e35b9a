package jepsen

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/durationpb"
)

// WorkloadConfig sizes the traffic.
type WorkloadConfig struct {
	Starters, Signalers, Readers int
	WorkflowPollers, ActPollers  int
	MaxActive                    int           // running workflows the starters keep at most
	OpTimeout                    time.Duration // per call
}

func (c *WorkloadConfig) defaults() {
	if c.Starters == 0 {
		c.Starters = 2
	}
	if c.Signalers == 0 {
		c.Signalers = 6
	}
	if c.Readers == 0 {
		c.Readers = 2
	}
	if c.WorkflowPollers == 0 {
		c.WorkflowPollers = 3
	}
	if c.ActPollers == 0 {
		c.ActPollers = 2
	}
	if c.MaxActive == 0 {
		c.MaxActive = 40
	}
	if c.OpTimeout == 0 {
		c.OpTimeout = 4 * time.Second
	}
}

// wf is the client's knowledge of one workflow ID.
type wf struct {
	id        string
	timerMs   int
	startReq  string // the first start's request id
	startOK   bool   // a start with startReq was acknowledged
	nextSig   int
	maxSigs   int
	closing   bool // finish or cancel acknowledged (or sent in the final phase)
	cancelled bool
}

// Workload drives the cluster and records every operation.
type Workload struct {
	cfg  WorkloadConfig
	rec  *Recorder
	cl   *Cluster
	svc  []workflowservice.WorkflowServiceClient
	conn []*grpc.ClientConn
	seed int64

	mu     sync.Mutex
	wfs    map[string]*wf
	order  []string
	active []*wf

	procs  atomic.Int64
	seq    atomic.Int64
	ledger sync.Map // token -> workflow id
}

// NewWorkload dials every node.
func NewWorkload(cl *Cluster, rec *Recorder, cfg WorkloadConfig, seed int64) (*Workload, error) {
	cfg.defaults()
	w := &Workload{cfg: cfg, rec: rec, cl: cl, seed: seed, wfs: map[string]*wf{}}
	for _, nd := range cl.Nodes {
		conn, err := grpc.NewClient(nd.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, err
		}
		w.conn = append(w.conn, conn)
		w.svc = append(w.svc, workflowservice.NewWorkflowServiceClient(conn))
	}
	return w, nil
}

// Close closes the connections.
func (w *Workload) Close() {
	for _, c := range w.conn {
		c.Close()
	}
}

// client is one logical process: a home node it moves off after errors.
type client struct {
	w    *Workload
	id   int
	node int
	rng  *rand.Rand
}

func (w *Workload) newClient() *client {
	id := int(w.procs.Add(1)) - 1
	return &client{w: w, id: id, node: id % len(w.svc), rng: rand.New(rand.NewSource(w.seed*1000 + int64(id)))}
}

func (c *client) svc() workflowservice.WorkflowServiceClient { return c.w.svc[c.node] }

func (c *client) nodeID() string { return c.w.cl.Nodes[c.node].ID }

// moved reacts to an unknown outcome: back off a little (a dead node
// refuses at once) and try another node next time.
func (c *client) moved(outcome string) {
	if outcome == Info {
		c.node = (c.node + 1 + c.rng.Intn(len(c.w.svc)-1)) % len(c.w.svc)
		time.Sleep(time.Duration(50+c.rng.Intn(100)) * time.Millisecond)
	}
}

func (c *client) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.w.cfg.OpTimeout)
}

func (c *client) reqID(kind string) string {
	return fmt.Sprintf("%s-%d-%d", kind, c.id, c.w.seq.Add(1))
}

// start issues one start of wf with request id req and records it.
func (c *client) start(x *wf, req string, final bool) *Op {
	op := c.w.rec.Invoke(&Op{Process: c.id, Kind: OpStart, WorkflowID: x.id, Node: c.nodeID(), RequestID: req, Final: final})
	ctx, cancel := c.ctx()
	resp, err := c.svc().StartWorkflowExecution(ctx, &workflowservice.StartWorkflowExecutionRequest{
		Namespace: namespace, WorkflowId: x.id, WorkflowType: &commonpb.WorkflowType{Name: wfType},
		TaskQueue: &taskqueuepb.TaskQueue{Name: taskQueue}, Input: payload(wfInput{TimerMs: x.timerMs}),
		WorkflowTaskTimeout:   durationpb.New(5 * time.Second),
		WorkflowIdReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		RequestId:             req, Identity: fmt.Sprintf("jepsen-%d", c.id),
	})
	cancel()
	outcome, res := classify(err)
	if err != nil {
		op.Error = err.Error()
	} else {
		res, op.RunID = ResStarted, resp.RunId
	}
	op.Result = res
	c.w.rec.Finish(op, outcome)
	c.moved(outcome)
	return op
}

func (c *client) signal(x *wf, value int, finish bool, req string, final bool) *Op {
	name := sigName
	if finish {
		name = finName
	}
	op := c.w.rec.Invoke(&Op{Process: c.id, Kind: OpSignal, WorkflowID: x.id, Node: c.nodeID(), RequestID: req, Value: value, Finish: finish, Final: final})
	ctx, cancel := c.ctx()
	_, err := c.svc().SignalWorkflowExecution(ctx, &workflowservice.SignalWorkflowExecutionRequest{
		Namespace: namespace, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: x.id},
		SignalName: name, Input: payload(sigInput{Value: value}), RequestId: req, Identity: fmt.Sprintf("jepsen-%d", c.id),
	})
	cancel()
	outcome, res := classify(err)
	if err != nil {
		op.Error = err.Error()
	}
	op.Result = res
	c.w.rec.Finish(op, outcome)
	c.moved(outcome)
	return op
}

func (c *client) cancel(x *wf, final bool) *Op {
	req := c.reqID("cancel")
	op := c.w.rec.Invoke(&Op{Process: c.id, Kind: OpCancel, WorkflowID: x.id, Node: c.nodeID(), RequestID: req, Final: final})
	ctx, cancel := c.ctx()
	_, err := c.svc().RequestCancelWorkflowExecution(ctx, &workflowservice.RequestCancelWorkflowExecutionRequest{
		Namespace: namespace, WorkflowExecution: &commonpb.WorkflowExecution{WorkflowId: x.id}, RequestId: req,
		Identity: fmt.Sprintf("jepsen-%d", c.id),
	})
	cancel()
	outcome, res := classify(err)
	if err != nil {
		op.Error = err.Error()
	}
	op.Result = res
	c.w.rec.Finish(op, outcome)
	c.moved(outcome)
	return op
}

// read fetches the whole history of the workflow's current run.
func (c *client) read(id string, final bool) *Op {
	op := c.w.rec.Invoke(&Op{Process: c.id, Kind: OpRead, WorkflowID: id, Node: c.nodeID(), Final: final})
	ctx, cancel := c.ctx()
	events, err := fetchHistory(ctx, c.svc(), id, "", nil, nil)
	cancel()
	outcome, res := classify(err)
	if err != nil {
		op.Error = err.Error()
	} else {
		summarize(op, events)
		if len(events) > 0 {
			op.RunID = events[0].GetWorkflowExecutionStartedEventAttributes().GetOriginalExecutionRunId()
		}
	}
	if res == ResNotFound {
		op.Found = false
	}
	op.Result = res
	c.w.rec.Finish(op, outcome)
	c.moved(outcome)
	return op
}

func (c *client) describe(id string) *Op {
	op := c.w.rec.Invoke(&Op{Process: c.id, Kind: OpDescribe, WorkflowID: id, Node: c.nodeID()})
	ctx, cancel := c.ctx()
	resp, err := c.svc().DescribeWorkflowExecution(ctx, &workflowservice.DescribeWorkflowExecutionRequest{
		Namespace: namespace, Execution: &commonpb.WorkflowExecution{WorkflowId: id},
	})
	cancel()
	outcome, res := classify(err)
	if err != nil {
		op.Error = err.Error()
	} else {
		info := resp.GetWorkflowExecutionInfo()
		op.Found = true
		op.RunID = info.GetExecution().GetRunId()
		op.Closed = info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		op.Result = info.GetStatus().String()
	}
	if res != "" {
		op.Result = res
	}
	c.w.rec.Finish(op, outcome)
	c.moved(outcome)
	return op
}

// retry re-issues a call whose outcome was unknown with the same request
// id, a few times: the engine must deduplicate.
func retry(ctx context.Context, n int, fn func() *Op) *Op {
	op := fn()
	for i := 0; i < n && op.Outcome == Info && ctx.Err() == nil; i++ {
		time.Sleep(200 * time.Millisecond)
		op = fn()
	}
	return op
}

// Run drives traffic until ctx is done.
func (w *Workload) Run(ctx context.Context) {
	var wg sync.WaitGroup
	spawn := func(n int, fn func(context.Context, *client)) {
		for i := 0; i < n; i++ {
			c := w.newClient()
			wg.Add(1)
			go func() { defer wg.Done(); fn(ctx, c) }()
		}
	}
	spawn(w.cfg.Starters, w.starter)
	spawn(w.cfg.Signalers, w.signaler)
	spawn(w.cfg.Readers, w.reader)
	wg.Wait()
}

func (w *Workload) activeCount() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.active)
}

func (w *Workload) starter(ctx context.Context, c *client) {
	for ctx.Err() == nil {
		if w.activeCount() >= w.cfg.MaxActive {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		x := &wf{id: fmt.Sprintf("wf-%d", w.seq.Add(1)), timerMs: 300 + c.rng.Intn(2500), maxSigs: 2 + c.rng.Intn(8)}
		x.startReq = c.reqID("start")
		w.mu.Lock()
		w.wfs[x.id] = x
		w.order = append(w.order, x.id)
		w.mu.Unlock()
		op := retry(ctx, 3, func() *Op { return c.start(x, x.startReq, false) })
		w.mu.Lock()
		x.startOK = op.Outcome == OK && op.Result == ResStarted
		// Unknown starts stay candidates: signals to them may be not-found.
		w.active = append(w.active, x)
		w.mu.Unlock()
		switch r := c.rng.Float64(); {
		case r < 0.25: // a duplicate start with a new request id: must be refused
			c.start(x, c.reqID("dup"), false)
		case r < 0.40: // the same request id again: must return the same run
			c.start(x, x.startReq, false)
		}
	}
}

// pick returns a random active workflow and removes it if finished with.
func (w *Workload) pick(rng *rand.Rand) *wf {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.active) == 0 {
		return nil
	}
	return w.active[rng.Intn(len(w.active))]
}

func (w *Workload) retire(x *wf) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i, y := range w.active {
		if y == x {
			w.active = append(w.active[:i], w.active[i+1:]...)
			return
		}
	}
}

func (w *Workload) signaler(ctx context.Context, c *client) {
	for ctx.Err() == nil {
		x := w.pick(c.rng)
		if x == nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		w.mu.Lock()
		if x.closing {
			w.mu.Unlock()
			continue
		}
		v := x.nextSig
		x.nextSig++
		last := v >= x.maxSigs
		if last {
			x.closing = true
		}
		w.mu.Unlock()
		if last && c.rng.Float64() < 0.15 {
			op := retry(ctx, 3, func() *Op { return c.cancel(x, false) })
			if op.Outcome == OK {
				w.mu.Lock()
				x.cancelled = op.Result == ""
				w.mu.Unlock()
			}
		} else {
			req := c.reqID("sig")
			val := v
			if last {
				val = 1000 + v // finish values are >= 1000
			}
			op := retry(ctx, 3, func() *Op { return c.signal(x, val, last, req, false) })
			if last && op.Outcome != OK {
				w.mu.Lock()
				x.closing = false // try to finish again later (a new value)
				w.mu.Unlock()
				continue
			}
		}
		if last {
			w.retire(x)
		}
	}
}

func (w *Workload) reader(ctx context.Context, c *client) {
	for ctx.Err() == nil {
		w.mu.Lock()
		n := len(w.order)
		var id string
		if n > 0 {
			// Favour recent workflows: they are the ones changing.
			id = w.order[n-1-c.rng.Intn(min(n, 60))]
		}
		w.mu.Unlock()
		if id == "" {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if c.rng.Float64() < 0.2 {
			c.describe(id)
		} else {
			c.read(id, false)
		}
		sleepCtx(ctx, 20*time.Millisecond) // reads are cheap; keep them from drowning the writes
	}
}

// RunWorkers polls and completes workflow and activity tasks until ctx is done.
func (w *Workload) RunWorkers(ctx context.Context) {
	var wg sync.WaitGroup
	for i := 0; i < w.cfg.WorkflowPollers; i++ {
		c := w.newClient()
		wg.Add(1)
		go func() { defer wg.Done(); w.workflowPoller(ctx, c) }()
	}
	for i := 0; i < w.cfg.ActPollers; i++ {
		c := w.newClient()
		wg.Add(1)
		go func() { defer wg.Done(); w.activityPoller(ctx, c) }()
	}
	wg.Wait()
}

func (w *Workload) workflowPoller(ctx context.Context, c *client) {
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := c.svc().PollWorkflowTaskQueue(pctx, &workflowservice.PollWorkflowTaskQueueRequest{
			Namespace: namespace, TaskQueue: &taskqueuepb.TaskQueue{Name: taskQueue}, Identity: fmt.Sprintf("jepsen-worker-%d", c.id),
		})
		cancel()
		if err != nil {
			c.moved(Info)
			sleepCtx(ctx, 100*time.Millisecond)
			continue
		}
		if len(resp.TaskToken) == 0 {
			continue
		}
		hctx, hcancel := context.WithTimeout(ctx, w.cfg.OpTimeout)
		events, err := fetchHistory(hctx, c.svc(), resp.WorkflowExecution.GetWorkflowId(), resp.WorkflowExecution.GetRunId(),
			resp.GetHistory().GetEvents(), resp.NextPageToken)
		hcancel()
		if err != nil {
			c.moved(Info)
			continue // the task times out and is retried
		}
		w.completeWorkflowTask(c, resp, events)
	}
}

// decide is the workflow's code: schedule the ledger activity and start the
// timer on the first task; complete once the finish signal, the timer and
// the activity are all in; cancel when cancellation is requested.
func decide(events []*historypb.HistoryEvent) (cmds []*commandpb.Command, closing bool) {
	var in wfInput
	var actSched, actDone, timerStarted, timerFired, finish, cancelReq bool
	var sigs []int
	for _, ev := range events {
		switch ev.EventType {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			decode(ev.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in)
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			actSched = true
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED, enumspb.EVENT_TYPE_ACTIVITY_TASK_FAILED,
			enumspb.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT, enumspb.EVENT_TYPE_ACTIVITY_TASK_CANCELED:
			actDone = true
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			timerStarted = true
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			timerFired = true
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			a := ev.GetWorkflowExecutionSignaledEventAttributes()
			var s sigInput
			decode(a.GetInput(), &s)
			sigs = append(sigs, s.Value)
			if a.GetSignalName() == finName {
				finish = true
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
			cancelReq = true
		}
	}
	if cancelReq {
		return []*commandpb.Command{{
			CommandType: enumspb.COMMAND_TYPE_CANCEL_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_CancelWorkflowExecutionCommandAttributes{
				CancelWorkflowExecutionCommandAttributes: &commandpb.CancelWorkflowExecutionCommandAttributes{},
			},
		}}, true
	}
	if !actSched {
		cmds = append(cmds, &commandpb.Command{
			CommandType: enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
			Attributes: &commandpb.Command_ScheduleActivityTaskCommandAttributes{ScheduleActivityTaskCommandAttributes: &commandpb.ScheduleActivityTaskCommandAttributes{
				ActivityId: "a1", ActivityType: &commonpb.ActivityType{Name: actType}, TaskQueue: &taskqueuepb.TaskQueue{Name: taskQueue},
				StartToCloseTimeout: durationpb.New(3 * time.Second), Input: payload(in),
			}},
		})
	}
	if !timerStarted {
		cmds = append(cmds, &commandpb.Command{
			CommandType: enumspb.COMMAND_TYPE_START_TIMER,
			Attributes: &commandpb.Command_StartTimerCommandAttributes{StartTimerCommandAttributes: &commandpb.StartTimerCommandAttributes{
				TimerId: "t1", StartToFireTimeout: durationpb.New(time.Duration(in.TimerMs) * time.Millisecond),
			}},
		})
	}
	if finish && actDone && timerFired {
		cmds = append(cmds, &commandpb.Command{
			CommandType: enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_CompleteWorkflowExecutionCommandAttributes{CompleteWorkflowExecutionCommandAttributes: &commandpb.CompleteWorkflowExecutionCommandAttributes{
				Result: payload(sigs),
			}},
		})
		closing = true
	}
	return cmds, closing
}

func (w *Workload) completeWorkflowTask(c *client, task *workflowservice.PollWorkflowTaskQueueResponse, events []*historypb.HistoryEvent) {
	cmds, closing := decide(events)
	var op *Op
	if closing {
		op = w.rec.Invoke(&Op{Process: c.id, Kind: OpClose, WorkflowID: task.WorkflowExecution.GetWorkflowId(), Node: c.nodeID()})
	}
	ctx, cancel := c.ctx()
	_, err := c.svc().RespondWorkflowTaskCompleted(ctx, &workflowservice.RespondWorkflowTaskCompletedRequest{
		Namespace: namespace, TaskToken: task.TaskToken, Commands: cmds, Identity: fmt.Sprintf("jepsen-worker-%d", c.id),
	})
	cancel()
	if op != nil {
		// A completion can be refused after the fact (new events arrived),
		// so even an ok answer does not prove the close: always info.
		if err != nil {
			op.Error = err.Error()
		}
		w.rec.Finish(op, Info)
	}
	if err != nil {
		c.moved(Info)
	}
}

func (w *Workload) activityPoller(ctx context.Context, c *client) {
	for ctx.Err() == nil {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		resp, err := c.svc().PollActivityTaskQueue(pctx, &workflowservice.PollActivityTaskQueueRequest{
			Namespace: namespace, TaskQueue: &taskqueuepb.TaskQueue{Name: taskQueue}, Identity: fmt.Sprintf("jepsen-worker-%d", c.id),
		})
		cancel()
		if err != nil {
			c.moved(Info)
			sleepCtx(ctx, 100*time.Millisecond)
			continue
		}
		if len(resp.TaskToken) == 0 {
			continue
		}
		// The side effect: a ledger entry with a token no one else writes.
		wfID := resp.WorkflowExecution.GetWorkflowId()
		token := fmt.Sprintf("%s/%s/%d/%d", wfID, resp.ActivityId, resp.Attempt, w.seq.Add(1))
		w.ledger.Store(token, wfID)
		op := w.rec.Invoke(&Op{Process: c.id, Kind: OpActivity, WorkflowID: wfID, Node: c.nodeID(), Token: token})
		rctx, rcancel := c.ctx()
		_, err = c.svc().RespondActivityTaskCompleted(rctx, &workflowservice.RespondActivityTaskCompletedRequest{
			Namespace: namespace, TaskToken: resp.TaskToken, Result: payload(token), Identity: fmt.Sprintf("jepsen-worker-%d", c.id),
		})
		rcancel()
		outcome, res := classify(err)
		if err != nil {
			op.Error = err.Error()
		}
		op.Result = res
		w.rec.Finish(op, outcome)
		c.moved(outcome)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}
