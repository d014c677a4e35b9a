package sdk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/resolver"
)

// DefaultNamespace is the namespace every raftflow engine has.
const DefaultNamespace = "default"

// DefaultRetryTimeout is how long Dial's client keeps retrying one call
// that the cluster answers with codes.Unavailable (see Options.RetryTimeout).
const DefaultRetryTimeout = 30 * time.Second

// Options configures Dial.
type Options struct {
	// Endpoints lists the gRPC address (host:port) of every node of the
	// cluster; at least one. The client connects to all of them and
	// spreads calls over those that are reachable.
	Endpoints []string

	// Namespace is the namespace the client works in (default "default").
	Namespace string

	// Logger, if set, receives the SDK's log (client and workers). Nil
	// keeps Client.Logger, or the SDK's default (which prints to stdout).
	Logger *slog.Logger

	// RetryTimeout bounds how long one call that is safe to retry is
	// retried while the cluster answers codes.Unavailable (a node is down,
	// a leader election is running). The call's own deadline bounds it
	// too. Zero means DefaultRetryTimeout; negative turns the retries off
	// (the SDK's own retries still apply).
	RetryTimeout time.Duration

	// Client carries every other option of the official SDK: identity,
	// data converter, interceptors, TLS and credentials, ... Its HostPort
	// must be empty (Endpoints replaces it); Namespace and Logger above,
	// when set, win over its own. Dial options given in
	// Client.ConnectionOptions.DialOptions are applied after Dial's own, so
	// their unary interceptors run inside the retry, once per attempt.
	Client client.Options
}

// Dial connects to a raftflow cluster and returns a standard Temporal
// client. Use it like any client.Client, for starters and for workers
// (worker.New(c, ...)).
//
// The client is cluster-aware:
//
//   - It holds a connection to every endpoint and spreads calls over the
//     ready ones (gRPC round_robin over a static resolver). A node that
//     goes down drops out of the rotation until it is back; reconnect
//     attempts back off from 50 ms to 2 s.
//   - A call that fails with codes.Unavailable (node down, no leader yet,
//     leadership lost) and is safe to repeat is retried, on the next node,
//     with exponential backoff from 20 ms to 1 s, for up to RetryTimeout.
//     Safe are reads and long polls, the task completions (the engine
//     ignores a stale repeat) and the calls that carry a request ID the
//     engine deduplicates: StartWorkflowExecution, SignalWorkflowExecution,
//     SignalWithStartWorkflowExecution and RequestCancelWorkflowExecution.
//     If such a request has no request ID, one is set before the first
//     attempt, so every attempt carries the same one. Other calls
//     (TerminateWorkflowExecution, namespace changes, the best-effort
//     ShutdownWorker of a stopping worker, ...) are not retried by this
//     layer.
//
// ctx bounds the initial connection check only (as in client.DialContext);
// it is not kept. Close the client when done.
func Dial(ctx context.Context, o Options) (client.Client, error) {
	co, err := ClientOptions(o)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, co)
	if err != nil {
		return nil, fmt.Errorf("sdk: dial %s: %w", strings.Join(o.Endpoints, ","), err)
	}
	return c, nil
}

// ClientOptions returns the client.Options Dial uses, for callers that
// create the client themselves (client.NewLazyClient, for example).
func ClientOptions(o Options) (client.Options, error) {
	eps, err := cleanEndpoints(o.Endpoints)
	if err != nil {
		return client.Options{}, err
	}
	co := o.Client
	if co.HostPort != "" {
		return client.Options{}, errors.New("sdk: set Options.Endpoints, not Options.Client.HostPort")
	}
	co.HostPort = resolverScheme + ":///" + resolverTarget
	switch {
	case o.Namespace != "":
		co.Namespace = o.Namespace
	case co.Namespace == "":
		co.Namespace = DefaultNamespace
	}
	if o.Logger != nil {
		co.Logger = sdklog.NewStructuredLogger(o.Logger)
	}
	timeout := o.RetryTimeout
	if timeout == 0 {
		timeout = DefaultRetryTimeout
	}
	ours := []grpc.DialOption{
		grpc.WithResolvers(staticResolver{endpoints: eps}),
		grpc.WithDefaultServiceConfig(`{"loadBalancingConfig": [{"round_robin":{}}]}`),
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 50 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 2 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
	}
	if timeout > 0 {
		ours = append(ours, grpc.WithChainUnaryInterceptor(retryInterceptor(retryPolicy{
			timeout: timeout, initial: 20 * time.Millisecond, max: time.Second,
		})))
	}
	co.ConnectionOptions.DialOptions = append(ours, co.ConnectionOptions.DialOptions...)
	return co, nil
}

func cleanEndpoints(in []string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, e := range in {
		e = strings.TrimSpace(e)
		if e == "" || seen[e] {
			continue
		}
		if strings.Contains(e, "://") {
			return nil, fmt.Errorf("sdk: endpoint %q: want host:port", e)
		}
		seen[e] = true
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, errors.New("sdk: Options.Endpoints is empty")
	}
	return out, nil
}

// SplitEndpoints splits a comma-separated list of host:port addresses (as in
// TEMPORAL_ADDRESS=127.0.0.1:7233,127.0.0.1:7243), dropping blanks.
func SplitEndpoints(list string) []string {
	var out []string
	for _, e := range strings.Split(list, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

const (
	resolverScheme = "raftflow"
	resolverTarget = "cluster"
)

// staticResolver hands gRPC a fixed list of endpoints. It is registered per
// connection (grpc.WithResolvers), never globally, and may be built any
// number of times (a channel leaving idle mode builds it again).
type staticResolver struct{ endpoints []string }

func (r staticResolver) Scheme() string { return resolverScheme }

func (r staticResolver) Build(_ resolver.Target, cc resolver.ClientConn, _ resolver.BuildOptions) (resolver.Resolver, error) {
	st := resolver.State{}
	for _, e := range r.endpoints {
		st.Endpoints = append(st.Endpoints, resolver.Endpoint{Addresses: []resolver.Address{{Addr: e}}})
	}
	if err := cc.UpdateState(st); err != nil {
		return nil, err
	}
	return r, nil
}

func (staticResolver) ResolveNow(resolver.ResolveNowOptions) {}
func (staticResolver) Close()                                {}
