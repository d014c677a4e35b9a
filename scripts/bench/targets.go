package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// temporalCLIVersion is the pinned Temporal CLI whose dev server we compare
// against.
const temporalCLIVersion = "v1.5.1"

type target struct {
	name  string
	start func() (addr string, stop func(), err error)
}

func external(addr string) target {
	return target{name: "engine@" + addr, start: func() (string, func(), error) { return addr, func() {}, nil }}
}

func freeAddr() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(err)
	defer ln.Close()
	return ln.Addr().String()
}

// raftflowTarget builds ./engine and starts n nodes (n == 1: --dev).
func raftflowTarget(n int) target {
	name := "raftflow-dev"
	if n > 1 {
		name = fmt.Sprintf("raftflow-%d-node", n)
	}
	return target{name: name, start: func() (string, func(), error) {
		dir, err := os.MkdirTemp("", "raftflow-bench-")
		if err != nil {
			return "", nil, err
		}
		bin := filepath.Join(dir, "engine")
		build := exec.Command("go", "build", "-o", bin, ".")
		build.Dir = repoRoot()
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			return "", nil, fmt.Errorf("build engine: %w", err)
		}
		var procs []*exec.Cmd
		var first, firstHTTP string
		for i := 1; i <= n; i++ {
			g, r, h := freeAddr(), freeAddr(), freeAddr()
			args := []string{"--node-id", fmt.Sprintf("n%d", i), "--data-dir", filepath.Join(dir, fmt.Sprintf("n%d", i)),
				"--grpc-addr", g, "--raft-addr", r, "--http-addr", h, "--log-level", "warn"}
			if n == 1 {
				args = append(args, "--dev")
			}
			if i == 1 {
				first, firstHTTP = g, h
			} else {
				args = append(args, "--join", first)
			}
			cmd := exec.Command(bin, args...)
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				return "", nil, err
			}
			procs = append(procs, cmd)
			if i == 1 {
				waitReady(firstHTTP)
			}
		}
		time.Sleep(500 * time.Millisecond) // let joiners settle before load
		waitReady(firstHTTP)
		stop := func() {
			for _, p := range procs {
				p.Process.Signal(os.Interrupt)
				p.Wait()
			}
			os.RemoveAll(dir)
		}
		return first, stop, nil
	}}
}

func waitReady(httpAddr string) {
	for i := 0; i < 300; i++ {
		resp, err := http.Get("http://" + httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// temporalTarget runs Temporal's dev server (in memory, as its docs run it).
func temporalTarget(bin string) target {
	return target{name: "temporal-dev-server", start: func() (string, func(), error) {
		if bin == "" {
			gobin, err := exec.Command("go", "env", "GOPATH").Output()
			if err != nil {
				return "", nil, err
			}
			bin = filepath.Join(string(gobin[:len(gobin)-1]), "bin", "temporal")
			if _, err := os.Stat(bin); err != nil {
				fmt.Fprintf(os.Stderr, "installing temporal CLI %s (once)...\n", temporalCLIVersion)
				inst := exec.Command("go", "install", "github.com/temporalio/cli/cmd/temporal@"+temporalCLIVersion)
				inst.Stdout, inst.Stderr = os.Stderr, os.Stderr
				if err := inst.Run(); err != nil {
					return "", nil, fmt.Errorf("install temporal CLI: %w", err)
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
			return "", nil, err
		}
		return g, func() { cmd.Process.Signal(os.Interrupt); cmd.Wait() }, nil
	}}
}
