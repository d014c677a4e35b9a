package fsm

import (
	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
)

// The commands on the workflow itself: close it (CompleteWorkflowExecution,
// FailWorkflowExecution, CancelWorkflowExecution; continue-as-new is in
// apply_continue.go), record a marker, upsert search attributes or memo.

func (w *run) applyCompleteWorkflow(tc *taskCompletion, c *commandpb.Command) bool {
	result := c.GetCompleteWorkflowExecutionCommandAttributes().GetResult()
	w.closeOrCron(enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, result, nil, func(newRunID string) *historypb.HistoryEvent {
		return w.workflowExecutionCompletedEvent(result, tc.completedID, newRunID)
	})
	return false
}

// applyFailWorkflow: a failure the retry policy retries starts the next
// attempt; else the next cron run, if any, starts (apply_continue.go).
func (w *run) applyFailWorkflow(tc *taskCompletion, c *commandpb.Command) bool {
	f := c.GetFailWorkflowExecutionCommandAttributes().GetFailure()
	w.retryOrClose(f, enumspb.WORKFLOW_EXECUTION_STATUS_FAILED, func(state enumspb.RetryState, newRunID string) *historypb.HistoryEvent {
		return w.workflowExecutionFailedEvent(f, tc.completedID, state, newRunID)
	})
	return false
}

func (w *run) applyCancelWorkflow(tc *taskCompletion, c *commandpb.Command) bool {
	ev := w.workflowExecutionCanceledEvent(c.GetCancelWorkflowExecutionCommandAttributes().GetDetails(), tc.completedID)
	w.closeRun(ev, enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED)
	return false
}

func (w *run) validateRecordMarker(_ *taskCompletion, i int, c *commandpb.Command) *BadCommandError {
	if c.GetRecordMarkerCommandAttributes().GetMarkerName() == "" {
		return bad(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES, "command %d: marker_name is not set", i)
	}
	return nil
}

func (w *run) applyRecordMarker(tc *taskCompletion, c *commandpb.Command) bool {
	a := c.GetRecordMarkerCommandAttributes()
	w.appendEvents(w.markerRecordedEvent(a.MarkerName, a.Details, tc.completedID, a.Header, a.Failure))
	return false
}

func (w *run) applyUpsertSearchAttributes(tc *taskCompletion, c *commandpb.Command) bool {
	a := c.GetUpsertWorkflowSearchAttributesCommandAttributes()
	w.appendEvents(w.upsertWorkflowSearchAttributesEvent(tc.completedID, a.GetSearchAttributes()))
	w.st.SearchAttributes = mergeFields(w.st.SearchAttributes, a.GetSearchAttributes())
	w.visDirty = true
	return false
}

func (w *run) applyModifyProperties(tc *taskCompletion, c *commandpb.Command) bool {
	a := c.GetModifyWorkflowPropertiesCommandAttributes()
	w.appendEvents(w.workflowPropertiesModifiedEvent(tc.completedID, a.GetUpsertedMemo()))
	w.st.Memo = mergeMemo(w.st.Memo, a.GetUpsertedMemo())
	w.visDirty = true
	return false
}

// mergeFields upserts search attributes (a nil or empty payload removes).
func mergeFields(cur, upd *commonpb.SearchAttributes) *commonpb.SearchAttributes {
	if upd == nil {
		return cur
	}
	if cur == nil {
		cur = &commonpb.SearchAttributes{}
	}
	cur.IndexedFields = upsertPayloads(cur.IndexedFields, upd.IndexedFields)
	return cur
}

// mergeMemo upserts memo fields, as mergeFields does search attributes.
func mergeMemo(cur, upd *commonpb.Memo) *commonpb.Memo {
	if upd == nil {
		return cur
	}
	if cur == nil {
		cur = &commonpb.Memo{}
	}
	cur.Fields = upsertPayloads(cur.Fields, upd.Fields)
	return cur
}

// upsertPayloads sets each field of upd in cur, removing those whose
// payload is nil or empty; cur is allocated if nil.
func upsertPayloads(cur, upd map[string]*commonpb.Payload) map[string]*commonpb.Payload {
	if cur == nil {
		cur = map[string]*commonpb.Payload{}
	}
	for k, v := range upd {
		if v == nil || len(v.Data) == 0 {
			delete(cur, k)
		} else {
			cur[k] = v
		}
	}
	return cur
}
