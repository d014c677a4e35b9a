// Package approval is a long-running approval process: a request waits for
// an "approve" or "reject" signal from its approver, with a deadline. When
// the deadline passes, the request is escalated to a second approver, with
// a second deadline; if that one passes too, the request expires. The
// "state" query shows where it stands at any time. The wait is a durable
// timer in the engine: it survives engine restarts and leader changes.
package approval

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/sdk"
)

// TaskQueue is the queue the worker polls and the starter starts on.
const TaskQueue = "approval"

// Request is what needs approving.
type Request struct {
	ID          string
	Requester   string
	Description string
	AmountCents int64
	// Approver decides first, within Deadline; then Escalation decides,
	// within EscalationDeadline.
	Approver, Escalation         string
	Deadline, EscalationDeadline time.Duration
}

// Vote is the payload of the approve and reject signals.
type Vote struct {
	By      string
	Comment string
}

// Status is where a request stands.
type Status string

// The statuses: Waiting and Escalated wait for a vote; the others are
// final.
const (
	Waiting   Status = "waiting"
	Escalated Status = "escalated"
	Approved  Status = "approved"
	Rejected  Status = "rejected"
	Expired   Status = "expired"
)

// State is the workflow's state, answered by the state query and returned
// as the result.
type State struct {
	Status    Status
	Approver  string    // who is asked now (or was last)
	Deadline  time.Time // of the current wait
	Escalated bool
	DecidedBy string
	Comment   string
}

// The signals and the query, typed (sdk.Signal, sdk.Query).
var (
	Approve    = sdk.NewSignal[Vote]("approve")
	Reject     = sdk.NewSignal[Vote]("reject")
	StateQuery = sdk.NewQuery[State]("state")
)

// Workflow runs one request to its outcome.
func Workflow(ctx workflow.Context, req Request) (State, error) {
	st := State{Status: Waiting, Approver: req.Approver, Deadline: workflow.Now(ctx).Add(req.Deadline)}
	if err := StateQuery.SetHandler(ctx, func() (State, error) { return st, nil }); err != nil {
		return st, err
	}
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var n *Notifier // activity references only

	if !awaitVote(ctx, &st, req.Deadline) {
		st.Status, st.Escalated, st.Approver = Escalated, true, req.Escalation
		st.Deadline = workflow.Now(ctx).Add(req.EscalationDeadline)
		msg := fmt.Sprintf("request %s (%s, %s) got no answer from %s in time; please decide by %s",
			req.ID, req.Description, money(req.AmountCents), req.Approver, st.Deadline.Format(time.RFC3339))
		if _, err := sdk.ExecuteActivity(actx, n.Notify, Message{To: req.Escalation, Text: msg}).Get(ctx); err != nil {
			return st, err
		}
		if !awaitVote(ctx, &st, req.EscalationDeadline) {
			st.Status = Expired
		}
	}
	msg := fmt.Sprintf("request %s: %s", req.ID, st.Status)
	if st.DecidedBy != "" {
		msg += " by " + st.DecidedBy
	}
	if _, err := sdk.ExecuteActivity(actx, n.Notify, Message{To: req.Requester, Text: msg}).Get(ctx); err != nil {
		return st, err
	}
	return st, nil
}

// awaitVote waits for an approve or reject signal for at most d; it
// records the vote in st and reports whether one came.
func awaitVote(ctx workflow.Context, st *State, d time.Duration) bool {
	tctx, cancelTimer := workflow.WithCancel(ctx)
	defer cancelTimer()
	voted := false
	vote := func(s Status) func(Vote) {
		return func(v Vote) { st.Status, st.DecidedBy, st.Comment, voted = s, v.By, v.Comment, true }
	}
	sel := workflow.NewSelector(ctx)
	Approve.AddToSelector(ctx, sel, vote(Approved))
	Reject.AddToSelector(ctx, sel, vote(Rejected))
	sel.AddFuture(workflow.NewTimer(tctx, d), func(workflow.Future) {})
	sel.Select(ctx)
	return voted
}

func money(cents int64) string { return fmt.Sprintf("$%d.%02d", cents/100, cents%100) }

// WorkflowID is the workflow ID of request id.
func WorkflowID(id string) string { return "approval-" + id }

// Start starts the approval workflow of req.
func Start(ctx context.Context, c client.Client, req Request) (sdk.Run[State], error) {
	if req.ID == "" || req.Approver == "" || req.Escalation == "" || req.Deadline <= 0 || req.EscalationDeadline <= 0 {
		return sdk.Run[State]{}, errors.New("approval: a request needs an ID, two approvers and two positive deadlines")
	}
	return sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{ID: WorkflowID(req.ID), TaskQueue: TaskQueue}, Workflow, req)
}

// Decide sends the vote of v.By on request id.
func Decide(ctx context.Context, c client.Client, id string, approve bool, v Vote) error {
	sig := Reject
	if approve {
		sig = Approve
	}
	return sig.Send(ctx, c, WorkflowID(id), "", v)
}

// Current asks request id where it stands (the state query).
func Current(ctx context.Context, c client.Client, id string) (State, error) {
	return StateQuery.Query(ctx, c, WorkflowID(id), "")
}

// Outcome waits for request id's outcome.
func Outcome(ctx context.Context, c client.Client, id string) (State, error) {
	return sdk.GetWorkflow(ctx, c, Workflow, WorkflowID(id), "").Get(ctx)
}
