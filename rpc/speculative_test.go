package rpc

import (
	"slices"
	"testing"

	historypb "go.temporal.io/api/history/v1"
)

// TestAppendSpeculative: a speculative task's events end the history a
// worker reads, once: when the task was written between the state read and
// the history read, the history already holds them.
func TestAppendSpeculative(t *testing.T) {
	events := func(ids ...int64) []*historypb.HistoryEvent {
		var out []*historypb.HistoryEvent
		for _, id := range ids {
			out = append(out, &historypb.HistoryEvent{EventId: id})
		}
		return out
	}
	ids := func(evs []*historypb.HistoryEvent) []int64 {
		var out []int64
		for _, ev := range evs {
			out = append(out, ev.EventId)
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		read     []int64
		from, to int64
		want     []int64
	}{
		{"unwritten", []int64{1, 2, 3, 4}, 1, 6, []int64{1, 2, 3, 4, 5, 6}},
		{"written meanwhile", []int64{1, 2, 3, 4, 5, 6}, 1, 6, []int64{1, 2, 3, 4, 5, 6}},
		{"sticky, nothing new stored", nil, 5, 6, []int64{5, 6}},
		{"bounded", []int64{1, 2, 3, 4}, 1, 5, []int64{1, 2, 3, 4, 5}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(appendSpeculative(events(tc.read...), events(5, 6), tc.from, tc.to))
			if !slices.Equal(got, tc.want) {
				t.Fatalf("ids %v, want %v", got, tc.want)
			}
		})
	}
}
