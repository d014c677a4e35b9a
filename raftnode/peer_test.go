package raftnode

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/raftflow/engine/internal/testutil"
)

// testCA is a throwaway CA held in memory (nothing is written to disk).
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

var serial atomic.Int64

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: "test peer CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// peerUsage is what a node's certificate allows: serving and dialing.
var peerUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}

// issue signs a certificate for the given SANs and usages.
func (ca *testCA) issue(t *testing.T, cn string, dns []string, ips []net.IP, usage []x509.ExtKeyUsage) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial.Add(1)), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: usage, DNSNames: dns, IPAddresses: ips,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// nodeTLS is a node's listener and dialer configuration for cert.
func (ca *testCA) nodeTLS(cert tls.Certificate) (server, dial *tls.Config) {
	server = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: ca.pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	dial = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: ca.pool, MinVersion: tls.VersionTLS12}
	return server, dial
}

func openTLSNode(t *testing.T, id string, ca *testCA, cert tls.Certificate) *member {
	t.Helper()
	cfg := testConfig(id, t.TempDir(), "127.0.0.1:0")
	cfg.TLS, cfg.DialTLS = ca.nodeTLS(cert)
	m := &member{f: &testFSM{}, rec: &hookRec{}}
	n, err := Open(cfg, m.f)
	if err != nil {
		t.Fatalf("Open %s: %v", id, err)
	}
	t.Cleanup(func() { _ = n.Shutdown() })
	m.n = n
	return m
}

// rogueStream dials raft ports the way an attacker would: with the given
// TLS configuration (nil: plaintext) and no check of the server.
type rogueStream struct {
	net.Listener
	tls *tls.Config
}

func (r rogueStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &net.Dialer{Timeout: timeout}
	if r.tls == nil {
		return d.Dial("tcp", string(addr))
	}
	return tls.DialWithDialer(d, "tcp", string(addr), r.tls)
}

// rogueAppend sends target one AppendEntries at term with a forged command
// and returns the transport's error.
func rogueAppend(t *testing.T, cfg *tls.Config, target *Node, term uint64) (*raft.AppendEntriesResponse, error) {
	return rogueAppendAs(t, cfg, target, term, "rogue")
}

// rogueAppendAs is rogueAppend claiming to be the raft server id.
func rogueAppendAs(t *testing.T, cfg *tls.Config, target *Node, term uint64, id string) (*raft.AppendEntriesResponse, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	trans := raft.NewNetworkTransport(rogueStream{Listener: ln, tls: cfg}, 1, 2*time.Second, io.Discard)
	defer trans.Close()
	last := target.Raft().LastIndex()
	req := &raft.AppendEntriesRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte(id), Addr: []byte(ln.Addr().String())},
		Term:      term, PrevLogEntry: last, PrevLogTerm: target.Raft().CurrentTerm(), LeaderCommitIndex: last + 1, Leader: []byte(ln.Addr().String()),
		Entries: []*raft.Log{{Index: last + 1, Term: term, Type: raft.LogCommand, Data: []byte("forged")}},
	}
	var resp raft.AppendEntriesResponse
	err = trans.AppendEntries("n1", raft.ServerAddress(target.RaftAddr()), req, &resp)
	return &resp, err
}

