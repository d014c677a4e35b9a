package fsm

import (
	"slices"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// Retry policies: the defaults and the decision whether a failed attempt
// is retried and after how long.

// Default activity retry policy, as Temporal's.
const (
	defaultInitialInterval    = int64(time.Second)
	defaultBackoffCoefficient = 2.0
	defaultMaxIntervalFactor  = 100
)

func normalizeRetryPolicy(p *commonpb.RetryPolicy) *commonpb.RetryPolicy {
	out := &commonpb.RetryPolicy{}
	if p != nil {
		out = proto.Clone(p).(*commonpb.RetryPolicy)
	}
	if nanosOf(out.InitialInterval) <= 0 {
		out.InitialInterval = durationpb.New(time.Duration(defaultInitialInterval))
	}
	if out.BackoffCoefficient < 1 {
		out.BackoffCoefficient = defaultBackoffCoefficient
	}
	if nanosOf(out.MaximumInterval) <= 0 {
		out.MaximumInterval = durationpb.New(time.Duration(timesSat(nanosOf(out.InitialInterval), defaultMaxIntervalFactor)))
	}
	return out
}

// nextRetry decides whether attempt a.Attempt, which failed with f, is
// retried and after how long, exactly as Temporal's retry policy does.
func (w *wf) nextRetry(a *fsmpb.ActivityInfo, f *failurepb.Failure) (int64, enumspb.RetryState) {
	p := a.RetryPolicy
	if p == nil {
		return 0, enumspb.RETRY_STATE_RETRY_POLICY_NOT_SET
	}
	if p.MaximumAttempts > 0 && a.Attempt >= p.MaximumAttempts {
		return 0, enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
	}
	if app := f.GetApplicationFailureInfo(); app != nil {
		if app.NonRetryable || slices.Contains(p.NonRetryableErrorTypes, app.Type) {
			return 0, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE
		}
	}
	if f.GetServerFailureInfo().GetNonRetryable() {
		// e.g. rpc/ recorded a result over the payload size limit.
		return 0, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE
	}
	if to := f.GetTimeoutFailureInfo(); to != nil {
		if slices.Contains(p.NonRetryableErrorTypes, "TemporalTimeout:"+timeoutName(to.TimeoutType)) {
			return 0, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE
		}
	}
	backoff := retryBackoff(p, a.Attempt)
	if d := nanosOf(f.GetApplicationFailureInfo().GetNextRetryDelay()); d > 0 {
		backoff = d
	}
	if a.ScheduleToCloseTimeout > 0 && reaches(after(w.t.now, backoff), after(a.ScheduledTime, a.ScheduleToCloseTimeout)) {
		return 0, enumspb.RETRY_STATE_TIMEOUT
	}
	return backoff, enumspb.RETRY_STATE_IN_PROGRESS
}

// retryBackoff is initial * coefficient^(attempt-1), capped at the maximum
// interval. Each step is a separate rounded float64 operation so the result
// is the same on every platform (no fused multiply-add).
func retryBackoff(p *commonpb.RetryPolicy, attempt int32) int64 {
	initial, maxInterval := nanosOf(p.InitialInterval), nanosOf(p.MaximumInterval)
	d := float64(initial)
	for i := int32(1); i < attempt; i++ {
		d = float64(d * p.BackoffCoefficient)
		if maxInterval > 0 && d >= float64(maxInterval) {
			return maxInterval
		}
	}
	if maxInterval > 0 && floatNanos(d) > maxInterval {
		return maxInterval
	}
	return floatNanos(d)
}
