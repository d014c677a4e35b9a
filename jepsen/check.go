package jepsen

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/anishathalye/porcupine"
)

// Verdict is one checker's result.
type Verdict struct {
	Checker  string   `json:"checker"`
	Valid    bool     `json:"valid"`
	Checked  int      `json:"checked"` // how many things it looked at
	Problems []string `json:"problems,omitempty"`
}

const maxProblems = 50

func (v *Verdict) fail(format string, args ...any) {
	v.Valid = false
	if len(v.Problems) < maxProblems {
		v.Problems = append(v.Problems, fmt.Sprintf(format, args...))
	}
}

// CheckInput is everything the checkers look at.
type CheckInput struct {
	Ops         []*Op
	Unfinished  []string // workflows not closed by the liveness deadline
	LeaderAfter time.Duration
	LeaderErr   error
	Digests     map[string]*Digest // node -> digest at convergence
	DigestErr   error
	Dir         string // report dir (porcupine visualizations)
	LinTimeout  time.Duration
}

// Check runs every checker.
func Check(in CheckInput) []Verdict {
	return []Verdict{
		checkLinearizable(in),
		checkAppendOnly(in.Ops),
		checkWellFormed(in.Ops),
		checkExactlyOnce(in.Ops),
		checkNoLostAcks(in.Ops),
		checkTimers(in.Ops),
		checkLiveness(in),
		checkConvergence(in),
	}
}

func checkLinearizable(in CheckInput) Verdict {
	v := Verdict{Checker: "linearizable", Valid: true}
	hs, err := porcupineHistories(in.Ops)
	if err != nil {
		v.fail("%v", err)
		return v
	}
	ids := make([]string, 0, len(hs))
	for id := range hs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	model := wfModel.ToModel()
	timeout := in.LinTimeout
	if timeout == 0 {
		timeout = 10 * time.Second
	}
	unknown := 0
	for _, id := range ids {
		v.Checked++
		res, info := porcupine.CheckOperationsVerbose(model, hs[id], timeout)
		switch res {
		case porcupine.Illegal:
			path := filepath.Join(in.Dir, "linearizability-"+id+".html")
			if in.Dir != "" {
				os.MkdirAll(in.Dir, 0o755)
				if err := porcupine.VisualizePath(model, info, path); err != nil {
					path = "(visualization failed: " + err.Error() + ")"
				}
			}
			v.fail("%s: not linearizable (%d ops); see %s", id, len(hs[id]), path)
		case porcupine.Unknown:
			unknown++
		}
	}
	if unknown > 0 {
		// Not a pass: a search that timed out proves nothing.
		v.fail("%d workflow histories timed out in the linearizability search", unknown)
	}
	return v
}

// readsByWF returns the ok, found reads per workflow in invocation order.
func readsByWF(ops []*Op) map[string][]*Op {
	m := map[string][]*Op{}
	for _, op := range ops {
		if op.Kind == OpRead && op.Outcome == OK && op.Found {
			m[op.WorkflowID] = append(m[op.WorkflowID], op)
		}
	}
	return m
}

func isPrefix(a, b []uint32) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkAppendOnly: any two reads of one workflow agree on their common
// prefix, event by event (bytes), and a read that began after another
// ended is at least as long.
func checkAppendOnly(ops []*Op) Verdict {
	v := Verdict{Checker: "history-append-only", Valid: true}
	for id, reads := range readsByWF(ops) {
		v.Checked += len(reads)
		for i, a := range reads {
			for _, b := range reads[i+1:] {
				if a.RunID != b.RunID {
					v.fail("%s: reads %d and %d saw different runs %s / %s", id, a.Index, b.Index, a.RunID, b.RunID)
					continue
				}
				if !isPrefix(a.Events, b.Events) && !isPrefix(b.Events, a.Events) {
					v.fail("%s: reads %d (%d events) and %d (%d events) diverge", id, a.Index, len(a.Events), b.Index, len(b.Events))
				}
				first, second := a, b
				if b.Complete < a.Invoke {
					first, second = b, a
				}
				if first.Complete < second.Invoke && len(second.Events) < len(first.Events) {
					v.fail("%s: read %d (%d events) after read %d (%d events) went back in time", id, second.Index, len(second.Events), first.Index, len(first.Events))
				}
			}
		}
	}
	return v
}

