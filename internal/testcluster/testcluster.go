// Package testcluster runs an in-process raftflow cluster for tests (design
// guide §6, tier 3): N real nodes started through server.Start (real raft,
// real Pebble, real gRPC) on 127.0.0.1:0 ports with their data in
// t.TempDir(), fast raft timeouts, and hooks to kill, restart and partition
// nodes. Every wait polls with a deadline; nothing sleeps for a fixed time.
//
//	c := testcluster.Start(t, 3)
//	l := c.Leader()
//	c.Kill(l)
//	c.Restart(l)
//	if err := c.WaitReady(ctx); err != nil { t.Fatal(err) }
//	if err := c.WaitConverged(ctx); err != nil { t.Fatal(err) }
//
// Nodes are addressed by index 0..N-1; node i has raft ID "n<i+1>". Node 0
// bootstraps the cluster, the others join through node 0's gRPC address.
// Each node keeps the ports it got on its first start for its whole life,
// so a restarted node is reachable at the address its peers (and connected
// SDK clients) already have.
//
// Methods that take no ctx fail the test on error and must be called from
// the test's goroutine; the getters (Node, GRPCAddr, Alive, ...) are safe
// from any goroutine. Logs are discarded unless RAFTFLOW_TEST_LOG is set
// (then they go to stderr); the last lines are printed when the test fails.
package testcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/raftflow/engine/internal/server"
	"github.com/raftflow/engine/internal/testutil"
)

// TB is what the cluster needs of the test that owns it: *testing.T,
// *testing.B and *testing.F satisfy it, and sdk/enginetest's StartServer
// implements it for code outside a test. Fatalf must not return (a test
// stops its goroutine; anything else must panic or exit), Cleanup
// functions run newest first when the owner ends, and TempDir returns a
// new directory removed after the cleanups registered after it.
type TB interface {
	Helper()
	Cleanup(func())
	TempDir() string
	Logf(format string, args ...any)
	Fatalf(format string, args ...any)
	Failed() bool
}

// Option configures Start.
type Option func(*options)

type options struct {
	heartbeat, election, lease, commit time.Duration
	wait                               time.Duration
	logger                             *slog.Logger
	configure                          func(i int, cfg *server.Config)
}

// WithRaftTimeouts overrides the raft heartbeat, election and leader-lease
// timeouts. The defaults (300 ms each) elect a new leader within about a
// second of losing the old one, yet leave enough slack that a loaded
// two-core machine under -race does not depose a healthy leader (leases of
// 100 and 200 ms did, while an SDK worker started or 100 workflows ran).
func WithRaftTimeouts(heartbeat, election, lease time.Duration) Option {
	return func(o *options) { o.heartbeat, o.election, o.lease = heartbeat, election, lease }
}

// WithWaitTimeout bounds the waits of Start, Leader, Restart and Kill
// (default 30 s).
func WithWaitTimeout(d time.Duration) Option { return func(o *options) { o.wait = d } }

// WithLogger sends every node's log to l (each line tagged with the node).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithConfig lets the test adjust node i's server.Config before its first
// start (snapshot thresholds, long-poll timeout, ...). Addresses, data
// directory, node id, join list and the fault hook are set by the cluster
// and must be left alone.
func WithConfig(f func(i int, cfg *server.Config)) Option {
	return func(o *options) { o.configure = f }
}

// Cluster is a running in-process cluster. See the package doc.
type Cluster struct {
	t    TB
	opts options
	logs *tailBuffer

	mu    sync.Mutex
	nodes []*member

	cutMu sync.Mutex
	cut   map[string]bool // raft addresses of partitioned nodes
}

type member struct {
	cfg server.Config  // addresses pinned after the first start
	srv *server.Server // nil while the node is down
}

