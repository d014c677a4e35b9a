package jepsen

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
)

// Network is one run's private network: a hub namespace holding a bridge,
// one namespace per node attached to it by a veth pair, and one veth from
// the root namespace (where the test client runs) to the bridge. Every name
// carries the run's random id and the owning pid, so parallel runs never
// collide and a later run can sweep what a crashed one left behind.
//
//	root ns: rf<id>c 10.X.Y.1 ──┐
//	hub ns:                     br0 ── h1 ── n1 ns: eth0 10.X.Y.11
//	                                ├─ h2 ── n2 ns: eth0 10.X.Y.12
//	                                └─ h3 ── n3 ns: eth0 10.X.Y.13
//
// The bridge lives in its own namespace so the host's iptables (often a
// FORWARD policy of DROP with br_netfilter on) never sees node traffic.
// Faults are iptables rules inside a node's namespace; dropping every rule
// there (Heal) restores the network.
type Network struct {
	ID       string
	Prefix   string // "10.X.Y"
	HubNS    string
	NodeNS   []string
	HostIf   string
	ClientIP string
}

const nsPrefix = "raftflow-jepsen-"

// NeedsRoot reports why network-namespace runs cannot work here ("" when
// they can).
func NeedsRoot() string {
	if os.Geteuid() != 0 {
		return "jepsen needs root (network namespaces, veth, iptables); CI runs as root. Skipping."
	}
	for _, bin := range []string{"ip", "iptables"} {
		if _, err := exec.LookPath(bin); err != nil {
			return fmt.Sprintf("jepsen needs %s on PATH (apt-get install -y iproute2 iptables). Skipping.", bin)
		}
	}
	return ""
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

// SweepLeftovers deletes namespaces of earlier runs whose owning process is
// gone (a killed test binary cannot clean up after itself).
func SweepLeftovers() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if !strings.HasPrefix(name, nsPrefix) {
			continue
		}
		rest := strings.TrimPrefix(name, nsPrefix)
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if syscall.Kill(pid, 0) == nil {
			continue // owner alive: a parallel run
		}
		exec.Command("ip", "netns", "del", name).Run()
	}
}

// NewNetwork builds the namespaces for n nodes. On error everything built so
// far is removed.
func NewNetwork(n int) (nw *Network, err error) {
	SweepLeftovers()
	idb := make([]byte, 4)
	rand.Read(idb)
	id := hex.EncodeToString(idb)
	prefix, err := freeSubnet()
	if err != nil {
		return nil, err
	}
	base := fmt.Sprintf("%s%d-%s-", nsPrefix, os.Getpid(), id)
	nw = &Network{ID: id, Prefix: prefix, HubNS: base + "hub", HostIf: "rf" + id + "c", ClientIP: prefix + ".1"}
	defer func() {
		if err != nil {
			nw.Close()
			nw = nil
		}
	}()
	steps := [][]string{
		{"netns", "add", nw.HubNS},
		{"-n", nw.HubNS, "link", "set", "lo", "up"},
		{"-n", nw.HubNS, "link", "add", "br0", "type", "bridge"},
		{"-n", nw.HubNS, "link", "set", "br0", "up"},
		{"link", "add", nw.HostIf, "type", "veth", "peer", "name", "hc", "netns", nw.HubNS},
		{"-n", nw.HubNS, "link", "set", "hc", "master", "br0", "up"},
		{"addr", "add", nw.ClientIP + "/24", "dev", nw.HostIf},
		{"link", "set", nw.HostIf, "up"},
	}
	for i := 0; i < n; i++ {
		ns := fmt.Sprintf("%sn%d", base, i+1)
		nw.NodeNS = append(nw.NodeNS, ns)
		h := fmt.Sprintf("h%d", i+1)
		steps = append(steps,
			[]string{"netns", "add", ns},
			[]string{"-n", ns, "link", "set", "lo", "up"},
			[]string{"-n", nw.HubNS, "link", "add", h, "type", "veth", "peer", "name", "eth0", "netns", ns},
			[]string{"-n", nw.HubNS, "link", "set", h, "master", "br0", "up"},
			[]string{"-n", ns, "addr", "add", nw.NodeIP(i) + "/24", "dev", "eth0"},
			[]string{"-n", ns, "link", "set", "eth0", "up"},
		)
	}
	for _, s := range steps {
		if err := run("ip", s...); err != nil {
			return nw, err
		}
	}
	return nw, nil
}

// freeSubnet picks a random 10.X.Y.0/24 no route of the root namespace uses.
func freeSubnet() (string, error) {
	out, _ := exec.Command("ip", "-4", "route", "show").Output()
	addrs, _ := exec.Command("ip", "-4", "addr", "show").Output()
	for try := 0; try < 200; try++ {
		x, _ := rand.Int(rand.Reader, big.NewInt(150))
		y, _ := rand.Int(rand.Reader, big.NewInt(256))
		p := fmt.Sprintf("10.%d.%d", 100+x.Int64(), y.Int64())
		if !strings.Contains(string(out), p+".") && !strings.Contains(string(addrs), p+".") {
			return p, nil
		}
	}
	return "", fmt.Errorf("jepsen: no free 10.x.y.0/24 subnet")
}

// NodeIP is node i's address (0-based).
func (nw *Network) NodeIP(i int) string { return fmt.Sprintf("%s.%d", nw.Prefix, 11+i) }

// IPTables runs iptables (waiting for the xtables lock) in node i's namespace.
func (nw *Network) IPTables(i int, args ...string) error {
	return run("ip", append([]string{"netns", "exec", nw.NodeNS[i], "iptables", "-w", "5"}, args...)...)
}

// Heal removes every fault rule from node i's namespace.
func (nw *Network) Heal(i int) error {
	return nw.IPTables(i, "-F")
}

// Close deletes every namespace (their veths go with them). Idempotent.
func (nw *Network) Close() error {
	var first error
	for _, ns := range append(append([]string{}, nw.NodeNS...), nw.HubNS) {
		if err := exec.Command("ip", "netns", "del", ns).Run(); err != nil && first == nil {
			if _, statErr := os.Stat("/run/netns/" + ns); statErr == nil {
				first = fmt.Errorf("ip netns del %s: %v", ns, err)
			}
		}
	}
	exec.Command("ip", "link", "del", nw.HostIf).Run()
	return first
}
