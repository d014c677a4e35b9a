// Command engine runs one raftflow node: a Temporal-compatible workflow
// engine replicated with raft. See README.md.
//
// flags → open node → bootstrap | join | restart → serve → wait for signal.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/raftflow/engine/fsm"
	"github.com/raftflow/engine/internal/auth"
	"github.com/raftflow/engine/internal/cli"
	"github.com/raftflow/engine/internal/server"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "cluster" {
		os.Exit(cli.Cluster(os.Args[2:], os.Stdout, os.Stderr))
	}
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "engine:", err)
		os.Exit(1)
	}
}

type options struct {
	dev                                         bool
	nodeID, dataDir                             string
	grpcAddr, raftAddr, httpAddr                string
	grpcAdvertise, raftAdvertise, httpAdvertise string
	join                                        string
	logLevel                                    string
	pprof                                       bool
	snapshotThreshold, trailingLogs             uint64
	config                                      string
	tls, peerTLS                                auth.TLSFiles
	apiKey, apiKeyFile                          string
	uiAddr                                      string
	adminAPIKey, adminAPIKeyFile                string
	insecureRaft, publicStatus, publicMetrics   bool
	searchAttrs                                 map[string]enumspb.IndexedValueType // --search-attribute
	warnings                                    []string                            // from checkSecurity, logged at start
}