// checkWellFormed: every history read is dense (event ids 1..n), begins
// with WorkflowExecutionStarted and has at most one terminal event, last.
func checkWellFormed(ops []*Op) Verdict {
	v := Verdict{Checker: "history-dense", Valid: true}
	for _, op := range ops {
		if op.Kind != OpRead || op.Outcome != OK || op.Summary == nil {
			continue
		}
		v.Checked++
		s := op.Summary
		if !s.Dense {
			v.fail("%s: read %d: event ids not dense", op.WorkflowID, op.Index)
		}
		if !s.FirstStarted {
			v.fail("%s: read %d: first event is not WorkflowExecutionStarted", op.WorkflowID, op.Index)
		}
		if s.Terminal > 1 || (s.Terminal == 1 && !s.TerminalLast) {
			v.fail("%s: read %d: %d terminal events (last: %v)", op.WorkflowID, op.Index, s.Terminal, s.TerminalLast)
		}
	}
	return v
}

// checkExactlyOnce: in every read, the activity is scheduled and completed
// at most once, the timer started and fired at most once, no signal is
// delivered twice; a completed workflow shows exactly one activity
// completion and one timer firing; every activity result in history is a
// token some execution of the worker wrote to the ledger.
func checkExactlyOnce(ops []*Op) Verdict {
	v := Verdict{Checker: "exactly-once", Valid: true}
	ledger := map[string]string{}
	for _, op := range ops {
		if op.Kind == OpActivity {
			ledger[op.Token] = op.WorkflowID
		}
	}
	for _, op := range ops {
		if op.Kind != OpRead || op.Outcome != OK || op.Summary == nil {
			continue
		}
		v.Checked++
		s, id := op.Summary, op.WorkflowID
		if s.ActScheduled > 1 || s.ActCompleted > 1 {
			v.fail("%s: read %d: activity scheduled %d, completed %d times", id, op.Index, s.ActScheduled, s.ActCompleted)
		}
		if s.TimerStarted > 1 || s.TimerFired > 1 {
			v.fail("%s: read %d: timer started %d, fired %d times", id, op.Index, s.TimerStarted, s.TimerFired)
		}
		if len(s.SignalDupes) > 0 {
			v.fail("%s: read %d: signals delivered twice: %v", id, op.Index, s.SignalDupes)
		}
		if s.TerminalType == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED" && (s.ActCompleted != 1 || s.TimerFired != 1) {
			v.fail("%s: read %d: completed with %d activity completions and %d timer firings", id, op.Index, s.ActCompleted, s.TimerFired)
		}
		for _, tok := range s.ActTokens {
			if ledger[tok] != id {
				v.fail("%s: read %d: activity result %q was never produced by an execution", id, op.Index, tok)
			}
		}
	}
	return v
}

