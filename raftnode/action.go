package raftnode

import "fmt"

// Action is the start-up decision main.go takes after opening the data
// directory: form a new cluster, join an existing one, or resume.
type Action int

const (
	// ActionBootstrap: no raft state and nothing to join; this node forms a
	// new single-voter cluster (Node.Bootstrap).
	ActionBootstrap Action = iota
	// ActionJoin: no raft state and join addresses were given; this node
	// starts empty and asks an existing member to add it as a voter.
	ActionJoin
	// ActionRestart: raft state exists on disk; the node resumes its old
	// identity and configuration. Join addresses are ignored.
	ActionRestart
)

// String returns "bootstrap", "join" or "restart".
func (a Action) String() string {
	switch a {
	case ActionBootstrap:
		return "bootstrap"
	case ActionJoin:
		return "join"
	case ActionRestart:
		return "restart"
	default:
		return fmt.Sprintf("Action(%d)", int(a))
	}
}

// Decide is the pure start-up decision: existing state always wins (a node
// that has state must never bootstrap again or re-join as a fresh member),
// otherwise join when join addresses are given, otherwise bootstrap.
func Decide(hasState bool, join []string) Action {
	switch {
	case hasState:
		return ActionRestart
	case len(join) > 0:
		return ActionJoin
	default:
		return ActionBootstrap
	}
}
