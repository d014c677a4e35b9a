package fsm

import (
	"errors"
	"strings"
	"time"

	"github.com/robfig/cron"
)

// Cron schedules follow Temporal's semantics: the first run starts at once
// with its first workflow task delayed to the first schedule time; when a
// run completes, fails (after any retries) or reaches its run timeout, the
// next run starts in the same entry with a backoff to the next schedule time
// after the close. A cancel or terminate ends the chain. Schedules are
// standard five-field cron specs or descriptors (@hourly, @every 90s),
// always in UTC: time zones (CRON_TZ=) are not supported, which also keeps
// the computation independent of the host's time zone database. This file
// holds the schedule arithmetic; closeOrCron (apply_continue.go) starts the
// next run.

// ValidCronSchedule reports whether schedule can be used (rpc/ checks it
// before a start is proposed).
func ValidCronSchedule(schedule string) error {
	if strings.HasPrefix(strings.TrimSpace(schedule), "CRON_TZ=") || strings.HasPrefix(strings.TrimSpace(schedule), "TZ=") {
		return errors.New("time zones (CRON_TZ=) are not supported; schedules are in UTC")
	}
	sched, err := cron.ParseStandard(schedule)
	if err != nil {
		return err
	}
	if sched.Next(time.Unix(0, 0).UTC()).IsZero() {
		return errors.New("the schedule never fires")
	}
	return nil
}

// cronBackoff is the delay from closeTime to the first schedule time not
// before it, counting schedule times from startTime (Temporal's
// GetBackoffForNextSchedule without jitter), rounded up to whole seconds.
// ok is false when there is no next time. It is a pure function of its
// arguments.
func cronBackoff(schedule string, startTime, closeTime int64) (int64, bool) {
	sched, err := cron.ParseStandard(schedule)
	if err != nil {
		return 0, false
	}
	start, closed := time.Unix(0, startTime).UTC(), time.Unix(0, closeTime).UTC()
	next := sched.Next(start)
	if !next.IsZero() && next.Before(closed) {
		switch s := sched.(type) {
		case cron.ConstantDelaySchedule:
			// Times are next + k*Delay: jump to the first one not before close.
			if s.Delay > 0 {
				k := (closed.Sub(next) + s.Delay - 1) / s.Delay
				next = next.Add(k * s.Delay)
			}
		default:
			// Spec schedules are absolute: resume the search just before close.
			next = sched.Next(closed.Add(-time.Second))
		}
	}
	for !next.IsZero() && next.Before(closed) {
		next = sched.Next(next)
	}
	if next.IsZero() {
		return 0, false
	}
	d := next.Sub(closed)
	if r := d % time.Second; r != 0 {
		d += time.Second - r
	}
	return int64(d), true
}

// firstCronBackoff is the delay of a new cron chain's first workflow task.
func firstCronBackoff(schedule string, now int64) int64 {
	if schedule == "" {
		return 0
	}
	b, _ := cronBackoff(schedule, now, now)
	return b
}
