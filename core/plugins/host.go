// Package plugins is the host side of the plugin platform: it starts the
// plugins an instance's configuration names, as child processes that speak
// the protocol of plugins/proto over go-plugin's gRPC, checks what each
// declares, calls them, and serves each the Host service through which it
// reaches records, events, the log and stored files.
//
// First-party plugins are built into the crm binary and started by
// re-executing it (`crm plugin serve NAME`); third-party plugins are the
// executables at their configured path, started only when their SHA-256
// is the configured one, and spoken to over mutual TLS. Every call from a
// plugin is checked against its HCL `read` and `write` lists; every call
// to or from a plugin has a deadline.
//
// It knows only the protocol: it must not import the SDK nor any plugin.
// A supervisor per plugin (supervisor.go) checks its health and restarts
// it with backoff when it crashes or hangs.
package plugins

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/records"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Errors a start or a call may be matched against with errors.Is.
var (
	// ErrChecksum: a third-party plugin's executable is not the one the
	// configuration names by its SHA-256.
	ErrChecksum = errors.New("checksum mismatch")
	// ErrProtocol: the plugin speaks a protocol version this crm does not.
	ErrProtocol = errors.New("unsupported protocol version")
	// ErrManifest: the plugin's manifest is malformed.
	ErrManifest = errors.New("invalid manifest")
	// ErrExited: the plugin process exited before it could be used.
	ErrExited = errors.New("plugin exited")
	// ErrNotRunning: a call to a plugin that is not running.
	ErrNotRunning = errors.New("plugin is not running")
	// ErrUnknown: a call to a plugin the configuration does not name.
	ErrUnknown = errors.New("no such plugin")
	// ErrTimeout: a call that got no answer within its deadline.
	ErrTimeout = errors.New("no answer in time")

	// errRetired: a call reached a plugin that a reload replaced; it is
	// made again to the plugin now configured under that name.
	errRetired = errors.New("plugin replaced by a reload")
)

// State is where a plugin is in its life.
type State string

// States of a plugin.
const (
	StateStarting   State = "starting"
	StateRunning    State = "running"
	StateRestarting State = "restarting"
	StateFailed     State = "failed"
	StateStopped    State = "stopped"
)

// DefaultCallTimeout is the deadline of a call to or from a plugin when
// Options.CallTimeout is zero.
const DefaultCallTimeout = 10 * time.Second

// DefaultStartTimeout is how long a plugin has to start, hand over its
// manifest and accept its configuration, when Options.StartTimeout is zero.
const DefaultStartTimeout = 30 * time.Second

// DefaultEnv are the environment variables a plugin process inherits from
// the host; no other variable of the host reaches it (go-plugin
// SkipHostEnv). Secrets a plugin needs come from its HCL config.
var DefaultEnv = []string{
	"PATH", "HOME", "TMPDIR", "TZ", "LANG", "LC_ALL", "LC_CTYPE",
	"SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY",
	"CRM_LOG_LEVEL", "GOCOVERDIR",
}

// UserPrincipals finds the user on whose behalf a plugin acts, with the
// user's current role; nil for an unknown or disabled user, who may do
// nothing.
type UserPrincipals func(ctx context.Context, userID string) *auth.Principal

// Options configure a Host.
type Options struct {
	// Store is where plugins' reads and writes go.
	Store store.Store
	// Schema is the instance's schema: records cross to plugins in their
	// API form, and plugins' writes are validated as the API's are.
	Schema *schema.Schema
	// Logger receives the host's lines about plugins and the plugins' own
	// output, each tagged with the plugin's name. Nil for slog.Default().
	Logger *slog.Logger
	// Executable is the crm binary that first-party plugins are started
	// from; "" for os.Executable(). Tests point it at a binary of their own.
	Executable string
	// ServeArgs are the arguments that make Executable serve a first-party
	// plugin; nil for `plugin serve NAME`.
	ServeArgs func(name string) []string
	// CallTimeout is the deadline of each call; 0 for DefaultCallTimeout.
	CallTimeout time.Duration
	// StartTimeout bounds a plugin's start; 0 for DefaultStartTimeout.
	StartTimeout time.Duration
	// Env adds variable names to DefaultEnv.
	Env []string
	// Users, when set, narrows a plugin's host calls made during an Invoke
	// on behalf of a user to what that user may do as well.
	Users UserPrincipals
	// Records is the record service the plugins' record calls go through;
	// nil for one over Store and Schema.
	Records *records.Service
	// Locale is the instance's locale block, sent to every plugin with its
	// configuration; the zero Locale sends the defaults.
	Locale config.Locale
	// Reattach names plugins that already run, in this process (the SDK's
	// test kit) or under a debugger: the host connects to them instead of
	// starting a process, without checksum or mutual TLS.
	Reattach map[string]*goplugin.ReattachConfig

	// HealthInterval is how often a running plugin's health is checked;
	// 0 for DefaultHealthInterval.
	HealthInterval time.Duration
	// HealthTimeout is the deadline of a health check; 0 for
	// DefaultHealthTimeout (or CallTimeout when shorter).
	HealthTimeout time.Duration
	// HealthFailures is how many failed health checks in a row make the
	// supervisor restart a plugin; 0 for DefaultHealthFailures.
	HealthFailures int
	// RestartBackoff is the wait before the first restart after a crash,
	// doubled at each further crash up to RestartBackoffMax; 0 for
	// DefaultRestartBackoff and DefaultRestartBackoffMax.
	RestartBackoff, RestartBackoffMax time.Duration
	// MaxCrashes crashes within CrashWindow mark a plugin failed, not to be
	// restarted until Host.Restart; 0 for DefaultMaxCrashes and
	// DefaultCrashWindow.
	MaxCrashes  int
	CrashWindow time.Duration
}

