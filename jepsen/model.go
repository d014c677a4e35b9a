package jepsen

import (
	"fmt"
	"math"
	"math/bits"
	"sort"
	"strings"

	"github.com/anishathalye/porcupine"
)

// The linearizability model of one workflow ID. Its state is what a
// sequential engine would hold: whether the ID has an execution (and which
// request id and run created it), whether it has closed, whether cancel was
// requested, the set of delivered signals, and the set the last read saw.
//
//   - start: the first start creates the run; a start with the same request
//     id returns the same run; any other start is already-started.
//   - signal / cancel: accepted while the run is open, not-found otherwise.
//   - close (a worker's completion, always of unknown outcome): allowed only
//     once, on an open run that has received its finish signal or a cancel.
//   - read (full history): found iff started; same run; closed flag exact;
//     the signals seen are delivered ones, include everything an earlier
//     read saw (history is append-only), and, once closed, are exactly the
//     delivered set (no acknowledged signal lost).
//   - describe: found and closed exact.
//
// An op of unknown outcome (info) may take effect at any point after its
// invocation, or never: the model is nondeterministic and tries both.
type wfState struct {
	Started   bool
	Req, Run  string
	Closed    bool
	CancelReq bool
	FinishIn  bool
	Sigs      uint64
	Seen      uint64
}

type modelIn struct {
	Kind   string
	Req    string
	Bit    uint64 // signal
	Finish bool
}

type modelOut struct {
	Unknown bool
	Result  string
	Run     string
	Found   bool
	Closed  bool
	Sigs    uint64
}

func stepModel(st wfState, in modelIn, out modelOut) []wfState {
	if out.Unknown {
		res := []wfState{st} // not applied
		for _, r := range []string{"", ResAlreadyStarted, ResNotFound} {
			o := out
			o.Unknown, o.Result = false, r
			if in.Kind == OpStart && r == "" {
				o.Result = ResStarted
			}
			for _, s := range applyModel(st, in, o, true) {
				if s != st {
					res = append(res, s)
				}
			}
		}
		return res
	}
	return applyModel(st, in, out, false)
}

// applyModel steps a definite outcome. anyRun lets an unknown start bind any
// run id (the run it would have created is not known).
func applyModel(st wfState, in modelIn, out modelOut, anyRun bool) []wfState {
	switch in.Kind {
	case OpStart:
		switch out.Result {
		case ResStarted:
			if !st.Started {
				n := st
				n.Started, n.Req, n.Run = true, in.Req, out.Run
				return []wfState{n}
			}
			if in.Req == st.Req && (anyRun || st.Run == "" || st.Run == out.Run) {
				n := st
				if n.Run == "" && !anyRun {
					n.Run = out.Run
				}
				return []wfState{n}
			}
		case ResAlreadyStarted:
			if st.Started && in.Req != st.Req {
				return []wfState{st}
			}
		}
	case OpSignal:
		switch out.Result {
		case "":
			if st.Started && !st.Closed {
				n := st
				n.Sigs |= in.Bit
				n.FinishIn = n.FinishIn || in.Finish
				return []wfState{n}
			}
		case ResNotFound:
			if !st.Started || st.Closed {
				return []wfState{st}
			}
		}
	case OpCancel:
		switch out.Result {
		case "":
			if st.Started && !st.Closed {
				n := st
				n.CancelReq = true
				return []wfState{n}
			}
		case ResNotFound:
			if !st.Started || st.Closed {
				return []wfState{st}
			}
		}
	case OpClose:
		if out.Result == "" && st.Started && !st.Closed && (st.FinishIn || st.CancelReq) {
			n := st
			n.Closed = true
			return []wfState{n}
		}
	case OpRead:
		if !out.Found {
			if !st.Started {
				return []wfState{st}
			}
			return nil
		}
		if !st.Started || out.Closed != st.Closed {
			return nil
		}
		if st.Run != "" && out.Run != st.Run {
			return nil
		}
		if out.Sigs&^st.Sigs != 0 || st.Seen&^out.Sigs != 0 || (out.Closed && out.Sigs != st.Sigs) {
			return nil
		}
		n := st
		n.Run, n.Seen = out.Run, out.Sigs
		return []wfState{n}
	case OpDescribe:
		if out.Found == st.Started && (!out.Found || out.Closed == st.Closed) {
			if out.Found && st.Run != "" && out.Run != st.Run {
				return nil
			}
			return []wfState{st}
		}
	}
	return nil
}

