// Package enginetest starts a real raftflow engine in-process, for tests and
// examples: real raft, real Pebble, the real gRPC frontend, on 127.0.0.1
// ports chosen by the OS, with its data in temporary directories. It is
// raftflow's answer to Temporal's test server: not a mock, and fast (one node
// is ready in a fraction of a second; see BenchmarkStart).
//
//	func TestOrder(t *testing.T) {
//		srv := enginetest.Start(t)        // stopped and removed when t ends
//		c := srv.Client()                 // an sdk.Dial client for every node
//		w := worker.New(c, "orders", worker.Options{})
//		...
//	}
//
// Start(t, enginetest.Nodes(3)) starts a three-node cluster; Kill, Stop,
// Restart, Partition and Heal act on one node, by index. Node addresses
// never change, across restarts too, so connected clients and workers find
// a restarted node where it was.
//
// Outside a test (an Example function, a program), StartServer returns the
// same Server; Close it when done.
//
// Logs of the engine are kept in memory and printed when the test fails;
// set RAFTFLOW_TEST_LOG=1 to see them (and the SDK's) on stderr as they
// come.
package enginetest

import (
	"context"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/raftflow/engine/internal/server"
	"github.com/raftflow/engine/internal/testcluster"
	"github.com/raftflow/engine/sdk"
)

// Raft timeouts of a one-node engine: with no peer to wait for, a short
// heartbeat timeout only decides how soon the node elects itself on start.
const (
	singleHeartbeat = 50 * time.Millisecond
	singleElection  = 50 * time.Millisecond
	singleLease     = 25 * time.Millisecond
)

// Option configures Start and StartServer.
type Option func(*config)

type config struct {
	nodes                      int
	heartbeat, election, lease time.Duration
	wait                       time.Duration
	logger                     *slog.Logger
	configure                  func(i int, cfg *server.Config)
}

// Nodes sets the number of nodes (default 1). Use 3 to test what happens
// when a node fails: a cluster of three keeps working with one node down.
func Nodes(n int) Option { return func(c *config) { c.nodes = n } }

// RaftTimeouts overrides the raft heartbeat, election and leader-lease
// timeouts (default 50, 50 and 25 ms for one node; for more, those of
// internal/testcluster, about a quarter of a second: a new leader within
// about a second, and no spurious elections on a loaded machine).
func RaftTimeouts(heartbeat, election, lease time.Duration) Option {
	return func(c *config) { c.heartbeat, c.election, c.lease = heartbeat, election, lease }
}

// WaitTimeout bounds each wait for the cluster (start, restart, leader,
// a client's first connection), default 30 s.
func WaitTimeout(d time.Duration) Option { return func(c *config) { c.wait = d } }

// Logger sends the engine's log to l instead of the in-memory buffer.
func Logger(l *slog.Logger) Option { return func(c *config) { c.logger = l } }

// ServerConfig lets the test adjust node i's server.Config before its
// first start (snapshot thresholds, namespace retention floor, long-poll
// timeout, ...); see testcluster.WithConfig for the fields the cluster
// sets itself. Several ServerConfig options apply in order.
func ServerConfig(f func(i int, cfg *server.Config)) Option {
	return func(c *config) {
		prev := c.configure
		c.configure = func(i int, cfg *server.Config) {
			if prev != nil {
				prev(i, cfg)
			}
			f(i, cfg)
		}
	}
}

// Server is a running in-process engine of one or more nodes.
//
// Methods that act on nodes (Kill, Stop, Restart, Leader, Client) fail the
// test on error, so call them from the test's goroutine; outside a test
// (StartServer) they panic instead. The getters are safe from any
// goroutine.
type Server struct {
	tb   testcluster.TB // the test, or own
	own  *owner         // set by StartServer
	c    *testcluster.Cluster
	wait time.Duration // WaitTimeout

	mu  sync.Mutex
	cut map[int]bool // partitioned nodes
}

// Start starts an engine for the test and waits until it is ready (a
// leader runs its services and every node has caught up). It is stopped,
// and its data removed, when the test ends.
func Start(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	return start(tb, opts)
}

// StartServer is Start for code that has no testing.TB, such as Example
// functions. Close the server when done.
func StartServer(opts ...Option) (s *Server, err error) {
	own := newOwner()
	defer func() {
		if err != nil {
			own.close()
		}
	}()
	err = own.run(func() { s = start(own, opts) })
	if err != nil {
		return nil, err
	}
	s.own = own
	return s, nil
}

func start(tb testcluster.TB, opts []Option) *Server {
	tb.Helper()
	cfg := config{nodes: 1, wait: 30 * time.Second}
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.nodes == 1 && cfg.heartbeat == 0 {
		cfg.heartbeat, cfg.election, cfg.lease = singleHeartbeat, singleElection, singleLease
	}
	var copts []testcluster.Option
	if cfg.heartbeat > 0 {
		copts = append(copts, testcluster.WithRaftTimeouts(cfg.heartbeat, cfg.election, cfg.lease))
	}
	copts = append(copts, testcluster.WithWaitTimeout(cfg.wait))
	if cfg.logger != nil {
		copts = append(copts, testcluster.WithLogger(cfg.logger))
	}
	if cfg.configure != nil {
		copts = append(copts, testcluster.WithConfig(cfg.configure))
	}
	return &Server{tb: tb, c: testcluster.Start(tb, cfg.nodes, copts...), wait: cfg.wait, cut: map[int]bool{}}
}

