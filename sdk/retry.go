package sdk

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const workflowServicePrefix = "/temporal.api.workflowservice.v1.WorkflowService/"

// retrySafe lists the WorkflowService methods that may be repeated after
// codes.Unavailable, when the first attempt may or may not have been
// applied (a connection cut mid-call, or the engine's "leadership lost").
//
//   - Reads and long polls change nothing (a poll whose answer was lost
//     leaves a started task behind, which times out and is retried by the
//     engine, with or without a second poll).
//   - Task completions and heartbeats name the task attempt they act on;
//     once applied, a repeat is stale and changes nothing.
//   - Starts, signals and cancel requests carry a request ID the engine
//     deduplicates (withRequestID makes sure there is one); updates carry
//     an update ID.
//
// Not listed, so never repeated here: TerminateWorkflowExecution,
// Register/Update/DeprecateNamespace, DeleteWorkflowExecution,
// ResetWorkflowExecution and whatever is new: a repeat could act twice or
// report a false error. Nor ShutdownWorker: the SDK sends it once, best
// effort, while a worker stops; retrying it would only delay the stop when
// the cluster is down.
var retrySafe = map[string]bool{}

func init() {
	for _, m := range []string{
		// Reads.
		"GetSystemInfo", "GetClusterInfo", "DescribeNamespace", "ListNamespaces",
		"GetWorkflowExecutionHistory", "GetWorkflowExecutionHistoryReverse",
		"DescribeWorkflowExecution", "DescribeTaskQueue", "QueryWorkflow",
		"ListWorkflowExecutions", "ListOpenWorkflowExecutions", "ListClosedWorkflowExecutions",
		"ListArchivedWorkflowExecutions", "ScanWorkflowExecutions", "CountWorkflowExecutions",
		"GetSearchAttributes", "PollWorkflowExecutionUpdate",
		// Long polls.
		"PollWorkflowTaskQueue", "PollActivityTaskQueue", "PollNexusTaskQueue",
		// Task completions and heartbeats (stale repeats are no-ops).
		"RespondWorkflowTaskCompleted", "RespondWorkflowTaskFailed", "RespondQueryTaskCompleted",
		"RespondActivityTaskCompleted", "RespondActivityTaskCompletedById",
		"RespondActivityTaskFailed", "RespondActivityTaskFailedById",
		"RespondActivityTaskCanceled", "RespondActivityTaskCanceledById",
		"RecordActivityTaskHeartbeat", "RecordActivityTaskHeartbeatById",
		"ResetStickyTaskQueue",
		// Deduplicated by request ID or update ID.
		"StartWorkflowExecution", "SignalWorkflowExecution", "SignalWithStartWorkflowExecution",
		"RequestCancelWorkflowExecution", "UpdateWorkflowExecution",
	} {
		retrySafe[workflowServicePrefix+m] = true
	}
}

// retryPolicy is the backoff of retryInterceptor.
type retryPolicy struct {
	timeout      time.Duration // total time spent retrying one call
	initial, max time.Duration // first delay, cap (doubling in between)
}

// delay is the pause before attempt n+1 (n >= 1): exponential from
// initial, capped at max, with jitter in [d/2, d].
func (p retryPolicy) delay(n int) time.Duration {
	d := p.initial
	for i := 1; i < n && d < p.max; i++ {
		d *= 2
	}
	d = min(d, p.max)
	return d/2 + rand.N(d/2+1)
}

// retryInterceptor repeats retrySafe calls that fail with codes.Unavailable
// (see Dial). It returns the last error when the policy's timeout is spent,
// or when the next pause would end after the call's deadline (the caller,
// for example the SDK's own retry, can then decide), or when ctx ends.
func retryInterceptor(p retryPolicy) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if !retrySafe[method] {
			return invoker(ctx, method, req, reply, cc, opts...)
		}
		withRequestID(req)
		giveUp := time.Now().Add(p.timeout)
		if dl, ok := ctx.Deadline(); ok && dl.Before(giveUp) {
			giveUp = dl
		}
		for n := 1; ; n++ {
			err := invoker(ctx, method, req, reply, cc, opts...)
			if err == nil || status.Code(err) != codes.Unavailable || ctx.Err() != nil {
				return err
			}
			d := p.delay(n)
			if time.Now().Add(d).After(giveUp) {
				return err
			}
			t := time.NewTimer(d)
			select {
			case <-ctx.Done():
				t.Stop()
				return err
			case <-t.C:
			}
		}
	}
}

// withRequestID sets a fresh request ID on the requests the engine
// deduplicates by it, if the caller left it empty. It runs once, before the
// first attempt, so every attempt carries the same ID. (The official SDK
// already sets one on starts, signals, signal-with-starts and cancel
// requests, and reuses the request across its own retries; this covers raw
// WorkflowService calls.)
func withRequestID(req any) {
	switch r := req.(type) {
	case *workflowservice.StartWorkflowExecutionRequest:
		if r.RequestId == "" {
			r.RequestId = uuid.NewString()
		}
	case *workflowservice.SignalWorkflowExecutionRequest:
		if r.RequestId == "" {
			r.RequestId = uuid.NewString()
		}
	case *workflowservice.SignalWithStartWorkflowExecutionRequest:
		if r.RequestId == "" {
			r.RequestId = uuid.NewString()
		}
	case *workflowservice.RequestCancelWorkflowExecutionRequest:
		if r.RequestId == "" {
			r.RequestId = uuid.NewString()
		}
	}
}