// TestPeerTLSIdentity runs a 3-node cluster with mutual TLS on the raft
// port, certificates naming nodes by ID SAN or by raft host, and checks
// that nobody else gets in: a node with a CA-signed certificate that names
// someone else cannot be verified for a join nor receive entries when
// added anyway, and AppendEntries at a higher term from a wrong-identity
// certificate, a client certificate, no certificate or plaintext are
// refused without moving the leader's term.
func TestPeerTLSIdentity(t *testing.T) {
	ctx := testutil.Context(t, 10*time.Second)
	ca, other := newTestCA(t), newTestCA(t)
	loop := []net.IP{net.ParseIP("127.0.0.1")}
	ms := []*member{
		openTLSNode(t, "n1", ca, ca.issue(t, "n1", []string{PeerName("n1")}, nil, peerUsage)),
		openTLSNode(t, "n2", ca, ca.issue(t, "n2", []string{PeerName("n2")}, nil, peerUsage)),
		openTLSNode(t, "n3", ca, ca.issue(t, "n3", nil, loop, peerUsage)), // named by its raft host
	}
	n1 := ms[0].n
	if err := n1.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	testutil.EventuallyTrue(t, 10*time.Second, "n1 leads", n1.IsLeader)
	for _, m := range ms[1:] {
		if err := n1.VerifyPeer(ctx, m.n.ID(), m.n.RaftAddr()); err != nil {
			t.Fatalf("VerifyPeer %s: %v", m.n.ID(), err)
		}
		if err := n1.AddVoter(ctx, m.n.ID(), m.n.RaftAddr()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n1.Apply(ctx, []byte("x")); err != nil {
		t.Fatal(err)
	}
	waitReplicated(t, ms, "x")

	// A CA-signed peer certificate naming someone else: no join, no entries.
	evil := openTLSNode(t, "n4", ca, ca.issue(t, "evil", []string{PeerName("evil")}, []net.IP{net.ParseIP("10.9.9.9")}, peerUsage))
	if err := n1.VerifyPeer(ctx, "n4", evil.n.RaftAddr()); !errors.Is(err, ErrPeerIdentity) {
		t.Fatalf("VerifyPeer of a wrong-identity node = %v, want ErrPeerIdentity", err)
	}
	if err := n1.AddVoter(ctx, "n4", evil.n.RaftAddr()); err != nil { // as if admitted regardless
		t.Fatal(err)
	}
	if _, err := n1.Apply(ctx, []byte("y")); err != nil {
		t.Fatal(err)
	}
	waitReplicated(t, ms, "x", "y")
	if v := evil.f.Values(); len(v) != 0 {
		t.Fatalf("wrong-identity node received entries %v", v)
	}
	if err := n1.RemoveServer(ctx, "n4"); err != nil {
		t.Fatal(err)
	}

	// Forged appends at a higher term.
	term := n1.Raft().CurrentTerm()
	_, dialGood := ca.nodeTLS(ca.issue(t, "n2", []string{PeerName("n2")}, nil, peerUsage))
	_, dialEvil := ca.nodeTLS(ca.issue(t, "evil", []string{PeerName("evil")}, nil, peerUsage))
	_, dialClient := ca.nodeTLS(ca.issue(t, "client", []string{PeerName("n2")}, loop, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}))
	_, dialOther := other.nodeTLS(other.issue(t, "n2", []string{PeerName("n2")}, loop, peerUsage))
	for _, c := range []*tls.Config{dialGood, dialEvil, dialClient, dialOther} {
		c.InsecureSkipVerify = true // the attacker does not care who answers
	}
	noCert := &tls.Config{InsecureSkipVerify: true}
	for name, cfg := range map[string]*tls.Config{
		"wrong identity": dialEvil, "client certificate": dialClient, "other CA": dialOther,
		"no certificate": noCert, "plaintext": nil,
	} {
		if _, err := rogueAppend(t, cfg, n1, term+10); err == nil {
			t.Errorf("%s: AppendEntries accepted", name)
		}
	}
	if got := n1.Raft().CurrentTerm(); got != term || !n1.IsLeader() {
		t.Fatalf("after forged appends: term %d -> %d, leader %v", term, got, n1.IsLeader())
	}
	// Control: a member's certificate gets through the transport (and
	// raft rejects the stale term itself).
	resp, err := rogueAppend(t, dialGood, n1, 0)
	if err != nil || resp.Success || resp.Term != term {
		t.Fatalf("member certificate, stale term: %+v %v; want a refusal by raft at term %d", resp, err, term)
	}
	if _, err := n1.Apply(ctx, []byte("z")); err != nil {
		t.Fatal(err)
	}
	waitReplicated(t, ms, "x", "y", "z")
}

// TestPeerTLSConfig: the raft port never serves TLS without verifying its
// peers.
func TestPeerTLSConfig(t *testing.T) {
	ca := newTestCA(t)
	server, dial := ca.nodeTLS(ca.issue(t, "n1", []string{PeerName("n1")}, nil, peerUsage))
	noCA := server.Clone()
	noCA.ClientCAs = nil
	noRoots := dial.Clone()
	noRoots.RootCAs = nil
	for name, c := range map[string][2]*tls.Config{
		"server only": {server, nil}, "dial only": {nil, dial},
		"no client CA": {noCA, dial}, "no root CA": {server, noRoots},
	} {
		cfg := testConfig("n1", t.TempDir(), "127.0.0.1:0")
		cfg.TLS, cfg.DialTLS = c[0], c[1]
		if n, err := Open(cfg, &testFSM{}); err == nil {
			n.Shutdown()
			t.Errorf("%s: Open succeeded", name)
		}
	}
}

// TestConfiguredLeader: on a plaintext raft port a rogue "leader" at a
// higher term is followed (what peer TLS prevents), but ConfiguredLeader,
// which forwarding uses, does not report it: neither under its own id nor
// under a member's id at another address.
func TestConfiguredLeader(t *testing.T) {
	ctx := testutil.Context(t, 10*time.Second)
	n1 := openNode(t, "n1", t.TempDir(), &testFSM{})
	n2 := openNode(t, "n2", t.TempDir(), &testFSM{})
	if err := n1.Bootstrap(); err != nil {
		t.Fatal(err)
	}
	testutil.EventuallyTrue(t, 10*time.Second, "n1 leads", n1.IsLeader)
	if err := n1.AddVoter(ctx, "n2", n2.RaftAddr()); err != nil {
		t.Fatal(err)
	}
	testutil.EventuallyTrue(t, 10*time.Second, "n2 follows n1", func() bool { id, addr := n2.ConfiguredLeader(); return id == "n1" && addr == n1.RaftAddr() })
	for _, id := range []string{"rogue", "n1"} {
		if _, err := rogueAppendAs(t, nil, n2, n2.Raft().CurrentTerm()+10, id); err != nil {
			t.Fatal(err)
		}
		if lid, laddr := n2.Leader(); lid != id || laddr == n1.RaftAddr() {
			t.Fatalf("n2 follows %s at %s; the test expects the rogue", lid, laddr)
		}
		if lid, laddr := n2.ConfiguredLeader(); lid != "" || laddr != "" {
			t.Fatalf("ConfiguredLeader = %s at %s, want none for a rogue claiming %q", lid, laddr, id)
		}
	}
}