var wfModel = porcupine.NondeterministicModel{
	Init: func() []interface{} { return []interface{}{wfState{}} },
	Step: func(state, input, output interface{}) []interface{} {
		var res []interface{}
		for _, s := range stepModel(state.(wfState), input.(modelIn), output.(modelOut)) {
			res = append(res, s)
		}
		return res
	},
	Equal: func(a, b interface{}) bool { return a.(wfState) == b.(wfState) },
	DescribeOperation: func(input, output interface{}) string {
		in, out := input.(modelIn), output.(modelOut)
		res := out.Result
		if out.Unknown {
			res = "?"
		}
		switch in.Kind {
		case OpSignal:
			return fmt.Sprintf("signal(bit %d) -> %s", bits.TrailingZeros64(in.Bit), res)
		case OpRead:
			return fmt.Sprintf("read -> found=%v closed=%v run=%.8s sigs=%b", out.Found, out.Closed, out.Run, out.Sigs)
		case OpDescribe:
			return fmt.Sprintf("describe -> found=%v closed=%v", out.Found, out.Closed)
		case OpStart:
			return fmt.Sprintf("start(%s) -> %s %.8s", in.Req, res, out.Run)
		}
		return in.Kind + " -> " + res
	},
	DescribeState: func(state interface{}) string {
		s := state.(wfState)
		return fmt.Sprintf("started=%v run=%.8s closed=%v cancel=%v finish=%v sigs=%b seen=%b", s.Started, s.Run, s.Closed, s.CancelReq, s.FinishIn, s.Sigs, s.Seen)
	},
}

// porcupineHistories builds one porcupine history per workflow ID. Failed
// ops (definitely not applied) are left out; info ops never return.
func porcupineHistories(ops []*Op) (map[string][]porcupine.Operation, error) {
	byWF := map[string][]*Op{}
	for _, op := range ops {
		switch op.Kind {
		case OpStart, OpSignal, OpCancel, OpClose, OpRead, OpDescribe:
			if op.WorkflowID != "" && op.Outcome != Fail {
				byWF[op.WorkflowID] = append(byWF[op.WorkflowID], op)
			}
		}
	}
	var end int64
	for _, op := range ops {
		end = max(end, op.Complete)
	}
	out := map[string][]porcupine.Operation{}
	for id, list := range byWF {
		// Signal values to bit positions.
		vals := map[int]bool{}
		for _, op := range list {
			if op.Kind == OpSignal {
				vals[op.Value] = true
			}
			for _, v := range op.Signals {
				vals[v] = true
			}
		}
		sorted := make([]int, 0, len(vals))
		for v := range vals {
			sorted = append(sorted, v)
		}
		sort.Ints(sorted)
		if len(sorted) > 64 {
			return nil, fmt.Errorf("%s: more than 64 signal values", id)
		}
		bit := map[int]uint64{}
		for i, v := range sorted {
			bit[v] = 1 << i
		}
		var h []porcupine.Operation
		for _, op := range list {
			in := modelIn{Kind: op.Kind, Req: op.RequestID, Bit: bit[op.Value], Finish: op.Finish}
			out := modelOut{Result: op.Result, Run: op.RunID, Found: op.Found, Closed: op.Closed}
			for _, v := range op.Signals {
				out.Sigs |= bit[v]
			}
			ret := op.Complete
			if op.Outcome == Info {
				out.Unknown = true
				ret = end + int64(math.MaxInt32)
				if op.Kind == OpRead || op.Kind == OpDescribe {
					continue // a read that returned nothing tells nothing
				}
			}
			if op.Kind == OpStart && op.Result == "" && op.Outcome == OK {
				out.Result = ResStarted
			}
			h = append(h, porcupine.Operation{ClientId: op.Process, Input: in, Output: out, Call: op.Invoke, Return: ret,
				Metadata: strings.TrimSpace(op.Node + " " + op.Error)})
		}
		out[id] = h
	}
	return out, nil
}