// devUIAddr is where --dev serves the Web UI unless --ui-addr says otherwise
// (the temporal CLI dev server's port).
const devUIAddr = "127.0.0.1:8233"

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("engine", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: engine [flags]\n       engine cluster COMMAND [flags]   (engine cluster --help)\n\n"+
			"Every flag can also be set as ENGINE_<FLAG> in the environment\n(e.g. ENGINE_DATA_DIR) and in a YAML file named by --config\n(data-dir: /var/lib/raftflow; lists allowed for join).\nFlags win over the environment, the environment over the file.\n\n")
		fs.PrintDefaults()
	}
	fs.BoolVar(&o.dev, "dev", false, "single-node dev mode: node id \"dev\", data under the user cache dir unless --data-dir is set")
	fs.StringVar(&o.nodeID, "node-id", "", "this node's stable raft id (required outside --dev)")
	fs.StringVar(&o.dataDir, "data-dir", "", "where raft log, snapshots and state live (required outside --dev)")
	fs.StringVar(&o.grpcAddr, "grpc-addr", "127.0.0.1:7233", "Temporal gRPC API listen address")
	fs.StringVar(&o.raftAddr, "raft-addr", "127.0.0.1:7234", "raft transport listen address")
	fs.StringVar(&o.httpAddr, "http-addr", "127.0.0.1:7235", "HTTP listen address (/livez, /readyz, /status, /metrics)")
	fs.StringVar(&o.grpcAdvertise, "grpc-advertise", "", "gRPC address other nodes and clients use (default: --grpc-addr)")
	fs.StringVar(&o.raftAdvertise, "raft-advertise", "", "raft address other nodes use (default: --raft-addr)")
	fs.StringVar(&o.httpAdvertise, "http-advertise", "", "HTTP address reported in /status (default: --http-addr)")
	fs.StringVar(&o.join, "join", "", "comma-separated gRPC addresses of cluster members to join (ignored when the node has state)")
	fs.StringVar(&o.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.BoolVar(&o.pprof, "pprof", false, "serve Go profiles under /debug/pprof/ on the HTTP address")
	fs.Uint64Var(&o.snapshotThreshold, "raft-snapshot-threshold", 0, "raft log entries between snapshots (0: default; chaos runs lower it)")
	fs.Uint64Var(&o.trailingLogs, "raft-trailing-logs", 0, "raft log entries kept after a snapshot (0: default; chaos runs lower it)")
	fs.StringVar(&o.config, "config", "", "YAML file of settings, keys named as the flags (ENGINE_CONFIG)")
	fs.StringVar(&o.tls.Cert, "tls-cert", "", "certificate (PEM) served on the gRPC port; enables TLS for clients")
	fs.StringVar(&o.tls.Key, "tls-key", "", "key (PEM) of --tls-cert")
	fs.StringVar(&o.tls.CA, "tls-ca", "", "CA bundle (PEM): clients must present a certificate it signed (mutual TLS); also verifies other nodes' gRPC certificates")
	fs.StringVar(&o.peerTLS.Cert, "peer-tls-cert", "", "certificate (PEM) for the raft transport between nodes; enables TLS there")
	fs.StringVar(&o.peerTLS.Key, "peer-tls-key", "", "key (PEM) of --peer-tls-cert")
	fs.StringVar(&o.peerTLS.CA, "peer-tls-ca", "", "CA bundle (PEM) that signed the other nodes' peer certificates (mutual TLS)")
	fs.StringVar(&o.apiKey, "api-key", "", "require this key on every gRPC call but health checks (authorization: Bearer <key>);\nAdminService calls take --admin-api-key instead when that is set")
	fs.StringVar(&o.apiKeyFile, "api-key-file", "", "file whose first line is the API key (instead of --api-key)")
	fs.StringVar(&o.adminAPIKey, "admin-api-key", "", "require this key (instead of --api-key) on AdminService calls (join, remove, transfer,\nsnapshot, status) and on /status, /digest, /metrics, /debug/pprof; every node needs the same")
	fs.StringVar(&o.adminAPIKeyFile, "admin-api-key-file", "", "file whose first line is the admin API key (instead of --admin-api-key)")
	fs.BoolVar(&o.insecureRaft, "insecure-raft", false, "allow a non-loopback raft address without peer mutual TLS while an API key or --tls-ca\nis set: only when the nodes' network is trusted (anyone reaching the raft port can write)")
	fs.BoolVar(&o.publicStatus, "public-status", false, "serve /status and /digest without a key even when a key is set")
	fs.BoolVar(&o.publicMetrics, "public-metrics", false, "serve /metrics without a key even when a key is set (for scrapers without credentials)")
	fs.StringVar(&o.uiAddr, "ui-addr", "", "serve the Temporal Web UI here, connected to this node's gRPC port (with the TLS\nand API-key settings above); \"off\" disables it; default: "+devUIAddr+" with --dev,\noff otherwise. The UI has no login of its own: whoever reaches it acts with the API key")
	fs.Func("search-attribute", "with --dev: register a search attribute in the default namespace at start, as NAME=TYPE\n(Text, Keyword, Int, Double, Bool, Datetime, KeywordList); repeatable, or comma-separated", func(v string) error {
		return parseSearchAttributes(v, &o.searchAttrs)
	})
	// Config file first, then the environment, then flags override.
	if path := cli.ConfigPath(args); path != "" {
		if err := cli.LoadConfigFile(fs, path); err != nil {
			return nil, err
		}
	}
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		name := "ENGINE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(name); ok {
			if err := f.Value.Set(v); err != nil && envErr == nil {
				envErr = fmt.Errorf("%s: %w", name, err)
			}
		}
	})
	if envErr != nil {
		return nil, envErr
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.dev {
		if o.nodeID == "" {
			o.nodeID = "dev"
		}
		if o.dataDir == "" {
			base, err := os.UserCacheDir()
			if err != nil {
				base = os.TempDir()
			}
			o.dataDir = filepath.Join(base, "raftflow", "dev")
		}
	}
	switch {
	case o.uiAddr == "off":
		o.uiAddr = ""
	case o.uiAddr == "" && o.dev:
		o.uiAddr = devUIAddr
	}
	if o.nodeID == "" || o.dataDir == "" {
		return nil, fmt.Errorf("--node-id and --data-dir are required (or use --dev)")
	}
	if len(o.searchAttrs) > 0 && !o.dev {
		return nil, fmt.Errorf("--search-attribute needs --dev; on a cluster run `temporal operator search-attribute create` once")
	}
	var err error
	if o.warnings, err = o.checkSecurity(); err != nil {
		return nil, err
	}
	return o, nil
}

