package raftnode

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"
)

// PeerIDDomain is the DNS suffix of a node-id name in a peer certificate: a
// certificate with the DNS SAN "<node-id>.raftflow" names the node whose
// raft ID is <node-id>, wherever it runs.
const PeerIDDomain = ".raftflow"

// ErrPeerIdentity: a raft peer's certificate does not name the peer (or is
// not a peer certificate at all). Wrapped by the TLS handshake errors.
var ErrPeerIdentity = errors.New("raftnode: peer certificate does not identify a cluster member")

// PeerName is the node-id DNS name "<id>.raftflow" a peer certificate may
// carry instead of (or besides) its raft host.
func PeerName(id string) string { return id + PeerIDDomain }

// peerIdentity decides whom the raft transport talks to, once TLS has
// verified the certificate chain:
//
//   - A peer certificate allows server authentication (ExtKeyUsage
//     serverAuth or any): every node serves and dials, so a certificate that
//     allows only client authentication (an API client's) is never a peer's.
//   - It names a member: one of its SANs (DNS or IP) is the host of a
//     member's raft address in the current raft configuration, or it holds
//     the DNS SAN PeerName(member ID).
//   - Accepting a connection, the caller may be any member (its source
//     address says nothing about its raft address). Dialing an address,
//     the certificate must name that address's host or the ID of a member
//     configured at that address (or the ID the caller expects, see
//     VerifyPeer).
//   - A node with an empty configuration (fresh, waiting to be added by a
//     leader) accepts any peer certificate: the leader that adds it dials
//     it before the configuration reaches it. Peer certificates are cluster
//     credentials; whoever holds one may be a member.
//
// The configuration is read from raft once it runs (set by Open); until
// then a connection waits for it (bounded by the handshake's deadline).
type peerIdentity struct {
	raft    atomic.Pointer[raft.Raft]
	started chan struct{} // closed once raft is set
	roots   *x509.CertPool
}

// newPeerIdentity verifies dialed peers against dial's RootCAs (dial may
// be nil: no TLS, nothing to verify).
func newPeerIdentity(dial *tls.Config) *peerIdentity {
	p := &peerIdentity{started: make(chan struct{})}
	if dial != nil {
		p.roots = dial.RootCAs
	}
	return p
}

func (p *peerIdentity) setRaft(r *raft.Raft) {
	p.raft.Store(r)
	close(p.started)
}

// members returns the latest configuration's servers. It waits for raft to
// start, at most until deadline.
func (p *peerIdentity) members(deadline time.Time) ([]raft.Server, error) {
	select {
	case <-p.started:
	default:
		t := time.NewTimer(time.Until(deadline))
		defer t.Stop()
		select {
		case <-p.started:
		case <-t.C:
			return nil, errors.New("raftnode: raft not started yet")
		}
	}
	f := p.raft.Load().GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, err
	}
	return f.Configuration().Servers, nil
}

// isPeerCert reports whether leaf may serve as a node's certificate.
func isPeerCert(leaf *x509.Certificate) bool {
	return slices.ContainsFunc(leaf.ExtKeyUsage, func(u x509.ExtKeyUsage) bool {
		return u == x509.ExtKeyUsageServerAuth || u == x509.ExtKeyUsageAny
	})
}

// names reports whether leaf names the node id at raft address addr (either
// may be empty: not checked).
func names(leaf *x509.Certificate, id, addr string) bool {
	if id != "" {
		for _, d := range leaf.DNSNames {
			if strings.EqualFold(d, PeerName(id)) {
				return true
			}
		}
	}
	if addr != "" {
		if host, _, err := net.SplitHostPort(addr); err == nil && host != "" {
			return leaf.VerifyHostname(host) == nil
		}
	}
	return false
}

// verifyIncoming is the listener's tls.Config.VerifyConnection: the chain
// is already verified (RequireAndVerifyClientCert).
func (p *peerIdentity) verifyIncoming(cs tls.ConnectionState) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("%w: no certificate", ErrPeerIdentity)
	}
	leaf := cs.PeerCertificates[0]
	if !isPeerCert(leaf) {
		return fmt.Errorf("%w: %q is not valid for server authentication (a client certificate?)", ErrPeerIdentity, leaf.Subject)
	}
	ms, err := p.members(time.Now().Add(transportTimeout))
	if err != nil {
		return err
	}
	if len(ms) == 0 {
		return nil // waiting to be added; see the type's doc
	}
	for _, m := range ms {
		if names(leaf, string(m.ID), string(m.Address)) {
			return nil
		}
	}
	return fmt.Errorf("%w: %q names no member of the raft configuration", ErrPeerIdentity, leaf.Subject)
}

