//go:build chaos

package timers

import (
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Clock skew for jepsen, compiled only with `-tags chaos`: when
// ENGINE_CHAOS_CLOCK_FILE names a file, RealClock (which stamps every
// proposal and drives the timer service) reads time.Now plus the offset the
// file holds (a Go duration such as "-3s"), re-read every 100ms. Ordinary
// builds have no such hook.
func init() {
	path := os.Getenv("ENGINE_CHAOS_CLOCK_FILE")
	if path == "" {
		return
	}
	c := &skewedClock{}
	c.load(path)
	go func() {
		for range time.Tick(100 * time.Millisecond) {
			c.load(path)
		}
	}()
	RealClock = c
}

type skewedClock struct{ offset atomic.Int64 }

func (c *skewedClock) load(path string) {
	b, err := os.ReadFile(path)
	if err != nil {
		c.offset.Store(0)
		return
	}
	d, err := time.ParseDuration(strings.TrimSpace(string(b)))
	if err != nil {
		if n, err2 := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err2 == nil {
			d = time.Duration(n)
		}
	}
	c.offset.Store(int64(d))
}

func (c *skewedClock) Now() time.Time { return time.Now().Add(time.Duration(c.offset.Load())) }

// NewTimer waits in real time; the service re-checks Now after each wake-up.
func (c *skewedClock) NewTimer(d time.Duration) (<-chan time.Time, func() bool) {
	t := time.NewTimer(d)
	return t.C, t.Stop
}