func run(args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	for _, w := range o.warnings {
		logger.Warn(w)
	}
	if err := os.MkdirAll(o.dataDir, 0o755); err != nil {
		return err
	}
	var join []string
	for _, j := range strings.Split(o.join, ",") {
		if j = strings.TrimSpace(j); j != "" {
			join = append(join, j)
		}
	}
	cfg := server.Config{
		NodeID: o.nodeID, DataDir: o.dataDir,
		GRPCAddr: o.grpcAddr, RaftAddr: o.raftAddr, HTTPAddr: o.httpAddr,
		GRPCAdvertise: o.grpcAdvertise, RaftAdvertise: o.raftAdvertise, HTTPAdvertise: o.httpAdvertise,
		Join: join, Logger: logger, Pprof: o.pprof,
		SnapshotThreshold: o.snapshotThreshold, TrailingLogs: o.trailingLogs,
		UIAddr: o.uiAddr, PublicStatus: o.publicStatus, PublicMetrics: o.publicMetrics,
		// Crash-only: a storage failure stops the process at once; the
		// restart re-checks the data dir (docs/operations.md).
		Fatal: func(err error) {
			logger.Error("fatal storage error, exiting", "err", err)
			fmt.Fprintln(os.Stderr, "engine: fatal:", err)
			os.Exit(1)
		},
	}
	if cfg.TLS, cfg.ClientTLS, err = auth.NodeTLS(o.tls); err != nil {
		return err
	}
	if cfg.PeerTLS, cfg.PeerClientTLS, err = auth.NodeTLS(o.peerTLS); err != nil {
		return err
	}
	if o.peerTLS.Enabled() {
		adv := o.raftAdvertise
		if adv == "" {
			adv = o.raftAddr
		}
		if err := checkPeerCert(o.peerTLS.Cert, o.nodeID, adv); err != nil {
			return err
		}
	}
	if cfg.APIKey, err = auth.ReadKey(o.apiKey, o.apiKeyFile); err != nil {
		return err
	}
	if cfg.AdminAPIKey, err = auth.ReadKey(o.adminAPIKey, o.adminAPIKeyFile); err != nil {
		return err
	}
	if o.dev {
		// One node: nobody to wait for, so elect at once on start.
		cfg.HeartbeatTimeout, cfg.ElectionTimeout, cfg.LeaderLeaseTimeout = 100*time.Millisecond, 100*time.Millisecond, 50*time.Millisecond
	}
	srv, err := server.Start(cfg)
	if err != nil {
		return err
	}
	if len(o.searchAttrs) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err := srv.RegisterSearchAttributes(ctx, fsm.DefaultNamespace, o.searchAttrs)
		cancel()
		if err != nil {
			srv.Close()
			return fmt.Errorf("--search-attribute: %w", err)
		}
	}
	fmt.Fprintf(os.Stderr, "raftflow engine %s\n  node id:   %s (%s)\n  data dir:  %s\n  gRPC:      %s  (Temporal clients: HostPort %q)\n  raft:      %s\n  HTTP:      http://%s/status  /livez  /readyz  /metrics\n",
		modeName(o.dev), o.nodeID, srv.Action, o.dataDir, srv.GRPCAddr(), srv.GRPCAddr(), srv.RaftAddr(), srv.HTTPAddr())
	if a := srv.UIAddr(); a != "" {
		fmt.Fprintf(os.Stderr, "  Web UI:    http://%s/\n", a)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	s := <-sig
	logger.Info("shutting down", "signal", s.String())
	return srv.Close()
}

// parseSearchAttributes adds NAME=TYPE[,NAME=TYPE...] to *into; TYPE is
// an IndexedValueType's short name in any case, as the temporal CLI takes.
func parseSearchAttributes(v string, into *map[string]enumspb.IndexedValueType) error {
	for _, part := range strings.Split(v, ",") {
		name, typ, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || name == "" {
			return fmt.Errorf("%q: want NAME=TYPE", part)
		}
		found := enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED
		for short, n := range enumspb.IndexedValueType_shorthandValue {
			if n != 0 && strings.EqualFold(short, typ) {
				found = enumspb.IndexedValueType(n)
			}
		}
		if found == enumspb.INDEXED_VALUE_TYPE_UNSPECIFIED {
			return fmt.Errorf("%q: unknown type %q (want Text, Keyword, Int, Double, Bool, Datetime or KeywordList)", part, typ)
		}
		if *into == nil {
			*into = map[string]enumspb.IndexedValueType{}
		}
		(*into)[name] = found
	}
	return nil
}

func modeName(dev bool) string {
	if dev {
		return "(dev mode)"
	}
	return "(cluster mode)"
}