// Start starts n nodes and waits until every one is a voter, the member
// table lists them all, a leader runs its services and every node is ready
// (server.Ready). The cluster is killed when the test ends.
func Start(t TB, n int, opts ...Option) *Cluster {
	t.Helper()
	if n < 1 {
		t.Fatalf("testcluster: need at least one node, got %d", n)
	}
	o := options{
		heartbeat: 300 * time.Millisecond, election: 300 * time.Millisecond, lease: 300 * time.Millisecond,
		commit: 10 * time.Millisecond, wait: 30 * time.Second,
	}
	for _, opt := range opts {
		opt(&o)
	}
	c := &Cluster{t: t, opts: o, logs: newTailBuffer(1000), cut: map[string]bool{}}
	if o.logger == nil {
		var w io.Writer = c.logs
		level := slog.LevelInfo
		if os.Getenv("RAFTFLOW_TEST_LOG") != "" {
			w, level = io.MultiWriter(c.logs, os.Stderr), slog.LevelDebug
		}
		c.opts.logger = slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
	}
	dirs := make([]string, n)
	for i := range dirs {
		dirs[i] = t.TempDir()
	}
	// Registered after the first TempDir, so it runs before the removal.
	t.Cleanup(func() {
		c.Close()
		if t.Failed() && o.logger == nil {
			t.Logf("testcluster: last log lines:\n%s", c.logs.String())
		}
	})

	for i := range n {
		cfg := server.Config{
			NodeID:  fmt.Sprintf("n%d", i+1),
			DataDir: dirs[i],
			// Ports are picked by the OS, then pinned (see startNode).
			GRPCAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			HeartbeatTimeout: o.heartbeat, ElectionTimeout: o.election,
			LeaderLeaseTimeout: o.lease, CommitTimeout: o.commit,
		}
		if o.configure != nil {
			o.configure(i, &cfg)
		}
		cfg.Logger = c.opts.logger.With("node", cfg.NodeID)
		cfg.RaftFault = c.fault
		if i > 0 {
			cfg.Join = []string{c.GRPCAddr(0)}
		}
		c.mu.Lock()
		c.nodes = append(c.nodes, &member{cfg: cfg})
		c.mu.Unlock()
		if err := c.startNode(i); err != nil {
			t.Fatalf("testcluster: %v", err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), o.wait)
	defer cancel()
	if err := c.WaitReady(ctx); err != nil {
		t.Fatalf("testcluster: start: %v", err)
	}
	return c
}

// startNode starts node i from its config. After the first start its
// actual addresses are pinned into the config, so restarts bind the same
// ports. A port that is briefly taken (EADDRINUSE) is retried until the
// wait timeout.
func (c *Cluster) startNode(i int) error {
	c.mu.Lock()
	m := c.nodes[i]
	cfg := m.cfg
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.wait)
	defer cancel()
	var srv *server.Server
	var err error
	perr := testutil.Poll(ctx, "free ports for "+cfg.NodeID, func() (bool, string) {
		srv, err = server.Start(cfg)
		// Only a port another socket still holds is worth retrying.
		return err == nil || !errors.Is(err, syscall.EADDRINUSE), fmt.Sprint(err)
	})
	if err == nil {
		err = perr
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", cfg.NodeID, err)
	}
	c.mu.Lock()
	m.srv = srv
	m.cfg.GRPCAddr, m.cfg.RaftAddr, m.cfg.HTTPAddr = srv.GRPCAddr(), srv.RaftAddr(), srv.HTTPAddr()
	c.mu.Unlock()
	return nil
}

// N is the number of nodes (alive or not).
func (c *Cluster) N() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.nodes)
}

// ID is node i's raft server ID ("n<i+1>").
func (c *Cluster) ID(i int) string { return c.member(i).cfg.NodeID }

// Node returns node i's server, or nil while it is down (after Kill or
// Stop and before Restart).
func (c *Cluster) Node(i int) *server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[i].srv
}

// Alive reports whether node i is running.
func (c *Cluster) Alive(i int) bool { return c.Node(i) != nil }

// GRPCAddr is node i's gRPC address. It stays valid across Kill/Restart.
func (c *Cluster) GRPCAddr(i int) string { return c.member(i).cfg.GRPCAddr }

// RaftAddr is node i's raft address. It stays valid across Kill/Restart.
func (c *Cluster) RaftAddr(i int) string { return c.member(i).cfg.RaftAddr }

