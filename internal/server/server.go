// Package server assembles one raftflow node: the Pebble state machine, the
// raft node, the gRPC frontend and the HTTP status endpoints. main.go, the
// in-process test cluster and sdk/enginetest all start nodes through it.
package server

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	// gzip: the Temporal SDKs (Go v1.50 on) compress requests with it by
	// default, and Temporal's frontend accepts it; grpc-go bounds the
	// decompressed size by MaxRecvMsgSize.
	_ "google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/fsm/fsmpb"
	"github.com/raftflow/engine/internal/auth"
	"github.com/raftflow/engine/internal/metrics"
	"github.com/raftflow/engine/internal/webui"
	"github.com/raftflow/engine/leader"
	"github.com/raftflow/engine/raftnode"
	"github.com/raftflow/engine/rpc"
	"github.com/raftflow/engine/rpc/adminpb"
)

// Config configures one node. Addresses may use port 0 (tests).
type Config struct {
	NodeID  string
	DataDir string

	GRPCAddr, RaftAddr, HTTPAddr                string // bind addresses
	GRPCAdvertise, RaftAdvertise, HTTPAdvertise string // default: the bound address

	// Join lists gRPC addresses of existing members; used only when the node
	// has no raft state yet.
	Join []string

	Logger *slog.Logger

	// Pprof serves net/http/pprof under /debug/pprof/ on the HTTP address.
	Pprof bool

	// Raft tuning (zero: raftnode defaults).
	SnapshotThreshold                 uint64
	TrailingLogs                      uint64
	HeartbeatTimeout, ElectionTimeout time.Duration
	LeaderLeaseTimeout, CommitTimeout time.Duration
	LongPollTimeout                   time.Duration
	// MinNamespaceRetention is rpc.Config.MinRetention (0: one day); tests
	// of retention lower it.
	MinNamespaceRetention time.Duration

	// RaftFault is raftnode.Config.Fault, a test hook that cuts raft links
	// (nil outside tests).
	RaftFault func(from, to string) bool
	// RaftStoreFault is raftnode.Config.StoreFault, a test hook that fails
	// raft log and stable store writes (nil outside tests).
	RaftStoreFault func(op string) error

	// Fatal is the fail-stop hook: called at most once, on the goroutine
	// that saw the error, when raft's log or stable store or the state
	// machine's Pebble store failed; the node is not ready from then on.
	// main.go logs and exits (crash-only); it must not call Close, which
	// waits for that goroutine. nil: the error is logged and the node is
	// killed in the background (tests, embedders).
	Fatal func(error)

	// TLS serves the client gRPC port with TLS (nil: plaintext); with
	// ClientCAs and ClientAuth set, clients need a certificate (mTLS).
	// ClientTLS is how this node dials other nodes' gRPC ports (join,
	// forwarding to the leader); it must be set when TLS is.
	TLS, ClientTLS *tls.Config
	// PeerTLS and PeerClientTLS secure the raft transport (raftnode.Config
	// TLS and DialTLS); both or neither.
	PeerTLS, PeerClientTLS *tls.Config
	// APIKey, when set, is required on every gRPC call (but health
	// checks) as "authorization: Bearer <key>"; the join client sends it.
	APIKey string
	// AdminAPIKey, when set, is required on AdminService calls (join,
	// remove, transfer, snapshot, status) and the HTTP details instead of
	// APIKey (see auth.Keys); the join client sends it then.
	AdminAPIKey string
	// PublicStatus serves /status and /digest, PublicMetrics /metrics,
	// without a key even when a key is set (by default they need the
	// admin key then).
	PublicStatus, PublicMetrics bool

	// UIAddr, when set, serves the Temporal Web UI there (port 0: any
	// free port), connected to this node's own gRPC port with ClientTLS
	// and APIKey.
	UIAddr string

	// register, when set, registers more services on the gRPC server
	// (tests: a service whose handlers panic).
	register func(*grpc.Server)
}

func (c Config) keys() auth.Keys { return auth.Keys{Data: c.APIKey, Admin: c.AdminAPIKey} }

