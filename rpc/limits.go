package rpc

// Limits, in one place, enforced here with clear errors (the fsm never
// truncates).
const (
	// maxMessageSize bounds gRPC messages in and out.
	maxMessageSize = 64 << 20
	// maxIDLength bounds workflow ids, run ids, task queue and type names.
	maxIDLength = 1000
	// defaultHistoryPageSize is the page size of history reads and of the
	// history sent with a workflow task.
	defaultHistoryPageSize = 1000
)

// MaxMessageSize is exported for the server that registers the service.
const MaxMessageSize = maxMessageSize