// Host runs the configured plugins of one instance.
type Host struct {
	opts Options
	log  *slog.Logger

	// onBehalf maps the call token of each Invoke in flight made for a
	// user to its *invocation.
	onBehalf sync.Map

	mu      sync.RWMutex
	plugins map[string]*managed
	order   []string
	closed  bool

	// ctx is cancelled, and quit closed, when the host closes; the
	// supervisors stop then.
	ctx         context.Context
	cancel      context.CancelFunc
	quit        chan struct{}
	closeOnce   sync.Once
	supervisors sync.WaitGroup
	metrics     *metrics
}

// New returns a Host that runs no plugin yet; Start starts them.
func New(opts Options) *Host {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.CallTimeout <= 0 {
		opts.CallTimeout = DefaultCallTimeout
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = DefaultStartTimeout
	}
	if opts.ServeArgs == nil {
		opts.ServeArgs = func(name string) []string { return []string{"plugin", "serve", name} }
	}
	opts.supervisionDefaults()
	if opts.Records == nil {
		opts.Records = records.New(opts.Store, opts.Schema)
	}
	h := &Host{opts: opts, log: opts.Logger, plugins: map[string]*managed{}, quit: make(chan struct{})}
	h.ctx, h.cancel = context.WithCancel(context.Background())
	h.metrics = newMetrics(h)
	return h
}

