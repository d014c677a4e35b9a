package rpc

import (
	"strings"
	"testing"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	namespacepb "go.temporal.io/api/namespace/v1"

	"github.com/raftflow/engine/fsm/fsmpb"
)

func bigPayloads(n int) *commonpb.Payloads {
	return &commonpb.Payloads{Payloads: []*commonpb.Payload{{Data: make([]byte, n)}}}
}

func TestOversizedCommand(t *testing.T) {
	small, big := bigPayloads(10), bigPayloads(maxPayloadSize+1)
	schedule := func(p *commonpb.Payloads) *commandpb.Command {
		return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK,
			Attributes: &commandpb.Command_ScheduleActivityTaskCommandAttributes{ScheduleActivityTaskCommandAttributes: &commandpb.ScheduleActivityTaskCommandAttributes{Input: p}}}
	}
	complete := func(p *commonpb.Payloads) *commandpb.Command {
		return &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
			Attributes: &commandpb.Command_CompleteWorkflowExecutionCommandAttributes{CompleteWorkflowExecutionCommandAttributes: &commandpb.CompleteWorkflowExecutionCommandAttributes{Result: p}}}
	}
	marker := &commandpb.Command{CommandType: enumspb.COMMAND_TYPE_RECORD_MARKER,
		Attributes: &commandpb.Command_RecordMarkerCommandAttributes{RecordMarkerCommandAttributes: &commandpb.RecordMarkerCommandAttributes{
			MarkerName: "m", Details: map[string]*commonpb.Payloads{"a": bigPayloads(maxPayloadSize / 2), "b": bigPayloads(maxPayloadSize / 2)}}}}
	for _, tc := range []struct {
		cmds  []*commandpb.Command
		cause enumspb.WorkflowTaskFailedCause
		msg   string // "" = not oversized
	}{
		{[]*commandpb.Command{schedule(small), complete(small)}, 0, ""},
		{[]*commandpb.Command{schedule(small), schedule(big)}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES,
			"ScheduleActivityTaskCommandAttributes.Input exceeds size limit. (command 1:"},
		{[]*commandpb.Command{complete(big)}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_COMPLETE_WORKFLOW_EXECUTION_ATTRIBUTES,
			"CompleteWorkflowExecutionCommandAttributes.Result exceeds size limit."},
		{[]*commandpb.Command{marker}, enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_RECORD_MARKER_ATTRIBUTES,
			"RecordMarkerCommandAttributes.Details exceeds size limit."},
	} {
		cause, msg, bad := oversizedCommand(tc.cmds)
		if bad != (tc.msg != "") || cause != tc.cause || !strings.HasPrefix(msg, tc.msg) {
			t.Errorf("oversizedCommand: %v %q %v, want %v %q", cause, msg, bad, tc.cause, tc.msg)
		}
	}
	if got := pascal(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SCHEDULE_ACTIVITY_ATTRIBUTES.String(), "WORKFLOW_TASK_FAILED_CAUSE_"); got != "BadScheduleActivityAttributes" {
		t.Errorf("pascal: %q", got)
	}
	if got := pascal("WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW", "WORKFLOW_EXECUTION_STATUS_"); got != "ContinuedAsNew" {
		t.Errorf("pascal: %q", got)
	}
	if got := shortStatus(enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW); got != "ContinuedAsNew" {
		t.Errorf("shortStatus: %q", got)
	}
}

func TestPageNamespaces(t *testing.T) {
	var recs []*fsmpb.NamespaceRecord
	for _, n := range []string{"default", "a", "b", "c"} {
		recs = append(recs, &fsmpb.NamespaceRecord{Info: &namespacepb.NamespaceInfo{Name: n}})
	}
	var names []string
	var token []byte
	for pages := 0; pages < 10; pages++ {
		page, next, err := pageNamespaces(recs, 3, token)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			names = append(names, r.Info.Name)
		}
		if token = next; token == nil {
			break
		}
	}
	if strings.Join(names, ",") != "default,a,b,c" {
		t.Fatalf("pages: %v", names)
	}
	if _, _, err := pageNamespaces(recs, 1, []byte("garbage")); err == nil {
		t.Fatalf("a malformed token was accepted")
	}
}
