package leader

import (
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	updatepb "go.temporal.io/api/update/v1"

	"github.com/raftflow/engine/fsm"
)

// Updates. An admitted update request lives in the leader's memory (as in
// Temporal) and rides on the next workflow task of its run as a protocol
// message; once the worker accepts it, the acceptance and the completion are
// history events and survive failover. A leader change drops every admitted
// update (its waiters wake and find it unknown; the SDK re-sends it).

// rejectionMemory is how long a completed update stays in memory after its
// workflow task (rejections exist nowhere else).
const rejectionMemory = time.Minute

// PendingUpdate is an update the leader holds in memory: admitted, and
// until rejectionMemory after it completed. Safe for concurrent use.
type PendingUpdate struct {
	ns, wfID, runID string
	request         *updatepb.Request

	mu      sync.Mutex
	stage   enumspb.UpdateWorkflowExecutionLifecycleStage
	outcome *updatepb.Outcome
	changed chan struct{}
}

// Request is the update as admitted; it must not be modified.
func (p *PendingUpdate) Request() *updatepb.Request { return p.request }

// Snapshot returns the stage reached, the outcome (once completed) and a
// channel closed at the next change (or when the leader drops it).
func (p *PendingUpdate) Snapshot() (enumspb.UpdateWorkflowExecutionLifecycleStage, *updatepb.Outcome, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stage, p.outcome, p.changed
}

// wake closes the channel Snapshot handed out (waiters re-read).
func (p *PendingUpdate) wake() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wakeLocked()
}

func (p *PendingUpdate) wakeLocked() {
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *PendingUpdate) currentStage() enumspb.UpdateWorkflowExecutionLifecycleStage {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stage
}

type updateRegistry struct {
	mu      sync.Mutex
	pending map[string]*PendingUpdate // by run key + update id
}

func updateKey(ns, wfID, runID, id string) string { return runKey(ns, wfID, runID) + "\x00" + id }

func (r *updateRegistry) getOrAdd(ns, wfID, runID string, req *updatepb.Request) *PendingUpdate {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.pending == nil {
		r.pending = map[string]*PendingUpdate{}
	}
	k := updateKey(ns, wfID, runID, req.GetMeta().GetUpdateId())
	if p, ok := r.pending[k]; ok {
		return p
	}
	p := &PendingUpdate{ns: ns, wfID: wfID, runID: runID, request: req,
		stage: enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED, changed: make(chan struct{})}
	r.pending[k] = p
	return p
}

func (r *updateRegistry) get(ns, wfID, runID, id string) *PendingUpdate {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending[updateKey(ns, wfID, runID, id)]
}

// forRun lists the updates a workflow task of the run must deliver: those
// admitted but not yet accepted or rejected.
func (r *updateRegistry) forRun(ns, wfID, runID string) []*PendingUpdate {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*PendingUpdate
	for _, p := range r.pending {
		if p.ns == ns && p.wfID == wfID && p.runID == runID && p.currentStage() == enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_ADMITTED {
			out = append(out, p)
		}
	}
	return out
}

// advance records progress and wakes waiters; completed updates leave the
// registry (their outcome is in history from then on).
func (r *updateRegistry) advance(ns, wfID, runID string, o fsm.UpdateOutcome) {
	p := r.get(ns, wfID, runID, o.UpdateID)
	if p == nil {
		return
	}
	p.mu.Lock()
	if o.Stage > p.stage {
		p.stage, p.outcome = o.Stage, o.Outcome
		p.wakeLocked()
	}
	p.mu.Unlock()
	if o.Stage == enumspb.UPDATE_WORKFLOW_EXECUTION_LIFECYCLE_STAGE_COMPLETED {
		// A completed update's outcome is in history from now on, but a
		// rejected one is not: keep the entry a while so that waiters (and
		// the SDK re-sending the same update id) still see the rejection.
		k := updateKey(ns, wfID, runID, o.UpdateID)
		time.AfterFunc(rejectionMemory, func() {
			r.mu.Lock()
			if r.pending[k] == p {
				delete(r.pending, k)
			}
			r.mu.Unlock()
		})
	}
}

// dropAll forgets every admitted update (leadership lost), waking waiters.
func (r *updateRegistry) dropAll() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for k, p := range r.pending {
		p.wake()
		delete(r.pending, k)
	}
}

// AdmitUpdate records req (its Meta.UpdateId set) as admitted for the run,
// or returns the update already held under that id. The caller then
// proposes the AdmitUpdate command; the run's next workflow task carries it.
func (e *Engine) AdmitUpdate(ns, wfID, runID string, req *updatepb.Request) *PendingUpdate {
	return e.updates.getOrAdd(ns, wfID, runID, req)
}

// Update returns the update held in memory, or nil.
func (e *Engine) Update(ns, wfID, runID, id string) *PendingUpdate {
	return e.updates.get(ns, wfID, runID, id)
}

// AdmittedUpdates lists the run's updates admitted but not yet accepted or
// rejected, in no particular order: what its next workflow task delivers.
func (e *Engine) AdmittedUpdates(ns, wfID, runID string) []*PendingUpdate {
	return e.updates.forRun(ns, wfID, runID)
}

// ForgetUpdate drops an update admitted for a run that was not created (an
// update-with-start whose start failed), waking its waiters.
func (e *Engine) ForgetUpdate(ns, wfID, runID, id string) {
	e.updates.forget(ns, wfID, runID, id)
}

func (r *updateRegistry) forget(ns, wfID, runID, id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k := updateKey(ns, wfID, runID, id)
	if p, ok := r.pending[k]; ok {
		p.wake()
		delete(r.pending, k)
	}
}
