package enginetest_test

import (
	"testing"

	"github.com/raftflow/engine/sdk/enginetest"
)

// BenchmarkStart measures how long a one-node engine takes from nothing to
// ready (storage opened, raft elected, leader services running, gRPC
// serving); stopping it is not counted.
func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		srv, err := enginetest.StartServer()
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		srv.Close()
		b.StartTimer()
	}
}
