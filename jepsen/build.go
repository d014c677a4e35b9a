package jepsen

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

var (
	buildMu   sync.Mutex
	buildDone = map[string]string{}
)

// EngineBinary builds the engine (with the given build tags) once per
// process and returns its path. RAFTFLOW_ENGINE_BIN (no tags) and
// RAFTFLOW_ENGINE_CHAOS_BIN (tag chaos) name prebuilt binaries instead.
func EngineBinary(tags string) (string, error) {
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
	dir, err := os.MkdirTemp("", "raftflow-jepsen-bin-")
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
		return "", fmt.Errorf("go build %s: %v\n%s", tags, err, b)
	}
	buildDone[tags] = out
	return out, nil
}

func moduleRoot() (string, error) {
	b, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	mod := strings.TrimSpace(string(b))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("not inside the raftflow module")
	}
	return filepath.Dir(mod), nil
}
