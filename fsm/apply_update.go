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
		if w.wftStarted() {
			w.st.UpdateRequested = true
		} else {
			w.ensureWorkflowTask()
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

// applyMessage applies one protocol message; it reports whether the
// workflow must be woken (never: the worker produced these itself).
func (w *run) applyMessage(msg *protocolpb.Message, completedID int64, out *[]UpdateOutcome) {
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
	_ = completedID
}

func isProtocolCommand(c *commandpb.Command) bool {
	return c.CommandType == enumspb.COMMAND_TYPE_PROTOCOL_MESSAGE
}
