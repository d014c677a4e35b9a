package fsm

import (
	"maps"
	"slices"
	"testing"

	"github.com/raftflow/engine/fsm/fsmpb"
)

// hintModel is what a leader service rebuilds from hints alone: the task
// and timer keys it believes exist. It checks hints arrive after commit.
type hintModel struct {
	t       testing.TB
	f       *FSM
	want    uint64 // applied index the batch being delivered commits
	tasks   map[string]*fsmpb.TaskRow
	timers  map[string]int64
	history map[string]int
	added   int // TaskAdded hints seen
}

func newHintModel(t testing.TB, f *FSM) *hintModel {
	return &hintModel{t: t, f: f, tasks: map[string]*fsmpb.TaskRow{}, timers: map[string]int64{}, history: map[string]int{}}
}

func (m *hintModel) committed(what string) {
	if m.f.AppliedIndex() != m.want {
		m.t.Errorf("%s hint delivered before commit: applied %d, batch ends at %d", what, m.f.AppliedIndex(), m.want)
	}
}

func (m *hintModel) TaskAdded(key []byte, row *fsmpb.TaskRow) {
	m.committed("TaskAdded")
	m.added++
	m.tasks[string(key)] = row
}
func (m *hintModel) TaskRemoved(key []byte) { m.committed("TaskRemoved"); delete(m.tasks, string(key)) }
func (m *hintModel) TimerAdded(key []byte, fireAt int64) {
	m.committed("TimerAdded")
	if at, _ := TimerFireAt(key); at != max(fireAt, 0) {
		m.t.Errorf("TimerAdded fire time %d, key says %d", fireAt, at)
	}
	m.timers[string(key)] = fireAt
}
func (m *hintModel) TimerRemoved(key []byte) {
	m.committed("TimerRemoved")
	delete(m.timers, string(key))
}
func (m *hintModel) HistoryAppended(ns, wfID, runID string) {
	m.committed("HistoryAppended")
	m.history[ns+"/"+wfID+"/"+runID]++
}

// fired drops keys a FireTimers command named that are gone now: the timer
// service forgets what it fired by itself (no TimerRemoved hint needed).
func (m *hintModel) fired(cmd *fsmpb.Command) {
	stored := map[string]bool{}
	for _, e := range m.f.ScanTimers() {
		stored[string(e.Key)] = true
	}
	for _, k := range cmd.GetFireTimers().GetKeys() {
		if !stored[string(k)] {
			delete(m.timers, string(k))
		}
	}
}

// matches requires the model to equal what Pebble holds.
func (m *hintModel) matches(when string) {
	m.t.Helper()
	var tasks, timers []string
	for _, e := range m.f.ScanTasks() {
		tasks = append(tasks, string(e.Key))
		if row := m.tasks[string(e.Key)]; row == nil || string(mustMarshal(row)) != string(mustMarshal(e.Row)) {
			m.t.Fatalf("%s: task row %x stored as %v, hinted as %v", when, e.Key, e.Row, row)
		}
	}
	for _, e := range m.f.ScanTimers() {
		timers = append(timers, string(e.Key))
	}
	if got := slices.Sorted(maps.Keys(m.tasks)); !slices.Equal(got, tasks) {
		m.t.Fatalf("%s: hinted tasks %d, stored %d", when, len(got), len(tasks))
	}
	if got := slices.Sorted(maps.Keys(m.timers)); !slices.Equal(got, timers) {
		m.t.Fatalf("%s: hinted timers %x, stored %x", when, got, timers)
	}
}

// TestHints: a service that only follows hints (plus forgetting what it
// fired) sees exactly the task and timer rows Pebble holds, whether entries
// arrive one by one or in batches; hints come after the commit, and replayed
// entries produce none.
func TestHints(t *testing.T) {
	h := newHarness(t)
	m := newHintModel(t, h.f)
	h.f.SetHints(m)
	d := &driver{h: h, in: seedInput(81, 3000)}
	for !d.done() && len(d.results) < 400 {
		m.want = h.index + 1
		d.step()
		var cmd fsmpb.Command
		mustUnmarshal(h.logs[len(h.logs)-1].Data, &cmd)
		m.fired(&cmd)
		m.matches("entry by entry")
	}
	if len(m.history) == 0 {
		t.Fatalf("no HistoryAppended hints")
	}

	g := openFSM(t, t.TempDir())
	defer g.Close()
	gm := newHintModel(t, g)
	g.SetHints(gm)
	for lo := 0; lo < len(h.logs); lo += 13 {
		batch := h.logs[lo:min(lo+13, len(h.logs))]
		gm.want = batch[len(batch)-1].Index
		g.ApplyBatch(batch)
		for _, l := range batch {
			var cmd fsmpb.Command
			mustUnmarshal(l.Data, &cmd)
			gm.fired(&cmd)
		}
		gm.matches("batched")
	}
	before := len(gm.history)
	gm.history = map[string]int{}
	g.SetHints(gm)
	g.ApplyBatch(h.logs) // all replayed: no hints
	if len(gm.history) != 0 || before == 0 {
		t.Fatalf("replayed entries produced %d history hints", len(gm.history))
	}
	g.SetHints(nil)
	gm.matches("after replay")
}
