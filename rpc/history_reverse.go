package rpc

import (
	"context"
	"slices"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
)

// GetWorkflowExecutionHistoryReverse pages through a run's history from the
// newest event back (the Web UI reads a run's latest events this way). The
// first page starts at the run's last event when called; the page token
// (pageToken with UpTo the next event id to return, counting down) pins
// that run.
func (s *Service) GetWorkflowExecutionHistoryReverse(ctx context.Context, req *workflowservice.GetWorkflowExecutionHistoryReverseRequest) (*workflowservice.GetWorkflowExecutionHistoryReverseResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	ns := req.GetNamespace()
	wfID := req.GetExecution().GetWorkflowId()
	if err := s.checkNamespaceID(ns, "execution.workflow_id", wfID); err != nil {
		return nil, err
	}
	runID := req.GetExecution().GetRunId()
	var upTo int64
	if len(req.NextPageToken) > 0 {
		tok, ok := decodePageToken(req.NextPageToken)
		if !ok || tok.UpTo < 1 {
			return nil, invalidArg("next_page_token: malformed")
		}
		if runID == "" {
			runID = tok.RunID
		}
		upTo = tok.UpTo
	}
	st, err := s.fsm.GetState(ns, wfID, runID)
	if err != nil {
		return nil, toStatus(err)
	}
	runID = st.RunId
	if upTo == 0 {
		upTo = st.NextEventId - 1
	}
	pageSize := int64(req.GetMaximumPageSize())
	if pageSize <= 0 || pageSize > defaultHistoryPageSize {
		pageSize = defaultHistoryPageSize
	}
	from := max(upTo-pageSize+1, 1)
	resp := &workflowservice.GetWorkflowExecutionHistoryReverseResponse{History: &historypb.History{}}
	if upTo < 1 {
		return resp, nil
	}
	evs, _ := s.fsm.ReadHistory(ns, wfID, runID, from, upTo, int(upTo-from+1))
	slices.Reverse(evs)
	resp.History.Events = evs
	if from > 1 {
		resp.NextPageToken = encodePageToken(pageToken{RunID: runID, UpTo: from - 1})
	}
	return resp, nil
}
