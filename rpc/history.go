package rpc

import (
	"context"
	"encoding/binary"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
)

// pageToken continues a history read. Next is the first event id to read;
// UpTo (if set) bounds it (a workflow task's history ends at its started
// event); a token with Next == 0 only continues a long poll.
type pageToken struct {
	RunID string
	Next  int64
	UpTo  int64
}

func encodePageToken(t pageToken) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(t.Next))
	b = binary.BigEndian.AppendUint64(b, uint64(t.UpTo))
	return append(b, t.RunID...)
}

func decodePageToken(b []byte) (pageToken, bool) {
	if len(b) < 16 || len(b)-16 > maxIDLength {
		return pageToken{}, false
	}
	return pageToken{
		Next: int64(binary.BigEndian.Uint64(b)), UpTo: int64(binary.BigEndian.Uint64(b[8:])), RunID: string(b[16:]),
	}, true
}

func tsOf(nanos int64) *timestamppb.Timestamp {
	if nanos == 0 {
		return nil
	}
	return timestamppb.New(time.Unix(0, nanos))
}

func durOf(nanos int64) *durationpb.Duration {
	if nanos <= 0 {
		return nil
	}
	return durationpb.New(time.Duration(nanos))
}

// GetWorkflowExecutionHistory pages through a run's history. With
// wait_new_event it long-polls: for new events (all-events filter), or for
// the close event (close-event filter, which is how SDKs wait for a result).
// A long poll that ends with nothing new returns no events and a token to
// poll again, as Temporal does.
func (s *Service) GetWorkflowExecutionHistory(ctx context.Context, req *workflowservice.GetWorkflowExecutionHistoryRequest) (*workflowservice.GetWorkflowExecutionHistoryResponse, error) {
	if err := s.validate(req); err != nil {
		return nil, err
	}
	ns := req.GetNamespace()
	wfID := req.GetExecution().GetWorkflowId()
	if err := s.checkNamespaceID(ns, "execution.workflow_id", wfID); err != nil {
		return nil, err
	}
	runID := req.GetExecution().GetRunId()
	var tok pageToken
	if len(req.NextPageToken) > 0 {
		var ok bool
		if tok, ok = decodePageToken(req.NextPageToken); !ok {
			return nil, invalidArg("next_page_token: malformed")
		}
		if runID == "" {
			runID = tok.RunID
		}
	}
	st, err := s.fsm.GetState(ns, wfID, runID)
	if err != nil {
		return nil, toStatus(err)
	}
	runID = st.RunId
	pageSize := int(req.GetMaximumPageSize())
	if pageSize <= 0 || pageSize > defaultHistoryPageSize {
		pageSize = defaultHistoryPageSize
	}
	pctx, cancel := s.longPollContext(ctx)
	defer cancel()
	var termEnd <-chan struct{}
	for {
		// Take the wake-up channel before reading state so no append is missed.
		wake := s.eng.HistoryChanged(ns, wfID, runID)
		st, err = s.fsm.GetState(ns, wfID, runID)
		if err != nil {
			return nil, toStatus(err)
		}
		closed := st.Status != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING
		if req.HistoryEventFilterType == enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT {
			if closed {
				evs, _ := s.fsm.ReadHistory(ns, wfID, runID, st.CloseEventId, st.CloseEventId, 1)
				return &workflowservice.GetWorkflowExecutionHistoryResponse{History: &historypb.History{Events: evs}}, nil
			}
		} else {
			from := max(tok.Next, 1)
			if from < st.NextEventId || closed || !req.WaitNewEvent {
				return s.historyPage(ns, wfID, runID, from, tok.UpTo, pageSize, closed, req.WaitNewEvent, st), nil
			}
		}
		if !req.WaitNewEvent {
			return &workflowservice.GetWorkflowExecutionHistoryResponse{History: &historypb.History{}}, nil
		}
		if termEnd == nil {
			if termEnd = s.eng.TermEnd(); termEnd == nil {
				return nil, unavailable("raftflow: this node is not serving as the leader; retry")
			}
		}
		select {
		case <-wake:
			continue
		case <-termEnd:
			// Leadership moved: this node's state may stop advancing
			// (it may be cut off). End the poll as if it had timed out,
			// so the client polls again and reaches the new leader.
		case <-pctx.Done():
			if ctx.Err() != nil {
				return nil, toStatus(ctx.Err())
			}
		}
		next := tok
		next.RunID = runID
		if next.Next == 0 {
			next.Next = st.NextEventId
			if req.HistoryEventFilterType == enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT {
				next.Next = 1
			}
		}
		return &workflowservice.GetWorkflowExecutionHistoryResponse{
			History: &historypb.History{}, NextPageToken: encodePageToken(next),
		}, nil
	}
}

