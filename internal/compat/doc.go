// Package compat holds raftflow's compatibility suite: tests that drive a real
// in-process engine with the official Temporal Go SDK (client and worker),
// unmodified, and assert what a Temporal user would observe: results, error
// types, history events and DescribeWorkflowExecution fields. The package has
// no non-test code beyond this comment.
//
// TestCompat holds the core tests, TestFeatures the tests of the rest of
// Temporal's semantics (queries, updates, child workflows, continue-as-new,
// cancellation, async completion, markers, workflow options, sticky
// execution), whose closed runs its Replay subtest replays with the SDK's
// WorkflowReplayer; TestReplayTestdata replays histories recorded from the
// engine and kept in testdata/; TestThreeNodeFollower runs a subset through
// a follower of a three-node cluster.
//
// Run it with go test -race ./internal/compat/. RAFTFLOW_COMPAT_VERBOSE=1
// shows engine and SDK logs; RAFTFLOW_COMPAT_DUMP=1 logs the histories the
// tests check; RAFTFLOW_COMPAT_RECORD=1 (with -run TestFeatures) rewrites
// the histories in testdata/.
package compat
