package jepsen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/raftflow/engine/internal/testutil/enginebin"
	"github.com/raftflow/engine/rpc/adminpb"
)

const (
	grpcPort = "7233"
	raftPort = "7234"
	httpPort = "7235"
)

// Node is one engine process inside its namespace. Methods are safe for
// concurrent use.
type Node struct {
	Index     int
	ID        string
	IP        string
	NS        string
	DataDir   string
	LogPath   string
	ClockFile string

	c      *Cluster
	mu     sync.Mutex
	proc   *enginebin.Process // nil before the first start
	paused bool
}

// Cluster is three engine processes on a private Network.
type Cluster struct {
	Net   *Network
	Nodes []*Node
	Bin   string
	Env   []string // extra environment for every engine process
	Args  []string // extra flags for every engine process
	http  *http.Client
}

// StartCluster builds the network and starts n engines under dir: node 1
// bootstraps, the others join it. It returns once all n are members and
// ready.
func StartCluster(ctx context.Context, bin, dir string, n int, env, args []string) (*Cluster, error) {
	nw, err := NewNetwork(n)
	if err != nil {
		return nil, err
	}
	c := &Cluster{Net: nw, Bin: bin, Env: env, Args: args, http: &http.Client{Timeout: 2 * time.Second}}
	for i := 0; i < n; i++ {
		nd := &Node{
			Index: i, ID: fmt.Sprintf("n%d", i+1), IP: nw.NodeIP(i), NS: nw.NodeNS[i], c: c,
			DataDir: filepath.Join(dir, fmt.Sprintf("n%d", i+1), "data"),
			LogPath: filepath.Join(dir, "nodes", fmt.Sprintf("n%d.log", i+1)),
		}
		nd.ClockFile = filepath.Join(dir, fmt.Sprintf("n%d", i+1), "clock-offset")
		os.MkdirAll(filepath.Dir(nd.LogPath), 0o755)
		os.MkdirAll(nd.DataDir, 0o755)
		c.Nodes = append(c.Nodes, nd)
	}
	if err := c.Nodes[0].Start(); err != nil {
		c.Close()
		return nil, err
	}
	if err := c.waitFor(ctx, 60*time.Second, func() bool { return c.Nodes[0].Ready() }); err != nil {
		c.Close()
		return nil, fmt.Errorf("n1 never ready: %w", err)
	}
	for _, nd := range c.Nodes[1:] {
		if err := nd.Start(); err != nil {
			c.Close()
			return nil, err
		}
	}
	if err := c.WaitHealthy(ctx, 90*time.Second); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Cluster) waitFor(ctx context.Context, d time.Duration, cond func() bool) error {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out after %v", d)
		case <-t.C:
		}
	}
	return nil
}

// WaitHealthy waits until every node is running, ready and sees all nodes
// as members with one agreed leader.
func (c *Cluster) WaitHealthy(ctx context.Context, d time.Duration) error {
	err := c.waitFor(ctx, d, func() bool {
		leader := ""
		for _, nd := range c.Nodes {
			st, err := nd.Status()
			if err != nil || !nd.Ready() || len(st.Members) != len(c.Nodes) || st.LeaderID == "" {
				return false
			}
			if leader != "" && st.LeaderID != leader {
				return false
			}
			leader = st.LeaderID
		}
		return true
	})
	if err != nil {
		return fmt.Errorf("cluster not healthy: %w", err)
	}
	return nil
}

// GRPCAddr is node i's client address.
func (nd *Node) GRPCAddr() string { return nd.IP + ":" + grpcPort }

func (nd *Node) args() []string {
	a := []string{"--node-id", nd.ID, "--data-dir", nd.DataDir,
		"--grpc-addr", nd.IP + ":" + grpcPort, "--raft-addr", nd.IP + ":" + raftPort, "--http-addr", nd.IP + ":" + httpPort,
		"--log-level", "info"}
	var join []string
	for _, o := range nd.c.Nodes {
		if o != nd {
			join = append(join, o.GRPCAddr())
		}
	}
	if nd.Index != 0 || nd.hasJoined() {
		a = append(a, "--join", strings.Join(join, ","))
	}
	return append(a, nd.c.Args...)
}

// hasJoined: node 1 bootstraps only the very first time; once wiped by the
// membership nemesis it must join like the others.
func (nd *Node) hasJoined() bool {
	_, err := os.Stat(filepath.Join(filepath.Dir(nd.DataDir), "rejoin"))
	return err == nil
}

