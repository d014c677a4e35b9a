package visquery

import (
	"errors"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"
)

var t0 = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)

// saPayload encodes a search attribute the way the Go SDK does for typed
// search attributes.
func saPayload(typ, json string) *commonpb.Payload {
	return &commonpb.Payload{
		Metadata: map[string][]byte{"encoding": []byte("json/plain"), "type": []byte(typ)},
		Data:     []byte(json),
	}
}

func execInfo(wfID, typ string, status enumspb.WorkflowExecutionStatus, start time.Time, closed bool, sa map[string]*commonpb.Payload) *workflowpb.WorkflowExecutionInfo {
	i := &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: "run-" + wfID},
		Type:      &commonpb.WorkflowType{Name: typ}, Status: status,
		StartTime: timestamppb.New(start), ExecutionTime: timestamppb.New(start),
		TaskQueue: "tq", HistoryLength: 11,
		SearchAttributes: &commonpb.SearchAttributes{IndexedFields: sa},
	}
	if closed {
		i.CloseTime = timestamppb.New(start.Add(time.Minute))
		i.ExecutionDuration = durationpb.New(time.Minute)
	}
	return i
}

func TestMatch(t *testing.T) {
	running := execInfo("order-1", "OrderWorkflow", enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, t0, false, map[string]*commonpb.Payload{
		"CustomKeywordField":  saPayload("Keyword", `"gold"`),
		"CustomIntField":      saPayload("Int", `42`),
		"CustomDoubleField":   saPayload("Double", `2.5`),
		"CustomBoolField":     saPayload("Bool", `true`),
		"CustomDatetimeField": saPayload("Datetime", `"2030-01-01T10:00:00Z"`),
		"CustomTextField":     saPayload("Text", `"the quick brown fox"`),
		"Tags":                saPayload("KeywordList", `["a","b"]`),
		"Untyped":             {Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(`7`)},
	})
	done := execInfo("ship-2", "ShipWorkflow", enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, t0.Add(time.Hour), true, nil)
	cases := []struct {
		q             string
		running, done bool
	}{
		{"", true, true},
		{"   ", true, true},
		{"WorkflowId = 'order-1'", true, false},
		{`WorkflowId = "order-1"`, true, false},
		{"WorkflowId != 'order-1'", false, true},
		{"WorkflowId <> 'order-1'", false, true},
		{"WorkflowType = 'ShipWorkflow'", false, true},
		{"workflowtype = 'ShipWorkflow'", false, false}, // names are case-sensitive: an unknown custom attribute
		{"ExecutionStatus = 'Running'", true, false},
		{"ExecutionStatus = 'running'", true, false},
		{"ExecutionStatus = 'WORKFLOW_EXECUTION_STATUS_COMPLETED'", false, true},
		{"ExecutionStatus = 2", false, true},
		{"ExecutionStatus != 'Running'", false, true},
		{"ExecutionStatus IN ('Completed', 'Failed')", false, true},
		{"ExecutionStatus NOT IN ('Completed', 'Failed')", true, false},
		{"StartTime > '2030-01-01T12:30:00Z'", false, true},
		{"StartTime >= '2030-01-01T12:00:00Z'", true, true},
		{"StartTime < '2030-01-01T12:00:00.000000001Z'", true, false},
		{"StartTime <= '2030-01-01T13:00:00+01:00'", true, false},
		{"StartTime BETWEEN '2030-01-01T11:00:00Z' AND '2030-01-01T12:00:00Z'", true, false},
		{"StartTime NOT BETWEEN '2030-01-01T11:00:00Z' AND '2030-01-01T12:00:00Z'", false, true},
		{"CloseTime IS NULL", true, false},
		{"CloseTime IS NOT NULL", false, true},
		{"CloseTime > '2000-01-01T00:00:00Z'", false, true},
		{"ExecutionTime < '2030-01-01T12:10:00Z'", true, false},
		{"ExecutionDuration >= '1m'", false, true},
		{"ExecutionDuration < 60000000001", false, true},
		{"TaskQueue = 'tq'", true, true},
		{"RunId = 'run-ship-2'", false, true},
		{"HistoryLength = 11", true, true},
		{"WorkflowId STARTS_WITH 'ord'", true, false},
		{"WorkflowId NOT STARTS_WITH 'ord'", false, true},
		{"WorkflowId IN ('x', 'ship-2')", false, true},
		{"WorkflowType = 'OrderWorkflow' OR WorkflowType = 'ShipWorkflow'", true, true},
		{"WorkflowType = 'OrderWorkflow' AND ExecutionStatus = 'Running'", true, false},
		{"(WorkflowId = 'order-1' OR WorkflowId = 'ship-2') AND ExecutionStatus = 'Completed'", false, true},
		{"WorkflowId = 'order-1' OR WorkflowId = 'ship-2' AND ExecutionStatus = 'Completed'", true, true}, // AND binds tighter
		{"NOT WorkflowId = 'order-1'", false, true},
		{"NOT (WorkflowId = 'order-1' OR WorkflowType = 'ShipWorkflow')", false, false},
		{"ParentWorkflowId IS NULL", true, true},
		{"CustomKeywordField = 'gold'", true, false},
		{"CustomKeywordField != 'gold'", false, false}, // a missing value never compares
		{"CustomKeywordField IS NULL", false, true},
		{"CustomIntField = 42", true, false},
		{"CustomIntField > 41 AND CustomIntField <= 42", true, false},
		{"CustomIntField BETWEEN 40 AND 50", true, false},
		{"CustomIntField IN (1, 42)", true, false},
		{"CustomIntField = '42'", false, false}, // a string does not compare with an Int
		{"CustomDoubleField > 2.4", true, false},
		{"CustomDoubleField < 3", true, false},
		{"CustomBoolField = true", true, false},
		{"CustomBoolField = FALSE", false, false},
		{"CustomBoolField = 'true'", true, false},
		{"CustomDatetimeField < '2030-01-01T11:00:00Z'", true, false},
		{"CustomDatetimeField > '2030-01-01T11:00:00Z'", false, false},
		{"CustomTextField = 'quick fox'", true, false},
		{"CustomTextField = 'slow fox'", false, false},
		{"Tags = 'b'", true, false},
		{"Tags IN ('c', 'a')", true, false},
		{"Tags != 'c'", true, false},
		{"Tags != 'a'", false, false},
		{"Tags STARTS_WITH 'b'", true, false},
		{"`CustomKeywordField` = 'gold'", true, false},
		{"Untyped = 7", true, false},
		{"WorkflowId = 'it''s'", false, false},
		{"ORDER BY StartTime ASC", true, true},
		{"WorkflowType = 'ShipWorkflow' order by StartTime desc", false, true},
		{"ExecutionStatus = 'Running' GROUP BY ExecutionStatus", true, false},
	}
	for _, tc := range cases {
		q, err := Parse(tc.q)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.q, err)
			continue
		}
		if got := q.Match(running); got != tc.running {
			t.Errorf("%q on the running execution: %v, want %v", tc.q, got, tc.running)
		}
		if got := q.Match(done); got != tc.done {
			t.Errorf("%q on the closed execution: %v, want %v", tc.q, got, tc.done)
		}
	}
}

