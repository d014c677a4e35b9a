// Package enginebin builds the engine binary and runs it as real
// processes, for the tests that need real processes: internal/e2e and the
// jepsen/ harness. It is a non-test package so that both (jepsen's
// non-test code included) share one implementation.
//
//	bin := enginebin.Build(t)                 // built once per test binary
//	p, err := enginebin.Start(exec.Command(bin, args...), logFile)
//	defer p.Kill()
//	p.Stop(syscall.SIGTERM, 15*time.Second)   // signal, then SIGKILL after the grace
//
// Build runs "go build" from the module root; RAFTFLOW_ENGINE_BIN (no
// tags) and RAFTFLOW_ENGINE_CHAOS_BIN (any tags) name prebuilt binaries
// instead. Binaries go to a fresh temporary directory, never into the
// working tree.
package enginebin

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildMu   sync.Mutex
	buildDone = map[string]string{} // by tags
)

// Path builds the engine with the given build tags ("" for none, e.g.
// "chaos") once per process and returns the binary's path. Safe for
// concurrent use.
func Path(tags string) (string, error) {
	env := "RAFTFLOW_ENGINE_BIN"
	if tags != "" {
		env = "RAFTFLOW_ENGINE_CHAOS_BIN"
	}
	if p := os.Getenv(env); p != "" {
		return p, nil
	}
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := buildDone[tags]; ok {
		return p, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	dir, err := os.MkdirTemp("", "raftflow-engine-bin-")
	if err != nil {
		return "", err
	}
	out := filepath.Join(dir, "engine")
	args := []string{"build", "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("enginebin: go build %s: %v\n%s", tags, err, b)
	}
	buildDone[tags] = out
	return out, nil
}

// Build is Path("") for a test: it fails t if the engine does not build.
func Build(t testing.TB) string {
	t.Helper()
	p, err := Path("")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func moduleRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	mod := strings.TrimSpace(string(b))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("enginebin: not inside the raftflow module")
	}
	return filepath.Dir(mod), nil
}

// FreeAddr returns a 127.0.0.1 address whose port the OS just chose as
// free. The port is released before it returns, so another process may
// take it before the engine binds it (rare; the engine then fails to
// start with "address already in use").
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// Process is one running engine process. Its methods are safe for
// concurrent use.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start starts cmd with its stdout and stderr going to log (which Start
// owns from then on: it is closed when the process has exited). cmd's
// other fields (Env, SysProcAttr, ...) are the caller's.
func Start(cmd *exec.Cmd, log io.WriteCloser) (*Process, error) {
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() { cmd.Wait(); log.Close(); close(p.exited) }()
	return p, nil
}

// Pid is the process id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited is closed once the process has exited and its log is closed.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Alive reports whether the process has not exited yet (a stopped,
// SIGSTOPped process is alive).
func (p *Process) Alive() bool {
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

// Signal sends sig to the process if it is alive.
func (p *Process) Signal(sig syscall.Signal) {
	if p.Alive() {
		syscall.Kill(p.Pid(), sig)
	}
}

// Stop sends sig and waits until the process exits; after grace it sends
// SIGKILL and waits for that. A process that already exited returns at
// once.
func (p *Process) Stop(sig syscall.Signal, grace time.Duration) {
	if !p.Alive() {
		return
	}
	p.Signal(sig)
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		p.Kill()
	}
}

// Kill sends SIGKILL and waits until the process is gone.
func (p *Process) Kill() {
	p.Signal(syscall.SIGKILL)
	<-p.exited
}
