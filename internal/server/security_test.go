package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/raftflow/engine/internal/auth"
	"github.com/raftflow/engine/internal/cli"
	"github.com/raftflow/engine/internal/server"
	"github.com/raftflow/engine/internal/testcluster"
	"github.com/raftflow/engine/raftnode"
	"github.com/raftflow/engine/rpc/adminpb"
)

const (
	dataKey  = "data-key"
	adminKey = "admin-key"
)

// grpcConn dials addr in plaintext, sending key (if any) as the bearer.
func grpcConn(t *testing.T, addr, key string) *grpc.ClientConn {
	t.Helper()
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if key != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(auth.Bearer(key)))
	}
	c, err := grpc.NewClient(addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// httpCode GETs path with an optional bearer key and returns the status.
func httpCode(t *testing.T, addr, path, key string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestAdminKeySplit: with --admin-api-key the AdminService and the HTTP
// details take the admin key, not the data key; nodes join with it; the
// data plane takes either. Without an admin key, the data key opens both
// (as before the split). A join cannot move the leader's member row.
func TestAdminKeySplit(t *testing.T) {
	c := testcluster.Start(t, 3, testcluster.WithConfig(func(i int, cfg *server.Config) {
		cfg.APIKey, cfg.AdminAPIKey = dataKey, adminKey
	}))
	l := c.Leader()
	f := (l + 1) % 3
	ctx := ctxFor(t, 30*time.Second)
	adminCode := func(key string) codes.Code {
		_, err := adminpb.NewAdminServiceClient(grpcConn(t, c.GRPCAddr(f), key)).Status(ctx, &adminpb.StatusRequest{})
		return status.Code(err)
	}
	dataCode := func(key string) codes.Code {
		_, err := workflowservice.NewWorkflowServiceClient(grpcConn(t, c.GRPCAddr(f), key)).
			DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: "default"})
		return status.Code(err)
	}
	for key, want := range map[string][2]codes.Code{
		"": {codes.Unauthenticated, codes.Unauthenticated}, dataKey: {codes.Unauthenticated, codes.OK},
		adminKey: {codes.OK, codes.OK}, "wrong": {codes.Unauthenticated, codes.Unauthenticated},
	} {
		if got := [2]codes.Code{adminCode(key), dataCode(key)}; got != want {
			t.Errorf("key %q: admin, data = %v, want %v", key, got, want)
		}
	}
	// A data-key holder cannot remove a member either.
	if _, err := adminpb.NewAdminServiceClient(grpcConn(t, c.GRPCAddr(f), dataKey)).Remove(ctx, &adminpb.RemoveRequest{NodeId: c.ID(f)}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("Remove with the data key: %v", err)
	}

	// HTTP: probes open, details and metrics behind the admin key.
	h := c.HTTPAddr(f)
	for _, p := range []string{"/livez", "/healthz", "/readyz"} {
		if code := httpCode(t, h, p, ""); code != http.StatusOK {
			t.Errorf("GET %s without a key: %d", p, code)
		}
	}
	for _, p := range []string{"/status", "/digest", "/metrics"} {
		for key, want := range map[string]int{"": 401, dataKey: 401, adminKey: 200} {
			if code := httpCode(t, h, p, key); code != want {
				t.Errorf("GET %s with key %q: %d, want %d", p, key, code, want)
			}
		}
	}

	// The CLI sends the admin key (flag or environment).
	var out, errb strings.Builder
	if code := cli.Cluster([]string{"--address", c.GRPCAddr(f), "--api-key", dataKey, "status"}, &out, &errb); code != 1 {
		t.Errorf("cli with the data key: exit %d", code)
	}
	t.Setenv("ENGINE_ADMIN_API_KEY", adminKey)
	if code := cli.Cluster([]string{"--address", c.GRPCAddr(f), "--api-key", dataKey, "status"}, &out, &errb); code != 0 || !strings.Contains(out.String(), "members:  3") {
		t.Errorf("cli with ENGINE_ADMIN_API_KEY: exit %d %s %s", code, out.String(), errb.String())
	}

	// Join cannot rewrite the leader's row (forwarded from a follower).
	lead := c.Node(l)
	admin := adminpb.NewAdminServiceClient(grpcConn(t, c.GRPCAddr(f), adminKey))
	_, err := admin.Join(ctx, &adminpb.JoinRequest{NodeId: c.ID(l), RaftAddr: lead.RaftAddr(), GrpcAddr: "127.0.0.1:1", HttpAddr: lead.HTTPAddr()})
	if status.Code(err) != codes.FailedPrecondition {
		t.Errorf("join moving the leader's gRPC address: %v, want FailedPrecondition", err)
	}
	for _, n := range c.Node(f).FSM.Nodes() {
		if n.Id == c.ID(l) && n.GrpcAddr != lead.GRPCAddr() {
			t.Errorf("leader row moved to %s", n.GrpcAddr)
		}
	}
	// Forwarding still reaches the real leader.
	if code := dataCode(dataKey); code != codes.OK {
		t.Errorf("forwarded call after the refused join: %v", code)
	}

	// One node with a data key only: the data key opens the admin plane.
	one := testcluster.Start(t, 1, testcluster.WithConfig(func(i int, cfg *server.Config) {
		cfg.APIKey, cfg.PublicMetrics = dataKey, true
	}))
	if _, err := adminpb.NewAdminServiceClient(grpcConn(t, one.GRPCAddr(0), dataKey)).Status(ctx, &adminpb.StatusRequest{}); err != nil {
		t.Errorf("admin call with the data key and no admin key: %v", err)
	}
	if code := httpCode(t, one.HTTPAddr(0), "/status", dataKey); code != 200 {
		t.Errorf("/status with the data key and no admin key: %d", code)
	}
	if code := httpCode(t, one.HTTPAddr(0), "/status", ""); code != 401 {
		t.Errorf("/status without a key while a key is set: %d", code)
	}
	if code := httpCode(t, one.HTTPAddr(0), "/metrics", ""); code != 200 {
		t.Errorf("/metrics with PublicMetrics: %d", code)
	}
}