// verifyDialed checks the certificate of the server reached at addr: chain
// (against roots), server authentication, and that it names addr's host, a
// member configured at addr, or expectID.
func (p *peerIdentity) verifyDialed(cs tls.ConnectionState, addr, expectID string, deadline time.Time) error {
	if len(cs.PeerCertificates) == 0 {
		return fmt.Errorf("%w: no certificate", ErrPeerIdentity)
	}
	leaf := cs.PeerCertificates[0]
	inter := x509.NewCertPool()
	for _, c := range cs.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: p.roots, Intermediates: inter,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return err
	}
	if names(leaf, expectID, addr) {
		return nil
	}
	if expectID == "" {
		ms, err := p.members(deadline)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if string(m.Address) == addr && names(leaf, string(m.ID), "") {
				return nil
			}
		}
	}
	return fmt.Errorf("%w: %q does not name the member at %s", ErrPeerIdentity, leaf.Subject, addr)
}

// serverTLS returns the listener's configuration: cfg with client
// certificates required and checked by verifyIncoming.
func (p *peerIdentity) serverTLS(cfg *tls.Config) *tls.Config {
	c := cfg.Clone()
	c.ClientAuth = tls.RequireAndVerifyClientCert
	c.VerifyConnection = p.verifyIncoming
	return c
}

// clientTLS returns the configuration for dialing addr: the standard
// host-name check is replaced by verifyDialed (Go's own check knows only
// one name). cfg.ServerName, when set, is sent as SNI only.
func (p *peerIdentity) clientTLS(cfg *tls.Config, addr, expectID string, deadline time.Time) *tls.Config {
	c := cfg.Clone()
	if c.ServerName == "" {
		if host, _, err := net.SplitHostPort(addr); err == nil && net.ParseIP(host) == nil {
			c.ServerName = host
		}
	}
	c.InsecureSkipVerify = true // replaced by VerifyConnection, which checks the chain itself
	c.VerifyConnection = func(cs tls.ConnectionState) error { return p.verifyDialed(cs, addr, expectID, deadline) }
	return c
}

// validatePeerTLS checks Config.TLS and DialTLS: both or neither, mutual,
// with a certificate to present.
func validatePeerTLS(server, dial *tls.Config) error {
	switch {
	case server == nil && dial == nil:
		return nil
	case server == nil || dial == nil:
		return errors.New("raftnode: Config.TLS and Config.DialTLS go together")
	case server.ClientCAs == nil:
		return errors.New("raftnode: Config.TLS needs ClientCAs: the raft port must verify its peers (mutual TLS)")
	case dial.RootCAs == nil:
		return errors.New("raftnode: Config.DialTLS needs RootCAs: the peer CA")
	case len(server.Certificates) == 0 && server.GetCertificate == nil:
		return errors.New("raftnode: Config.TLS needs a certificate")
	case len(dial.Certificates) == 0 && dial.GetClientCertificate == nil:
		return errors.New("raftnode: Config.DialTLS needs a certificate to present")
	}
	return nil
}

// VerifyPeer checks that the node serving raft at addr presents a peer
// certificate naming it (its host or PeerName(id)), as a leader would check
// when it dials the node after adding it. Join calls it before AddVoter, so
// a node whose certificate would be refused never becomes a voter (which
// would only count against the quorum). Without peer TLS it returns nil:
// there is no identity to check.
func (n *Node) VerifyPeer(ctx context.Context, id, addr string) error {
	if n.cfg.DialTLS == nil {
		return nil
	}
	deadline := time.Now().Add(transportTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	d := net.Dialer{Deadline: deadline}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("raftnode: verify peer %s at %s: %w", id, addr, err)
	}
	defer c.Close()
	tc := tls.Client(c, n.peers.clientTLS(n.cfg.DialTLS, addr, id, deadline))
	hctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		return fmt.Errorf("raftnode: verify peer %s at %s: %w", id, addr, err)
	}
	return tc.Close()
}
