package raftnode

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
)

// streamLayer is a plain-TCP raft.StreamLayer. Unlike raft's TCPStreamLayer
// it accepts an advertise address that is a host name (containers, jepsen
// hosts), not only a literal IP.
type streamLayer struct {
	ln        net.Listener
	advertise advertiseAddr
	fault     func(from, to string) bool // Config.Fault; nil outside tests
	tls       *tls.Config                // Config.DialTLS; nil: plaintext
	peers     *peerIdentity              // checks who is at the other end (with tls)
}

// advertiseAddr is the address peers dial, kept verbatim.
type advertiseAddr string

func (a advertiseAddr) Network() string { return "tcp" }
func (a advertiseAddr) String() string  { return string(a) }

func (s *streamLayer) Accept() (net.Conn, error) { return s.ln.Accept() }
func (s *streamLayer) Close() error              { return s.ln.Close() }
func (s *streamLayer) Addr() net.Addr            { return s.advertise }

func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	c, err := s.dial(addr, timeout)
	if err != nil || s.tls == nil {
		return c, err
	}
	deadline := time.Now().Add(timeout)
	tc := tls.Client(c, s.peers.clientTLS(s.tls, string(addr), "", deadline))
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("raftnode: TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}

func (s *streamLayer) dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	if s.fault == nil {
		d := net.Dialer{Timeout: timeout}
		return d.Dial("tcp", string(addr))
	}
	from, to := string(s.advertise), string(addr)
	if s.fault(from, to) {
		return nil, fmt.Errorf("raftnode: dial %s: %w", to, errFault)
	}
	d := net.Dialer{Timeout: timeout}
	c, err := d.Dial("tcp", to)
	if err != nil {
		return nil, err
	}
	return &faultConn{Conn: c, cut: func() bool { return s.fault(from, to) }}, nil
}

// errFault is what a connection cut by Config.Fault reports.
var errFault = errors.New("raftnode: connection cut by the fault hook")

// faultConn is a dialed connection that fails, and closes, once the fault
// hook says the link is cut. It checks after a read as well, so a response
// that was already on its way when the link was cut is dropped too.
type faultConn struct {
	net.Conn
	cut func() bool
}

func (c *faultConn) Read(p []byte) (int, error) {
	if c.cut() {
		c.Conn.Close()
		return 0, errFault
	}
	n, err := c.Conn.Read(p)
	if c.cut() {
		c.Conn.Close()
		return 0, errFault
	}
	return n, err
}

func (c *faultConn) Write(p []byte) (int, error) {
	if c.cut() {
		c.Conn.Close()
		return 0, errFault
	}
	return c.Conn.Write(p)
}

// newTransport listens on bind and returns raft's network transport on top.
// With advertise empty the listener's actual address is advertised, which
// must then be a specific IP (binding 0.0.0.0 needs an explicit advertise).
//
// With serverTLS set the listener speaks mutual TLS (the handshake runs on
// the connection's first read, in raft's per-connection goroutine, so a slow
// or bad peer never blocks Accept); with dialTLS set peers are dialed with
// TLS and the handshake completes within the dial timeout. Either way peers
// checks the other end's identity (see peerIdentity).
func newTransport(bind, advertise string, fault func(from, to string) bool, serverTLS, dialTLS *tls.Config, peers *peerIdentity, logger hclog.Logger) (*raft.NetworkTransport, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("raftnode: listen %s: %w", bind, err)
	}
	if serverTLS != nil {
		ln = tls.NewListener(ln, peers.serverTLS(serverTLS))
	}
	adv, err := advertiseFor(ln.Addr(), advertise)
	if err != nil {
		ln.Close()
		return nil, err
	}
	stream := &streamLayer{ln: ln, advertise: adv, fault: fault, tls: dialTLS, peers: peers}
	return raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream:  stream,
		MaxPool: transportMaxPool,
		Timeout: transportTimeout,
		Logger:  logger,
	}), nil
}

func advertiseFor(listen net.Addr, advertise string) (advertiseAddr, error) {
	if advertise == "" {
		tcp, ok := listen.(*net.TCPAddr)
		if !ok || tcp.IP == nil || tcp.IP.IsUnspecified() {
			return "", fmt.Errorf("raftnode: bound to %s, which peers cannot dial; set RaftAdvertise", listen)
		}
		return advertiseAddr(tcp.String()), nil
	}
	host, port, err := net.SplitHostPort(advertise)
	if err != nil {
		return "", fmt.Errorf("raftnode: RaftAdvertise %q: %w", advertise, err)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return "", fmt.Errorf("raftnode: RaftAdvertise %q: bad port", advertise)
	}
	if host == "" {
		return "", fmt.Errorf("raftnode: RaftAdvertise %q: missing host", advertise)
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return "", fmt.Errorf("raftnode: RaftAdvertise %q: unspecified address", advertise)
	}
	return advertiseAddr(advertise), nil
}
