package main

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"

	"github.com/raftflow/engine/raftnode"
)

// checkSecurity refuses flag combinations that would leave a port open
// while the operator believes it closed (design guide §5), and returns the
// warnings to log for those the operator explicitly accepted:
//
//   - Peer TLS is all or nothing: --peer-tls-cert, --peer-tls-key and
//     --peer-tls-ca together. TLS without a CA would accept any peer.
//   - The raft port is a write API with no key of its own. A node that
//     requires a key or client certificates on gRPC (--api-key,
//     --admin-api-key, their -file forms, --tls-ca) but whose raft address
//     (bind or advertise) is not loopback and has no peer mutual TLS would
//     be open to anyone who reaches that port: refused, unless
//     --insecure-raft says the network is trusted (then a warning).
func (o *options) checkSecurity() (warnings []string, err error) {
	p := o.peerTLS
	if p.Enabled() && (p.Cert == "" || p.Key == "" || p.CA == "") {
		return nil, errors.New("--peer-tls-cert, --peer-tls-key and --peer-tls-ca go together: " +
			"the raft port grants full write access, so peers must be verified against a CA (mutual TLS)")
	}
	guarded := o.apiKey != "" || o.apiKeyFile != "" || o.adminAPIKey != "" || o.adminAPIKeyFile != "" || o.tls.CA != ""
	if !guarded || p.Enabled() {
		return nil, nil
	}
	for _, a := range []struct{ flag, addr string }{{"--raft-addr", o.raftAddr}, {"--raft-advertise", o.raftAdvertise}} {
		if a.addr == "" || isLoopback(a.addr) {
			continue
		}
		if !o.insecureRaft {
			return nil, fmt.Errorf("%s %s is reachable from other hosts, but the raft port has no peer mutual TLS: "+
				"anyone who reaches it can write to the cluster, API key or not; set --peer-tls-cert, "+
				"--peer-tls-key and --peer-tls-ca, or --insecure-raft if only the nodes can reach that network", a.flag, a.addr)
		}
		warnings = append(warnings, fmt.Sprintf("--insecure-raft: the raft port %s (%s) accepts any peer without authentication; "+
			"the API key protects nothing against whoever reaches it", a.addr, a.flag))
	}
	return warnings, nil
}

// isLoopback reports whether host:port names only the loopback interface
// ("localhost" or a loopback IP). An empty host (all interfaces), any other
// IP and any other host name are not.
func isLoopback(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkPeerCert refuses a peer certificate the other nodes would refuse
// (raftnode's peer identity rules): it must allow server and client
// authentication and name this node, by the host of its advertised raft
// address or by the DNS SAN "<node-id>.raftflow".
func checkPeerCert(certFile, nodeID, raftAddr string) error {
	b, err := os.ReadFile(certFile)
	if err != nil {
		return err
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return fmt.Errorf("--peer-tls-cert %s: no PEM certificate", certFile)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return fmt.Errorf("--peer-tls-cert %s: %w", certFile, err)
	}
	usage := map[x509.ExtKeyUsage]bool{}
	for _, u := range c.ExtKeyUsage {
		usage[u] = true
	}
	if !usage[x509.ExtKeyUsageAny] && (!usage[x509.ExtKeyUsageServerAuth] || !usage[x509.ExtKeyUsageClientAuth]) {
		return fmt.Errorf("--peer-tls-cert %s: a peer certificate needs extendedKeyUsage serverAuth and clientAuth (nodes both serve and dial)", certFile)
	}
	for _, d := range c.DNSNames {
		if strings.EqualFold(d, raftnode.PeerName(nodeID)) {
			return nil
		}
	}
	if host, _, err := net.SplitHostPort(raftAddr); err == nil && host != "" && c.VerifyHostname(host) == nil {
		return nil
	}
	return fmt.Errorf("--peer-tls-cert %s names neither %s nor the raft host of %s (add a SAN): the other nodes would refuse it",
		certFile, raftnode.PeerName(nodeID), raftAddr)
}
