package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFlagsSecurity: flag combinations that would leave the raft port open
// behind a closed-looking gRPC port are refused; --insecure-raft accepts
// them with a warning; dev mode, loopback clusters and keyless clusters
// (docker-compose, jepsen) still start.
func TestFlagsSecurity(t *testing.T) {
	dir := t.TempDir()
	base := []string{"--node-id", "n1", "--data-dir", dir}
	peer := []string{"--peer-tls-cert", "c.pem", "--peer-tls-key", "k.pem", "--peer-tls-ca", "ca.pem"}
	for _, c := range []struct {
		name    string
		args    []string
		refused string // substring of the error; "" = accepted
		warn    bool
	}{
		{"peer cert without CA", []string{"--peer-tls-cert", "c.pem", "--peer-tls-key", "k.pem"}, "--peer-tls-ca", false},
		{"peer CA alone", []string{"--peer-tls-ca", "ca.pem"}, "go together", false},
		{"peer cert without key", []string{"--peer-tls-cert", "c.pem", "--peer-tls-ca", "ca.pem"}, "go together", false},
		{"api key, raft on a LAN IP", []string{"--api-key", "k", "--raft-addr", "10.0.0.1:7234"}, "--insecure-raft", false},
		{"api key file, raft on all interfaces", []string{"--api-key-file", "f", "--raft-addr", "0.0.0.0:7234", "--raft-advertise", "n1:7234"}, "--raft-addr", false},
		{"api key, empty host", []string{"--api-key", "k", "--raft-addr", ":7234"}, "--insecure-raft", false},
		{"api key, loopback bind, remote advertise", []string{"--api-key", "k", "--raft-advertise", "n1:7234"}, "--raft-advertise", false},
		{"admin key only", []string{"--admin-api-key", "k", "--raft-addr", "10.0.0.1:7234"}, "--insecure-raft", false},
		{"client CA", []string{"--tls-cert", "c", "--tls-key", "k", "--tls-ca", "ca", "--raft-addr", "10.0.0.1:7234"}, "--insecure-raft", false},
		{"insecure raft", []string{"--api-key", "k", "--raft-addr", "10.0.0.1:7234", "--insecure-raft"}, "", true},
		{"api key on loopback", []string{"--api-key", "k", "--raft-addr", "127.0.0.1:7234", "--raft-advertise", "localhost:7234"}, "", false},
		{"api key with peer mTLS", append([]string{"--api-key", "k", "--raft-addr", "10.0.0.1:7234"}, peer...), "", false},
		{"no key on all interfaces (compose)", []string{"--raft-addr", "0.0.0.0:7234", "--raft-advertise", "n1:7234"}, "", false},
	} {
		o, err := parseFlags(append(append([]string{}, base...), c.args...))
		switch {
		case c.refused != "" && (err == nil || !strings.Contains(err.Error(), c.refused)):
			t.Errorf("%s: %v, want an error naming %s", c.name, err, c.refused)
		case c.refused == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.refused == "" && (len(o.warnings) > 0) != c.warn:
			t.Errorf("%s: warnings %q, want some: %v", c.name, o.warnings, c.warn)
		}
	}
	if o, err := parseFlags([]string{"--dev", "--data-dir", dir, "--api-key", "k"}); err != nil || len(o.warnings) > 0 {
		t.Errorf("--dev with an API key: %v %q", err, o.warnings)
	}
}

// TestFlagsPeerCert: a node refuses to start with a peer certificate the
// other nodes would refuse.
func TestFlagsPeerCert(t *testing.T) {
	dir := t.TempDir()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}, IsCA: true,
		BasicConstraintsValid: true, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	both := []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
	write := func(name string, dns []string, ips []net.IP, usage []x509.ExtKeyUsage) string {
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), ExtKeyUsage: usage, DNSNames: dns, IPAddresses: ips}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		f := filepath.Join(dir, name+".pem")
		if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	for _, c := range []struct {
		name, file, addr string
		ok               bool
	}{
		{"id SAN", write("id", []string{"n1.raftflow"}, nil, both), "10.0.0.1:7234", true},
		{"host SAN", write("host", []string{"n1.example"}, nil, both), "n1.example:7234", true},
		{"IP SAN", write("ip", nil, []net.IP{net.ParseIP("10.0.0.1")}, both), "10.0.0.1:7234", true},
		{"other node", write("other", []string{"n2.raftflow"}, []net.IP{net.ParseIP("10.0.0.2")}, both), "10.0.0.1:7234", false},
		{"client only", write("client", []string{"n1.raftflow"}, nil, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}), "10.0.0.1:7234", false},
		{"server only", write("server", []string{"n1.raftflow"}, nil, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}), "10.0.0.1:7234", false},
	} {
		if err := checkPeerCert(c.file, "n1", c.addr); (err == nil) != c.ok {
			t.Errorf("%s: %v, want ok=%v", c.name, err, c.ok)
		}
	}
}
