package fsm

import (
	"math"
	"slices"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// Retry policies, for activities and workflows alike: the defaults and the
// one decision whether a failed attempt is retried and after how long.

// Default retry policy values, as Temporal's.
const (
	defaultInitialInterval    = int64(time.Second)
	defaultBackoffCoefficient = 2.0
	defaultMaxIntervalFactor  = 100
)

// noExpiry is the expiry of an attempt chain without one: a saturated
// deadline, which reaches never reaches.
const noExpiry = int64(math.MaxInt64)

// retryIntervals returns p's initial interval, backoff coefficient and
// maximum interval with Temporal's defaults for the unset ones.
func retryIntervals(p *commonpb.RetryPolicy) (initial int64, coefficient float64, maxInterval int64) {
	initial, coefficient, maxInterval = nanosOf(p.GetInitialInterval()), p.GetBackoffCoefficient(), nanosOf(p.GetMaximumInterval())
	if initial <= 0 {
		initial = defaultInitialInterval
	}
	if coefficient < 1 {
		coefficient = defaultBackoffCoefficient
	}
	if maxInterval <= 0 {
		maxInterval = timesSat(initial, defaultMaxIntervalFactor)
	}
	return initial, coefficient, maxInterval
}

// normalizeRetryPolicy returns a copy of p (which may be nil) with the
// defaults filled in: an activity always has a retry policy, and its
// ActivityTaskScheduled event shows the effective one, as in Temporal.
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

// retryDecision decides whether attempt (counted from 1), which failed with
// f at now, is retried under policy, as Temporal's retry policy decides for
// activities and workflows alike. It returns the backoff before the next
// attempt with RETRY_STATE_IN_PROGRESS, or 0 and the final state:
//
//   - no policy: RETRY_POLICY_NOT_SET (a workflow started without one;
//     an activity always has one);
//   - attempt at the policy's maximum attempts: MAXIMUM_ATTEMPTS_REACHED;
//   - a failure that is not retryable (see retryable): NON_RETRYABLE_FAILURE;
//   - a next attempt that would start at or past expiry (the activity's
//     schedule-to-close deadline, the workflow's execution expiration;
//     noExpiry for none): TIMEOUT.
//
// The backoff is the failure's ApplicationFailureInfo.next_retry_delay when
// it sets a positive one, else the policy's exponential backoff.
func retryDecision(policy *commonpb.RetryPolicy, attempt int32, f *failurepb.Failure, now, expiry int64) (int64, enumspb.RetryState) {
	if policy == nil {
		return 0, enumspb.RETRY_STATE_RETRY_POLICY_NOT_SET
	}
	if policy.MaximumAttempts > 0 && attempt >= policy.MaximumAttempts {
		return 0, enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED
	}
	if !retryable(f, policy.NonRetryableErrorTypes) {
		return 0, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE
	}
	backoff := retryBackoff(policy, attempt)
	if d := nanosOf(f.GetApplicationFailureInfo().GetNextRetryDelay()); d > 0 {
		backoff = d
	}
	if reaches(after(now, backoff), expiry) {
		return 0, enumspb.RETRY_STATE_TIMEOUT
	}
	return backoff, enumspb.RETRY_STATE_IN_PROGRESS
}

// retryable reports whether f may be retried under a policy whose
// non-retryable error types are nonRetryable: an application failure
// unless it says it is not retryable or its type is listed; a server
// failure unless it says it is not retryable (rpc/ records one for a result
// over the payload size limit); a timeout unless "TemporalTimeout:<type>" is
// listed.
func retryable(f *failurepb.Failure, nonRetryable []string) bool {
	if app := f.GetApplicationFailureInfo(); app != nil {
		return !app.NonRetryable && !slices.Contains(nonRetryable, app.Type)
	}
	if f.GetServerFailureInfo().GetNonRetryable() {
		return false
	}
	if to := f.GetTimeoutFailureInfo(); to != nil {
		return !slices.Contains(nonRetryable, "TemporalTimeout:"+timeoutName(to.TimeoutType))
	}
	return true
}

// activityExpiry is the deadline of activity a's attempts: its
// schedule-to-close deadline, or noExpiry.
func activityExpiry(a *fsmpb.ActivityInfo) int64 {
	if a.ScheduleToCloseTimeout > 0 {
		return after(a.ScheduledTime, a.ScheduleToCloseTimeout)
	}
	return noExpiry
}

// executionExpiry is the deadline of a workflow's retries: its execution
// expiration, or noExpiry.
func executionExpiry(s *fsmpb.WorkflowState) int64 {
	if s.ExecutionExpiration > 0 {
		return s.ExecutionExpiration
	}
	return noExpiry
}

// retryBackoff is initial * coefficient^(attempt-1), capped at the maximum
// interval, with p's defaults filled in. Each step is a separate rounded
// float64 operation so the result is the same on every platform (no fused
// multiply-add).
func retryBackoff(p *commonpb.RetryPolicy, attempt int32) int64 {
	initial, coefficient, maxInterval := retryIntervals(p)
	d := float64(initial)
	for i := int32(1); i < attempt; i++ {
		d = float64(d * coefficient)
		if d >= float64(maxInterval) {
			return maxInterval
		}
	}
	if floatNanos(d) > maxInterval {
		return maxInterval
	}
	return floatNanos(d)
}
