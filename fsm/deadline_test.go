package fsm

import (
	"math"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	namespacepb "go.temporal.io/api/namespace/v1"
	workflowservice "go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

func TestSaturatingArithmetic(t *testing.T) {
	for _, c := range []struct{ got, want int64 }{
		{after(t0, math.MaxInt64), math.MaxInt64},
		{after(math.MaxInt64, 1), math.MaxInt64},
		{after(t0, int64(time.Hour)), t0 + int64(time.Hour)},
		{after(math.MinInt64, -1), math.MinInt64},
		{after(5, -3), 2},
		{timesSat(math.MaxInt64/2, 100), math.MaxInt64},
		{timesSat(3, 100), 300},
		{timesSat(math.MinInt64/2, 100), math.MinInt64},
		{floatNanos(1e30), math.MaxInt64},
		{floatNanos(-1e30), math.MinInt64},
		{floatNanos(math.NaN()), 0},
		{floatNanos(12.7), 12},
	} {
		if c.got != c.want {
			t.Errorf("got %d, want %d", c.got, c.want)
		}
	}
}

// maxDuration is the longest protobuf Duration (10,000 years); as a Go
// duration it saturates at 292 years, which from 2030 is past int64 time.
var maxDuration = &durationpb.Duration{Seconds: 315576000000}

// TestHugeDurationsNeverFireEarly: timers, timeouts, retry backoffs and
// retention of the largest durations a client can send used to wrap
// negative (now + d overflowed) and fire at once; now they are due never
// (math.MaxInt64), and firing them now changes nothing.
func TestHugeDurationsNeverFireEarly(t *testing.T) {
	h := newHarness(t)
	h.applyOK(&fsmpb.Command{Op: &fsmpb.Command_UpdateNamespace{UpdateNamespace: &fsmpb.UpdateNamespace{
		Request: &workflowservice.UpdateNamespaceRequest{Namespace: DefaultNamespace,
			Config: &namespacepb.NamespaceConfig{WorkflowExecutionRetentionTtl: maxDuration}}}}})
	run := h.start("huge", func(r *workflowservice.StartWorkflowExecutionRequest) {
		r.WorkflowExecutionTimeout, r.WorkflowRunTimeout = maxDuration, &durationpb.Duration{Seconds: 315576000000 - 1}
	})
	h.completeWFT("huge",
		startTimer("sleep", time.Duration(math.MaxInt64)),
		scheduleActivity("act", func(a *commandpbSchedule) {
			a.ScheduleToCloseTimeout, a.ScheduleToStartTimeout, a.StartToCloseTimeout, a.HeartbeatTimeout = maxDuration, maxDuration, maxDuration, maxDuration
			a.RetryPolicy = &commonpb.RetryPolicy{InitialInterval: maxDuration, BackoffCoefficient: 1e300}
		}))
	at := h.pollActivity("huge", 6)
	h.applyOK(activityResultCmd(at.Token, failed(appFailure("boom", false))))
	rows := h.timersOf(run)
	// (Both run and execution timeouts saturate to the same deadline, so
	// one timer serves both.)
	if len(rows) != 4 {
		t.Fatalf("timer rows %s, want the run timeout, user timer, schedule-to-close and retry timers", timerKinds(rows))
	}
	var keys [][]byte
	for _, r := range rows {
		if r.Row.FireAt != math.MaxInt64 {
			t.Errorf("%s timer due at %d, want never (%d)", r.Row.Kind, r.Row.FireAt, int64(math.MaxInt64))
		}
		keys = append(keys, r.Key)
	}
	res := h.applyOK(fireCmd(keys...))
	if len(res.NotDue) != len(keys) {
		t.Fatalf("%d of %d timers fired at %d", len(keys)-len(res.NotDue), len(keys), h.now)
	}
	h.wantEvents("huge", evStarted, evWTScheduled, evWTStarted, evWTCompleted, evTimerStarted, evActScheduled)
	// Closing the run arms a retention timer of the namespace's maximum
	// retention: never due either.
	h.applyOK(terminateCmd("huge", "done"))
	ret := h.timerOfKind(run, fsmpb.TimerKind_TIMER_KIND_RETENTION)
	if ret.Row.FireAt != math.MaxInt64 {
		t.Fatalf("retention timer due at %d, want never", ret.Row.FireAt)
	}
	if res := h.applyOK(fireCmd(ret.Key)); len(res.NotDue) != 1 {
		t.Fatal("retention timer fired right after the close")
	}
}