// Server is a running node.
type Server struct {
	cfg     Config
	log     *slog.Logger
	FSM     *fsm.FSM
	Node    *raftnode.Node
	Service *rpc.Service
	// engine is the leader's live side, raftnode's leadership hook.
	engine *leader.Engine
	Action raftnode.Action
	// Metrics is this node's Prometheus registry, served on /metrics.
	Metrics *metrics.Metrics

	grpcSrv *grpc.Server
	health  *healthServer
	httpSrv *http.Server
	grpcLn  net.Listener
	ui      *webui.Server
	httpLn  net.Listener

	failed  atomic.Pointer[error] // see fatal
	started chan struct{}         // closed when Start returns

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

// Start opens storage, starts raft and serves gRPC and HTTP. A fresh node
// with no Join bootstraps a one-node cluster; with Join it asks the listed
// members to add it (retrying in the background); a node with state restarts.
func Start(cfg Config) (_ *Server, err error) {
	if cfg.NodeID == "" || cfg.DataDir == "" {
		return nil, errors.New("server: node id and data dir are required")
	}
	if cfg.TLS != nil && cfg.ClientTLS == nil {
		return nil, errors.New("server: TLS on the gRPC port needs ClientTLS for joining and forwarding")
	}
	if (cfg.PeerTLS == nil) != (cfg.PeerClientTLS == nil) {
		return nil, errors.New("server: PeerTLS and PeerClientTLS go together")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, log: log, Metrics: metrics.New(), started: make(chan struct{})}
	defer close(s.started) // after the cleanup below
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.grpcLn, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return nil, fmt.Errorf("server: grpc listen: %w", err)
	}
	if s.httpLn, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		return nil, fmt.Errorf("server: http listen: %w", err)
	}
	if s.FSM, err = fsm.Open(filepath.Join(cfg.DataDir, "fsm"), log.With("component", "fsm")); err != nil {
		return nil, err
	}
	s.FSM.SetFailHandler(s.fatal)
	if err := probeFSM(filepath.Join(cfg.DataDir, "fsm"), s.FSM); err != nil {
		return nil, err
	}
	s.Node, err = raftnode.Open(raftnode.Config{
		NodeID: cfg.NodeID, DataDir: cfg.DataDir, RaftBind: cfg.RaftAddr, RaftAdvertise: cfg.RaftAdvertise,
		Logger: log.With("component", "raft"), SnapshotThreshold: cfg.SnapshotThreshold, TrailingLogs: cfg.TrailingLogs,
		HeartbeatTimeout: cfg.HeartbeatTimeout, ElectionTimeout: cfg.ElectionTimeout,
		LeaderLeaseTimeout: cfg.LeaderLeaseTimeout, CommitTimeout: cfg.CommitTimeout, Fault: cfg.RaftFault,
		TLS: cfg.PeerTLS, DialTLS: cfg.PeerClientTLS, StoreFault: cfg.RaftStoreFault, OnStorageFailure: s.fatal,
	}, s.Metrics.WrapFSM(s.FSM))
	if err != nil {
		return nil, err
	}
	self := &fsmpb.NodeInfo{Id: cfg.NodeID, RaftAddr: s.Node.RaftAddr(), GrpcAddr: s.GRPCAddr(), HttpAddr: s.HTTPAddr()}
	s.engine = leader.New(leader.Config{
		FSM: s.FSM, Node: s.Node, Logger: log.With("component", "leader"), Self: self, Metrics: s.Metrics,
	})
	s.Service = rpc.New(rpc.Config{
		FSM: s.FSM, Node: s.Node, Logger: log.With("component", "rpc"), Engine: s.engine,
		LongPollTimeout: cfg.LongPollTimeout, MinRetention: cfg.MinNamespaceRetention,
		Self: self, ClientTLS: cfg.ClientTLS,
	})
	s.Node.OnLeadership(s.engine.Run)
	s.Metrics.Observe(metrics.Sources{
		Raft: s.Node.Status, FSMApplied: s.FSM.AppliedIndex,
		Ready:  func() bool { ok, _ := s.Ready(); return ok },
		Queues: s.engine.QueueStats, Matches: s.engine.QueueMatches, TimersPending: s.engine.TimersPending,
	})

	gopts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(recoverUnary(log), s.Metrics.UnaryInterceptor(), auth.UnaryInterceptorKeys(cfg.keys()), s.Service.UnaryInterceptor()),
		grpc.ChainStreamInterceptor(recoverStream(log), auth.StreamInterceptorKeys(cfg.keys())),
		grpc.MaxRecvMsgSize(rpc.MaxMessageSize), grpc.MaxSendMsgSize(rpc.MaxMessageSize),
	}
	if cfg.TLS != nil {
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	s.grpcSrv = grpc.NewServer(gopts...)
	s.Service.Register(s.grpcSrv)
	if cfg.register != nil {
		cfg.register(s.grpcSrv)
	}
	s.health = &healthServer{Server: health.NewServer(), s: s}
	healthpb.RegisterHealthServer(s.grpcSrv, s.health)
	s.httpSrv = &http.Server{Handler: s.httpHandler(), ReadHeaderTimeout: 10 * time.Second}
	s.wg.Add(2)
	go func() { defer s.wg.Done(); s.grpcSrv.Serve(s.grpcLn) }()
	go func() { defer s.wg.Done(); s.httpSrv.Serve(s.httpLn) }()

	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Add(3)
	go func() { defer s.wg.Done(); s.health.run(ctx) }()
	go func() { defer s.wg.Done(); s.probeLoop(ctx) }()
	go func() { defer s.wg.Done(); s.Metrics.WatchLeader(ctx, s.Node.Raft()) }()
	if cfg.UIAddr != "" {
		if s.ui, err = webui.Start(webui.Config{
			Addr: cfg.UIAddr, GRPCTarget: s.selfTarget(), TLS: s.selfTLS(), APIKey: cfg.APIKey,
			Logger: log.With("component", "webui"),
		}); err != nil {
			return nil, err
		}
	}
	s.Action = raftnode.Decide(s.Node.HasState(), cfg.Join)
	switch s.Action {
	case raftnode.ActionBootstrap:
		if err := s.Node.Bootstrap(); err != nil {
			return nil, err
		}
	case raftnode.ActionJoin:
		s.wg.Add(1)
		go func() { defer s.wg.Done(); s.joinLoop(ctx) }()
	}
	return s, nil
}

