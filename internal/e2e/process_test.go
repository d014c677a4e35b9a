package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// engineBinary builds ./engine once per test binary into a temp dir.
var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

func engineBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "raftflow-e2e-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "engine")
		cmd := exec.Command("go", "build", "-o", binPath, "github.com/raftflow/engine")
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// freePort asks the kernel for a free loopback port.
func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proc is one engine process.
type proc struct {
	id, dataDir, grpc, raft, http string
	join                          []string
	cmd                           *exec.Cmd
	log                           *os.File
	exited                        chan struct{}
}

func newProc(t *testing.T, id string, join []string) *proc {
	dir := t.TempDir()
	return &proc{
		id: id, dataDir: filepath.Join(dir, "data"), join: join,
		grpc: freePort(t), raft: freePort(t), http: freePort(t),
	}
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	args := []string{"--node-id", p.id, "--data-dir", p.dataDir,
		"--grpc-addr", p.grpc, "--raft-addr", p.raft, "--http-addr", p.http, "--log-level", "warn"}
	if len(p.join) > 0 {
		args = append(args, "--join", strings.Join(p.join, ","))
	}
	logf, err := os.OpenFile(filepath.Join(filepath.Dir(p.dataDir), p.id+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.log = logf
	p.cmd = exec.Command(engineBinary(t), args...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.exited = make(chan struct{})
	go func(c *exec.Cmd, ch chan struct{}) { c.Wait(); close(ch) }(p.cmd, p.exited)
	t.Cleanup(func() { p.stop(syscall.SIGKILL) })
}

func (p *proc) stop(sig syscall.Signal) {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
	p.log.Close()
}

func (p *proc) alive() bool {
	if p.exited == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

type member struct {
	ID       string `json:"id"`
	GRPCAddr string `json:"grpc_addr"`
	Leader   bool   `json:"leader"`
}

type status struct {
	NodeID       string   `json:"node_id"`
	State        string   `json:"state"`
	LeaderID     string   `json:"leader_id"`
	AppliedIndex string   `json:"applied_index"`
	CommitIndex  string   `json:"commit_index"`
	Members      []member `json:"members"`
}

func (p *proc) status() (*status, error) {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + p.http + "/status")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var st status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, err
	}
	return &st, nil
}

func (p *proc) ready() bool {
	c := http.Client{Timeout: 2 * time.Second}
	resp, err := c.Get("http://" + p.http + "/readyz")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}