// checkNoLostAcks (set-full): in each workflow's final read (after heal,
// once closed), every acknowledged start's run is the run, every
// acknowledged signal is present, every acknowledged cancel is recorded,
// and no signal answered not-found appears.
func checkNoLostAcks(ops []*Op) Verdict {
	v := Verdict{Checker: "no-lost-acks", Valid: true}
	final := map[string]*Op{}
	for _, op := range ops {
		if op.Kind == OpRead && op.Final && op.Outcome == OK {
			final[op.WorkflowID] = op // the last final read wins
		}
	}
	for _, op := range ops {
		if op.Outcome != OK {
			continue
		}
		switch op.Kind {
		case OpStart, OpSignal, OpCancel:
		default:
			continue
		}
		v.Checked++
		f := final[op.WorkflowID]
		if f == nil {
			v.fail("%s: no final read", op.WorkflowID)
			continue
		}
		if !f.Found {
			v.fail("%s: acknowledged %s (op %d) but the workflow does not exist", op.WorkflowID, op.Kind, op.Index)
			continue
		}
		has := func(x int) bool {
			for _, s := range f.Signals {
				if s == x {
					return true
				}
			}
			return false
		}
		switch {
		case op.Kind == OpStart && op.Result == ResStarted && op.RunID != f.RunID:
			v.fail("%s: start %d acknowledged run %s, history has run %s", op.WorkflowID, op.Index, op.RunID, f.RunID)
		case op.Kind == OpSignal && op.Result == "" && !has(op.Value):
			v.fail("%s: acknowledged signal %d (op %d, %s) is not in the final history", op.WorkflowID, op.Value, op.Index, op.Node)
		case op.Kind == OpSignal && op.Result == ResNotFound && has(op.Value):
			v.fail("%s: signal %d answered not-found (op %d) but is in the history", op.WorkflowID, op.Value, op.Index)
		case op.Kind == OpCancel && op.Result == "" && !f.Summary.CancelReq:
			v.fail("%s: acknowledged cancel (op %d) is not in the final history", op.WorkflowID, op.Index)
		}
	}
	return v
}

// checkTimers: a timer never fires before its start event's time plus its
// duration (both stamped by the engine).
func checkTimers(ops []*Op) Verdict {
	v := Verdict{Checker: "timers-never-early", Valid: true}
	for _, op := range ops {
		if op.Kind != OpRead || op.Outcome != OK || op.Summary == nil || op.Summary.TimerFired == 0 {
			continue
		}
		v.Checked++
		if op.Summary.TimerEarlyNs > 0 {
			v.fail("%s: read %d: timer fired %v early", op.WorkflowID, op.Index, time.Duration(op.Summary.TimerEarlyNs))
		}
	}
	return v
}

func checkLiveness(in CheckInput) Verdict {
	v := Verdict{Checker: "liveness", Valid: true, Checked: 1}
	if in.LeaderErr != nil {
		v.fail("no leader after the final heal: %v", in.LeaderErr)
	}
	for _, id := range in.Unfinished {
		v.fail("%s: not finished within the bound after the final heal", id)
	}
	// Every workflow's final read must show it closed with the timer fired.
	for _, op := range in.Ops {
		if op.Kind == OpRead && op.Final && op.Outcome == OK && op.Closed && op.Summary != nil {
			v.Checked++
			if op.Summary.TimerStarted == 1 && op.Summary.TimerFired == 0 && op.Summary.TerminalType == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED" {
				v.fail("%s: completed without its due timer firing", op.WorkflowID)
			}
		}
	}
	return v
}

func checkConvergence(in CheckInput) Verdict {
	v := Verdict{Checker: "convergence", Valid: true}
	if in.DigestErr != nil {
		v.fail("%v", in.DigestErr)
		return v
	}
	var ref *Digest
	var refNode string
	nodes := make([]string, 0, len(in.Digests))
	for n := range in.Digests {
		nodes = append(nodes, n)
	}
	sort.Strings(nodes)
	for _, n := range nodes {
		d := in.Digests[n]
		v.Checked++
		if ref == nil {
			ref, refNode = d, n
			continue
		}
		if d.AppliedIndex != ref.AppliedIndex || d.Digest != ref.Digest {
			v.fail("%s (applied %d, digest %.12s) differs from %s (applied %d, digest %.12s)", n, d.AppliedIndex, d.Digest, refNode, ref.AppliedIndex, ref.Digest)
		}
	}
	if v.Checked < 3 {
		v.fail("only %d digests", v.Checked)
	}
	return v
}
