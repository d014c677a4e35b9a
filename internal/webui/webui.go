// Package webui serves the Temporal Web UI (the published
// github.com/temporalio/ui-server/v2 module: its embedded assets and its
// HTTP-to-gRPC gateway) on its own address, talking to the engine's own
// gRPC port.
//
// It assembles the UI server from the module's route and middleware
// packages rather than calling uiserver.NewServer/Start, because Start
// listens by itself (no port 0, no way to learn the bound address) and
// calls log.Fatal when listening fails, and because the module dials the
// Temporal frontend from file paths only, while the engine already holds
// its client TLS configuration and API key. The assembly mirrors
// uiserver.NewServer of the pinned version; see the ui-server module when
// upgrading it.
package webui

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/temporalio/ui-server/v2/server/api"
	uiauth "github.com/temporalio/ui-server/v2/server/auth"
	uiconfig "github.com/temporalio/ui-server/v2/server/config"
	"github.com/temporalio/ui-server/v2/server/cors"
	"github.com/temporalio/ui-server/v2/server/csrf"
	"github.com/temporalio/ui-server/v2/server/headers"
	"github.com/temporalio/ui-server/v2/server/route"
	"github.com/temporalio/ui-server/v2/ui"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"

	"github.com/raftflow/engine/internal/auth"
	"github.com/raftflow/engine/rpc"
)

// Config configures the UI server.
type Config struct {
	// Addr is the HTTP listen address (port 0: any free port).
	Addr string
	// GRPCTarget is the engine gRPC address the UI's gateway dials.
	GRPCTarget string
	// TLS is the client TLS configuration for GRPCTarget (nil: plaintext).
	TLS *tls.Config
	// APIKey, when set, is sent on every call as "authorization: Bearer".
	APIKey string
	// DefaultNamespace is the namespace the UI opens (default "default").
	DefaultNamespace string
	Logger           *slog.Logger
}

// Server is a running UI server.
type Server struct {
	ln   net.Listener
	http *http.Server
	conn *grpc.ClientConn
	cfgP *uiconfig.ConfigProviderWithRefresh
	done chan struct{}
	addr string
}

// Start listens on cfg.Addr and serves the UI in the background.
func Start(cfg Config) (*Server, error) {
	if cfg.GRPCTarget == "" {
		return nil, errors.New("webui: no gRPC target")
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	ns := cfg.DefaultNamespace
	if ns == "" {
		ns = "default"
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("webui: listen: %w", err)
	}
	uicfg := &uiconfig.Config{
		TemporalGRPCAddress: cfg.GRPCTarget,
		EnableUI:            true,
		DefaultNamespace:    ns,
		// The UI is served over plain HTTP; secure cookies would be dropped.
		CORS:             uiconfig.CORS{CookieInsecure: true},
		HideLogs:         true,
		DisableNewsFetch: true,
		Distribution:     "raftflow",
		// Features raftflow does not have: hide their buttons rather
		// than offer calls that fail with Unimplemented.
		WorkflowResetDisabled: true,
		WorkflowPauseDisabled: true,
		BatchActionsDisabled:  true,
	}
	cfgP, err := uiconfig.NewConfigProviderWithRefresh(uicfg)
	if err != nil {
		ln.Close()
		return nil, err
	}
	opts := []grpc.DialOption{
		auth.DialCredentials(cfg.TLS),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(rpc.MaxMessageSize), grpc.MaxCallSendMsgSize(rpc.MaxMessageSize)),
	}
	if cfg.APIKey != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(auth.Bearer(cfg.APIKey)))
	}
	conn, err := grpc.NewClient(cfg.GRPCTarget, opts...)
	if err != nil {
		ln.Close()
		cfgP.Close()
		return nil, fmt.Errorf("webui: dial %s: %w", cfg.GRPCTarget, err)
	}
	e, err := newEcho(cfgP, conn)
	if err != nil {
		ln.Close()
		conn.Close()
		cfgP.Close()
		return nil, err
	}
	s := &Server{
		ln: ln, conn: conn, cfgP: cfgP, done: make(chan struct{}), addr: ln.Addr().String(),
		http: &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)},
	}
	go func() {
		defer close(s.done)
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("web UI server stopped", "err", err)
		}
	}()
	return s, nil
}

// newEcho mirrors uiserver.NewServer (ui-server v2.55.0), with conn as the
// gateway's connection instead of one dialed from the config.
func newEcho(cfgP *uiconfig.ConfigProviderWithRefresh, conn *grpc.ClientConn) (*echo.Echo, error) {
	cfg, err := cfgP.GetConfig()
	if err != nil {
		return nil, err
	}
	apiMiddleware := []api.Middleware{
		// The Authorization header itself is forwarded by grpc-gateway.
		headers.WithForwardHeaders([]string{uiauth.AuthorizationExtrasHeader, "Caller-Type"}),
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Use(middleware.Recover())
	e.Use(middleware.Gzip())
	e.Use(cors.CORSMiddleware(cors.CORSConfig{
		AllowHeaders: []string{
			echo.HeaderOrigin, echo.HeaderContentType, echo.HeaderAccept,
			echo.HeaderXCSRFToken, echo.HeaderAuthorization, uiauth.AuthorizationExtrasHeader,
			"Caller-Type",
		},
		AllowCredentials: true,
		ConfigProvider:   cfgP,
	}))
	e.Use(middleware.Secure())
	cookieSecure := !cfg.CORS.CookieInsecure
	e.Use(csrf.EnsureTokenCookie(cookieSecure))
	e.Use(middleware.CSRFWithConfig(csrf.MiddlewareConfig(cfgP, cookieSecure)))
	e.Pre(route.PublicPath(cfg.PublicPath))
	route.SetHealthRoute(e)

	// route.SetAPIRoutes, with our connection.
	g := e.Group("/api/v1")
	g.GET("/settings", api.GetSettings(cfgP))
	g.GET("/releases", api.GetLatestReleases(cfgP, api.NewReleaseChecker()))
	g.GET("/ui-extensions", api.GetUIExtensions(cfgP, api.TemporalAccessCheck(conn, apiMiddleware)))
	writes := route.DisableWriteMiddleware(cfgP)
	g.GET(api.WorkflowRawHistoryUrl, api.WorkflowRawHistoryHandler(workflowservice.NewWorkflowServiceClient(conn)), writes)
	g.Match([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, "/*", api.TemporalAPIHandler(cfgP, apiMiddleware, conn), writes)

	route.SetAuthRoutes(e, cfgP)
	assets, err := ui.Assets()
	if err != nil {
		return nil, err
	}
	if assets, err = fs.Sub(assets, "local"); err != nil {
		return nil, err
	}
	if err := route.SetUIRoutes(e, cfg.PublicPath, assets, cfgP); err != nil {
		return nil, err
	}
	route.SetRenderRoute(e, "/")
	return e, nil
}

// Addr is the bound HTTP address.
func (s *Server) Addr() string { return s.addr }

// Close stops serving and closes the gRPC connection.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	err := s.http.Shutdown(ctx)
	if err != nil {
		s.http.Close()
	}
	<-s.done
	s.cfgP.Close()
	return errors.Join(err, s.conn.Close())
}