// historyPage reads one page; st is the run's state read just before.
func (s *Service) historyPage(ns, wfID, runID string, from, upTo int64, pageSize int, closed, wait bool, st *fsmpb.WorkflowState) *workflowservice.GetWorkflowExecutionHistoryResponse {
	nextEventID := st.NextEventId
	evs, next := s.fsm.ReadHistory(ns, wfID, runID, from, upTo, pageSize)
	if next == 0 && upTo > 0 {
		// A worker paging through a speculative task's history: its last
		// page ends with the task's events, which are not in storage.
		evs = appendSpeculative(evs, st.GetWorkflowTask().GetSpeculativeEvents(), from, upTo)
	}
	resp := &workflowservice.GetWorkflowExecutionHistoryResponse{History: &historypb.History{Events: evs}}
	switch {
	case next > 0:
		resp.NextPageToken = encodePageToken(pageToken{RunID: runID, Next: next, UpTo: upTo})
	case wait && !closed && upTo == 0:
		resp.NextPageToken = encodePageToken(pageToken{RunID: runID, Next: nextEventID})
		if len(evs) > 0 {
			resp.NextPageToken = encodePageToken(pageToken{RunID: runID, Next: evs[len(evs)-1].EventId + 1})
		}
	}
	return resp
}

// DescribeWorkflowExecution reports a run's status and pending work.
func (s *Service) DescribeWorkflowExecution(ctx context.Context, req *workflowservice.DescribeWorkflowExecutionRequest) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	e := req.GetExecution()
	if err := s.checkNamespaceID(req.GetNamespace(), "execution.workflow_id", e.GetWorkflowId()); err != nil {
		return nil, err
	}
	st, err := s.fsm.GetState(req.Namespace, e.GetWorkflowId(), e.GetRunId())
	if err != nil {
		return nil, toStatus(err)
	}
	resp := describe(st)
	// As Temporal, the start's summary and details come from the Started
	// event (the state does not keep them).
	if evs, _ := s.fsm.ReadHistory(st.Namespace, st.WorkflowId, st.RunId, 1, 1, 1); len(evs) == 1 {
		resp.ExecutionConfig.UserMetadata = evs[0].UserMetadata
	}
	if p := st.Parent; p != nil {
		info := resp.WorkflowExecutionInfo
		info.ParentExecution = &commonpb.WorkflowExecution{WorkflowId: p.WorkflowId, RunId: p.RunId}
		if ns, err := s.fsm.GetNamespace(p.Namespace); err == nil {
			info.ParentNamespaceId = ns.Info.GetId()
		}
	}
	return resp, nil
}

