package fsm

import "testing"

// A signal whose first attempt was applied but whose answer was lost is
// retried with the same request id after the workflow has closed: the retry
// must answer as the first attempt did (delivered), not "already completed",
// and write nothing. A new signal to the closed workflow is still refused.
// (Found by jepsen's no-lost-acks checker, pause schedule.)
func TestSignalRetryAfterClose(t *testing.T) {
	h := newHarness(t)
	h.start("sig-retry")
	h.applyOK(signalCmd("sig-retry", "s", "req-1"))
	h.applyOK(terminateCmd("sig-retry", "done"))
	before := len(h.history("sig-retry"))
	h.applyOK(signalCmd("sig-retry", "s", "req-1"))
	if after := len(h.history("sig-retry")); after != before {
		t.Fatalf("retried signal wrote %d events", after-before)
	}
	h.applyErr(signalCmd("sig-retry", "s", "req-2"), ErrWorkflowClosed)
}