// Start runs the engine in the node's namespace (no-op if running).
func (nd *Node) Start() error {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.runningLocked() {
		return nil
	}
	logf, err := os.OpenFile(nd.LogPath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(logf, "=== jepsen: start %s at %s\n", nd.ID, time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command("ip", append([]string{"netns", "exec", nd.NS, nd.c.Bin}, nd.args()...)...)
	cmd.Env = append(append(os.Environ(), "ENGINE_CHAOS_CLOCK_FILE="+nd.ClockFile), nd.c.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p, err := enginebin.Start(cmd, logf) // closes logf when the process exits
	if err != nil {
		return err
	}
	nd.proc, nd.paused = p, false
	return nil
}

func (nd *Node) runningLocked() bool {
	return nd.proc != nil && nd.proc.Alive()
}

// Running reports whether the process is alive (paused counts as alive).
func (nd *Node) Running() bool {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	return nd.runningLocked()
}

// Kill sends SIGKILL and waits for the process to be gone.
func (nd *Node) Kill() {
	nd.mu.Lock()
	p := nd.proc
	running := nd.runningLocked()
	nd.paused = false
	nd.mu.Unlock()
	if !running {
		return
	}
	p.Kill()
}

// Pause sends SIGSTOP; Resume SIGCONT.
func (nd *Node) Pause() {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.runningLocked() {
		nd.proc.Signal(syscall.SIGSTOP)
		nd.paused = true
	}
}

func (nd *Node) Resume() {
	nd.mu.Lock()
	defer nd.mu.Unlock()
	if nd.runningLocked() && nd.paused {
		nd.proc.Signal(syscall.SIGCONT)
	}
	nd.paused = false
}

// Wipe deletes the node's data (the process must be dead) and marks it as
// one that must join instead of bootstrapping.
func (nd *Node) Wipe() error {
	if err := os.RemoveAll(nd.DataDir); err != nil {
		return err
	}
	os.WriteFile(filepath.Join(filepath.Dir(nd.DataDir), "rejoin"), nil, 0o644)
	return os.MkdirAll(nd.DataDir, 0o755)
}

// SetClockOffset writes the chaos clock hook's offset (chaos builds only).
func (nd *Node) SetClockOffset(d time.Duration) error {
	return os.WriteFile(nd.ClockFile, []byte(d.String()), 0o644)
}

// NodeStatus is the subset of /status jepsen reads.
type NodeStatus struct {
	NodeID       string `json:"node_id"`
	State        string `json:"state"`
	LeaderID     string `json:"leader_id"`
	Term         string `json:"term"`
	AppliedIndex string `json:"applied_index"`
	CommitIndex  string `json:"commit_index"`
	Members      []struct {
		ID       string `json:"id"`
		Suffrage string `json:"suffrage"`
	} `json:"members"`
}

func (nd *Node) getJSON(path string, v any) error {
	return nd.getJSONWith(nd.c.http, path, v)
}

// digestClient waits longer than the status client: a digest hashes the
// whole state machine, which after a long run takes seconds.
var digestClient = &http.Client{Timeout: time.Minute}

func (nd *Node) getJSONWith(hc *http.Client, path string, v any) error {
	resp, err := hc.Get("http://" + nd.IP + ":" + httpPort + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// Status reads /status.
func (nd *Node) Status() (*NodeStatus, error) {
	var st NodeStatus
	return &st, nd.getJSON("/status", &st)
}

// Ready reports /readyz == 200.
func (nd *Node) Ready() bool {
	resp, err := nd.c.http.Get("http://" + nd.IP + ":" + httpPort + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Digest is the node's own FSM digest (/digest).
type Digest struct {
	AppliedIndex uint64 `json:"applied_index"`
	Digest       string `json:"digest"`
}

func (nd *Node) Digest() (*Digest, error) {
	var d Digest
	return &d, nd.getJSONWith(digestClient, "/digest", &d)
}

// Leader is the node that reports itself leader (nil if none does).
func (c *Cluster) Leader() *Node {
	for _, nd := range c.Nodes {
		if !nd.Running() {
			continue
		}
		if st, err := nd.Status(); err == nil && st.State == "Leader" {
			return nd
		}
	}
	return nil
}

// Admin calls fn with an AdminService client on node nd.
func (c *Cluster) Admin(ctx context.Context, nd *Node, fn func(adminpb.AdminServiceClient) error) error {
	conn, err := grpc.NewClient(nd.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	return fn(adminpb.NewAdminServiceClient(conn))
}

// Close kills every process and deletes the network.
func (c *Cluster) Close() error {
	for _, nd := range c.Nodes {
		nd.Resume()
		nd.Kill()
	}
	return c.Net.Close()
}
