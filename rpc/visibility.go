package rpc

import (
	"context"
	"errors"
	"maps"
	"strconv"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/rpc/visquery"
)

// Visibility: lists and counts are served from the state machine's
// visibility index (fsm/visibility.go), filtered with the list-filter
// language (rpc/visquery). A page token is the index key of the last row
// returned, so paging is stable under concurrent starts (they sort before
// or after it) and survives a leader change (every node holds the same
// index). A filter is evaluated row by row over the namespace's index:
// cost grows with the namespace's run count (retention bounds it).

// visTokenPrefix versions page tokens.
const visTokenPrefix = "rfv1:"

func encodeVisToken(key []byte) []byte { return append([]byte(visTokenPrefix), key...) }

func decodeVisToken(tok []byte) ([]byte, error) {
	if len(tok) == 0 {
		return nil, nil
	}
	if !strings.HasPrefix(string(tok), visTokenPrefix) || len(tok) == len(visTokenPrefix) {
		return nil, invalidArg("next_page_token: malformed")
	}
	return tok[len(visTokenPrefix):], nil
}

func parseQuery(q string) (*visquery.Query, error) {
	pq, err := visquery.Parse(q)
	if err != nil {
		var qe *visquery.Error
		if errors.As(err, &qe) {
			return nil, invalidArg("query: %s", qe.Error())
		}
		return nil, invalidArg("query: %v", err)
	}
	return pq, nil
}

func visPageSize(n int32) int {
	switch {
	case n <= 0:
		return defaultVisibilityPageSize
	case n > maxVisibilityPageSize:
		return maxVisibilityPageSize
	}
	return int(n)
}

// listPage returns up to pageSize matching executions after token and the
// token of the next page (nil when the scan reached the end).
func (s *Service) listPage(ns string, q *visquery.Query, pageSize int, token []byte) ([]*workflowpb.WorkflowExecutionInfo, []byte, error) {
	after, err := decodeVisToken(token)
	if err != nil {
		return nil, nil, err
	}
	var out []*workflowpb.WorkflowExecutionInfo
	var next []byte
	err = s.fsm.ScanVisibility(fsm.VisibilityScan{Namespace: ns, Desc: !q.Asc, After: after},
		func(key []byte, info *workflowpb.WorkflowExecutionInfo) bool {
			if !q.Match(info) {
				return true
			}
			out = append(out, info)
			if len(out) == pageSize {
				next = encodeVisToken(key)
				return false
			}
			return true
		})
	if err != nil {
		return nil, nil, toStatus(err)
	}
	return out, next, nil
}

func (s *Service) ListWorkflowExecutions(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return nil, err
	}
	q, err := parseQuery(req.GetQuery())
	if err != nil {
		return nil, err
	}
	execs, next, err := s.listPage(req.Namespace, q, visPageSize(req.GetPageSize()), req.GetNextPageToken())
	if err != nil {
		return nil, err
	}
	return &workflowservice.ListWorkflowExecutionsResponse{Executions: execs, NextPageToken: next}, nil
}

// ScanWorkflowExecutions is ListWorkflowExecutions (Temporal deprecated the
// difference: a scan is a list without ordering guarantees).
func (s *Service) ScanWorkflowExecutions(ctx context.Context, req *workflowservice.ScanWorkflowExecutionsRequest) (*workflowservice.ScanWorkflowExecutionsResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	resp, err := s.ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: req.GetNamespace(), PageSize: req.GetPageSize(), NextPageToken: req.GetNextPageToken(), Query: req.GetQuery(),
	})
	if err != nil {
		return nil, err
	}
	return &workflowservice.ScanWorkflowExecutionsResponse{Executions: resp.Executions, NextPageToken: resp.NextPageToken}, nil
}

// CountWorkflowExecutions counts matching executions; with
// GROUP BY ExecutionStatus it also counts per status.
func (s *Service) CountWorkflowExecutions(ctx context.Context, req *workflowservice.CountWorkflowExecutionsRequest) (*workflowservice.CountWorkflowExecutionsResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	if err := s.checkNamespace(req.GetNamespace()); err != nil {
		return nil, err
	}
	q, err := parseQuery(req.GetQuery())
	if err != nil {
		return nil, err
	}
	var total int64
	byStatus := map[enumspb.WorkflowExecutionStatus]int64{}
	err = s.fsm.ScanVisibility(fsm.VisibilityScan{Namespace: req.Namespace}, func(_ []byte, info *workflowpb.WorkflowExecutionInfo) bool {
		if q.Match(info) {
			total++
			byStatus[info.Status]++
		}
		return true
	})
	if err != nil {
		return nil, toStatus(err)
	}
	resp := &workflowservice.CountWorkflowExecutionsResponse{Count: total}
	if q.GroupBy == "ExecutionStatus" {
		for _, st := range sortedKeys(byStatus) {
			resp.Groups = append(resp.Groups, &workflowservice.CountWorkflowExecutionsResponse_AggregationGroup{
				GroupValues: []*commonpb.Payload{keywordPayload(shortStatus(st))}, Count: byStatus[st],
			})
		}
	}
	return resp, nil
}

