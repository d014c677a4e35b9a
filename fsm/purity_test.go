package fsm

// The state machine must be deterministic (DESIGN-GUIDE §3.1): Apply reads
// only Pebble and the log entry. This test fails CI when a non-test,
// non-generated file under fsm/ imports randomness, the network or process
// execution, reads the clock or starts a goroutine.

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var bannedImports = map[string]string{
	"math/rand":    "randomness",
	"math/rand/v2": "randomness",
	"crypto/rand":  "randomness",
	"net":          "network",
	"net/http":     "network",
	"os/exec":      "process execution",
}

// bannedSelectors are package members that read the clock or randomness,
// by import path.
var bannedSelectors = map[string]map[string]bool{
	"time": {"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true, "AfterFunc": true,
		"Tick": true, "NewTimer": true, "NewTicker": true},
	"github.com/google/uuid": {"New": true, "NewString": true, "NewRandom": true, "NewV7": true, "Must": true},
}

// checkPurity parses one Go file and returns what makes it impure.
func checkPurity(fset *token.FileSet, filename string, src any) ([]string, error) {
	f, err := parser.ParseFile(fset, filename, src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	return purityFindings(fset, f), nil
}

// purityFindings lists what makes the parsed file f impure.
func purityFindings(fset *token.FileSet, f *ast.File) []string {
	var findings []string
	report := func(pos token.Pos, format string, args ...any) {
		findings = append(findings, fmt.Sprintf("%s: %s", fset.Position(pos), fmt.Sprintf(format, args...)))
	}
	local := map[string]string{} // local package name → import path (for bannedSelectors)
	for _, imp := range f.Imports {
		path, _ := strconv.Unquote(imp.Path.Value)
		if why, bad := bannedImports[path]; bad {
			report(imp.Pos(), "imports %q (%s)", path, why)
		}
		if _, watched := bannedSelectors[path]; !watched {
			continue
		}
		name := path[strings.LastIndex(path, "/")+1:]
		if imp.Name != nil {
			name = imp.Name.Name
		}
		if name == "." {
			report(imp.Pos(), "dot-imports %q (its clock functions could not be checked)", path)
			continue
		}
		local[name] = path
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.GoStmt:
			report(n.Pos(), "starts a goroutine")
		case *ast.SelectorExpr:
			if id, ok := n.X.(*ast.Ident); ok {
				if path, ok := local[id.Name]; ok && bannedSelectors[path][n.Sel.Name] {
					report(n.Pos(), "uses %s.%s", path, n.Sel.Name)
				}
			}
		}
		return true
	})
	return findings
}

func TestPurity(t *testing.T) {
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ParseComments)
		if err != nil {
			return err
		}
		if ast.IsGenerated(f) {
			return nil
		}
		checked++
		for _, msg := range purityFindings(fset, f) {
			t.Errorf("fsm must be deterministic: %s", msg)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 5 {
		t.Fatalf("checked only %d files: is the test running in fsm/?", checked)
	}

	t.Run("checker finds violations", func(t *testing.T) {
		const bad = `package fsm

import (
	"crypto/rand"
	mrand "math/rand/v2"
	"net/http"
	clock "time"
	"github.com/google/uuid"
)

func impure() {
	_ = clock.Now()
	f := clock.Since
	_ = f
	<-clock.After(1)
	go func() {}()
	_ = uuid.NewString()
	_, _ = rand.Read(nil)
	_ = mrand.Int()
	_ = http.DefaultClient
	_ = clock.Unix(0, 0) // fine: no clock read
}
`
		findings, err := checkPurity(token.NewFileSet(), "bad.go", bad)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{`imports "crypto/rand"`, `imports "math/rand/v2"`, `imports "net/http"`,
			"uses time.Now", "uses time.Since", "uses time.After", "starts a goroutine", "uses github.com/google/uuid.NewString"}
		all := strings.Join(findings, "\n")
		for _, w := range want {
			if !strings.Contains(all, w) {
				t.Errorf("checker missed %q; findings:\n%s", w, all)
			}
		}
		if len(findings) != len(want) {
			t.Errorf("%d findings, want %d:\n%s", len(findings), len(want), all)
		}
	})
	t.Run("checker finds dot imports", func(t *testing.T) {
		findings, err := checkPurity(token.NewFileSet(), "dot.go", "package fsm\n\nimport . \"time\"\n\nvar _ = Now\n")
		if err != nil || len(findings) != 1 {
			t.Fatalf("findings %v, err %v", findings, err)
		}
	})
	t.Run("checker accepts pure code", func(t *testing.T) {
		const good = `package fsm

import "time"

func pure(nanos int64) time.Time { return time.Unix(0, nanos).Add(time.Second) }
`
		findings, err := checkPurity(token.NewFileSet(), "good.go", good)
		if err != nil || len(findings) != 0 {
			t.Fatalf("findings %v, err %v", findings, err)
		}
	})
}
