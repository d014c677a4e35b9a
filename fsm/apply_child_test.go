package fsm

import (
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
)

// TestContinueAsNewInitiator: the run a ContinueAsNew command starts
// records the command's initiator, WORKFLOW when the command names none
// (the SDKs leave it unset; Temporal defaults it), while the
// ContinuedAsNew event keeps the command's value, as in Temporal.
func TestContinueAsNewInitiator(t *testing.T) {
	tests := []struct {
		name      string
		initiator enumspb.ContinueAsNewInitiator
		want      enumspb.ContinueAsNewInitiator
	}{
		{"unset", enumspb.CONTINUE_AS_NEW_INITIATOR_UNSPECIFIED, enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW},
		{"workflow", enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW, enumspb.CONTINUE_AS_NEW_INITIATOR_WORKFLOW},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			first := h.start("wf")
			cmd := xContinueAsNew()
			cmd.GetContinueAsNewWorkflowExecutionCommandAttributes().Initiator = tc.initiator
			h.completeWFT("wf", cmd)

			old, next := h.f.ReadHistory(DefaultNamespace, "wf", first, 1, 0, 100)
			if next != 0 || len(old) == 0 || old[len(old)-1].EventType != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW {
				t.Fatalf("first run's history %s, want it closed by ContinuedAsNew", eventTypes(old))
			}
			can := old[len(old)-1].GetWorkflowExecutionContinuedAsNewEventAttributes()
			if can.Initiator != tc.initiator {
				t.Errorf("ContinuedAsNew initiator %v, want the command's %v", can.Initiator, tc.initiator)
			}
			evs := h.wantEvents("wf", evStarted, evWTScheduled)
			sa := evs[0].GetWorkflowExecutionStartedEventAttributes()
			if sa.Initiator != tc.want || sa.ContinuedExecutionRunId != first || sa.FirstExecutionRunId != first {
				t.Errorf("next run started with initiator %v continued %q first %q, want %v %q %q",
					sa.Initiator, sa.ContinuedExecutionRunId, sa.FirstExecutionRunId, tc.want, first, first)
			}
			if st := h.state("wf"); st.RunId != can.NewExecutionRunId {
				t.Errorf("current run %s, ContinuedAsNew names %s", st.RunId, can.NewExecutionRunId)
			}
		})
	}
}
