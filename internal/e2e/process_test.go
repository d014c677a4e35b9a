package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/raftflow/engine/internal/testutil/enginebin"
)

// proc is one engine process, restartable on the same data and ports.
type proc struct {
	id, dataDir, grpc, raft, http string
	join                          []string
	p                             *enginebin.Process // nil before the first start
}

func newProc(t *testing.T, id string, join []string) *proc {
	dir := t.TempDir()
	return &proc{
		id: id, dataDir: filepath.Join(dir, "data"), join: join,
		grpc: enginebin.FreeAddr(t), raft: enginebin.FreeAddr(t), http: enginebin.FreeAddr(t),
	}
}

// start runs the engine binary (built once by enginebin.Build), its output
// appended to <id>.log next to the data directory. It is killed when t
// ends.
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
	pr, err := enginebin.Start(exec.Command(enginebin.Build(t), args...), logf)
	if err != nil {
		t.Fatal(err)
	}
	p.p = pr
	t.Cleanup(pr.Kill)
}

// stop sends sig and waits for the process to exit (SIGKILL after 15 s).
func (p *proc) stop(sig syscall.Signal) {
	if p.p != nil {
		p.p.Stop(sig, 15*time.Second)
	}
}

func (p *proc) alive() bool { return p.p != nil && p.p.Alive() }

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
