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
// The package is the whole SDK tier (design guide §7, tier 4): it also holds
// what used to be internal/semantics (semantics_test.go: child workflows,
// continue-as-new, queries with signal-with-start, cancellation, workflow
// retries, updates) and internal/visibility (visibility_test.go: list, count
// and scan queries, namespaces, retention and deletion;
// visibility_cluster_test.go: a list paged across a leader change;
// cron_delay_limit_test.go: cron, start delay, the payload limit). Every
// engine is started through sdk/enginetest (one node, or Nodes(3)); the
// helpers shared with the other tiers are in internal/testutil.
//
// Run it with go test -race ./internal/compat/. RAFTFLOW_COMPAT_VERBOSE=1
// shows engine and SDK logs; RAFTFLOW_COMPAT_DUMP=1 logs the histories the
// tests check; RAFTFLOW_COMPAT_RECORD=1 (with -run TestFeatures) rewrites
// the histories in testdata/.
package compat
