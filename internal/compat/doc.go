// Package compat holds raftflow's compatibility suite: tests that drive a real
// in-process engine with the official Temporal Go SDK (client and worker),
// unmodified, and assert what a Temporal user would observe: results, error
// types, history events and DescribeWorkflowExecution fields. The package has
// no non-test code beyond this comment.
//
// Run it with go test -race ./internal/compat/. RAFTFLOW_COMPAT_VERBOSE=1
// shows engine and SDK logs; RAFTFLOW_COMPAT_DUMP=1 logs the histories the
// tests check.
package compat
