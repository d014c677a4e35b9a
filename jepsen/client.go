package jepsen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

const (
	namespace = "default"
	taskQueue = "jepsen"
	wfType    = "jepsen-workflow"
	actType   = "ledger"
	sigName   = "sig"
	finName   = "finish"
)

// classify maps a call's error to an outcome. Only answers that come from
// the state machine itself are definite: anything else (timeouts,
// Unavailable, a forwarded call whose answer was lost) may have been
// applied, so it is info.
func classify(err error) (outcome, result string) {
	if err == nil {
		return OK, ""
	}
	var already *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &already) {
		return OK, ResAlreadyStarted
	}
	switch status.Code(err) {
	case codes.NotFound:
		return OK, ResNotFound
	case codes.AlreadyExists:
		return OK, ResAlreadyStarted
	case codes.InvalidArgument:
		return Fail, ""
	}
	return Info, ""
}

func payload(v any) *commonpb.Payloads {
	b, _ := json.Marshal(v)
	return &commonpb.Payloads{Payloads: []*commonpb.Payload{{
		Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: b,
	}}}
}

func decode(p *commonpb.Payloads, v any) error {
	if len(p.GetPayloads()) == 0 {
		return fmt.Errorf("no payload")
	}
	return json.Unmarshal(p.Payloads[0].Data, v)
}

type wfInput struct {
	TimerMs int `json:"timer_ms"`
}

type sigInput struct {
	Value int `json:"value"`
}

// fetchHistory reads a run's whole history (every page).
func fetchHistory(ctx context.Context, svc workflowservice.WorkflowServiceClient, wfID, runID string, first []*historypb.HistoryEvent, token []byte) ([]*historypb.HistoryEvent, error) {
	events := first
	for first == nil || len(token) > 0 {
		first = []*historypb.HistoryEvent{}
		resp, err := svc.GetWorkflowExecutionHistory(ctx, &workflowservice.GetWorkflowExecutionHistoryRequest{
			Namespace: namespace, Execution: &commonpb.WorkflowExecution{WorkflowId: wfID, RunId: runID},
			MaximumPageSize: 1000, NextPageToken: token,
		})
		if err != nil {
			return nil, err
		}
		events = append(events, resp.GetHistory().GetEvents()...)
		token = resp.NextPageToken
	}
	return events, nil
}

// Summary is what the checkers need from one read of a history.
type Summary struct {
	Dense          bool     `json:"dense"`
	FirstStarted   bool     `json:"first_started"`
	Terminal       int      `json:"terminal"`
	TerminalLast   bool     `json:"terminal_last"`
	TerminalType   string   `json:"terminal_type,omitempty"`
	ActScheduled   int      `json:"act_scheduled"`
	ActCompleted   int      `json:"act_completed"`
	ActTokens      []string `json:"act_tokens,omitempty"`
	TimerStarted   int      `json:"timer_started"`
	TimerFired     int      `json:"timer_fired"`
	TimerEarlyNs   int64    `json:"timer_early_ns,omitempty"` // > 0: fired this much before start + duration
	CancelReq      bool     `json:"cancel_requested,omitempty"`
	SignalDupes    []int    `json:"signal_dupes,omitempty"`
	TimerMs        int      `json:"timer_ms,omitempty"`
	LastEventNanos int64    `json:"last_event_time,omitempty"`
}

func isTerminal(t enumspb.EventType) bool {
	switch t {
	case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED,
		enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
		return true
	}
	return false
}

// summarize fills a read op from a history: signals seen, closed, event
// fingerprints and the exactly-once counters.
func summarize(op *Op, events []*historypb.HistoryEvent) {
	s := &Summary{Dense: true}
	seen := map[int]bool{}
	var timerStart time.Time
	var timerDur time.Duration
	for i, ev := range events {
		if ev.EventId != int64(i+1) {
			s.Dense = false
		}
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(ev)
		h := fnv.New32a()
		h.Write(b)
		op.Events = append(op.Events, h.Sum32())
		t := ev.EventType
		if isTerminal(t) {
			s.Terminal++
			s.TerminalType = t.String()
			s.TerminalLast = i == len(events)-1
		}
		switch t {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			if i == 0 {
				s.FirstStarted = true
			}
			var in wfInput
			decode(ev.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in)
			s.TimerMs = in.TimerMs
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			var in sigInput
			if decode(ev.GetWorkflowExecutionSignaledEventAttributes().GetInput(), &in) == nil {
				if seen[in.Value] {
					s.SignalDupes = append(s.SignalDupes, in.Value)
				}
				seen[in.Value] = true
				op.Signals = append(op.Signals, in.Value)
			}
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
			s.CancelReq = true
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			s.ActScheduled++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
			s.ActCompleted++
			var tok string
			decode(ev.GetActivityTaskCompletedEventAttributes().GetResult(), &tok)
			s.ActTokens = append(s.ActTokens, tok)
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			s.TimerStarted++
			timerStart = ev.EventTime.AsTime()
			timerDur = ev.GetTimerStartedEventAttributes().GetStartToFireTimeout().AsDuration()
		case enumspb.EVENT_TYPE_TIMER_FIRED:
			s.TimerFired++
			if due := timerStart.Add(timerDur); ev.EventTime.AsTime().Before(due) {
				s.TimerEarlyNs = int64(due.Sub(ev.EventTime.AsTime()))
			}
		}
		s.LastEventNanos = ev.EventTime.AsTime().UnixNano()
	}
	op.Found = true
	op.Closed = s.Terminal > 0
	op.Summary = s
}
