// Package visquery parses and evaluates Temporal's visibility list filter
// (the query of ListWorkflowExecutions, CountWorkflowExecutions and
// ScanWorkflowExecutions):
//
//	WorkflowType = 'order' AND ExecutionStatus = 'Running'
//	  AND StartTime > '2024-01-02T15:04:05Z' ORDER BY StartTime DESC
//
// Fields are the system search attributes (WorkflowId, WorkflowType, RunId,
// ExecutionStatus, StartTime, CloseTime, ExecutionTime, TaskQueue,
// HistoryLength, HistorySizeBytes, ExecutionDuration, ParentWorkflowId,
// ParentRunId) and any custom search attribute, compared by the type of the
// stored value (Keyword, Text, Int, Double, Bool, Datetime, KeywordList as
// the SDKs encode them). Operators: = != <> < > <= >=, [NOT] BETWEEN a AND b,
// [NOT] IN (a, b), [NOT] STARTS_WITH 'prefix', IS [NOT] NULL, AND, OR, NOT
// and parentheses; keywords are case-insensitive, field names are not.
// Strings are quoted with ' or "; times are RFC 3339 strings (or integer
// unix nanoseconds); a name may be `backquoted`. A query may end with
// GROUP BY ExecutionStatus (counts only) and ORDER BY StartTime [ASC|DESC]
// (DESC is the default).
//
// A comparison with a missing value (a custom attribute the run does not
// have, the CloseTime of an open run) is false, as in SQL; IS NULL tests
// for it. A malformed query yields an *Error holding the byte offset of the
// problem.
package visquery

import (
	"fmt"

	workflowpb "go.temporal.io/api/workflow/v1"
)

// Error is a malformed query: Pos is the byte offset (0-based) of the
// offending token in the query.
type Error struct {
	Pos int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("invalid query at position %d: %s", e.Pos, e.Msg) }

func errAt(pos int, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// Query is a parsed filter. The zero Query (from an empty string) matches
// every execution, newest first.
type Query struct {
	where node
	// Asc: ORDER BY StartTime ASC (the default is DESC, newest first).
	Asc bool
	// GroupBy is "ExecutionStatus" for GROUP BY ExecutionStatus, else "".
	GroupBy string
}

// Parse parses a query; an empty (or all blank) query matches everything.
func Parse(q string) (*Query, error) {
	toks, err := lex(q)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	return p.query()
}

// Match reports whether the execution satisfies the filter.
func (q *Query) Match(info *workflowpb.WorkflowExecutionInfo) bool {
	if q.where == nil {
		return true
	}
	return q.where.eval(&row{info: info})
}