// Close stops every node and removes the data of a StartServer engine. In
// a test it is optional (the test's end does it); later calls do nothing.
func (s *Server) Close() {
	if s.own != nil {
		s.own.close()
		return
	}
	s.c.Close()
}

// Nodes is the number of nodes, running or not.
func (s *Server) Nodes() int { return s.c.N() }

// Addr is node 0's gRPC address: for a one-node engine, the HostPort of
// client.Options.
func (s *Server) Addr() string { return s.c.GRPCAddr(0) }

// Endpoints lists every node's gRPC address, for sdk.Options.Endpoints.
func (s *Server) Endpoints() []string {
	out := make([]string, s.c.N())
	for i := range out {
		out[i] = s.c.GRPCAddr(i)
	}
	return out
}

// GRPCAddr is node i's gRPC address.
func (s *Server) GRPCAddr(i int) string { return s.c.GRPCAddr(i) }

// HTTPAddr is node i's HTTP address (/healthz, /readyz, /status).
func (s *Server) HTTPAddr(i int) string { return s.c.HTTPAddr(i) }

// Alive reports whether node i is running.
func (s *Server) Alive(i int) bool { return s.c.Alive(i) }

// Leader waits until the running nodes agree on a leader whose services
// are ready, and returns its index.
func (s *Server) Leader() int {
	s.tb.Helper()
	var l int
	s.do(func() { l = s.c.Leader() })
	return l
}

// WaitReady waits until the engine serves again: an agreed leader, every
// running node caught up (see server.Ready). A partitioned node is never
// ready: Heal first.
func (s *Server) WaitReady(ctx context.Context) error { return s.c.WaitReady(ctx) }

// Kill stops node i the way a crash does: connections are cut and a leader
// does not hand over, so the others elect a new one after an election
// timeout. Its data stays, for Restart.
func (s *Server) Kill(i int) {
	s.tb.Helper()
	s.do(func() { s.c.Kill(i) })
}

// Stop stops node i gracefully (a leader hands leadership over first). Its
// data stays, for Restart.
func (s *Server) Stop(i int) {
	s.tb.Helper()
	s.do(func() { s.c.Stop(i) })
}

// Restart starts node i again from its data on the same addresses (a
// running node is stopped gracefully first). When a majority of the nodes
// then runs and no node is partitioned, it waits until the engine is ready
// again; otherwise (a lone node of a stopped cluster cannot be ready) it
// returns at once and WaitReady waits later.
func (s *Server) Restart(i int) {
	s.tb.Helper()
	s.do(func() {
		if s.c.Alive(i) {
			s.c.Stop(i)
		}
		s.c.Restart(i)
	})
	running := 0
	for j := range s.c.N() {
		if s.c.Alive(j) {
			running++
		}
	}
	s.mu.Lock()
	partitioned := len(s.cut) > 0
	s.mu.Unlock()
	if partitioned || running <= s.c.N()/2 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.wait)
	defer cancel()
	if err := s.c.WaitReady(ctx); err != nil {
		s.tb.Fatalf("enginetest: restart node %d: %v", i, err)
	}
}

// Partition cuts node i's raft traffic to and from every other node (its
// gRPC port still answers clients, which then get Unavailable or are
// forwarded). A partitioned leader steps down once its lease runs out;
// the others elect a new one. It lasts until Heal.
func (s *Server) Partition(i int) {
	s.mu.Lock()
	s.cut[i] = true
	s.mu.Unlock()
	s.c.Partition(i)
}

// Heal ends every partition.
func (s *Server) Heal() {
	s.mu.Lock()
	clear(s.cut)
	s.mu.Unlock()
	s.c.Heal()
}

// Partitioned lists the partitioned nodes.
func (s *Server) Partitioned() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for i := range s.cut {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

// Dial connects an sdk.Dial client to every node, namespace "default", its
// SDK log discarded unless RAFTFLOW_TEST_LOG is set. The caller closes it.
func (s *Server) Dial(ctx context.Context) (client.Client, error) {
	return sdk.Dial(ctx, sdk.Options{Endpoints: s.Endpoints(), Logger: sdkLogger()})
}

// Client is Dial for a test: the client is closed when the test ends (or
// at Close, outside a test).
func (s *Server) Client() client.Client {
	s.tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), s.wait)
	defer cancel()
	c, err := s.Dial(ctx)
	if err != nil {
		s.tb.Fatalf("enginetest: %v", err)
	}
	s.tb.Cleanup(c.Close)
	return c
}

// do runs f, which may fail s.tb. Outside a test a failure panics, with
// the error (see Server).
func (s *Server) do(f func()) {
	if s.own == nil {
		f()
		return
	}
	if err := s.own.run(f); err != nil {
		panic(err)
	}
}

func sdkLogger() *slog.Logger {
	if os.Getenv("RAFTFLOW_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
