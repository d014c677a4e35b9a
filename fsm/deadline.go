package fsm

import "math"

// Time arithmetic on unix nanoseconds saturates: a client may ask for a
// timer, timeout, backoff or retention of any length up to the largest
// protobuf Duration, and now + that must never wrap negative (a wrapped
// deadline fires at once). A deadline that would pass math.MaxInt64 is
// math.MaxInt64, which the timer service treats as "never" in practice
// (the year 2262).

// after returns t+d, saturated.
func after(t, d int64) int64 {
	s := t + d
	switch {
	case d > 0 && s < t:
		return math.MaxInt64
	case d < 0 && s > t:
		return math.MinInt64
	}
	return s
}

// reaches reports whether time t is at or past deadline. A saturated
// deadline is never reached, even by a saturated time: "retry after 292
// years" does not run into "expire after 10,000 years".
func reaches(t, deadline int64) bool { return deadline != math.MaxInt64 && t >= deadline }

// timesSat returns d*n for n >= 0, saturated.
func timesSat(d, n int64) int64 {
	if d == 0 || n == 0 {
		return 0
	}
	if d > math.MaxInt64/n || d < math.MinInt64/n {
		if d > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return d * n
}

// floatNanos converts a float duration to nanoseconds, saturated (Go's
// float-to-int conversion of an out-of-range value is undefined).
func floatNanos(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= math.MaxInt64:
		return math.MaxInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}