// UIAddr is the Web UI's bound address ("" when the UI is off).
func (s *Server) UIAddr() string {
	if s.ui == nil {
		return ""
	}
	return s.ui.Addr()
}

// selfTarget is this node's gRPC listener as a dialable address: the
// bound port on 127.0.0.1 when bound to all interfaces. (Go reports
// "0.0.0.0" listeners as "[::]", and a dual-stack socket accepts IPv4
// loopback; ::1 may not exist at all, e.g. in a FROM scratch container.)
func (s *Server) selfTarget() string {
	addr := s.grpcLn.Addr().(*net.TCPAddr)
	ip := addr.IP
	if ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(addr.Port))
}

// selfTLS is ClientTLS for dialing selfTarget: the server certificate is
// checked against the advertised host (which other nodes verify too)
// rather than the loopback address actually dialed.
func (s *Server) selfTLS() *tls.Config {
	if s.cfg.ClientTLS == nil {
		return nil
	}
	c := s.cfg.ClientTLS.Clone()
	if c.ServerName == "" {
		if host, _, err := net.SplitHostPort(s.GRPCAddr()); err == nil {
			if ip := net.ParseIP(host); ip == nil || !ip.IsUnspecified() {
				c.ServerName = host
			}
		}
	}
	return c
}

// GRPCAddr is the advertised gRPC address.
func (s *Server) GRPCAddr() string { return advertise(s.cfg.GRPCAdvertise, s.grpcLn) }

// HTTPAddr is the advertised HTTP address.
func (s *Server) HTTPAddr() string { return advertise(s.cfg.HTTPAdvertise, s.httpLn) }

// RaftAddr is the advertised raft address.
func (s *Server) RaftAddr() string { return s.Node.RaftAddr() }

func advertise(adv string, ln net.Listener) string {
	if adv != "" {
		return adv
	}
	if ln == nil {
		return ""
	}
	return ln.Addr().String()
}

// joinLoop asks each listed member in turn to add this node until one
// succeeds (a follower forwards the request to the leader).
func (s *Server) joinLoop(ctx context.Context) {
	req := &adminpb.JoinRequest{NodeId: s.cfg.NodeID, RaftAddr: s.RaftAddr(), GrpcAddr: s.GRPCAddr(), HttpAddr: s.HTTPAddr()}
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		for _, addr := range s.cfg.Join {
			if err := s.joinOnce(ctx, addr, req); err != nil {
				s.log.Warn("join attempt failed", "member", addr, "attempt", attempt, "err", err)
				continue
			}
			s.log.Info("joined cluster", "via", addr)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

func (s *Server) joinOnce(ctx context.Context, addr string, req *adminpb.JoinRequest) error {
	opts := []grpc.DialOption{auth.DialCredentials(s.cfg.ClientTLS)}
	if k := s.cfg.keys().AdminKey(); k != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(auth.Bearer(k)))
	}
	conn, err := grpc.NewClient(strings.TrimSpace(addr), opts...)
	if err != nil {
		return err
	}
	defer conn.Close()
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, err = adminpb.NewAdminServiceClient(conn).Join(cctx, req)
	return err
}

