package raftnode

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/hashicorp/go-hclog"
)

// LevelTrace is the slog level raft's Trace output is logged at (below Debug).
const LevelTrace = slog.LevelDebug - 4

// slogHCLog adapts an *slog.Logger to hclog.Logger so that raft's own output
// (raft, transport, snapshot store) lands in the engine's structured log.
// Enabled-ness is decided by the slog handler; SetLevel adds an optional
// extra floor shared by all loggers derived with With/Named.
type slogHCLog struct {
	l       *slog.Logger
	name    string
	implied []any
	floor   *atomic.Int32 // hclog.Level; NoLevel = defer to the handler
}

// newHCLog returns an hclog.Logger writing to l, named name.
func newHCLog(l *slog.Logger, name string) hclog.Logger {
	return &slogHCLog{l: l, name: name, floor: new(atomic.Int32)}
}

func slogLevel(lv hclog.Level) slog.Level {
	switch lv {
	case hclog.Trace:
		return LevelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default: // Info, NoLevel, Off (Off is filtered in enabled)
		return slog.LevelInfo
	}
}

func (h *slogHCLog) enabled(lv hclog.Level) bool {
	if lv == hclog.Off {
		return false
	}
	if f := hclog.Level(h.floor.Load()); f != hclog.NoLevel && lv < f {
		return false
	}
	return h.l.Enabled(context.Background(), slogLevel(lv))
}

func (h *slogHCLog) Log(lv hclog.Level, msg string, args ...any) {
	if !h.enabled(lv) {
		return
	}
	attrs := make([]slog.Attr, 0, 1+(len(h.implied)+len(args))/2)
	if h.name != "" {
		attrs = append(attrs, slog.String("logger", h.name))
	}
	attrs = appendAttrs(attrs, h.implied)
	attrs = appendAttrs(attrs, args)
	h.l.LogAttrs(context.Background(), slogLevel(lv), msg, attrs...)
}

// appendAttrs converts hclog's alternating key/value args, rendering hclog's
// formatting wrappers the way hclog would.
func appendAttrs(attrs []slog.Attr, kv []any) []slog.Attr {
	for i := 0; i < len(kv); i += 2 {
		if i+1 == len(kv) {
			attrs = append(attrs, slog.Any("EXTRA_VALUE_AT_END", kv[i]))
			break
		}
		key, ok := kv[i].(string)
		if !ok {
			key = fmt.Sprint(kv[i])
		}
		attrs = append(attrs, slog.Any(key, hclogValue(kv[i+1])))
	}
	return attrs
}

func hclogValue(v any) any {
	switch v := v.(type) {
	case hclog.Format:
		if len(v) == 0 {
			return ""
		}
		if f, ok := v[0].(string); ok {
			return fmt.Sprintf(f, v[1:]...)
		}
		return fmt.Sprint(v...)
	case hclog.Hex:
		return "0x" + strconv.FormatInt(int64(v), 16)
	case hclog.Octal:
		return "0" + strconv.FormatInt(int64(v), 8)
	case hclog.Binary:
		return "0b" + strconv.FormatInt(int64(v), 2)
	case hclog.Quote:
		return strconv.Quote(string(v))
	case error:
		return v.Error()
	case fmt.Stringer:
		return v.String()
	default:
		return v
	}
}

func (h *slogHCLog) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *slogHCLog) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *slogHCLog) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *slogHCLog) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *slogHCLog) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *slogHCLog) IsTrace() bool { return h.enabled(hclog.Trace) }
func (h *slogHCLog) IsDebug() bool { return h.enabled(hclog.Debug) }
func (h *slogHCLog) IsInfo() bool  { return h.enabled(hclog.Info) }
func (h *slogHCLog) IsWarn() bool  { return h.enabled(hclog.Warn) }
func (h *slogHCLog) IsError() bool { return h.enabled(hclog.Error) }

func (h *slogHCLog) ImpliedArgs() []any { return h.implied }

func (h *slogHCLog) With(args ...any) hclog.Logger {
	c := *h
	c.implied = append(append([]any(nil), h.implied...), args...)
	return &c
}

func (h *slogHCLog) Name() string { return h.name }

func (h *slogHCLog) Named(name string) hclog.Logger {
	c := *h
	if h.name != "" {
		c.name = h.name + "." + name
	} else {
		c.name = name
	}
	return &c
}

func (h *slogHCLog) ResetNamed(name string) hclog.Logger {
	c := *h
	c.name = name
	return &c
}

func (h *slogHCLog) SetLevel(lv hclog.Level) { h.floor.Store(int32(lv)) }

func (h *slogHCLog) GetLevel() hclog.Level {
	if f := hclog.Level(h.floor.Load()); f != hclog.NoLevel {
		return f
	}
	for _, lv := range []hclog.Level{hclog.Trace, hclog.Debug, hclog.Info, hclog.Warn, hclog.Error} {
		if h.l.Enabled(context.Background(), slogLevel(lv)) {
			return lv
		}
	}
	return hclog.Off
}

func (h *slogHCLog) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *slogHCLog) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	if opts == nil {
		opts = &hclog.StandardLoggerOptions{}
	}
	return &stdWriter{h: h, opts: *opts}
}

// stdWriter turns standard-library log lines into hclog calls.
type stdWriter struct {
	h    *slogHCLog
	opts hclog.StandardLoggerOptions
}

var levelPrefixes = []struct {
	prefix string
	level  hclog.Level
}{
	{"[TRACE]", hclog.Trace}, {"[DEBUG]", hclog.Debug}, {"[INFO]", hclog.Info},
	{"[WARN]", hclog.Warn}, {"[ERROR]", hclog.Error}, {"[ERR]", hclog.Error},
}

func (w *stdWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(string(bytes.TrimRight(p, "\r\n")), "\n") {
		lv, msg := hclog.Info, strings.TrimSpace(line)
		if w.opts.ForceLevel != hclog.NoLevel || w.opts.InferLevels {
			for _, lp := range levelPrefixes {
				if rest, ok := strings.CutPrefix(msg, lp.prefix); ok {
					lv, msg = lp.level, strings.TrimSpace(rest)
					break
				}
			}
		}
		if w.opts.ForceLevel != hclog.NoLevel {
			lv = w.opts.ForceLevel
		}
		w.h.Log(lv, msg)
	}
	return len(p), nil
}