// HTTPAddr is node i's HTTP address. It stays valid across Kill/Restart.
func (c *Cluster) HTTPAddr(i int) string { return c.member(i).cfg.HTTPAddr }

func (c *Cluster) member(i int) member {
	c.mu.Lock()
	defer c.mu.Unlock()
	return *c.nodes[i]
}

// alive returns the running nodes by index.
func (c *Cluster) alive() map[int]*server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[int]*server.Server{}
	for i, m := range c.nodes {
		if m.srv != nil {
			out[i] = m.srv
		}
	}
	return out
}

// Leader waits until exactly one running, unpartitioned node leads with
// its leader services ready and every other running, unpartitioned node
// follows it, and returns its index. (A partitioned node is never the
// answer, even while it still believes it leads.) It fails the test after
// the wait timeout.
func (c *Cluster) Leader() int {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), c.opts.wait)
	defer cancel()
	l, err := c.WaitLeader(ctx)
	if err != nil {
		c.t.Fatalf("testcluster: %v", err)
	}
	return l
}

// WaitLeader is Leader with a ctx and an error instead of failing the test.
func (c *Cluster) WaitLeader(ctx context.Context) (int, error) {
	var l int
	err := testutil.Poll(ctx, "an agreed leader", func() (bool, string) {
		var why string
		l, why = c.leaderNow()
		return l >= 0, why
	})
	return l, err
}

// leaderNow returns the agreed leader's index, or -1 and why there is none.
func (c *Cluster) leaderNow() (int, string) {
	nodes := c.alive()
	for i := range nodes {
		if c.isolated(c.RaftAddr(i)) {
			// It may believe it still leads (until its lease runs out), but
			// it cannot commit: it is nobody's leader.
			delete(nodes, i)
		}
	}
	leader := -1
	for i, s := range nodes {
		if s.Node.IsLeader() && s.Service.Ready() {
			if leader >= 0 {
				return -1, fmt.Sprintf("both %s and %s lead", c.ID(leader), c.ID(i))
			}
			leader = i
		}
	}
	if leader < 0 {
		return -1, "no running node leads with its services ready"
	}
	want := c.ID(leader)
	for i, s := range nodes {
		if i == leader {
			continue
		}
		if id, _ := s.Node.Leader(); id != want {
			return -1, fmt.Sprintf("%s follows %q, not %s", c.ID(i), id, want)
		}
	}
	return leader, ""
}

// WaitReady waits until there is an agreed leader (see Leader), every
// running node is a member of the raft configuration with all N nodes as
// voters, the replicated member table lists all N (followers need it to
// forward calls), and every running node reports server.Ready. Partitioned
// nodes cannot be ready; heal first.
func (c *Cluster) WaitReady(ctx context.Context) error {
	return testutil.Poll(ctx, "a ready cluster", func() (bool, string) {
		if _, why := c.leaderNow(); why != "" {
			return false, why
		}
		n := c.N()
		for i, s := range c.alive() {
			id := c.ID(i)
			if st := s.Node.Status(); len(st.Servers) != n {
				return false, fmt.Sprintf("%s sees %d raft servers, want %d", id, len(st.Servers), n)
			}
			for _, sv := range s.Node.Status().Servers {
				if sv.Suffrage != "Voter" {
					return false, fmt.Sprintf("%s sees %s as %s", id, sv.ID, sv.Suffrage)
				}
			}
			if got := len(s.FSM.Nodes()); got != n {
				return false, fmt.Sprintf("%s's member table has %d nodes, want %d", id, got, n)
			}
			if ok, why := s.Ready(); !ok {
				return false, fmt.Sprintf("%s not ready: %s", id, why)
			}
		}
		return true, ""
	})
}

