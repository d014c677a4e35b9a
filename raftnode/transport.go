package raftnode

import (
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
}

// advertiseAddr is the address peers dial, kept verbatim.
type advertiseAddr string

func (a advertiseAddr) Network() string { return "tcp" }
func (a advertiseAddr) String() string  { return string(a) }

func (s *streamLayer) Accept() (net.Conn, error) { return s.ln.Accept() }
func (s *streamLayer) Close() error              { return s.ln.Close() }
func (s *streamLayer) Addr() net.Addr            { return s.advertise }

func (s *streamLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := net.Dialer{Timeout: timeout}
	return d.Dial("tcp", string(addr))
}

// newTransport listens on bind and returns raft's network transport on top.
// With advertise empty the listener's actual address is advertised, which
// must then be a specific IP (binding 0.0.0.0 needs an explicit advertise).
func newTransport(bind, advertise string, logger hclog.Logger) (*raft.NetworkTransport, error) {
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, fmt.Errorf("raftnode: listen %s: %w", bind, err)
	}
	adv, err := advertiseFor(ln.Addr(), advertise)
	if err != nil {
		ln.Close()
		return nil, err
	}
	stream := &streamLayer{ln: ln, advertise: adv}
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
