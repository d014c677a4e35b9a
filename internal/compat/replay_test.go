package compat

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/encoding/protojson"
)

// replayLog collects closed runs of the feature tests, with their
// histories, for TestFeatures' Replay subtest.
type replayLog struct {
	mu   sync.Mutex
	runs []recordedRun
}

type recordedRun struct {
	name      string // what the run shows; also the testdata file name
	wfID      string
	history   *historypb.History
	workflows []any
}

// add reads the closed run's history now (the engine may be gone by the
// time the Replay subtest runs), checks it with checkHistory and records it
// under name, with the workflow functions a replayer needs.
func (l *replayLog) add(t *testing.T, c client.Client, name, wfID, runID string, workflows ...any) {
	t.Helper()
	h := history(t, c, wfID, runID)
	checkHistory(t, h)
	l.addHistory(name, wfID, h, workflows...)
}

// addHistory records a history as it is (for one that checkHistory would
// reject on purpose, e.g. with a provoked workflow task timeout).
func (l *replayLog) addHistory(name, wfID string, h *historypb.History, workflows ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs = append(l.runs, recordedRun{name: name, wfID: wfID, history: h, workflows: workflows})
}

// representative names the kinds of history the Replay subtest must have
// seen (each recorded under a name with this prefix): if a feature test
// stops recording one, the replay coverage would silently shrink.
var representative = []string{
	"signals-timer-activity-retries", "child-", "continue-as-new", "update", "local-activity-side-effect-version",
	"cancel-activity", "cancel-child", "cancel-external", "signal-external", "workflow-retry", "async-completion",
	"workflow-task-timeout", "signal-with-start", "activity-schedule-to-start",
}

// testdataRuns are the recorded runs written to testdata/ as JSON (with
// RAFTFLOW_COMPAT_RECORD=1) and replayed from there by TestReplayTestdata.
var testdataRuns = []string{"signals-timer-activity-retries", "local-activity-side-effect-version", "cancel-child-parent"}

// replayAll replays every recorded history. With RAFTFLOW_COMPAT_RECORD=1
// it (re)writes the testdata histories.
func (l *replayLog) replayAll(t *testing.T) {
	l.mu.Lock()
	runs := slices.Clone(l.runs)
	l.mu.Unlock()
	sort.Slice(runs, func(i, j int) bool { return runs[i].name < runs[j].name })
	for _, want := range representative {
		if !slices.ContainsFunc(runs, func(r recordedRun) bool { return strings.HasPrefix(r.name, want) }) {
			t.Errorf("no recorded history named %s*: the replay set lost a representative", want)
		}
	}
	for _, r := range runs {
		t.Run(r.name, func(t *testing.T) {
			rp := worker.NewWorkflowReplayer()
			for _, wf := range r.workflows {
				rp.RegisterWorkflow(wf)
			}
			if err := rp.ReplayWorkflowHistory(sdklog.NewStructuredLogger(logger()), r.history); err != nil {
				t.Fatalf("replay %s (%s): %v\nhistory: %v", r.name, r.wfID, err, eventTypes(r.history))
			}
		})
		if os.Getenv("RAFTFLOW_COMPAT_RECORD") != "" && slices.Contains(testdataRuns, r.name) {
			b, err := protojson.Marshal(r.history)
			if err != nil {
				t.Fatalf("marshal %s: %v", r.name, err)
			}
			// protojson varies its whitespace on purpose: re-indent, so a
			// regenerated file differs only where the history does.
			var out bytes.Buffer
			if err := json.Indent(&out, b, "", "  "); err != nil {
				t.Fatalf("indent %s: %v", r.name, err)
			}
			out.WriteByte('\n')
			if err := os.WriteFile(filepath.Join("testdata", r.name+".json"), out.Bytes(), 0o644); err != nil {
				t.Fatalf("write testdata: %v", err)
			}
			t.Logf("wrote testdata/%s.json", r.name)
		}
	}
}

// TestReplayTestdata replays the histories recorded from the engine and
// kept in testdata/ (regenerate them with RAFTFLOW_COMPAT_RECORD=1 go test
// -run TestFeatures ./internal/compat/). They pin the history shape: a
// change to the engine that made the SDK see different events for the same
// workflow code would fail here, and so would a change that made the files
// unreadable to client.HistoryFromJSON.
func TestReplayTestdata(t *testing.T) {
	t.Parallel()
	workflows := map[string][]any{
		"signals-timer-activity-retries":     {MixedWorkflow},
		"local-activity-side-effect-version": {MarkersWorkflow},
		"cancel-child-parent":                {CancelChildWorkflow, ChildWorkflow},
	}
	for _, name := range testdataRuns {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := os.Open(filepath.Join("testdata", name+".json"))
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			defer f.Close()
			h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			checkHistory(t, h)
			if last := h.Events[len(h.Events)-1].EventType; last != enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
				t.Errorf("history ends with %v, want a completed run", last)
			}
			rp := worker.NewWorkflowReplayer()
			for _, wf := range workflows[name] {
				rp.RegisterWorkflow(wf)
			}
			if err := rp.ReplayWorkflowHistory(sdklog.NewStructuredLogger(logger()), h); err != nil {
				t.Fatalf("replay: %v", err)
			}
			// The same through the SDK's own file entry point.
			if err := rp.ReplayWorkflowHistoryFromJSONFile(sdklog.NewStructuredLogger(logger()), f.Name()); err != nil {
				t.Fatalf("replay from file: %v", err)
			}
		})
	}
}