// WaitConverged waits until every running node's state machine has the
// same applied index and the same FSM.Digest. Call it when no more
// commands are coming (a workload still running keeps moving the target).
func (c *Cluster) WaitConverged(ctx context.Context) error {
	return testutil.Poll(ctx, "converged state machines", func() (bool, string) {
		var first string
		var parts []string
		same := true
		for i := range c.N() {
			s := c.Node(i)
			if s == nil {
				continue
			}
			a := s.FSM.AppliedIndex()
			d := s.FSM.Digest()
			if s.FSM.AppliedIndex() != a {
				return false, fmt.Sprintf("%s is applying", c.ID(i))
			}
			v := fmt.Sprintf("applied=%d digest=%.12s", a, d)
			parts = append(parts, c.ID(i)+": "+v)
			if first == "" {
				first = v
			} else if v != first {
				same = false
			}
		}
		return same, strings.Join(parts, "; ")
	})
}

// Kill stops node i abruptly (server.Server.Kill): connections are cut and
// leadership is not handed over, so the others elect a leader only after
// an election timeout. Its data directory is kept for Restart.
func (c *Cluster) Kill(i int) {
	c.t.Helper()
	c.down(i, (*server.Server).Kill)
}

// Stop closes node i gracefully (server.Server.Close: a leader hands
// leadership over first). Its data directory is kept for Restart.
func (c *Cluster) Stop(i int) {
	c.t.Helper()
	c.down(i, (*server.Server).Close)
}

func (c *Cluster) down(i int, how func(*server.Server) error) {
	c.t.Helper()
	c.mu.Lock()
	s := c.nodes[i].srv
	c.nodes[i].srv = nil
	c.mu.Unlock()
	if s == nil {
		c.t.Fatalf("testcluster: %s is not running", c.ID(i))
	}
	if err := how(s); err != nil {
		c.t.Fatalf("testcluster: stop %s: %v", c.ID(i), err)
	}
}

// Restart starts node i again from its data directory on the same ports.
// It does not wait: a lone node of a stopped cluster cannot be ready until
// a quorum is back. Call WaitReady (and WaitConverged) next.
func (c *Cluster) Restart(i int) {
	c.t.Helper()
	if c.Alive(i) {
		c.t.Fatalf("testcluster: %s is already running", c.ID(i))
	}
	if err := c.startNode(i); err != nil {
		c.t.Fatalf("testcluster: restart: %v", err)
	}
}

// Partition cuts node i's raft traffic to and from every other node, in
// both directions (through raftnode's Fault hook; gRPC is not affected, so
// clients and forwarding still reach it). It lasts across restarts of node
// i until Heal.
func (c *Cluster) Partition(i int) {
	addr := c.RaftAddr(i)
	c.cutMu.Lock()
	defer c.cutMu.Unlock()
	c.cut[addr] = true
}

// Heal ends every partition.
func (c *Cluster) Heal() {
	c.cutMu.Lock()
	defer c.cutMu.Unlock()
	clear(c.cut)
}

func (c *Cluster) isolated(addr string) bool {
	c.cutMu.Lock()
	defer c.cutMu.Unlock()
	return c.cut[addr]
}

// fault is every node's raftnode Config.Fault: a link is cut when either
// end is partitioned.
func (c *Cluster) fault(from, to string) bool {
	c.cutMu.Lock()
	defer c.cutMu.Unlock()
	return c.cut[from] || c.cut[to]
}

// Close kills every running node, all at once. It runs when the test ends;
// calling it earlier is allowed (later calls do nothing).
func (c *Cluster) Close() {
	c.mu.Lock()
	var live []*server.Server
	for _, m := range c.nodes {
		if m.srv != nil {
			live = append(live, m.srv)
			m.srv = nil
		}
	}
	c.mu.Unlock()
	var wg sync.WaitGroup
	for _, s := range live {
		wg.Go(func() { _ = s.Kill() })
	}
	wg.Wait()
}

// tailBuffer keeps the last lines written to it (a ring of max lines).
type tailBuffer struct {
	mu    sync.Mutex
	lines []string
	next  int // ring position of the next line once full
}

func newTailBuffer(max int) *tailBuffer { return &tailBuffer{lines: make([]string, 0, max)} }

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if len(b.lines) < cap(b.lines) {
			b.lines = append(b.lines, l)
			continue
		}
		b.lines[b.next] = l
		b.next = (b.next + 1) % len(b.lines)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(append(append([]string(nil), b.lines[b.next:]...), b.lines[:b.next]...), "\n")
}
