package sdk_test

import (
	"testing"

	"go.temporal.io/sdk/client"

	"github.com/raftflow/engine/sdk/enginetest"
)

// engineClient starts a one-node engine for t and returns a client of it.
func engineClient(t testing.TB) client.Client {
	t.Helper()
	return enginetest.Start(t).Client()
}
