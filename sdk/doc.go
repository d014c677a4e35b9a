// Package sdk is raftflow's Go client package. It builds on the official
// Temporal Go SDK (go.temporal.io/sdk): workflows and activities stay plain
// Temporal code, clients are plain client.Client values and workers are
// plain worker.Worker values. What it adds is what a replicated engine
// makes possible and what the SDK lacks:
//
//   - Dial: a client for a whole cluster. It connects to every node,
//     spreads calls over the ones that are up and rides through a node
//     crash or a leader election by retrying the calls that are safe to
//     repeat (request IDs make repeated starts and signals idempotent).
//     Workers created from it get the same behaviour.
//   - Typed helpers: ExecuteActivity, ExecuteWorkflow, Run, and Signal,
//     Query and Update declarations, so that argument and result types are
//     checked by the compiler instead of failing at run time. They are thin
//     wrappers over the SDK's functions; there is no second runtime.
//   - Saga: compensations for workflows (newest first or in parallel, past
//     failures, every error reported), like the Java SDK's Saga class.
//
// The sub-package enginetest starts a real engine in-process (one node or
// three) for tests and examples, with hooks to kill, restart and partition
// nodes. It is raftflow's answer to Temporal's test server: the real
// engine, not a mock, started in a fraction of a second.
//
// The examples run against enginetest.
package sdk