func describe(st *fsmpb.WorkflowState) *workflowservice.DescribeWorkflowExecutionResponse {
	tq := &taskQueueRef{st.TaskQueue}
	resp := &workflowservice.DescribeWorkflowExecutionResponse{
		ExecutionConfig: &workflowExecutionConfig{
			TaskQueue:                  tq.pb(),
			WorkflowExecutionTimeout:   durOf(st.ExecutionTimeout),
			WorkflowRunTimeout:         durOf(st.RunTimeout),
			DefaultWorkflowTaskTimeout: durOf(st.TaskTimeout),
		},
		WorkflowExecutionInfo: &workflowExecutionInfo{
			Execution:     &commonpb.WorkflowExecution{WorkflowId: st.WorkflowId, RunId: st.RunId},
			Type:          st.WorkflowType,
			StartTime:     tsOf(st.StartTime),
			CloseTime:     tsOf(st.CloseTime),
			Status:        st.Status,
			HistoryLength: st.NextEventId - 1,
			ExecutionTime: tsOf(st.ExecutionTime),
			// Temporal always sends these two, empty or not (the Go SDK's
			// DescribeWorkflow dereferences search_attributes).
			Memo:             &commonpb.Memo{Fields: st.GetMemo().GetFields()},
			SearchAttributes: &commonpb.SearchAttributes{IndexedFields: st.GetSearchAttributes().GetIndexedFields()},
			TaskQueue:        st.TaskQueue,
			HistorySizeBytes: st.HistorySizeBytes,
			FirstRunId:       st.FirstRunId,
			RootExecution:    fsm.RootOf(st),
			Priority:         st.Priority,
		},
		WorkflowExtendedInfo: &workflowExtendedInfo{
			ExecutionExpirationTime: tsOf(st.ExecutionExpiration),
			OriginalStartTime:       tsOf(st.StartTime),
			CancelRequested:         st.CancelRequested,
		},
	}
	if st.CloseTime > 0 {
		resp.WorkflowExecutionInfo.ExecutionDuration = durOf(st.CloseTime - st.ExecutionTime)
	}
	for _, id := range sortedKeys(st.Activities) {
		a := st.Activities[id]
		pa := &pendingActivityInfo{
			ActivityId: a.ActivityId, ActivityType: a.ActivityType, State: enumspb.PENDING_ACTIVITY_STATE_SCHEDULED,
			HeartbeatDetails: a.HeartbeatDetails, LastHeartbeatTime: tsOf(a.LastHeartbeatTime),
			LastStartedTime: tsOf(a.StartedTime), Attempt: a.Attempt, MaximumAttempts: a.RetryPolicy.GetMaximumAttempts(),
			ScheduledTime: tsOf(a.CurrentAttemptScheduledTime), LastFailure: a.LastFailure,
			LastWorkerIdentity: a.StartedIdentity,
		}
		if a.ScheduleToCloseTimeout > 0 {
			pa.ExpirationTime = tsOf(a.ScheduledTime + a.ScheduleToCloseTimeout)
		}
		switch {
		case a.CancelRequested:
			pa.State = enumspb.PENDING_ACTIVITY_STATE_CANCEL_REQUESTED
		case a.Paused && a.StartedTime > 0:
			pa.State = enumspb.PENDING_ACTIVITY_STATE_PAUSE_REQUESTED
		case a.Paused:
			pa.State = enumspb.PENDING_ACTIVITY_STATE_PAUSED
		case a.StartedTime > 0:
			pa.State = enumspb.PENDING_ACTIVITY_STATE_STARTED
		}
		if a.Paused {
			pa.Paused = true
			pa.PauseInfo = &workflowpb.PendingActivityInfo_PauseInfo{PauseTime: tsOf(a.PauseTime),
				PausedBy: &workflowpb.PendingActivityInfo_PauseInfo_Manual_{Manual: &workflowpb.PendingActivityInfo_PauseInfo_Manual{
					Identity: a.PauseIdentity, Reason: a.PauseReason}}}
		}
		if a.RestartAttempts {
			pa.Attempt = 1 // reset while running, as Temporal shows it
		}
		pa.ActivityOptions = fsm.ActivityOptionsOf(a)
		pa.Priority = a.Priority
		if pa.LastWorkerIdentity == "" {
			pa.LastWorkerIdentity = a.LastWorkerIdentity
		}
		resp.PendingActivities = append(resp.PendingActivities, pa)
	}
	if wt := st.WorkflowTask; wt != nil {
		p := &pendingWorkflowTaskInfo{
			State:                 enumspb.PENDING_WORKFLOW_TASK_STATE_SCHEDULED,
			ScheduledTime:         tsOf(wt.ScheduledTime),
			OriginalScheduledTime: tsOf(wt.ScheduledTime),
			Attempt:               wt.Attempt,
		}
		if wt.StartedEventId > 0 {
			p.State, p.StartedTime = enumspb.PENDING_WORKFLOW_TASK_STATE_STARTED, tsOf(wt.StartedTime)
		}
		resp.PendingWorkflowTask = p
	}
	return resp
}

// appendSpeculative adds a speculative workflow task's events (kept in the
// run's state, not in storage) that fall in [from, upTo] to a history read.
// The state may be older than the read: an event the read already returned
// (the task was written meanwhile) is not added twice.
func appendSpeculative(evs, speculative []*historypb.HistoryEvent, from, upTo int64) []*historypb.HistoryEvent {
	if n := len(evs); n > 0 {
		from = max(from, evs[n-1].EventId+1)
	}
	for _, ev := range speculative {
		if ev.EventId >= from && ev.EventId <= upTo {
			evs = append(evs, ev)
		}
	}
	return evs
}
