package plugins

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Supervision: every plugin process the host starts has a supervisor, one
// goroutine owned by the Host, that
//
//   - notices when the process exits (go-plugin's Exited, polled), and asks
//     the plugin's Health every Options.HealthInterval with a deadline;
//   - restarts a plugin whose process exited, or that failed
//     Options.HealthFailures health checks in a row: it kills the old
//     process group, waits (exponential backoff from Options.RestartBackoff
//     up to Options.RestartBackoffMax), starts the plugin again, checks that
//     its new manifest is compatible with the old one and configures it;
//   - marks the plugin failed after Options.MaxCrashes crashes within
//     Options.CrashWindow (Mattermost's 3 in 60 minutes), and leaves it so
//     until an admin calls Host.Restart.
//
// While a plugin restarts, calls to it wait for it within their deadline;
// a call with an idempotency key that was in flight when the process died
// is sent once more, with the same key, to the new process.

// Defaults of the supervision Options.
const (
	DefaultHealthInterval    = 10 * time.Second
	DefaultHealthTimeout     = 5 * time.Second
	DefaultHealthFailures    = 3
	DefaultRestartBackoff    = time.Second
	DefaultRestartBackoffMax = time.Minute
	DefaultMaxCrashes        = 3
	DefaultCrashWindow       = 60 * time.Minute
)

// exitPoll is how often a supervisor looks whether its process exited.
const exitPoll = 100 * time.Millisecond

// latencyWindow is how many recent calls of one method the latency
// figures of Status are computed over.
const latencyWindow = 1024

// RPC names: the method label of crm_plugin_call_duration_seconds and of
// Status.Calls.
const (
	rpcInvoke  = "invoke"
	rpcEvents  = "handle_event"
	rpcWebhook = "handle_webhook"
	rpcHealth  = "health"
)

func (o *Options) supervisionDefaults() {
	if o.HealthInterval <= 0 {
		o.HealthInterval = DefaultHealthInterval
	}
	if o.HealthTimeout <= 0 {
		o.HealthTimeout = min(DefaultHealthTimeout, o.CallTimeout)
	}
	if o.HealthFailures <= 0 {
		o.HealthFailures = DefaultHealthFailures
	}
	if o.RestartBackoff <= 0 {
		o.RestartBackoff = DefaultRestartBackoff
	}
	if o.RestartBackoffMax <= 0 {
		o.RestartBackoffMax = DefaultRestartBackoffMax
	}
	if o.MaxCrashes <= 0 {
		o.MaxCrashes = DefaultMaxCrashes
	}
	if o.CrashWindow <= 0 {
		o.CrashWindow = DefaultCrashWindow
	}
}

// CallStats are the latency figures of one method of a plugin: how many
// calls it had since the host started, and the median and 99th percentile
// of the most recent ones (up to 1024), failed calls included.
type CallStats struct {
	Method string  `json:"method"`
	Count  int64   `json:"count"`
	P50ms  float64 `json:"p50_ms"`
	P99ms  float64 `json:"p99_ms"`
}

// supervision is a managed plugin's supervision state. The fields under
// "m.mu" are guarded by the managed plugin's mutex.
type supervision struct {
	kick  chan struct{}         // a call saw the process go away: look now
	req   chan chan error       // an admin's restart, answered on the channel
	latMu sync.Mutex            // guards lat
	lat   map[string]*latencies // by RPC name

	// m.mu
	changed     chan struct{} // closed and replaced at each change of state
	crashes     []time.Time   // within the crash window
	restarts    int
	lastRestart time.Time
	manifest    *Manifest // the last manifest the plugin started with
}

func (s *supervision) init() {
	s.kick = make(chan struct{}, 1)
	s.req = make(chan chan error)
	s.changed = make(chan struct{})
	s.lat = map[string]*latencies{}
}

// latencies are one method's call count and its recent durations.
type latencies struct {
	count  int64
	recent []time.Duration // a ring of latencyWindow
	next   int
}

// changedLocked wakes the calls waiting for the plugin. m.mu is held.
func (m *managed) changedLocked() {
	close(m.sup.changed)
	m.sup.changed = make(chan struct{})
}

// poke asks the supervisor to look at the process now.
func (m *managed) poke() {
	select {
	case m.sup.kick <- struct{}{}:
	default:
	}
}

