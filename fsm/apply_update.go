package fsm

import (
	commandpb "go.temporal.io/api/command/v1"
	enumspb "go.temporal.io/api/enums/v1"
	protocolpb "go.temporal.io/api/protocol/v1"
	updatepb "go.temporal.io/api/update/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// Workflow updates follow Temporal's protocol: an admitted update request is
// delivered to the worker as a protocol message on a workflow task; the
// worker answers with Acceptance/Rejection and later Response messages,
// sequenced among its commands by ProtocolMessage commands. Accepted and
// completed updates are history events; a rejected one leaves no trace.

// UpdateOutcome reports an update's progress made by a workflow task.
type UpdateOutcome struct {
	UpdateID string
	// Stage is ACCEPTED or COMPLETED (a rejection is COMPLETED with a failure).
	Stage   enumspb.UpdateWorkflowExecutionLifecycleStage
	Outcome *updatepb.Outcome
}

func (t *txn) admitUpdate(op *fsmpb.AdmitUpdate) *Result {
	w, err := t.loadRunning(op.Namespace, op.WorkflowId, op.RunId)
	if err != nil {
		return &Result{Err: err}
	}
	if _, known := w.st.Updates[op.UpdateId]; !known {
		switch {
		case w.wftStarted():
			w.st.UpdateRequested = true
		case w.st.WorkflowTask == nil:
			w.scheduleSpeculativeWorkflowTask()
		}
		w.save()
	}
	return &Result{RunID: w.st.RunId}
}

// protocolMessages indexes a completion's messages by id.
func protocolMessages(msgs []*protocolpb.Message) map[string]*protocolpb.Message {
	m := make(map[string]*protocolpb.Message, len(msgs))
	for _, msg := range msgs {
		m[msg.Id] = msg
	}
	return m
}

// The ProtocolMessage command sequences one of the completion's messages
// among the commands; messages no command names are applied after them.

func (w *run) validateProtocolMessage(tc *taskCompletion, i int, c *commandpb.Command) *BadCommandError {
	id := c.GetProtocolMessageCommandAttributes().GetMessageId()
	if tc.msgs[id] == nil {
		return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_UPDATE_WORKFLOW_EXECUTION_MESSAGE,
			"command %d: protocol message %q is not in the request", i, id)
	}
	return nil
}

// protocolMessageEvents predicts what applyMessage writes for the message:
// an Accepted event for a new update, a Completed event for an accepted
// one not completed yet (earlier messages of the task count), nothing for
// a rejection or a message applyMessage ignores.
func (w *run) protocolMessageEvents(tc *taskCompletion, c *commandpb.Command) int64 {
	msg := tc.msgs[c.GetProtocolMessageCommandAttributes().GetMessageId()]
	body := msg.GetBody()
	switch {
	case body.MessageIs(&updatepb.Acceptance{}):
		id := msg.ProtocolInstanceId
		if _, dup := w.st.Updates[id]; dup || tc.accepted[id] || body.UnmarshalTo(&updatepb.Acceptance{}) != nil {
			return 0
		}
		tc.accepted[id] = true
		return 1
	case body.MessageIs(&updatepb.Response{}):
		var r updatepb.Response
		if body.UnmarshalTo(&r) != nil {
			return 0
		}
		id := r.GetMeta().GetUpdateId()
		if id == "" {
			id = msg.ProtocolInstanceId
		}
		info := w.st.Updates[id]
		known := tc.accepted[id] || (info != nil && info.CompletedEventId == 0)
		if !known || tc.completed[id] {
			return 0
		}
		tc.completed[id] = true
		return 1
	}
	return 0
}

// applyProtocolMessage never wakes the workflow: the worker produced the
// message itself.
func (w *run) applyProtocolMessage(tc *taskCompletion, c *commandpb.Command) bool {
	id := c.GetProtocolMessageCommandAttributes().GetMessageId()
	tc.usedMsgs[id] = true
	w.applyMessage(tc.msgs[id], &tc.updates)
	return false
}

// applyMessage applies one protocol message, adding the update progress it
// makes to out.
func (w *run) applyMessage(msg *protocolpb.Message, out *[]UpdateOutcome) {
	s := w.st
	body := msg.GetBody()
	switch {
	case body.MessageIs(&updatepb.Acceptance{}):
		var a updatepb.Acceptance
		if body.UnmarshalTo(&a) != nil {
			return
		}
		id := msg.ProtocolInstanceId
		if _, dup := s.Updates[id]; dup {
			return
		}
		ev := w.workflowExecutionUpdateAcceptedEvent(id, &a)
		w.appendEvents(ev)
		if s.Updates == nil {
			s.Updates = map[string]*fsmpb.UpdateInfo{}
		}
		s.Updates[id] = &fsmpb.UpdateInfo{UpdateId: id, AcceptedEventId: ev.EventId}
		*out = append(*out, UpdateOutcome{UpdateID: id, Stage: enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ACCEPTED})
	case body.MessageIs(&updatepb.Response{}):
		var r updatepb.Response
		if body.UnmarshalTo(&r) != nil {
			return
		}
		id := r.GetMeta().GetUpdateId()
		if id == "" {
			id = msg.ProtocolInstanceId
		}
		info := s.Updates[id]
		if info == nil || info.CompletedEventId != 0 {
			return
		}
		ev := w.workflowExecutionUpdateCompletedEvent(r.Meta, info.AcceptedEventId, r.Outcome)
		w.appendEvents(ev)
		info.CompletedEventId = ev.EventId
		*out = append(*out, UpdateOutcome{UpdateID: id, Stage: enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED, Outcome: r.Outcome})
	case body.MessageIs(&updatepb.Rejection{}):
		var r updatepb.Rejection
		if body.UnmarshalTo(&r) != nil {
			return
		}
		*out = append(*out, UpdateOutcome{UpdateID: msg.ProtocolInstanceId, Stage: enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED,
			Outcome: &updatepb.Outcome{Value: &updatepb.Outcome_Failure{Failure: r.Failure}}})
	}
}