// shortStatus is Temporal's name for a status in queries and group values
// ("Running", "ContinuedAsNew").
func shortStatus(st enumspb.WorkflowExecutionStatus) string {
	return pascal(st.String(), "WORKFLOW_EXECUTION_STATUS_")
}

func keywordPayload(s string) *commonpb.Payload {
	return &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("json/plain"), "type": []byte("Keyword")},
		Data:     []byte(strconv.Quote(s)),
	}
}

// ListOpenWorkflowExecutions and ListClosedWorkflowExecutions are the
// pre-query list APIs; their filters become a query.
func (s *Service) ListOpenWorkflowExecutions(ctx context.Context, req *workflowservice.ListOpenWorkflowExecutionsRequest) (*workflowservice.ListOpenWorkflowExecutionsResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	conds := []string{"ExecutionStatus = 'Running'"}
	conds = append(conds, timeRange("StartTime", req.GetStartTimeFilter().GetEarliestTime().AsTime(), req.GetStartTimeFilter().GetLatestTime().AsTime(), req.GetStartTimeFilter() != nil)...)
	if id := req.GetExecutionFilter().GetWorkflowId(); id != "" {
		conds = append(conds, "WorkflowId = "+quote(id))
	}
	if id := req.GetExecutionFilter().GetRunId(); id != "" {
		conds = append(conds, "RunId = "+quote(id))
	}
	if t := req.GetTypeFilter().GetName(); t != "" {
		conds = append(conds, "WorkflowType = "+quote(t))
	}
	resp, err := s.ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: req.GetNamespace(), PageSize: req.GetMaximumPageSize(), NextPageToken: req.GetNextPageToken(),
		Query: strings.Join(conds, " AND "),
	})
	if err != nil {
		return nil, err
	}
	return &workflowservice.ListOpenWorkflowExecutionsResponse{Executions: resp.Executions, NextPageToken: resp.NextPageToken}, nil
}

func (s *Service) ListClosedWorkflowExecutions(ctx context.Context, req *workflowservice.ListClosedWorkflowExecutionsRequest) (*workflowservice.ListClosedWorkflowExecutionsResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	conds := []string{"ExecutionStatus != 'Running'"}
	// As in Temporal, a closed list's time filter applies to the close time.
	conds = append(conds, timeRange("CloseTime", req.GetStartTimeFilter().GetEarliestTime().AsTime(), req.GetStartTimeFilter().GetLatestTime().AsTime(), req.GetStartTimeFilter() != nil)...)
	if id := req.GetExecutionFilter().GetWorkflowId(); id != "" {
		conds = append(conds, "WorkflowId = "+quote(id))
	}
	if id := req.GetExecutionFilter().GetRunId(); id != "" {
		conds = append(conds, "RunId = "+quote(id))
	}
	if t := req.GetTypeFilter().GetName(); t != "" {
		conds = append(conds, "WorkflowType = "+quote(t))
	}
	if st := req.GetStatusFilter().GetStatus(); st != enumspb.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED {
		conds = append(conds, "ExecutionStatus = "+strconv.Itoa(int(st)))
	}
	resp, err := s.ListWorkflowExecutions(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: req.GetNamespace(), PageSize: req.GetMaximumPageSize(), NextPageToken: req.GetNextPageToken(),
		Query: strings.Join(conds, " AND "),
	})
	if err != nil {
		return nil, err
	}
	return &workflowservice.ListClosedWorkflowExecutionsResponse{Executions: resp.Executions, NextPageToken: resp.NextPageToken}, nil
}

func timeRange(field string, earliest, latest time.Time, set bool) []string {
	if !set {
		return nil
	}
	var out []string
	if earliest.UnixNano() > 0 {
		out = append(out, field+" >= "+quote(earliest.UTC().Format(time.RFC3339Nano)))
	}
	if latest.UnixNano() > 0 {
		out = append(out, field+" <= "+quote(latest.UTC().Format(time.RFC3339Nano)))
	}
	return out
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// extraSystemAttributes are system search attributes Temporal defines that
// clients (the Web UI, the CLI) may name; they are stored as custom ones.
var extraSystemAttributes = map[string]enumspb.IndexedValueType{
	"TemporalChangeVersion":      enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
	"BinaryChecksums":            enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
	"BuildIds":                   enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
	"BatcherUser":                enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"TemporalNamespaceDivision":  enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"TemporalScheduledStartTime": enumspb.INDEXED_VALUE_TYPE_DATETIME,
	"TemporalScheduledById":      enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	"TemporalSchedulePaused":     enumspb.INDEXED_VALUE_TYPE_BOOL,
}

// GetSearchAttributes returns the system search attributes and every custom
// one a workflow has used (no registration is needed on raftflow: a custom
// attribute's type is the one of the first value seen).
func (s *Service) GetSearchAttributes(ctx context.Context, req *workflowservice.GetSearchAttributesRequest) (*workflowservice.GetSearchAttributesResponse, error) {
	if err := bound(req); err != nil {
		return nil, err
	}
	keys := s.fsm.SearchAttributeTypes()
	maps.Copy(keys, extraSystemAttributes)
	maps.Copy(keys, visquery.SystemSearchAttributes())
	return &workflowservice.GetSearchAttributesResponse{Keys: keys}, nil
}