func TestOrderAndGroup(t *testing.T) {
	for _, tc := range []struct {
		q     string
		asc   bool
		group string
	}{
		{"", false, ""},
		{"ORDER BY StartTime", false, ""},
		{"ORDER BY StartTime DESC", false, ""},
		{"WorkflowId = 'x' ORDER BY StartTime asc", true, ""},
		{"GROUP BY ExecutionStatus", false, "ExecutionStatus"},
	} {
		q, err := Parse(tc.q)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tc.q, err)
		}
		if q.Asc != tc.asc || q.GroupBy != tc.group {
			t.Errorf("%q: asc %v group %q, want %v %q", tc.q, q.Asc, q.GroupBy, tc.asc, tc.group)
		}
	}
}

func TestMalformed(t *testing.T) {
	cases := []struct {
		q    string
		pos  int
		want string // a fragment of the message
	}{
		{"WorkflowId =", 12, "quoted string"},
		{"WorkflowId = 'x", 13, "unterminated string"},
		{"WorkflowId == 'x'", 12, "quoted string"},
		{"WorkflowId ! 'x'", 11, "'!='"},
		{"WorkflowId 'x'", 11, "expected an operator"},
		{"WorkflowId = 'x' AND", 20, "search attribute name"},
		{"WorkflowId = 'x' 'y'", 17, "unexpected"},
		{"(WorkflowId = 'x'", 17, "expected ')'"},
		{"WorkflowId = x", 13, "quoted string"},
		{"StartTime > 'yesterday'", 12, "RFC 3339"},
		{"StartTime BETWEEN '2030-01-01T00:00:00Z' AND 'later'", 45, "RFC 3339"},
		{"StartTime BETWEEN '2030-01-01T00:00:00Z' OR '2030-01-02T00:00:00Z'", 41, "expected AND"},
		{"ExecutionStatus = 'Sleeping'", 18, "invalid ExecutionStatus"},
		{"ExecutionStatus > 'Running'", 16, "not supported"},
		{"ExecutionStatus STARTS_WITH 'Run'", 16, "STARTS_WITH"},
		{"HistoryLength = 'ten'", 16, "integer"},
		{"WorkflowId IN ('a' 'b')", 19, "',' or ')'"},
		{"WorkflowId IN 'a'", 14, "'('"},
		{"WorkflowId NOT = 'a'", 15, "after NOT"},
		{"CloseTime IS NOTHING", 13, "expected NULL"},
		{"WorkflowId = 'a' ORDER BY WorkflowId", 26, "ORDER BY supports only StartTime"},
		{"ORDER StartTime", 6, "expected BY"},
		{"GROUP BY WorkflowType", 9, "GROUP BY supports only ExecutionStatus"},
		{"WorkflowId = 'a' ORDER BY StartTime DESC LIMIT 10", 41, "unexpected"},
		{"WorkflowId = 'a' # comment", 17, "unexpected character"},
		{"`unclosed = 'a'", 0, "unterminated"},
		{"AND = 'a'", 0, "search attribute name"},
		{"Custom = @", 9, "unexpected character"},
		{"Custom = ", 9, "expected a value"},
	}
	for _, tc := range cases {
		_, err := Parse(tc.q)
		var qe *Error
		if !errors.As(err, &qe) {
			t.Errorf("Parse(%q): %v, want an *Error", tc.q, err)
			continue
		}
		if qe.Pos != tc.pos || !strings.Contains(qe.Error(), tc.want) {
			t.Errorf("Parse(%q): %q (position %d), want position %d and %q", tc.q, qe.Error(), qe.Pos, tc.pos, tc.want)
		}
	}
}
