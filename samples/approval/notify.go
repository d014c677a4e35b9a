package approval

import (
	"context"
	"fmt"
	"io"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/worker"
)

// Message is a notification to a person.
type Message struct {
	To   string
	Text string
}

// Notifier stands in for e-mail or chat: Notify, its activity, writes each
// message to Out (if set) and keeps it.
type Notifier struct {
	Out  io.Writer
	mu   sync.Mutex
	sent []Message
}

// Notify delivers m.
func (n *Notifier) Notify(ctx context.Context, m Message) (string, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.sent = append(n.sent, m)
	if n.Out != nil {
		fmt.Fprintf(n.Out, "to %s: %s\n", m.To, m.Text)
	}
	activity.GetLogger(ctx).Info("notified", "to", m.To)
	return "sent", nil
}

// Sent lists the messages delivered so far.
func (n *Notifier) Sent() []Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]Message(nil), n.sent...)
}

// Register registers the approval workflow and n's activity on a worker.
func Register(r worker.Registry, n *Notifier) {
	r.RegisterWorkflow(Workflow)
	r.RegisterActivityWithOptions(n.Notify, activity.RegisterOptions{Name: "Notify"})
}
