package raftnode

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

func TestHCLogAdapter(t *testing.T) {
	var buf bytes.Buffer
	l := newHCLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})), "raft")
	sub := l.Named("transport").With("peer", "n2")

	sub.Info("hello", "err", errors.New("boom"), "servers", hclog.Fmt("%d-%s", 3, "x"), "dangling")
	l.Trace("hidden") // below the handler's level
	l.Warn("careful", "n", hclog.Hex(255))
	out := buf.String()
	for _, want := range []string{
		`level=INFO msg=hello logger=raft.transport peer=n2 err=boom servers=3-x EXTRA_VALUE_AT_END=dangling`,
		`level=WARN msg=careful logger=raft n=0xff`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "hidden") {
		t.Errorf("trace logged at debug level:\n%s", out)
	}
	if !l.IsDebug() || l.IsTrace() || l.GetLevel() != hclog.Debug {
		t.Errorf("levels: debug=%v trace=%v get=%v", l.IsDebug(), l.IsTrace(), l.GetLevel())
	}
	l.SetLevel(hclog.Warn) // shared with derived loggers
	if sub.IsInfo() || !sub.IsWarn() || sub.GetLevel() != hclog.Warn {
		t.Error("SetLevel not shared with derived loggers")
	}

	buf.Reset()
	l.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true}).Print("[ERR] disk full")
	if !strings.Contains(buf.String(), `level=ERROR msg="disk full" logger=raft`) {
		t.Errorf("standard logger: %s", buf.String())
	}
}
