package jepsen

import (
	"bufio"
	"encoding/json"
	"os"
	"sort"
	"sync"
	"time"
)

// Outcomes of an operation, as Jepsen names them.
const (
	OK   = "ok"   // acknowledged; Result says what the engine answered
	Fail = "fail" // definitely not applied
	Info = "info" // unknown: may or may not have been applied
)

// Operation kinds.
const (
	OpStart    = "start"
	OpSignal   = "signal"
	OpCancel   = "cancel"
	OpClose    = "close"    // a worker's workflow task completion carrying a close command (always info)
	OpRead     = "read"     // full GetWorkflowExecutionHistory
	OpDescribe = "describe" // DescribeWorkflowExecution
	OpActivity = "activity" // one activity execution by the worker (the ledger)
	OpTask     = "task"     // a workflow task completion without a close command
)

// Results with meaning beyond ok.
const (
	ResStarted        = "started"
	ResAlreadyStarted = "already-started"
	ResNotFound       = "not-found"
)

// Op is one operation in the history. Times are nanoseconds since the run
// started (monotonic clock).
type Op struct {
	Index      int    `json:"index"`
	Process    int    `json:"process"`
	Kind       string `json:"kind"`
	WorkflowID string `json:"workflow_id,omitempty"`
	Node       string `json:"node,omitempty"`
	RequestID  string `json:"request_id,omitempty"`
	Value      int    `json:"value,omitempty"` // signal value
	Invoke     int64  `json:"invoke"`
	Complete   int64  `json:"complete"`
	Outcome    string `json:"outcome"`
	Result     string `json:"result,omitempty"`
	RunID      string `json:"run_id,omitempty"`
	Error      string `json:"error,omitempty"`
	Final      bool   `json:"final,omitempty"` // issued in the final (healed) phase

	// Reads.
	Found   bool     `json:"found,omitempty"`
	Closed  bool     `json:"closed,omitempty"`
	Signals []int    `json:"signals,omitempty"`
	Events  []uint32 `json:"events,omitempty"` // per event: fnv32 of its deterministic encoding
	Summary *Summary `json:"summary,omitempty"`
	Finish  bool     `json:"finish,omitempty"` // the signal that lets the workflow complete
	// Activities: the ledger token the execution wrote.
	Token string `json:"token,omitempty"`
}

// Recorder collects operations; safe for concurrent use.
type Recorder struct {
	start time.Time
	mu    sync.Mutex
	ops   []*Op
}

func NewRecorder() *Recorder { return &Recorder{start: time.Now()} }

// Now is nanoseconds since the run started.
func (r *Recorder) Now() int64 { return int64(time.Since(r.start)) }

// Invoke records the start of op and returns it for Finish.
func (r *Recorder) Invoke(op *Op) *Op {
	op.Invoke = r.Now()
	return op
}

// Finish completes op and appends it to the history.
func (r *Recorder) Finish(op *Op, outcome string) {
	op.Complete = r.Now()
	op.Outcome = outcome
	r.mu.Lock()
	op.Index = len(r.ops)
	r.ops = append(r.ops, op)
	r.mu.Unlock()
}

// Ops returns the history sorted by invocation time.
func (r *Recorder) Ops() []*Op {
	r.mu.Lock()
	out := append([]*Op(nil), r.ops...)
	r.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Invoke < out[j].Invoke })
	return out
}

// WriteJSONL writes one op per line.
func WriteJSONL(path string, ops []*Op) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, op := range ops {
		if err := enc.Encode(op); err != nil {
			f.Close()
			return err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// ReadJSONL reads a history written by WriteJSONL.
func ReadJSONL(path string) ([]*Op, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var ops []*Op
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		var op Op
		if err := json.Unmarshal(sc.Bytes(), &op); err != nil {
			return nil, err
		}
		ops = append(ops, &op)
	}
	return ops, sc.Err()
}
