package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/raftflow/engine/internal/auth"
	"github.com/raftflow/engine/internal/cli"
	"github.com/raftflow/engine/internal/server"
	"github.com/raftflow/engine/internal/testcluster"
)

// pki is a throwaway CA and the certificates it signed, written as PEM
// files into a temp dir.
type pki struct {
	dir    string
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	CAFile string
}

func newPKI(t *testing.T, name string) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	p := &pki{dir: t.TempDir(), cert: cert, key: key}
	p.CAFile = p.write(t, name+"-ca.pem", "CERTIFICATE", der)
	return p
}

func (p *pki) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	f := filepath.Join(p.dir, name)
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// issue signs a certificate for 127.0.0.1 and localhost usable by servers
// and clients, and returns its cert and key files.
func (p *pki) issue(t *testing.T, name string) auth.TLSFiles {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.cert, &key.PublicKey, p.key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return auth.TLSFiles{
		Cert: p.write(t, name+".pem", "CERTIFICATE", der),
		Key:  p.write(t, name+"-key.pem", "PRIVATE KEY", kb),
		CA:   p.CAFile,
	}
}

const apiKey = "s3cret-key"

// TestTLSAndAPIKey runs a 3-node cluster with mutual TLS on the client
// port and on the raft transport and an API key: the official SDK with the
// right CA, certificate and key works through a follower (forwarding over
// TLS); clients without the key, with a CA that does not know the
// cluster, without a certificate or in plaintext are refused, and the
// state machines do not change.
func TestTLSAndAPIKey(t *testing.T) {
	ca, peerCA, otherCA := newPKI(t, "client"), newPKI(t, "peer"), newPKI(t, "other")
	c := testcluster.Start(t, 3, testcluster.WithConfig(func(i int, cfg *server.Config) {
		node, peer := ca.issue(t, cfg.NodeID), peerCA.issue(t, cfg.NodeID+"-peer")
		var err error
		must := func(c *tls.Config, e error) *tls.Config {
			if e != nil {
				err = e
			}
			return c
		}
		cfg.TLS = must(auth.ServerConfig(node))
		cfg.ClientTLS = must(auth.ClientConfig(node, ""))
		cfg.PeerTLS = must(auth.ServerConfig(peer))
		cfg.PeerClientTLS = must(auth.ClientConfig(peer, ""))
		cfg.APIKey = apiKey
		if err != nil {
			t.Fatal(err)
		}
	}))
	l := c.Leader()
	f := (l + 1) % 3
	good := ca.issue(t, "worker")
	dial := func(files auth.TLSFiles, key string) (client.Client, error) {
		tcfg, err := auth.ClientConfig(files, "")
		if err != nil {
			t.Fatal(err)
		}
		opts := client.Options{HostPort: c.GRPCAddr(f), Logger: quietLogger(),
			ConnectionOptions: client.ConnectionOptions{TLS: tcfg}}
		if key != "" {
			opts.Credentials = client.NewAPIKeyStaticCredentials(key)
		}
		return client.Dial(opts)
	}
	cl, err := dial(good, apiKey)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	runGreet(t, cl, "tls-1")

	ctx := ctxFor(t, 30*time.Second)
	if err := c.WaitConverged(ctx); err != nil {
		t.Fatal(err)
	}
	before := c.Node(l).FSM.Digest()
	applied := c.Node(l).FSM.AppliedIndex()

	start := func(cl client.Client) error {
		_, err := cl.WorkflowService().StartWorkflowExecution(ctxFor(t, 5*time.Second), &workflowservice.StartWorkflowExecutionRequest{
			Namespace: "default", WorkflowId: "intruder", RequestId: "intruder",
			WorkflowType: &commonpb.WorkflowType{Name: "greet"}, TaskQueue: &taskqueuepb.TaskQueue{Name: taskQueue},
		})
		return err
	}
	// Right TLS, no key or a wrong key: Unauthenticated.
	for _, key := range []string{"", "wrong-key", apiKey + "x"} {
		bad, err := dial(good, key)
		if err == nil {
			err = start(bad)
			bad.Close()
		}
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("key %q: %v, want Unauthenticated", key, err)
		}
	}
	// A CA that does not know the cluster, no client certificate, plain
	// text: the connection itself fails.
	wrongCA := otherCA.issue(t, "stranger")
	noCert := auth.TLSFiles{CA: ca.CAFile}
	for name, files := range map[string]auth.TLSFiles{"wrong CA": wrongCA, "no client cert": noCert} {
		bad, err := dial(files, apiKey)
		if err == nil {
			err = start(bad)
			bad.Close()
		}
		if err == nil || status.Code(err) == codes.OK {
			t.Errorf("%s: call succeeded", name)
		}
	}
	if bad, err := client.Dial(client.Options{HostPort: c.GRPCAddr(f), Logger: quietLogger(),
		Credentials: client.NewAPIKeyStaticCredentials(apiKey), ConnectionOptions: client.ConnectionOptions{TLSDisabled: true}}); err == nil {
		if err := start(bad); err == nil {
			t.Error("plaintext: call succeeded")
		}
		bad.Close()
	}
	// The raft port refuses a peer whose certificate the peer CA did not sign.
	conn, err := tls.Dial("tcp", c.RaftAddr(l), mustClientTLS(t, auth.TLSFiles{Cert: wrongCA.Cert, Key: wrongCA.Key, CA: peerCA.CAFile}))
	if err == nil {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		_, err = conn.Read(make([]byte, 1))
		conn.Close()
	}
	if err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("raft port with a foreign certificate: %v, want a TLS error", err)
	}

	var nf *serviceerror.NotFound
	if _, err := cl.DescribeWorkflowExecution(ctx, "intruder", ""); !errors.As(err, &nf) {
		t.Errorf("intruder workflow: %v, want NotFound", err)
	}
	if after := c.Node(l).FSM.Digest(); after != before || c.Node(l).FSM.AppliedIndex() != applied {
		t.Errorf("state changed by refused clients: applied %d -> %d", applied, c.Node(l).FSM.AppliedIndex())
	}

	// The cluster CLI with the same credentials.
	var out, errb strings.Builder
	args := []string{"--address", c.GRPCAddr(f), "--tls-ca", ca.CAFile, "--tls-cert", good.Cert, "--tls-key", good.Key}
	if code := cli.Cluster(append(args, "--api-key", apiKey, "status"), &out, &errb); code != 0 || !strings.Contains(out.String(), "members:  3") {
		t.Errorf("cli status over mTLS: exit %d %s %s", code, out.String(), errb.String())
	}
	errb.Reset()
	if code := cli.Cluster(append(args, "status"), &out, &errb); code != 1 || !strings.Contains(errb.String(), "Unauthenticated") {
		t.Errorf("cli without key: exit %d %s", code, errb.String())
	}
}

func mustClientTLS(t *testing.T, f auth.TLSFiles) *tls.Config {
	cfg, err := auth.ClientConfig(f, "")
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
