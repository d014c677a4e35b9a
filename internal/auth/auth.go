// Package auth holds the engine's transport security: TLS configurations
// built from PEM files (client gRPC port, raft transport, and the clients
// nodes and the CLI use), and the optional API keys, bearer tokens in gRPC
// metadata ("authorization: Bearer <key>") as the official Temporal SDK
// sends them with client.NewAPIKeyStaticCredentials: a data-plane key and
// an admin-plane key (Keys), also checked on the HTTP details (AdminHTTP).
package auth

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// TLSFiles names PEM files. Cert and Key go together; CA is the bundle
// that verifies the other side (for a server: client certificates, which
// makes TLS mutual; for a client: the server's certificate).
type TLSFiles struct{ Cert, Key, CA string }

// Enabled reports whether any file is set.
func (f TLSFiles) Enabled() bool { return f.Cert != "" || f.Key != "" || f.CA != "" }

func (f TLSFiles) keyPair() ([]tls.Certificate, error) {
	if (f.Cert == "") != (f.Key == "") {
		return nil, errors.New("auth: a TLS certificate needs its key and the key its certificate")
	}
	if f.Cert == "" {
		return nil, nil
	}
	c, err := tls.LoadX509KeyPair(f.Cert, f.Key)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return []tls.Certificate{c}, nil
}

func loadPool(file string) (*x509.CertPool, error) {
	if file == "" {
		return nil, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	p := x509.NewCertPool()
	if !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("auth: %s holds no PEM certificate", file)
	}
	return p, nil
}

// ServerConfig is the TLS configuration of a listener: f's certificate,
// and with f.CA set, client certificates required and verified against it
// (mutual TLS). Nil when f is empty (plaintext).
func ServerConfig(f TLSFiles) (*tls.Config, error) {
	if !f.Enabled() {
		return nil, nil
	}
	certs, err := f.keyPair()
	if err != nil {
		return nil, err
	}
	if certs == nil {
		return nil, errors.New("auth: serving TLS needs a certificate and key")
	}
	cfg := &tls.Config{Certificates: certs, MinVersion: tls.VersionTLS12}
	if cfg.ClientCAs, err = loadPool(f.CA); err != nil {
		return nil, err
	}
	if cfg.ClientCAs != nil {
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// ClientConfig is the TLS configuration of a client: servers verified
// against f.CA (the system roots when empty), f's certificate presented
// when set (mutual TLS). serverName overrides the name checked against
// the server's certificate (default: the host dialed). Nil when f is
// empty and serverName is "" (plaintext).
func ClientConfig(f TLSFiles, serverName string) (*tls.Config, error) {
	if !f.Enabled() && serverName == "" {
		return nil, nil
	}
	certs, err := f.keyPair()
	if err != nil {
		return nil, err
	}
	cfg := &tls.Config{Certificates: certs, ServerName: serverName, MinVersion: tls.VersionTLS12}
	if cfg.RootCAs, err = loadPool(f.CA); err != nil {
		return nil, err
	}
	return cfg, nil
}

// DialCredentials is the grpc transport credentials for cfg (insecure
// when nil).
func DialCredentials(cfg *tls.Config) grpc.DialOption {
	if cfg == nil {
		return grpc.WithTransportCredentials(insecure.NewCredentials())
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(cfg))
}

// ReadKey returns the API key: key itself, or the first line of file.
// Setting both is an error.
func ReadKey(key, file string) (string, error) {
	if file == "" {
		return key, nil
	}
	if key != "" {
		return "", errors.New("auth: set the API key or its file, not both")
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("auth: %w", err)
	}
	k, _, _ := strings.Cut(string(b), "\n")
	if k = strings.TrimSpace(k); k == "" {
		return "", fmt.Errorf("auth: %s holds no key", file)
	}
	return k, nil
}

// Public lists the methods served without an API key: readiness probes.
var Public = map[string]bool{
	"/grpc.health.v1.Health/Check": true,
	"/grpc.health.v1.Health/Watch": true,
	"/grpc.health.v1.Health/List":  true,
}

// errUnauthenticated is deliberately vague: it says neither whether a key
// was sent nor how it differed.
var errUnauthenticated = status.Error(codes.Unauthenticated, "raftflow: missing or invalid API key (authorization: Bearer <key>)")

// adminService prefixes the admin plane's methods: membership, leadership
// transfer, snapshots, status, and whatever AdminService gains later.
const adminService = "/raftflow.admin.v1.AdminService/"

// IsAdmin reports whether fullMethod belongs to the admin plane.
func IsAdmin(fullMethod string) bool { return strings.HasPrefix(fullMethod, adminService) }

// Keys are the API keys a node requires. Data guards the Temporal API
// (WorkflowService, OperatorService); Admin guards the AdminService and
// the HTTP details (/status, /digest, pprof). Without Admin, the admin
// plane takes the Data key, as before the split. The Admin key also opens
// the data plane (it is the stronger credential). Empty keys leave their
// plane open.
type Keys struct{ Data, Admin string }

// Any reports whether any key is set.
func (k Keys) Any() bool { return k.Data != "" || k.Admin != "" }

// AdminKey is the key the admin plane requires ("" if open).
func (k Keys) AdminKey() string {
	if k.Admin != "" {
		return k.Admin
	}
	return k.Data
}

// accepted lists the keys that authorize fullMethod; nil means open.
func (k Keys) accepted(fullMethod string) [][]byte {
	switch {
	case Public[fullMethod]:
		return nil
	case IsAdmin(fullMethod):
		if a := k.AdminKey(); a != "" {
			return [][]byte{[]byte(a)}
		}
		return nil
	case k.Data == "":
		return nil
	case k.Admin != "":
		return [][]byte{[]byte(k.Data), []byte(k.Admin)}
	default:
		return [][]byte{[]byte(k.Data)}
	}
}

// check verifies the bearer token in ctx's metadata against keys in
// constant time (per key).
func check(ctx context.Context, keys [][]byte) error {
	md, _ := metadata.FromIncomingContext(ctx)
	for _, v := range md.Get("authorization") {
		if matchBearer(v, keys) {
			return nil
		}
	}
	return errUnauthenticated
}

// matchBearer reports whether header is "Bearer <one of keys>".
func matchBearer(header string, keys [][]byte) bool {
	scheme, tok, found := strings.Cut(header, " ")
	if !found || !strings.EqualFold(scheme, "bearer") {
		return false
	}
	ok := false
	for _, k := range keys {
		ok = subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), k) == 1 || ok
	}
	return ok
}

