package plugins

import (
	"bytes"
	"context"
	"io"
	"log"
	"log/slog"
	"strings"
	"sync"

	hclog "github.com/hashicorp/go-hclog"
)

// hclogger is go-plugin's logger interface written into slog: go-plugin's
// own lines about a plugin, and the JSON lines the plugin's go-plugin server
// writes on its stderr, land in the host's log tagged with the plugin.
type hclogger struct {
	log  *slog.Logger
	name string
	args []any
}

var _ hclog.Logger = (*hclogger)(nil)

func newHCLogger(l *slog.Logger) hclog.Logger { return &hclogger{log: l} }

func slogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace, hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	}
	return slog.LevelInfo
}

func (h *hclogger) Log(level hclog.Level, msg string, args ...any) {
	lvl := slogLevel(level)
	if !h.log.Enabled(context.Background(), lvl) {
		return
	}
	all := append(append([]any{}, h.args...), args...)
	for i := 0; i+1 < len(all); i += 2 {
		if all[i] == "plugin" { // go-plugin's name for the executable; ours is the plugin's name
			all[i] = "executable"
		}
	}
	if h.name != "" {
		all = append(all, slog.String("logger", h.name))
	}
	h.log.Log(context.Background(), lvl, msg, all...)
}

func (h *hclogger) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hclogger) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hclogger) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hclogger) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hclogger) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hclogger) enabled(l slog.Level) bool { return h.log.Enabled(context.Background(), l) }

func (h *hclogger) IsTrace() bool { return false }
func (h *hclogger) IsDebug() bool { return h.enabled(slog.LevelDebug) }
func (h *hclogger) IsInfo() bool  { return h.enabled(slog.LevelInfo) }
func (h *hclogger) IsWarn() bool  { return h.enabled(slog.LevelWarn) }
func (h *hclogger) IsError() bool { return h.enabled(slog.LevelError) }

func (h *hclogger) ImpliedArgs() []any { return h.args }

func (h *hclogger) With(args ...any) hclog.Logger {
	return &hclogger{log: h.log, name: h.name, args: append(append([]any{}, h.args...), args...)}
}

func (h *hclogger) Name() string { return h.name }

func (h *hclogger) Named(name string) hclog.Logger {
	if h.name != "" {
		name = h.name + "." + name
	}
	return &hclogger{log: h.log, name: name, args: h.args}
}

func (h *hclogger) ResetNamed(name string) hclog.Logger {
	return &hclogger{log: h.log, name: name, args: h.args}
}

// SetLevel does nothing: the slog handler decides.
func (h *hclogger) SetLevel(hclog.Level) {}

func (h *hclogger) GetLevel() hclog.Level {
	switch {
	case h.enabled(slog.LevelDebug):
		return hclog.Debug
	case h.enabled(slog.LevelInfo):
		return hclog.Info
	case h.enabled(slog.LevelWarn):
		return hclog.Warn
	}
	return hclog.Error
}

func (h *hclogger) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *hclogger) StandardWriter(*hclog.StandardLoggerOptions) io.Writer {
	return &lineWriter{log: h.log, level: slog.LevelInfo, stream: "log"}
}

// lineWriter writes each line written to it as one log record: a plugin's
// stdout and stderr, tagged with the stream.
type lineWriter struct {
	log    *slog.Logger
	level  slog.Level
	stream string

	mu  sync.Mutex
	buf []byte
}

// maxLine is the longest line logged as one record; longer ones are split.
const maxLine = 16 << 10

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 && len(w.buf) < maxLine {
			break
		}
		if i < 0 {
			i = maxLine
		}
		w.emit(string(w.buf[:i]))
		w.buf = w.buf[min(i+1, len(w.buf)):]
	}
	return len(p), nil
}

func (w *lineWriter) emit(line string) {
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return
	}
	w.log.Log(context.Background(), w.level, line, slog.String("stream", w.stream))
}

// tail keeps the last lines written to it, to say why a plugin that died
// at start died.
type tail struct {
	mu    sync.Mutex
	lines []string
	part  []byte
	max   int
}

func newTail(max int) *tail { return &tail{max: max} }

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, p...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(t.part[:i])); line != "" && !isHCLogJSON(line) {
			t.lines = append(t.lines, line)
			if len(t.lines) > t.max {
				t.lines = t.lines[1:]
			}
		}
		t.part = t.part[i+1:]
	}
	if len(t.part) > maxLine {
		t.part = t.part[:0]
	}
	return len(p), nil
}

// isHCLogJSON reports whether a stderr line is go-plugin's own JSON log,
// which says nothing an admin needs about why the plugin died.
func isHCLogJSON(line string) bool {
	return strings.HasPrefix(line, `{"@level"`)
}

// String returns the kept lines, joined by " | ".
func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, " | ")
}