// await returns the running instance of the plugin, other than dead,
// waiting while the plugin starts or restarts until ctx is done, and
// counts the call in flight: the caller calls leave when it is done. It
// fails with ErrNotRunning when the plugin is failed or stopped, and with
// errRetired when a reload replaced it.
func (m *managed) await(ctx context.Context, dead *instance) (*instance, error) {
	for {
		m.mu.Lock()
		if m.retired {
			m.mu.Unlock()
			return nil, errRetired
		}
		m.exitedLocked()
		switch m.state {
		case StateRunning:
			if m.inst != dead {
				inst := m.inst
				m.active++
				m.mu.Unlock()
				return inst, nil
			}
			m.poke() // its process is gone, but the supervisor has not seen it yet
		case StateFailed, StateStopped:
			m.mu.Unlock()
			return nil, ErrNotRunning
		}
		wait := m.sup.changed
		m.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// leave ends a call that await counted in flight.
func (m *managed) leave() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.active--
	if m.active == 0 && m.drained != nil {
		close(m.drained)
		m.drained = nil
	}
}

// observe records the duration of one call.
func (m *managed) observe(rpc string, d time.Duration) {
	m.host.metrics.durations.WithLabelValues(m.cfg.Name, rpc).Observe(d.Seconds())
	m.sup.latMu.Lock()
	defer m.sup.latMu.Unlock()
	l := m.sup.lat[rpc]
	if l == nil {
		l = &latencies{}
		m.sup.lat[rpc] = l
	}
	l.count++
	if len(l.recent) < latencyWindow {
		l.recent = append(l.recent, d)
		return
	}
	l.recent[l.next] = d
	l.next = (l.next + 1) % latencyWindow
}

// callStats computes the latency figures of each method.
func (m *managed) callStats() []CallStats {
	m.sup.latMu.Lock()
	defer m.sup.latMu.Unlock()
	var out []CallStats
	for rpc, l := range m.sup.lat {
		sorted := slices.Clone(l.recent)
		slices.Sort(sorted)
		out = append(out, CallStats{
			Method: rpc, Count: l.count,
			P50ms: ms(sorted[(len(sorted)-1)*50/100]), P99ms: ms(sorted[(len(sorted)-1)*99/100]),
		})
	}
	slices.SortFunc(out, func(a, b CallStats) int { return cmp.Compare(a.Method, b.Method) })
	return out
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// Restart starts a plugin again at an admin's request: a failed plugin
// (after too many crashes, or one that did not start) is started afresh, a
// running one is stopped and started. Its crash count starts from zero.
// It returns once the plugin runs again, or with the reason it does not.
func (h *Host) Restart(ctx context.Context, name string) error {
	m, err := h.plugin(name)
	if err != nil {
		return err
	}
	done := make(chan error, 1)
	select {
	case m.sup.req <- done:
	case <-ctx.Done():
		return fmt.Errorf("restart plugin %q: %w", name, ctx.Err())
	case <-h.quit:
		return fmt.Errorf("restart plugin %q: the host is closed", name)
	case <-m.quit:
		return fmt.Errorf("restart plugin %q: a configuration reload restarted it meanwhile", name)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("restart plugin %q: %w", name, ctx.Err())
	}
}

// supervise is the supervisor of one plugin; it returns when the host
// closes or a reload retires the plugin.
func (h *Host) supervise(m *managed) {
	defer h.supervisors.Done()
	health := time.NewTicker(h.opts.HealthInterval)
	defer health.Stop()
	poll := time.NewTicker(exitPoll)
	defer poll.Stop()
	fails := 0
	for {
		reason := ""
		select {
		case <-h.quit:
			return
		case <-m.quit:
			return
		case done := <-m.sup.req:
			done <- m.restartNow()
			fails = 0
			continue
		case <-m.sup.kick:
		case <-poll.C:
		case <-health.C:
			if m.current() == nil {
				continue
			}
			ctx, cancel := context.WithTimeout(h.ctx, h.opts.HealthTimeout)
			err := h.Health(ctx, m.cfg.Name)
			cancel()
			if err == nil || h.ctx.Err() != nil {
				fails = 0
				continue
			}
			fails++
			m.log.Warn("plugin health check failed", slog.Int("in_a_row", fails), slog.Any("err", err))
			if fails < h.opts.HealthFailures {
				continue
			}
			reason = fmt.Sprintf("it failed %d health checks in a row: %v", fails, err)
		}
		if reason == "" && !m.exited() {
			continue
		}
		if reason == "" {
			reason = "the plugin process exited unexpectedly"
		}
		fails = 0
		m.recover(reason)
	}
}

// exited reports whether the plugin's current process has exited while
// the plugin was meant to run.
func (m *managed) exited() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return (m.state == StateRunning || m.state == StateRestarting) && m.inst != nil && m.inst.client.Exited()
}

// recover restarts a plugin that crashed, with backoff, until it runs
// again, fails too often, or the host closes.
func (m *managed) recover(reason string) {
	h := m.host
	for {
		m.mu.Lock()
		if m.state == StateStopped {
			m.mu.Unlock()
			return
		}
		old := m.inst
		m.inst = nil
		now := time.Now()
		m.sup.crashes = slices.DeleteFunc(m.sup.crashes, func(t time.Time) bool { return now.Sub(t) > h.opts.CrashWindow })
		m.sup.crashes = append(m.sup.crashes, now)
		n := len(m.sup.crashes)
		m.lastErr = reason
		giveUp := n >= h.opts.MaxCrashes || m.source() == "attached"
		if giveUp {
			m.state = StateFailed
		} else {
			m.state = StateRestarting
		}
		m.changedLocked()
		m.mu.Unlock()
		if old != nil {
			old.kill(m.log)
		}
		if giveUp {
			m.log.Error("plugin failed; it will not be restarted until an admin restarts it",
				slog.String("reason", reason), slog.Int("crashes", n), slog.Duration("window", h.opts.CrashWindow))
			return
		}
		wait := min(h.opts.RestartBackoff<<(n-1), h.opts.RestartBackoffMax)
		m.log.Warn("plugin crashed; restarting it", slog.String("reason", reason),
			slog.Int("crashes", n), slog.Duration("backoff", wait))
		timer := time.NewTimer(wait)
		select {
		case <-h.quit:
			timer.Stop()
			return
		case <-m.quit:
			timer.Stop()
			return
		case done := <-m.sup.req:
			timer.Stop()
			done <- m.restartNow()
			return
		case <-timer.C:
		}
		err := m.relaunch()
		if err == nil || h.ctx.Err() != nil {
			return
		}
		if errors.Is(err, ErrManifest) {
			m.mu.Lock()
			if m.state != StateStopped {
				m.state, m.lastErr = StateFailed, err.Error()
				m.changedLocked()
			}
			m.mu.Unlock()
			m.log.Error("plugin failed: its new manifest is not compatible; it will not be restarted until an admin restarts it", slog.Any("err", err))
			return
		}
		reason = "restart failed: " + err.Error()
	}
}

// restartNow is an admin's restart: the crash count starts again.
func (m *managed) restartNow() error {
	m.mu.Lock()
	if m.state == StateStopped {
		m.mu.Unlock()
		return fmt.Errorf("restart plugin %q: %w: the host is stopping", m.cfg.Name, ErrNotRunning)
	}
	old := m.inst
	m.inst, m.state, m.sup.crashes = nil, StateRestarting, nil
	m.changedLocked()
	m.mu.Unlock()
	if old != nil {
		old.kill(m.log)
	}
	m.log.Info("plugin restarted by an admin")
	err := m.relaunch()
	if err != nil {
		m.mu.Lock()
		if m.state != StateStopped {
			m.state, m.lastErr = StateFailed, err.Error()
			m.changedLocked()
		}
		m.mu.Unlock()
		return fmt.Errorf("restart plugin %q: %w", m.cfg.Name, err)
	}
	return nil
}

// relaunch starts a new process of the plugin and puts it in place.
func (m *managed) relaunch() error {
	h := m.host
	ctx, cancel := context.WithTimeout(h.ctx, h.opts.StartTimeout)
	defer cancel()
	began := time.Now()
	inst, err := launch(ctx, m)
	if err != nil {
		m.log.Error("plugin failed to restart", slog.Any("err", err))
		return err
	}
	m.mu.Lock()
	prev := m.sup.manifest
	m.mu.Unlock()
	if err := compatible(prev, inst.manifest); err != nil {
		inst.stop(m.log)
		return fmt.Errorf("plugin %q: %w", m.cfg.Name, err)
	}
	m.mu.Lock()
	if m.state == StateStopped || h.ctx.Err() != nil {
		m.mu.Unlock()
		inst.stop(m.log)
		return fmt.Errorf("plugin %q: the host closed while it restarted", m.cfg.Name)
	}
	now := time.Now()
	m.inst, m.state, m.started = inst, StateRunning, now
	m.sup.restarts++
	m.sup.lastRestart = now
	m.sup.manifest = inst.manifest
	m.changedLocked()
	m.mu.Unlock()
	m.log.Info("plugin restarted", slog.String("version", inst.manifest.Version),
		slog.Int("pid", inst.pid), slog.Duration("took", time.Since(began)))
	return nil
}

// kill ends a process that crashed or hangs: its process group first, as
// it may not answer go-plugin's request to stop.
func (inst *instance) kill(log *slog.Logger) {
	killGroup(inst.pid)
	inst.stop(log)
}

// compatible checks that a plugin restarted with a manifest the rest of
// the CRM can go on with: the same name, every action it had with the
// same arguments (new optional ones are fine), every entity and field it
// contributed with the same types. prev nil accepts any manifest.
func compatible(prev, next *Manifest) error {
	if prev == nil {
		return nil
	}
	if next.Name != prev.Name {
		return fmt.Errorf("%w: it restarted as %q, not %q", ErrManifest, next.Name, prev.Name)
	}
	for _, a := range prev.Actions {
		b := next.Action(a.Name)
		if b == nil {
			return fmt.Errorf("%w: after a restart it lacks action %q", ErrManifest, a.Name)
		}
		for _, arg := range b.Args {
			i := slices.IndexFunc(a.Args, func(x Arg) bool { return x.Name == arg.Name })
			switch {
			case i < 0 && arg.Required:
				return fmt.Errorf("%w: after a restart action %q requires a new argument %q", ErrManifest, a.Name, arg.Name)
			case i >= 0 && a.Args[i].Type != arg.Type:
				return fmt.Errorf("%w: after a restart argument %q of action %q is a %s, not a %s", ErrManifest, arg.Name, a.Name, arg.Type, a.Args[i].Type)
			}
		}
	}
	for _, e := range prev.Entities {
		i := slices.IndexFunc(next.Entities, func(x Entity) bool { return x.Name == e.Name })
		if i < 0 {
			return fmt.Errorf("%w: after a restart it lacks entity %q", ErrManifest, e.Name)
		}
		for _, f := range e.Fields {
			j := slices.IndexFunc(next.Entities[i].Fields, func(x Field) bool { return x.Name == f.Name })
			if j < 0 || next.Entities[i].Fields[j].Type != f.Type {
				return fmt.Errorf("%w: after a restart field %s.%s is gone or changed type", ErrManifest, e.Name, f.Name)
			}
		}
	}
	return nil
}

// metrics are the host's Prometheus metrics.
type metrics struct {
	durations *prometheus.HistogramVec
	up        *prometheus.Desc
	restarts  *prometheus.Desc
	host      *Host
}

func newMetrics(h *Host) *metrics {
	return &metrics{
		host: h,
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "crm_plugin_call_duration_seconds",
			Help:    "Duration of calls to plugins, failed ones included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"plugin", "method"}),
		up: prometheus.NewDesc("crm_plugin_up",
			"1 when the plugin runs, 0 when it starts, restarts, failed or stopped.", []string{"plugin"}, nil),
		restarts: prometheus.NewDesc("crm_plugin_restarts_total",
			"Times the plugin's process was started again since the host started.", []string{"plugin"}, nil),
	}
}

// Describe sends the descriptions of crm_plugin_up and
// crm_plugin_restarts_total.
func (c *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.up
	ch <- c.restarts
}

// Collect sends crm_plugin_up and crm_plugin_restarts_total of every
// configured plugin.
func (c *metrics) Collect(ch chan<- prometheus.Metric) {
	for _, st := range c.host.Plugins() {
		up := 0.0
		if st.State == StateRunning {
			up = 1
		}
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, up, st.Name)
		ch <- prometheus.MustNewConstMetric(c.restarts, prometheus.CounterValue, float64(st.Restarts), st.Name)
	}
}

// Collectors returns the host's Prometheus collectors, to register once:
// crm_plugin_up{plugin}, crm_plugin_restarts_total{plugin} and
// crm_plugin_call_duration_seconds{plugin,method}.
func (h *Host) Collectors() []prometheus.Collector {
	return []prometheus.Collector{h.metrics, h.metrics.durations}
}
