package timers

import "time"

// Clock is the service's source of time. Tests inject a fake one, or run
// RealClock inside a testing/synctest bubble.
type Clock interface {
	Now() time.Time
	// NewTimer returns a channel that receives once, no earlier than d from
	// now, and a stop function with time.Timer.Stop's meaning. The service
	// never trusts the channel for correctness: after every wake-up it
	// compares Now with the deadlines again, so an early or spurious wake-up
	// costs a loop iteration, never an early fire.
	NewTimer(d time.Duration) (c <-chan time.Time, stop func() bool)
}

// RealClock is the time package's clock.
var RealClock Clock = realClock{}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}
