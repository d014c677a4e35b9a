package main

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	enumspb "go.temporal.io/api/enums/v1"
)

// TestConfigPrecedence: flags win over ENGINE_* variables, which win over
// the --config file.
func TestConfigPrecedence(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "engine.yaml")
	yaml := "node-id: from-file\ndata_dir: /file/data\njoin: [a:1, b:2]\ngrpc-addr: 10.0.0.1:1\nlog-level: debug\napi-key: file-key\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("ENGINE_GRPC_ADDR", "10.0.0.2:2")
	t.Setenv("ENGINE_LOG_LEVEL", "warn")
	o, err := parseFlags([]string{"--config", file, "--log-level=error"})
	if err != nil {
		t.Fatal(err)
	}
	if o.nodeID != "from-file" || o.dataDir != "/file/data" || o.join != "a:1,b:2" || o.apiKey != "file-key" {
		t.Errorf("file values: %+v", o)
	}
	if o.grpcAddr != "10.0.0.2:2" {
		t.Errorf("grpc-addr %q: the environment should beat the file", o.grpcAddr)
	}
	if o.logLevel != "error" {
		t.Errorf("log-level %q: the flag should beat the environment", o.logLevel)
	}

	t.Setenv("ENGINE_CONFIG", file)
	if o, err := parseFlags(nil); err != nil || o.nodeID != "from-file" {
		t.Errorf("ENGINE_CONFIG: %+v %v", o, err)
	}
	if err := os.WriteFile(file, []byte("no-such-flag: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := parseFlags([]string{"--config=" + file}); err == nil || !strings.Contains(err.Error(), "no-such-flag") {
		t.Errorf("unknown key: %v", err)
	}
}

// TestUIAddr: the Web UI is on by default with --dev only; "off" disables
// it; the environment and the config file set it like any other flag.
func TestUIAddr(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		env  string
		file string
		want string
	}{
		{args: []string{"--dev", "--data-dir", dir}, want: devUIAddr},
		{args: []string{"--dev", "--data-dir", dir, "--ui-addr", "off"}, want: ""},
		{args: []string{"--node-id", "n1", "--data-dir", dir}, want: ""},
		{args: []string{"--node-id", "n1", "--data-dir", dir, "--ui-addr", "0.0.0.0:8080"}, want: "0.0.0.0:8080"},
		{args: []string{"--node-id", "n1", "--data-dir", dir}, env: "127.0.0.1:9000", want: "127.0.0.1:9000"},
		{args: []string{"--node-id", "n1", "--data-dir", dir}, file: "ui_addr: 127.0.0.1:9001\n", want: "127.0.0.1:9001"},
		{args: []string{"--dev", "--data-dir", dir}, env: "off", want: ""},
	} {
		t.Setenv("ENGINE_UI_ADDR", c.env)
		if c.env == "" {
			os.Unsetenv("ENGINE_UI_ADDR")
		}
		args := c.args
		if c.file != "" {
			f := filepath.Join(dir, "engine.yaml")
			if err := os.WriteFile(f, []byte(c.file), 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--config", f)
		}
		o, err := parseFlags(args)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if o.uiAddr != c.want {
			t.Errorf("%v env=%q file=%q: ui addr %q, want %q", args, c.env, c.file, o.uiAddr, c.want)
		}
	}
}

// TestSearchAttributeFlag: --search-attribute takes NAME=TYPE, repeated or
// comma-separated, the type in any case; it needs --dev; a bad pair is an
// error naming it.
func TestSearchAttributeFlag(t *testing.T) {
	dir := t.TempDir()
	o, err := parseFlags([]string{"--dev", "--data-dir", dir, "--search-attribute", "Region=Keyword",
		"--search-attribute", "Score=int,Due=DATETIME"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]enumspb.IndexedValueType{"Region": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"Score": enumspb.INDEXED_VALUE_TYPE_INT, "Due": enumspb.INDEXED_VALUE_TYPE_DATETIME}
	if !maps.Equal(o.searchAttrs, want) {
		t.Errorf("parsed %v, want %v", o.searchAttrs, want)
	}
	for _, bad := range []string{"Region", "=Keyword", "Region=Float", "Region=Unspecified"} {
		if _, err := parseFlags([]string{"--dev", "--data-dir", dir, "--search-attribute", bad}); err == nil || !strings.Contains(err.Error(), bad) {
			t.Errorf("--search-attribute %s: %v, want an error naming it", bad, err)
		}
	}
	if _, err := parseFlags([]string{"--node-id", "n1", "--data-dir", dir, "--search-attribute", "Region=Keyword"}); err == nil ||
		!strings.Contains(err.Error(), "--dev") {
		t.Errorf("without --dev: %v, want an error", err)
	}
}