func (s *Server) httpHandler() http.Handler {
	mux := http.NewServeMux()
	if s.cfg.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	live := func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") }
	mux.HandleFunc("/livez", live)
	mux.HandleFunc("/healthz", live)
	mux.Handle("/metrics", s.Metrics.Handler())
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if ok, why := s.Ready(); !ok {
			http.Error(w, why, http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	// /digest: this node's own FSM state digest and the applied index it
	// covers (jepsen/ compares replicas); 503 while an apply raced the scan.
	mux.HandleFunc("/digest", func(w http.ResponseWriter, r *http.Request) {
		before := s.FSM.AppliedIndex()
		d := s.FSM.Digest()
		if after := s.FSM.AppliedIndex(); after != before {
			http.Error(w, "applied index moved during the digest; retry", http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, "{\"applied_index\":%d,\"digest\":%q}\n", before, d)
	})
	mux.HandleFunc("/status", func(w http.ResponseWriter, r *http.Request) {
		b, err := protojson.MarshalOptions{EmitUnpopulated: true, UseProtoNames: true}.Marshal(s.Service.StatusProto())
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var pretty json.RawMessage = b
		w.Header().Set("Content-Type", "application/json")
		out, _ := json.MarshalIndent(pretty, "", "  ")
		w.Write(append(out, '\n'))
	})
	return s.guardHTTP(mux)
}

// Ready reports whether the node can serve: a leader is known, this node has
// applied everything it knows to be committed, and, on the leader, the
// leader services are running.
//
// "Applied" is raft's applied index, not the FSM's: raft hands the FSM only
// commands and configuration changes, so after a new leader's no-op (or a
// barrier) the FSM's index stays below the commit index until the next
// command, which may never come on an idle cluster. Raft's index counts
// every entry it has passed on to the FSM.
//
// A node whose storage failed is never ready again, nor one whose state
// machine is ahead of its raft log (see raftnode.ErrFSMAhead; a follower
// installing a snapshot may show it for a moment, between the FSM's
// restore and raft recording the snapshot's index).
func (s *Server) Ready() (bool, string) {
	if err := s.StorageErr(); err != nil {
		return false, "storage failed: " + err.Error()
	}
	applied := s.FSM.AppliedIndex() // before Status: the log only grows past it
	st := s.Node.Status()
	switch {
	case applied > st.LastIndex:
		return false, fmt.Sprintf("state machine ahead of the raft log: applied %d > last index %d", applied, st.LastIndex)
	case st.LeaderID == "":
		return false, "no leader known"
	case s.Node.IsLeader() && !s.Service.Ready():
		return false, "leader services starting"
	case st.AppliedIndex < st.CommitIndex:
		return false, fmt.Sprintf("catching up: applied %d < commit %d", st.AppliedIndex, st.CommitIndex)
	}
	return true, ""
}

// Close stops serving, hands leadership over (if leader), stops raft and
// closes storage. Safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() { s.closeErr = s.stop(true) })
	return s.closeErr
}

// Kill stops the node the way a crash looks to the rest of the cluster:
// client connections are cut at once and leadership is not handed over,
// so the others elect a leader only after an election timeout. Storage is
// still closed cleanly, so the data directory can be reopened in the same
// process (the test cluster's Restart). Close and Kill share one once:
// whichever runs first decides.
func (s *Server) Kill() error {
	s.closeOnce.Do(func() { s.closeErr = s.stop(false) })
	return s.closeErr
}

func (s *Server) stop(graceful bool) error {
	if s.cancel != nil {
		s.cancel()
	}
	if s.ui != nil {
		s.ui.Close()
	}
	switch {
	case s.grpcSrv != nil && !graceful:
		s.grpcSrv.Stop()
	case s.grpcSrv != nil:
		stopped := make(chan struct{})
		go func() { s.grpcSrv.GracefulStop(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(time.Second):
			s.grpcSrv.Stop()
		}
	case s.grpcLn != nil:
		s.grpcLn.Close()
	}
	switch {
	case s.httpSrv != nil && !graceful:
		s.httpSrv.Close()
	case s.httpSrv != nil:
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		s.httpSrv.Shutdown(ctx)
		cancel()
	case s.httpLn != nil:
		s.httpLn.Close()
	}
	var err error
	switch {
	case s.Node != nil && !graceful:
		err = s.Node.Kill()
	case s.Node != nil:
		err = s.Node.Shutdown()
	}
	if s.Service != nil {
		s.Service.Close()
	}
	s.wg.Wait()
	if s.FSM != nil {
		err = errors.Join(err, s.FSM.Close())
	}
	return err
}

// RegisterSearchAttributes waits until this node leads (or ctx ends) and
// registers attrs in namespace ns (`engine --dev --search-attribute`).
func (s *Server) RegisterSearchAttributes(ctx context.Context, ns string, attrs map[string]enumspb.IndexedValueType) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !s.Service.Ready() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("registering search attributes: this node did not become leader: %w", ctx.Err())
		case <-tick.C:
		}
	}
	return s.Service.AddSearchAttributes(ctx, ns, attrs)
}
