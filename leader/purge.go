package leader

import (
	"context"
	"time"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
)

// The namespace purger: while this node leads, it removes the workflows of
// namespaces marked deleted (DeleteNamespace), MaxPurgeRuns runs per raft
// entry, until each namespace is gone. Its only state is in the fsm (the
// DELETED namespace records), so a new leader resumes where the last one
// stopped. It runs when woken (a namespace was just deleted), at the start
// of each term, and every purgeRecheck as a backstop.

const purgeRecheck = 30 * time.Second

// WakeNamespacePurger makes the purger look for deleted namespaces now.
func (e *Engine) WakeNamespacePurger() {
	select {
	case e.purgeWake <- struct{}{}:
	default:
	}
}

func (e *Engine) runPurger(ctx context.Context) {
	tick := time.NewTicker(purgeRecheck)
	defer tick.Stop()
	for {
		for _, ns := range e.fsm.DeletedNamespaces() {
			e.purge(ctx, ns)
		}
		select {
		case <-ctx.Done():
			return
		case <-e.purgeWake:
		case <-tick.C:
		}
	}
}

// purge proposes PurgeNamespace entries for ns until it is gone, the term
// ends or an entry fails (the next round tries again).
func (e *Engine) purge(ctx context.Context, ns string) {
	for ctx.Err() == nil {
		res, err := e.Propose(ctx, &fsmpb.Command{Op: &fsmpb.Command_PurgeNamespace{PurgeNamespace: &fsmpb.PurgeNamespace{
			Namespace: ns, MaxRuns: fsm.MaxPurgeRuns}}})
		if err == nil && res.Err != nil {
			err = res.Err
		}
		if err != nil {
			e.log.Warn("namespace purge", "namespace", ns, "err", err)
			return
		}
		if res.NamespacePurged {
			e.log.Info("namespace deleted", "namespace", ns)
			return
		}
	}
}
