package sdk_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

// The program the type check test compiles, with every typed helper used
// correctly. Each case below replaces one marked line with a misuse.
const typecheckProgram = `package main

import (
	"context"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/raftflow/engine/sdk"
)

type Order struct{ ID string }

func Charge(ctx context.Context, o Order) (int, error) { return 42, nil }

func OrderWorkflow(ctx workflow.Context, o Order) (string, error) {
	cents, err := sdk.ExecuteActivity(ctx, Charge, o).Get(ctx) // ACTIVITY
	_ = cents + 1                                               // RESULT
	return o.ID, err
}

var Approve = sdk.NewSignal[bool]("approve")

func main() {
	ctx := context.Background()
	var c client.Client
	run, _ := sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{}, OrderWorkflow, Order{ID: "o-1"}) // WORKFLOW
	var id string = run.ID()
	_ = Approve.Send(ctx, c, id, "", true) // SIGNAL
}
`

// TestTypedHelpersRejectWrongTypes proves the typed helpers are checked by
// the compiler: a program using them correctly builds, and each misuse
// (wrong activity argument, wrong workflow argument, wrong result type,
// wrong signal payload) fails go build with a type error on its line.
// The program is a module in a temporary directory whose go.mod replaces
// this module with the working tree; it builds offline from the module
// cache.
func TestTypedHelpersRejectWrongTypes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go build")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command")
		}
	}
	root, err := filepath.Abs("..") // this package is sdk/ in the module
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module typecheck\n\ngo 1.26\n\nrequire github.com/raftflow/engine v0.0.0\n\nreplace github.com/raftflow/engine => " + root + "\n"
	write := func(name, body string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("go.mod", gomod)
	write("go.sum", string(sum))

	cases := []struct {
		name, marker, replace, wantErr string
	}{
		{"good", "", "", ""},
		{"activity argument", "// ACTIVITY",
			`cents, err := sdk.ExecuteActivity(ctx, Charge, o.ID).Get(ctx)`,
			`type string of o.ID does not match inferred type Order for In|cannot use o.ID \(variable of type string\) as Order value`},
		{"workflow argument", "// WORKFLOW",
			`run, _ := sdk.ExecuteWorkflow(ctx, c, client.StartWorkflowOptions{}, OrderWorkflow, "o-1")`,
			`cannot use "o-1" \(untyped string constant\) as Order value`},
		{"result type", "// RESULT",
			`_ = cents + "1"`,
			`(mismatched types int and untyped string|cannot convert "1")`},
		{"signal payload", "// SIGNAL",
			`_ = Approve.Send(ctx, c, id, "", "yes")`,
			`cannot use "yes" \(untyped string constant\) as bool value`},
	}
	var pkgs []string
	line := make([]int, len(cases)) // of the misuse
	for i, tc := range cases {
		src := typecheckProgram
		if tc.marker != "" {
			lines := strings.Split(src, "\n")
			for j, l := range lines {
				if strings.HasSuffix(strings.TrimSpace(l), tc.marker) {
					lines[j] = "\t" + tc.replace + " " + tc.marker
					line[i] = j + 1
				}
			}
			src = strings.Join(lines, "\n")
		}
		pkg := filepath.Join("case", string(rune('a'+i)))
		pkgs = append(pkgs, pkg)
		write(filepath.Join(pkg, "main.go"), src)
	}

	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(gobin, "build", "-o", os.DevNull, "./"+pkgs[i])
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOPROXY=off", "GOSUMDB=off", "GOWORK=off", "GOTOOLCHAIN=local")
			out, err := cmd.CombinedOutput()
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("the correct program does not build: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("go build accepted the misuse %q", tc.replace)
			}
			want := fmt.Sprintf(`main\.go:%d:\d+: .*(%s)`, line[i], tc.wantErr)
			if !regexp.MustCompile(want).Match(out) {
				t.Fatalf("go build failed, but not with a type error matching %q:\n%s", want, out)
			}
			t.Logf("rejected as expected: %s", firstLine(out))
		})
	}
}

func firstLine(b []byte) string {
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, ".go:") {
			return strings.TrimSpace(l)
		}
	}
	return strings.TrimSpace(string(b))
}
