package visquery

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
)

type fieldKind int

const (
	fkKeyword fieldKind = iota
	fkStatus
	fkTime
	fkInt
	fkDuration
	fkCustom
)

// field is a name in a query: a system attribute with a getter, or a
// custom search attribute (get is nil).
type field struct {
	name string
	kind fieldKind
	// get returns the value, false when it is missing (NULL).
	get func(*workflowpb.WorkflowExecutionInfo) (value, bool)
}

func keyword(get func(*workflowpb.WorkflowExecutionInfo) string) func(*workflowpb.WorkflowExecutionInfo) (value, bool) {
	return func(i *workflowpb.WorkflowExecutionInfo) (value, bool) {
		s := get(i)
		return value{k: vString, s: s}, s != ""
	}
}

var systemFields = map[string]field{
	"WorkflowId":       {kind: fkKeyword, get: keyword(func(i *workflowpb.WorkflowExecutionInfo) string { return i.GetExecution().GetWorkflowId() })},
	"RunId":            {kind: fkKeyword, get: keyword(func(i *workflowpb.WorkflowExecutionInfo) string { return i.GetExecution().GetRunId() })},
	"WorkflowType":     {kind: fkKeyword, get: keyword(func(i *workflowpb.WorkflowExecutionInfo) string { return i.GetType().GetName() })},
	"TaskQueue":        {kind: fkKeyword, get: keyword(func(i *workflowpb.WorkflowExecutionInfo) string { return i.GetTaskQueue() })},
	"ParentWorkflowId": {kind: fkKeyword, get: keyword(func(i *workflowpb.WorkflowExecutionInfo) string { return i.GetParentExecution().GetWorkflowId() })},
	"ParentRunId":      {kind: fkKeyword, get: keyword(func(i *workflowpb.WorkflowExecutionInfo) string { return i.GetParentExecution().GetRunId() })},
	"ExecutionStatus": {kind: fkStatus, get: func(i *workflowpb.WorkflowExecutionInfo) (value, bool) {
		return value{k: vInt, i: int64(i.GetStatus())}, true
	}},
	"StartTime": {kind: fkTime, get: func(i *workflowpb.WorkflowExecutionInfo) (value, bool) {
		return value{k: vTime, i: i.GetStartTime().AsTime().UnixNano()}, i.GetStartTime() != nil
	}},
	"CloseTime": {kind: fkTime, get: func(i *workflowpb.WorkflowExecutionInfo) (value, bool) {
		return value{k: vTime, i: i.GetCloseTime().AsTime().UnixNano()}, i.GetCloseTime() != nil
	}},
	"ExecutionTime": {kind: fkTime, get: func(i *workflowpb.WorkflowExecutionInfo) (value, bool) {
		return value{k: vTime, i: i.GetExecutionTime().AsTime().UnixNano()}, i.GetExecutionTime() != nil
	}},
	"HistoryLength": {kind: fkInt, get: func(i *workflowpb.WorkflowExecutionInfo) (value, bool) {
		return value{k: vInt, i: i.GetHistoryLength()}, true
	}},
	"HistorySizeBytes": {kind: fkInt, get: func(i *workflowpb.WorkflowExecutionInfo) (value, bool) {
		return value{k: vInt, i: i.GetHistorySizeBytes()}, true
	}},
	"ExecutionDuration": {kind: fkDuration, get: func(i *workflowpb.WorkflowExecutionInfo) (value, bool) {
		return value{k: vInt, i: int64(i.GetExecutionDuration().AsDuration())}, i.GetExecutionDuration() != nil
	}},
}

func init() {
	for name, f := range systemFields {
		f.name = name
		systemFields[name] = f
	}
}

// SystemSearchAttributes lists the system attributes the filter knows, with
// their types (for GetSearchAttributes).
func SystemSearchAttributes() map[string]enumspb.IndexedValueType {
	out := map[string]enumspb.IndexedValueType{}
	for name, f := range systemFields {
		switch f.kind {
		case fkKeyword, fkStatus:
			out[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
		case fkTime:
			out[name] = enumspb.INDEXED_VALUE_TYPE_DATETIME
		case fkInt, fkDuration:
			out[name] = enumspb.INDEXED_VALUE_TYPE_INT
		}
	}
	return out
}

type vkind int

const (
	vString vkind = iota
	vInt
	vFloat
	vBool
	vTime
)

// value is one scalar: a field's value or a literal.
type value struct {
	k vkind
	s string
	i int64 // vInt, vTime (unix nanoseconds), status
	f float64
	b bool
	// text: a Text search attribute (= matches words, not the whole value).
	text bool
	// t, hasT: a string literal that also reads as a time.
	t    int64
	hasT bool
}

// parseTime reads an RFC 3339 time (with or without fractional seconds).
func parseTime(s string) (int64, bool) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(s))
	if err != nil {
		return 0, false
	}
	return t.UnixNano(), true
}

// customValues decodes a custom search attribute payload into its values
// (several for a KeywordList); false for a missing or undecodable one.
func customValues(p *commonpb.Payload) ([]value, bool) {
	if p == nil || len(p.Data) == 0 {
		return nil, false
	}
	typ := string(p.GetMetadata()["type"])
	var v any
	d := json.NewDecoder(bytes.NewReader(p.Data))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil, false
	}
	one := func(x any) (value, bool) {
		switch x := x.(type) {
		case string:
			if typ == "Datetime" {
				if t, ok := parseTime(x); ok {
					return value{k: vTime, i: t}, true
				}
			}
			return value{k: vString, s: x, text: typ == "Text"}, true
		case json.Number:
			if i, err := x.Int64(); err == nil && typ != "Double" {
				return value{k: vInt, i: i}, true
			}
			f, err := strconv.ParseFloat(x.String(), 64)
			return value{k: vFloat, f: f}, err == nil
		case bool:
			return value{k: vBool, b: x}, true
		}
		return value{}, false
	}
	if list, ok := v.([]any); ok {
		out := make([]value, 0, len(list))
		for _, x := range list {
			if val, ok := one(x); ok {
				out = append(out, val)
			}
		}
		return out, len(out) > 0
	}
	val, ok := one(v)
	if !ok {
		return nil, false
	}
	return []value{val}, true
}
