package rpc

import (
	"math"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

func d(s int64, n int32) *durationpb.Duration { return &durationpb.Duration{Seconds: s, Nanos: n} }

// TestValidateRetryPolicyRules: Temporal's retry policy rules, defaults
// filled in first (initial interval 1 s when unset).
func TestValidateRetryPolicyRules(t *testing.T) {
	for _, tc := range []struct {
		p     *commonpb.RetryPolicy
		field string // "" = valid
	}{
		{nil, ""},
		{&commonpb.RetryPolicy{}, ""},
		{&commonpb.RetryPolicy{BackoffCoefficient: 1}, ""},
		{&commonpb.RetryPolicy{BackoffCoefficient: 0.99}, "backoff_coefficient"},
		{&commonpb.RetryPolicy{BackoffCoefficient: -2}, "backoff_coefficient"},
		{&commonpb.RetryPolicy{BackoffCoefficient: math.NaN()}, "backoff_coefficient"},
		{&commonpb.RetryPolicy{MaximumAttempts: 1, BackoffCoefficient: 0.5}, ""},
		{&commonpb.RetryPolicy{MaximumAttempts: -1}, "maximum_attempts"},
		{&commonpb.RetryPolicy{InitialInterval: d(5, 0), MaximumInterval: d(5, 0)}, ""},
		{&commonpb.RetryPolicy{InitialInterval: d(5, 0), MaximumInterval: d(4, 0)}, "maximum_interval"},
		{&commonpb.RetryPolicy{MaximumInterval: d(0, 5e8)}, "maximum_interval"}, // below the default initial 1 s
		{&commonpb.RetryPolicy{InitialInterval: d(-1, 0)}, "initial_interval"},
		{&commonpb.RetryPolicy{MaximumInterval: d(0, -1)}, "maximum_interval"},
		{&commonpb.RetryPolicy{InitialInterval: d(1, -1)}, "initial_interval"},
		{&commonpb.RetryPolicy{NonRetryableErrorTypes: []string{"TemporalTimeout:StartToClose", "MyError"}}, ""},
		{&commonpb.RetryPolicy{NonRetryableErrorTypes: []string{"TemporalTimeout:Unspecified"}}, "non_retryable_error_types"},
	} {
		if f, msg := retryPolicyProblem(tc.p); f != tc.field {
			t.Errorf("%v: field %q (%s), want %q", tc.p, f, msg, tc.field)
		}
	}
}

// TestValidateSearchAttributeValues: a value must decode as its type; a
// scalar type also takes a list; null unsets; non-JSON payloads pass.
func TestValidateSearchAttributeValues(t *testing.T) {
	js := func(data string) *commonpb.Payload {
		return &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("json/plain")}, Data: []byte(data)}
	}
	for _, tc := range []struct {
		typ  enumspb.IndexedValueType
		data string
		ok   bool
	}{
		{enumspb.INDEXED_VALUE_TYPE_INT, `5`, true},
		{enumspb.INDEXED_VALUE_TYPE_INT, `[1,2]`, true},
		{enumspb.INDEXED_VALUE_TYPE_INT, `5.5`, false},
		{enumspb.INDEXED_VALUE_TYPE_INT, `"5"`, false},
		{enumspb.INDEXED_VALUE_TYPE_DOUBLE, `5.5`, true},
		{enumspb.INDEXED_VALUE_TYPE_DOUBLE, `true`, false},
		{enumspb.INDEXED_VALUE_TYPE_BOOL, `false`, true},
		{enumspb.INDEXED_VALUE_TYPE_BOOL, `1`, false},
		{enumspb.INDEXED_VALUE_TYPE_KEYWORD, `"a"`, true},
		{enumspb.INDEXED_VALUE_TYPE_KEYWORD, `["a","b"]`, true},
		{enumspb.INDEXED_VALUE_TYPE_KEYWORD, `{"a":1}`, false},
		{enumspb.INDEXED_VALUE_TYPE_TEXT, `"some text"`, true},
		{enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST, `["a"]`, true},
		{enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST, `[1]`, false},
		{enumspb.INDEXED_VALUE_TYPE_DATETIME, `"2026-12-04T18:00:00.123Z"`, true},
		{enumspb.INDEXED_VALUE_TYPE_DATETIME, `"yesterday"`, false},
		{enumspb.INDEXED_VALUE_TYPE_INT, `null`, true},
		{enumspb.INDEXED_VALUE_TYPE_INT, `5 6`, false},
	} {
		if got := saValueFits(js(tc.data), tc.typ); got != tc.ok {
			t.Errorf("%s %s: fits %v, want %v", tc.typ, tc.data, got, tc.ok)
		}
	}
	null := &commonpb.Payload{Metadata: map[string][]byte{"encoding": []byte("binary/null")}}
	if !saValueFits(null, enumspb.INDEXED_VALUE_TYPE_INT) {
		t.Error("a null payload (unset) was refused")
	}
}

// TestValidateDurationWalk: badDuration finds a bad Duration at any depth
// and names its path; valid ones (zero, large) pass.
func TestValidateDurationWalk(t *testing.T) {
	ok := &commonpb.RetryPolicy{InitialInterval: d(0, 0), MaximumInterval: d(315576000000, 0)}
	if f, p := badDuration(ok.ProtoReflect(), "retry_policy"); f != "" {
		t.Errorf("valid durations refused: %s %s", f, p)
	}
	bad := &commonpb.RetryPolicy{InitialInterval: d(1, 0), MaximumInterval: d(315576000001, 0)}
	if f, _ := badDuration(bad.ProtoReflect(), "retry_policy"); f != "retry_policy.maximum_interval" {
		t.Errorf("got field %q, want retry_policy.maximum_interval", f)
	}
}
