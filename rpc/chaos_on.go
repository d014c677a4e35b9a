//go:build chaos

package rpc

import (
	"os"
	"strconv"
	"sync/atomic"
)

// A deliberately broken engine for jepsen's "the checkers can fail" test,
// compiled only with `-tags chaos` and armed only by the environment:
// RAFTFLOW_CHAOS_BUG=drop-signal acknowledges every Nth signal
// (RAFTFLOW_CHAOS_BUG_EVERY, default 7) without proposing it.
var (
	chaosBug      = os.Getenv("RAFTFLOW_CHAOS_BUG")
	chaosEvery    = chaosEveryFromEnv()
	chaosSignalNo atomic.Int64
)

func chaosEveryFromEnv() int64 {
	n, err := strconv.ParseInt(os.Getenv("RAFTFLOW_CHAOS_BUG_EVERY"), 10, 64)
	if err != nil || n < 1 {
		return 7
	}
	return n
}

func chaosDropSignal() bool {
	return chaosBug == "drop-signal" && chaosSignalNo.Add(1)%chaosEvery == 0
}
