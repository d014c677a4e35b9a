package fsm

import (
	"math"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	failurepb "go.temporal.io/api/failure/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

// TestRetryDecision: the one retry evaluator of activities and workflows.
func TestRetryDecision(t *testing.T) {
	policy := func(maxAttempts int32, nonRetryable ...string) *commonpb.RetryPolicy {
		return &commonpb.RetryPolicy{InitialInterval: durp(time.Second), BackoffCoefficient: 2, MaximumInterval: durp(10 * time.Second),
			MaximumAttempts: maxAttempts, NonRetryableErrorTypes: nonRetryable}
	}
	timeout := func(tt enumspb.TimeoutType) *failurepb.Failure {
		return &failurepb.Failure{FailureInfo: &failurepb.Failure_TimeoutFailureInfo{TimeoutFailureInfo: &failurepb.TimeoutFailureInfo{TimeoutType: tt}}}
	}
	server := func(nonRetryable bool) *failurepb.Failure {
		return &failurepb.Failure{FailureInfo: &failurepb.Failure_ServerFailureInfo{ServerFailureInfo: &failurepb.ServerFailureInfo{NonRetryable: nonRetryable}}}
	}
	const now = int64(1000 * time.Second)
	tests := []struct {
		name    string
		policy  *commonpb.RetryPolicy
		attempt int32
		failure *failurepb.Failure
		expiry  int64
		backoff time.Duration
		state   enumspb.RetryState
	}{
		{"no policy", nil, 1, appFailure("X", false), noExpiry, 0, enumspb.RETRY_STATE_RETRY_POLICY_NOT_SET},
		{"first retry", policy(0), 1, appFailure("X", false), noExpiry, time.Second, enumspb.RETRY_STATE_IN_PROGRESS},
		{"exponential", policy(0), 3, appFailure("X", false), noExpiry, 4 * time.Second, enumspb.RETRY_STATE_IN_PROGRESS},
		{"capped at the maximum interval", policy(0), 10, appFailure("X", false), noExpiry, 10 * time.Second, enumspb.RETRY_STATE_IN_PROGRESS},
		{"defaults of an empty policy", &commonpb.RetryPolicy{}, 8, nil, noExpiry, 100 * time.Second, enumspb.RETRY_STATE_IN_PROGRESS},
		{"next retry delay", policy(0), 3, delayedFailure(time.Hour), noExpiry, time.Hour, enumspb.RETRY_STATE_IN_PROGRESS},
		{"zero next retry delay: the policy's", policy(0), 1, delayedFailure(0), noExpiry, time.Second, enumspb.RETRY_STATE_IN_PROGRESS},
		{"maximum attempts", policy(3), 3, delayedFailure(time.Second), noExpiry, 0, enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED},
		{"maximum attempts before non-retryable", policy(1), 1, appFailure("X", true), noExpiry, 0, enumspb.RETRY_STATE_MAXIMUM_ATTEMPTS_REACHED},
		{"below maximum attempts", policy(3), 2, appFailure("X", false), noExpiry, 2 * time.Second, enumspb.RETRY_STATE_IN_PROGRESS},
		{"non-retryable application failure", policy(0), 1, appFailure("X", true), noExpiry, 0, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE},
		{"non-retryable error type", policy(0, "X"), 1, appFailure("X", false), noExpiry, 0, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE},
		{"other error type", policy(0, "Y"), 1, appFailure("X", false), noExpiry, time.Second, enumspb.RETRY_STATE_IN_PROGRESS},
		{"non-retryable server failure", policy(0), 1, server(true), noExpiry, 0, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE},
		{"retryable server failure", policy(0), 1, server(false), noExpiry, time.Second, enumspb.RETRY_STATE_IN_PROGRESS},
		{"listed timeout type", policy(0, "TemporalTimeout:Heartbeat"), 1, timeout(enumspb.TIMEOUT_TYPE_HEARTBEAT), noExpiry, 0, enumspb.RETRY_STATE_NON_RETRYABLE_FAILURE},
		{"other timeout type", policy(0, "TemporalTimeout:Heartbeat"), 1, timeout(enumspb.TIMEOUT_TYPE_START_TO_CLOSE), noExpiry, time.Second, enumspb.RETRY_STATE_IN_PROGRESS},
		{"next attempt before expiry", policy(0), 2, appFailure("X", false), now + int64(2*time.Second) + 1, 2 * time.Second, enumspb.RETRY_STATE_IN_PROGRESS},
		{"next attempt at expiry", policy(0), 2, appFailure("X", false), now + int64(2*time.Second), 0, enumspb.RETRY_STATE_TIMEOUT},
		{"next retry delay past expiry", policy(0), 1, delayedFailure(time.Minute), now + int64(time.Second) + 1, 0, enumspb.RETRY_STATE_TIMEOUT},
		{"saturated backoff never expires", &commonpb.RetryPolicy{InitialInterval: &durationpb.Duration{Seconds: math.MaxInt64 / int64(time.Second)}, BackoffCoefficient: 1e300},
			5, nil, noExpiry, time.Duration(math.MaxInt64), enumspb.RETRY_STATE_IN_PROGRESS},
	}
	for _, tc := range tests {
		backoff, state := retryDecision(tc.policy, tc.attempt, tc.failure, now, tc.expiry)
		if time.Duration(backoff) != tc.backoff || state != tc.state {
			t.Errorf("%s: %v %s, want %v %s", tc.name, time.Duration(backoff), state, tc.backoff, tc.state)
		}
	}
}
