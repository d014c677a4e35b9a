package main

import (
	"bufio"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// temporalCLIVersion is the pinned Temporal CLI whose dev server we compare
// against.
const temporalCLIVersion = "v1.5.1"

// target is something to measure: raftflow in some shape, Temporal's dev
// server, or an address someone else runs.
type target struct {
	name  string
	start func() (*deployment, error)
}

// deployment is a started target. nodes is empty for targets the bench
// does not run itself as raftflow (external, Temporal).
type deployment struct {
	addr  string // what the SDK client dials
	nodes []*node
	bin   string // raftflow engine binary
	dir   string
	stop  func()
}

// node is one raftflow engine process the bench started.
type node struct {
	id, grpc, raft, http, dir string
	cmd                       *exec.Cmd
}

func external(addr string) target {
	return target{name: "engine@" + addr, start: func() (*deployment, error) {
		return &deployment{addr: addr, stop: func() {}}, nil
	}}
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer ln.Close()
	return ln.Addr().String()
}

// raftflowTarget builds ./engine and starts n nodes (n == 1: --dev).
func raftflowTarget(n int, extra ...string) target {
	name := "raftflow-dev"
	if n > 1 {
		name = fmt.Sprintf("raftflow-%d-node", n)
	}
	return target{name: name, start: func() (*deployment, error) {
		dir, err := os.MkdirTemp("", "raftflow-bench-")
		if err != nil {
			return nil, err
		}
		bin := filepath.Join(dir, "engine")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Dir = repoRoot()
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return nil, fmt.Errorf("build engine: %w", err)
		}
		d := &deployment{bin: bin, dir: dir}
		for i := 1; i <= n; i++ {
			var join string
			if i > 1 {
				join = d.nodes[0].grpc
			}
			nd, err := d.startNode(fmt.Sprintf("n%d", i), join, n == 1, extra...)
			if err != nil {
				d.shutdown()
				return nil, err
			}
			if i == 1 {
				d.addr = nd.grpc
			}
		}
		for _, nd := range d.nodes {
			if err := waitReady(nd.http, time.Minute); err != nil {
				d.shutdown()
				return nil, err
			}
		}
		d.stop = d.shutdown
		return d, nil
	}}
}

// startNode starts one engine process (dev mode, or joining join when set)
// and waits until it answers /livez.
func (d *deployment) startNode(id, join string, dev bool, extra ...string) (*node, error) {
	nd := &node{id: id, grpc: freeAddr(), raft: freeAddr(), http: freeAddr(), dir: filepath.Join(d.dir, id)}
	args := []string{"--node-id", id, "--data-dir", nd.dir, "--grpc-addr", nd.grpc, "--raft-addr", nd.raft,
		"--http-addr", nd.http, "--log-level", "warn", "--ui-addr", "off", "--pprof"}
	if dev {
		args = append(args, "--dev")
	}
	if join != "" {
		args = append(args, "--join", join)
	}
	nd.cmd = exec.Command(d.bin, append(args, extra...)...)
	nd.cmd.Stderr = os.Stderr
	if err := nd.cmd.Start(); err != nil {
		return nil, err
	}
	d.nodes = append(d.nodes, nd)
	for i := 0; i < 600; i++ {
		if resp, err := http.Get("http://" + nd.http + "/livez"); err == nil {
			resp.Body.Close()
			return nd, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, fmt.Errorf("node %s did not come up", id)
}

func (d *deployment) shutdown() {
	for _, nd := range slices.Backward(d.nodes) { // joiners first: no leadership hand-over to a node about to stop
		if nd.cmd.ProcessState == nil {
			nd.cmd.Process.Signal(os.Interrupt)
			nd.cmd.Wait()
		}
	}
	os.RemoveAll(d.dir)
}

// leader returns the node whose metrics say it leads.
func (d *deployment) leader() (*node, error) {
	for i := 0; i < 200; i++ {
		for _, nd := range d.nodes {
			if nd.cmd.ProcessState != nil {
				continue
			}
			if m, err := scrape(nd.http); err == nil && m[`raftflow_raft_state{state="Leader"}`] == 1 {
				return nd, nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil, fmt.Errorf("no leader")
}

func waitReady(httpAddr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s not ready after %v", httpAddr, limit)
}

// scrape reads a node's /metrics: every sample under its full name (with
// labels), and labelled samples also summed under their bare name.
func scrape(httpAddr string) (map[string]float64, error) {
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		sp := strings.LastIndexByte(line, ' ')
		if sp < 0 {
			continue
		}
		name := line[:sp]
		v, err := strconv.ParseFloat(line[sp+1:], 64)
		if err != nil {
			continue
		}
		out[name] = v
		if i := strings.IndexByte(name, '{'); i >= 0 {
			out[name[:i]] += v
		}
	}
	return out, sc.Err()
}

// rssBytes is a process's resident set size.
func rssBytes(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// diskBytes sums the allocated size of the files under dir.
func diskBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		if fi, err := e.Info(); err == nil { // a file compacted away meanwhile counts as gone
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				n += st.Blocks * 512
			}
		}
		return nil
	})
	return n
}

// temporalTarget runs Temporal's dev server (in memory, as its docs run it).
func temporalTarget(bin string) target {
	return target{name: "temporal-dev-server", start: func() (*deployment, error) {
		if bin == "" {
			gobin, err := exec.Command("go", "env", "GOPATH").Output()
			if err != nil {
				return nil, err
			}
			bin = filepath.Join(strings.TrimSpace(string(gobin)), "bin", "temporal")
			if _, err := os.Stat(bin); err != nil {
				fmt.Fprintf(os.Stderr, "installing temporal CLI %s (once)...\n", temporalCLIVersion)
				inst := exec.Command("go", "install", "github.com/temporalio/cli/cmd/temporal@"+temporalCLIVersion)
				inst.Stdout, inst.Stderr = os.Stderr, os.Stderr
				if err := inst.Run(); err != nil {
					return nil, fmt.Errorf("install temporal CLI: %w", err)
				}
			}
		}
		g := freeAddr()
		_, port, _ := net.SplitHostPort(g)
		ui := freeAddr()
		_, uiPort, _ := net.SplitHostPort(ui)
		cmd := exec.Command(bin, "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", port, "--ui-port", uiPort, "--log-level", "error")
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		return &deployment{addr: g, stop: func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }}, nil
	}}
}