// peerCA is an in-memory CA for raft peer certificates.
type peerCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newPeerCA(t *testing.T) *peerCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "peer CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &peerCA{cert: cert, key: key, pool: pool}
}

// configs returns a node's PeerTLS and PeerClientTLS for a certificate
// with the given DNS SANs and usages.
func (ca *peerCA) configs(t *testing.T, dns []string, usage ...x509.ExtKeyUsage) (server, client *tls.Config) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: dns[0]},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usage, DNSNames: dns}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: ca.pool, ClientAuth: tls.RequireAndVerifyClientCert},
		&tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: ca.pool}
}

// TestPeerIdentityJoin: a 3-node cluster whose peer certificates name the
// nodes by ID SAN only forms through joins; a node whose CA-signed
// certificate names another node, or which holds a client certificate,
// is refused by Join (PermissionDenied) and never becomes a member.
func TestPeerIdentityJoin(t *testing.T) {
	ca := newPeerCA(t)
	peer := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	c := testcluster.Start(t, 3, testcluster.WithConfig(func(i int, cfg *server.Config) {
		cfg.PeerTLS, cfg.PeerClientTLS = ca.configs(t, []string{raftnode.PeerName(cfg.NodeID)}, peer...)
		cfg.AdminAPIKey = adminKey
	}))
	ctx := ctxFor(t, 30*time.Second)
	admin := adminpb.NewAdminServiceClient(grpcConn(t, c.GRPCAddr(c.Leader()), adminKey))
	for name, usage := range map[string][]x509.ExtKeyUsage{
		"another node's certificate": peer,
		"client certificate":         {x509.ExtKeyUsageClientAuth},
	} {
		dns := []string{raftnode.PeerName("n2")}
		if name == "client certificate" {
			dns = []string{raftnode.PeerName("n4")}
		}
		srvTLS, cliTLS := ca.configs(t, dns, usage...)
		n4, err := server.Start(server.Config{NodeID: "n4", DataDir: t.TempDir(),
			GRPCAddr: "127.0.0.1:0", RaftAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0",
			Join:    []string{"127.0.0.1:1"}, // nothing there: the test asks for the join itself
			PeerTLS: srvTLS, PeerClientTLS: cliTLS, AdminAPIKey: adminKey, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		_, err = admin.Join(ctx, &adminpb.JoinRequest{NodeId: "n4", RaftAddr: n4.RaftAddr(), GrpcAddr: n4.GRPCAddr(), HttpAddr: n4.HTTPAddr()})
		n4.Kill()
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("%s: Join = %v, want PermissionDenied", name, err)
		}
		if st := c.Node(c.Leader()).Node.Status(); len(st.Servers) != 3 {
			t.Errorf("%s: %d raft servers after the refused join", name, len(st.Servers))
		}
	}
	if err := c.WaitReady(ctx); err != nil {
		t.Fatal(err)
	}
}