// UnaryInterceptor refuses calls without "authorization: Bearer <key>"
// (Unauthenticated), except Public methods. An empty key allows all.
func UnaryInterceptor(key string) grpc.UnaryServerInterceptor {
	return UnaryInterceptorKeys(Keys{Data: key})
}

// UnaryInterceptorKeys refuses calls that do not carry a key k accepts
// for their method (see Keys): Unauthenticated.
func UnaryInterceptorKeys(k Keys) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		if keys := k.accepted(info.FullMethod); keys != nil {
			if err := check(ctx, keys); err != nil {
				return nil, err
			}
		}
		return handler(ctx, req)
	}
}

// StreamInterceptor is UnaryInterceptor for streaming calls.
func StreamInterceptor(key string) grpc.StreamServerInterceptor {
	return StreamInterceptorKeys(Keys{Data: key})
}

// StreamInterceptorKeys is UnaryInterceptorKeys for streaming calls.
func StreamInterceptorKeys(k Keys) grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		if keys := k.accepted(info.FullMethod); keys != nil {
			if err := check(ss.Context(), keys); err != nil {
				return err
			}
		}
		return handler(srv, ss)
	}
}

// AdminHTTP wraps h so that, when k has any key, a request must carry
// "Authorization: Bearer <admin key>" (the data key when no admin key is
// set); otherwise 401. With no key at all h is served as is.
func AdminHTTP(k Keys, h http.Handler) http.Handler {
	key := k.AdminKey()
	if key == "" {
		return h
	}
	keys := [][]byte{[]byte(key)}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := false
		for _, v := range r.Header.Values("Authorization") {
			ok = ok || matchBearer(v, keys)
		}
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="raftflow admin"`)
			http.Error(w, "raftflow: missing or invalid admin key (Authorization: Bearer <key>)", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Bearer is per-call credentials sending key as the SDK does. It does not
// insist on TLS (a dev cluster may use a key without TLS); do not send a
// real key over plaintext.
type Bearer string

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (b Bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials.
func (Bearer) RequireTransportSecurity() bool { return false }

// NodeTLS builds a node's pair of configurations from one set of files:
// server (f's certificate; clients verified against f.CA when set) and
// client, for dialing the other nodes (verified against f.CA, presenting
// f's certificate, so with mutual TLS the certificate must allow client
// authentication too). Both nil when f is empty.
func NodeTLS(f TLSFiles) (server, client *tls.Config, err error) {
	if server, err = ServerConfig(f); err != nil || server == nil {
		return nil, nil, err
	}
	if client, err = ClientConfig(f, ""); err != nil {
		return nil, nil, err
	}
	return server, client, nil
}