// Start starts every plugin in cfgs, in parallel, and waits until each is
// running or has failed. A plugin that fails to start is left in the
// failed state with its error (see Plugins) and the others run on: Start
// returns the start errors joined, and the caller decides whether the
// instance serves without them.
func (h *Host) Start(ctx context.Context, cfgs []*config.Plugin) error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return errors.New("start plugins: the host is closed")
	}
	var todo []*managed
	for _, c := range cfgs {
		if _, dup := h.plugins[c.Name]; dup {
			h.mu.Unlock()
			return fmt.Errorf("start plugins: plugin %q is configured twice", c.Name)
		}
		m := newManaged(h, c)
		h.plugins[c.Name] = m
		h.order = append(h.order, c.Name)
		todo = append(todo, m)
		h.supervisors.Add(1)
		go h.supervise(m)
	}
	h.mu.Unlock()

	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for i, m := range todo {
		wg.Go(func() { errs[i] = m.start(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Close stops every plugin and waits until their processes (and the
// process groups they lead) are gone.
func (h *Host) Close() error {
	h.mu.Lock()
	h.closed = true
	all := make([]*managed, 0, len(h.order))
	for _, name := range h.order {
		all = append(all, h.plugins[name])
	}
	h.mu.Unlock()
	h.closeOnce.Do(func() {
		close(h.quit)
		h.cancel()
	})
	h.supervisors.Wait()
	var wg sync.WaitGroup
	for _, m := range all {
		wg.Go(m.stop)
	}
	wg.Wait()
	return nil
}

// Status is what the API and `crm plugin list` show of a plugin.
type Status struct {
	Name string `json:"name"`
	// Source is "builtin" for a first-party plugin, "path" for a
	// third-party executable, "attached" for one the host attached to.
	Source          string    `json:"source"`
	Path            string    `json:"path,omitempty"`
	SHA256          string    `json:"sha256,omitempty"`
	State           State     `json:"state"`
	Version         string    `json:"version,omitempty"`
	ProtocolVersion int       `json:"protocol_version,omitempty"`
	PID             int       `json:"pid,omitempty"`
	StartedAt       time.Time `json:"started_at,omitzero"`
	LastError       string    `json:"last_error,omitempty"`
	// Warning is what the plugin's last health check said it cannot do
	// (a converter it needs is missing), while it runs and does the rest.
	Warning string `json:"warning,omitempty"`
	// Restarts counts the times the plugin's process was started again
	// (by its supervisor or an admin) since the host started.
	Restarts    int       `json:"restarts"`
	LastRestart time.Time `json:"last_restart,omitzero"`
	// Calls are the plugin's call latencies, by method.
	Calls []CallStats `json:"calls,omitempty"`
}

// Plugins returns the status of every configured plugin, in the order of
// the configuration.
func (h *Host) Plugins() []Status {
	h.mu.RLock()
	defer h.mu.RUnlock()
	out := make([]Status, 0, len(h.order))
	for _, name := range h.order {
		out = append(out, h.plugins[name].status())
	}
	return out
}

// Manifest returns the manifest of a running plugin.
func (h *Host) Manifest(name string) (*Manifest, bool) {
	m, err := h.plugin(name)
	if err != nil {
		return nil, false
	}
	inst := m.current()
	if inst == nil {
		return nil, false
	}
	return inst.manifest, true
}

func (h *Host) plugin(name string) (*managed, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	m, ok := h.plugins[name]
	if !ok {
		return nil, fmt.Errorf("plugin %q: %w", name, ErrUnknown)
	}
	return m, nil
}

// env is the environment a plugin process starts with.
func (h *Host) env() []string {
	var env []string
	for _, name := range slices.Concat(DefaultEnv, h.opts.Env) {
		if v, ok := os.LookupEnv(name); ok {
			env = append(env, name+"="+v)
		}
	}
	return env
}

// managed is one configured plugin: its state and its running instance.
// The supervisor replaces inst on a restart; calls take the current one.
type managed struct {
	host   *Host
	cfg    *config.Plugin
	log    *slog.Logger
	grants grants

	mu      sync.Mutex
	state   State
	lastErr string
	warning string
	started time.Time
	inst    *instance
	sup     supervision
	// active counts the calls in flight (see await and leave); drained,
	// when not nil, is closed as the last of them ends. retired is set
	// when a reload replaced this plugin: calls go to its successor.
	active  int
	drained chan struct{}
	retired bool

	// quit is closed when the plugin is retired; its supervisor stops.
	quit chan struct{}
}

func newManaged(h *Host, c *config.Plugin) *managed {
	m := &managed{
		host: h, cfg: c, state: StateStarting, quit: make(chan struct{}),
		log:    h.log.With(slog.String("plugin", c.Name)),
		grants: newGrants(c),
	}
	m.sup.init()
	return m
}

func (m *managed) source() string {
	switch {
	case m.host.opts.Reattach[m.cfg.Name] != nil:
		return "attached"
	case m.cfg.Path == "":
		return "builtin"
	}
	return "path"
}

// exitedLocked notices a running instance whose process has exited, marks
// the plugin restarting so that calls wait for it, and wakes its
// supervisor, which restarts it (or marks it failed). m.mu is held.
func (m *managed) exitedLocked() {
	if m.state == StateRunning && m.inst != nil && m.inst.client.Exited() {
		m.state, m.lastErr = StateRestarting, "the plugin process exited unexpectedly"
		m.log.Error("plugin process exited unexpectedly", slog.Int("pid", m.inst.pid))
		m.changedLocked()
		m.poke()
	}
}

func (m *managed) status() Status {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.exitedLocked()
	s := Status{
		Name: m.cfg.Name, Source: m.source(), Path: m.cfg.Path, SHA256: m.cfg.SHA256,
		State: m.state, LastError: m.lastErr, Warning: m.warning, StartedAt: m.started,
		Restarts: m.sup.restarts, LastRestart: m.sup.lastRestart, Calls: m.callStats(),
	}
	if m.inst != nil {
		s.Version, s.ProtocolVersion, s.PID = m.inst.manifest.Version, m.inst.protocol, m.inst.pid
	}
	return s
}

func (m *managed) current() *instance {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.exitedLocked()
	if m.state != StateRunning {
		return nil
	}
	return m.inst
}

// start starts the plugin's process and records the outcome.
func (m *managed) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, m.host.opts.StartTimeout)
	defer cancel()
	began := time.Now()
	inst, err := launch(ctx, m)
	m.mu.Lock()
	if err != nil {
		if m.state != StateStopped {
			m.state, m.lastErr = StateFailed, err.Error()
		}
		m.changedLocked()
		m.mu.Unlock()
		m.log.Error("plugin failed to start", slog.Any("err", err))
		return err
	}
	if m.state == StateStopped { // the host closed while it started
		m.mu.Unlock()
		inst.stop(m.log)
		return fmt.Errorf("plugin %q: the host closed while it started", m.cfg.Name)
	}
	m.inst, m.state, m.lastErr, m.started = inst, StateRunning, "", time.Now()
	m.sup.manifest = inst.manifest
	m.changedLocked()
	m.mu.Unlock()
	m.log.Info("plugin running", slog.String("version", inst.manifest.Version),
		slog.Int("pid", inst.pid), slog.Duration("took", time.Since(began)))
	return nil
}

// stop stops the plugin's process, if it runs.
func (m *managed) stop() {
	m.mu.Lock()
	inst := m.inst
	m.inst = nil
	if m.state != StateFailed {
		m.state = StateStopped
	}
	m.changedLocked()
	m.mu.Unlock()
	if inst != nil {
		inst.stop(m.log)
		m.log.Info("plugin stopped")
	}
}

// warn records the warning of a health check ("" clears it), logging a
// new one.
func (m *managed) warn(w string) {
	m.mu.Lock()
	changed := m.warning != w
	m.warning = w
	m.mu.Unlock()
	if changed && w != "" {
		m.log.Warn("plugin degraded", slog.String("warning", w))
	}
}

// fail records an error of a call; the supervisor will act on it.
func (m *managed) fail(err error) {
	m.mu.Lock()
	m.lastErr = err.Error()
	m.mu.Unlock()
}
