package plugins_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/plugins/internal/testplugin"
)

// fastSupervision are supervision options short enough for tests.
func fastSupervision() plugins.Options {
	return plugins.Options{
		HealthInterval: 100 * time.Millisecond, HealthTimeout: 300 * time.Millisecond,
		RestartBackoff: 50 * time.Millisecond, RestartBackoffMax: 200 * time.Millisecond,
	}
}

// startPair starts the plugin under test, "victim", and a bystander,
// "other", both the test plugin.
func startPair(t *testing.T, opts plugins.Options) *env {
	t.Helper()
	e := newEnv(t, opts)
	err := e.host.Start(background(), []*config.Plugin{
		thirdParty(t, "victim", testplugin.ModeOK), thirdParty(t, "other", testplugin.ModeOK),
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// status returns the status of one plugin.
func status(t *testing.T, e *env, name string) plugins.Status {
	t.Helper()
	for _, st := range e.host.Plugins() {
		if st.Name == name {
			return st
		}
	}
	t.Fatalf("no plugin %q", name)
	return plugins.Status{}
}

// waitStatus waits until the plugin's status satisfies ok.
func waitStatus(t *testing.T, e *env, name, what string, ok func(plugins.Status) bool) plugins.Status {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		st := status(t, e, name)
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin %s: not %s: %+v\n%s", name, what, st, e.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// bystander calls the other plugin every few milliseconds until stopped,
// and reports how many calls it made and the first failure.
type bystander struct {
	stop  chan struct{}
	done  chan struct{}
	calls atomic.Int64
	mu    sync.Mutex
	err   error
}

func watchBystander(e *env) *bystander {
	b := &bystander{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(b.done)
		for {
			select {
			case <-b.stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			ctx, cancel := context.WithTimeout(background(), 2*time.Second)
			_, err := e.host.Invoke(ctx, "other", plugins.Call{Action: "echo"})
			cancel()
			b.calls.Add(1)
			if err != nil {
				b.mu.Lock()
				if b.err == nil {
					b.err = err
				}
				b.mu.Unlock()
			}
		}
	}()
	return b
}

// check stops the bystander and fails the test if the other plugin did
// not answer every call.
func (b *bystander) check(t *testing.T) {
	t.Helper()
	close(b.stop)
	<-b.done
	if b.err != nil {
		t.Errorf("the other plugin failed while its neighbour crashed: %v", b.err)
	}
	if b.calls.Load() == 0 {
		t.Error("the other plugin was not called")
	}
}

func kill(t *testing.T, pid int, sig syscall.Signal) {
	t.Helper()
	if err := syscall.Kill(pid, sig); err != nil {
		t.Fatalf("kill %d: %v", pid, err)
	}
}

// TestSupervisorRestartsKilledPlugin: a plugin killed with SIGKILL is
// started again and answers; its restart is counted and shown in metrics.
func TestSupervisorRestartsKilledPlugin(t *testing.T) {
	e := startPair(t, fastSupervision())
	by := watchBystander(e)
	invoke(t, e, "victim", plugins.Call{Action: "echo"})
	before := status(t, e, "victim")
	child := int(invoke(t, e, "victim", plugins.Call{Action: "spawn"})["pid"].(float64))

	kill(t, before.PID, syscall.SIGKILL)
	after := waitStatus(t, e, "victim", "restarted", func(s plugins.Status) bool {
		return s.State == plugins.StateRunning && s.Restarts == 1
	})
	if after.PID == before.PID || after.LastRestart.IsZero() || !strings.Contains(after.LastError, "exited unexpectedly") {
		t.Errorf("status after the restart: %+v", after)
	}
	out := invoke(t, e, "victim", plugins.Call{Action: "config"})
	if out["greeting"] != "hi" {
		t.Errorf("the restarted plugin was not configured again: %v", out)
	}
	// The old process group went with it.
	waitGone(t, child)
	by.check(t)

	got := gather(t, e)
	want := map[string]float64{
		`crm_plugin_up{plugin="victim"}`: 1, `crm_plugin_up{plugin="other"}`: 1,
		`crm_plugin_restarts_total{plugin="victim"}`: 1, `crm_plugin_restarts_total{plugin="other"}`: 0,
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("metric %s = %v (present %v), want %v", k, g, ok, v)
		}
	}
	if got[`crm_plugin_call_duration_seconds_count{method="invoke",plugin="victim"}`] < 3 {
		t.Errorf("call durations: %v", got)
	}
	st := status(t, e, "victim")
	var invokes *plugins.CallStats
	for i := range st.Calls {
		if st.Calls[i].Method == "invoke" {
			invokes = &st.Calls[i]
		}
	}
	if invokes == nil || invokes.Count < 3 || invokes.P50ms <= 0 || invokes.P99ms < invokes.P50ms {
		t.Errorf("call figures: %+v", st.Calls)
	}
	t.Logf("victim calls: %+v", st.Calls)

	pid := st.PID
	e.host.Close()
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("plugin process %d still there after Close: %v", pid, err)
	}
}

// gather registers the host's collectors on a registry of their own and
// returns the metrics as "name{labels}" -> value (histograms by count).
func gather(t *testing.T, e *env) map[string]float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(e.host.Collectors()...)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
			}
			key := "{" + strings.Join(labels, ",") + "}"
			switch {
			case m.GetHistogram() != nil:
				out[mf.GetName()+"_count"+key] = float64(m.GetHistogram().GetSampleCount())
			case m.GetCounter() != nil:
				out[mf.GetName()+key] = m.GetCounter().GetValue()
			default:
				out[mf.GetName()+key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// waitGone waits until a process is gone or a zombie.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for syscall.Kill(pid, 0) == nil && !isZombie(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("process %d outlived its plugin", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSupervisorGivesUp: a plugin that crashes three times within the
// window is marked failed and left so; an admin's Restart brings it back
// with its crash count reset.
func TestSupervisorGivesUp(t *testing.T) {
	e := startPair(t, fastSupervision())
	by := watchBystander(e)
	for i := 1; i <= 2; i++ {
		kill(t, status(t, e, "victim").PID, syscall.SIGKILL)
		waitStatus(t, e, "victim", "restarted", func(s plugins.Status) bool {
			return s.State == plugins.StateRunning && s.Restarts == i
		})
	}
	kill(t, status(t, e, "victim").PID, syscall.SIGKILL)
	failed := waitStatus(t, e, "victim", "failed", func(s plugins.Status) bool { return s.State == plugins.StateFailed })
	if failed.Restarts != 2 || failed.PID != 0 {
		t.Errorf("failed status: %+v", failed)
	}
	// It stays failed, and calls to it fail at once.
	time.Sleep(300 * time.Millisecond)
	start := time.Now()
	_, err := e.host.Invoke(background(), "victim", plugins.Call{Action: "echo"})
	if !errors.Is(err, plugins.ErrNotRunning) || time.Since(start) > time.Second {
		t.Errorf("invoke a failed plugin: %v after %s", err, time.Since(start))
	}
	if st := status(t, e, "victim"); st.State != plugins.StateFailed || st.Restarts != 2 {
		t.Errorf("restarted on its own: %+v", st)
	}
	// The supervisor logs it after marking the plugin failed and killing it.
	waitForLog(t, e, "will not be restarted until an admin restarts it")

	if err := e.host.Restart(background(), "victim"); err != nil {
		t.Fatal(err)
	}
	invoke(t, e, "victim", plugins.Call{Action: "echo"})
	if st := status(t, e, "victim"); st.State != plugins.StateRunning || st.Restarts != 3 {
		t.Errorf("after an admin's restart: %+v", st)
	}
	// The crash count started again: one more crash is restarted.
	kill(t, status(t, e, "victim").PID, syscall.SIGKILL)
	waitStatus(t, e, "victim", "restarted", func(s plugins.Status) bool {
		return s.State == plugins.StateRunning && s.Restarts == 4
	})
	by.check(t)
	if err := e.host.Restart(background(), "nope"); !errors.Is(err, plugins.ErrUnknown) {
		t.Errorf("restart an unknown plugin: %v", err)
	}
}

// TestSupervisorRetriesInFlightCall: a call with an idempotency key in
// flight when the plugin dies is sent again, with its key, to the new
// process and returns; one without a key fails.
func TestSupervisorRetriesInFlightCall(t *testing.T) {
	e := startPair(t, fastSupervision())
	by := watchBystander(e)
	type result struct {
		raw json.RawMessage
		err error
	}
	keyed, unkeyed := make(chan result, 1), make(chan result, 1)
	sleep := map[string]any{"ms": 1500}
	calls := callsReached(t, e, "victim")
	go func() {
		raw, err := e.host.Invoke(background(), "victim", plugins.Call{Action: "sleep", Args: sleep, IdempotencyKey: "inflight-1"})
		keyed <- result{raw, err}
	}()
	go func() {
		raw, err := e.host.Invoke(background(), "victim", plugins.Call{Action: "sleep", Args: sleep})
		unkeyed <- result{raw, err}
	}()
	waitCallsReached(t, e, "victim", calls+2) // both are in flight
	began := time.Now()
	kill(t, status(t, e, "victim").PID, syscall.SIGKILL)

	r := <-unkeyed
	if !errors.Is(r.err, plugins.ErrNotRunning) {
		t.Errorf("the call without a key: %s, %v", r.raw, r.err)
	}
	r = <-keyed
	if r.err != nil || string(r.raw) != `"slept"` {
		t.Fatalf("the call with a key: %s, %v", r.raw, r.err)
	}
	t.Logf("the keyed call returned %s after the kill", time.Since(began).Round(time.Millisecond))
	if st := status(t, e, "victim"); st.Restarts != 1 || st.State != plugins.StateRunning {
		t.Errorf("status %+v", st)
	}
	mustContain(t, "the host log", e.log.String(), "it will be sent again once the plugin runs again")

	// Events carry keys too: a batch in flight is delivered again.
	ev := []plugins.Event{{Seq: 1, Name: "contact.created", Entity: "contact", ID: "c1", At: time.Now(), IdempotencyKey: "plugin:victim:1"}}
	if err := e.host.HandleEvents(background(), "victim", ev); err != nil {
		t.Fatal(err)
	}
	by.check(t)
}

// TestSupervisorCallWaitsForRestart: a call made while the plugin restarts
// waits for it and is answered.
func TestSupervisorCallWaitsForRestart(t *testing.T) {
	opts := fastSupervision()
	opts.RestartBackoff, opts.RestartBackoffMax = 500*time.Millisecond, 2*time.Second
	e := startPair(t, opts)
	kill(t, status(t, e, "victim").PID, syscall.SIGKILL)
	waitStatus(t, e, "victim", "restarting", func(s plugins.Status) bool { return s.State == plugins.StateRestarting })
	begin := time.Now()
	invoke(t, e, "victim", plugins.Call{Action: "echo"})
	// Made before the new process was in place, and answered: it waited.
	if st := status(t, e, "victim"); st.Restarts != 1 || !begin.Before(st.LastRestart) {
		t.Errorf("the call did not wait for the restart: made %s, restarted %s (%+v)", begin, st.LastRestart, st)
	}
	// A call whose deadline ends before the restart fails in time.
	kill(t, status(t, e, "victim").PID, syscall.SIGKILL)
	waitStatus(t, e, "victim", "restarting", func(s plugins.Status) bool { return s.State == plugins.StateRestarting })
	ctx, cancel := context.WithTimeout(background(), 100*time.Millisecond)
	defer cancel()
	if _, err := e.host.Invoke(ctx, "victim", plugins.Call{Action: "echo"}); !errors.Is(err, plugins.ErrTimeout) {
		t.Errorf("a call with a short deadline during a restart: %v", err)
	}
}

// TestSupervisorRestartsHungPlugin: a call to a plugin that does not
// answer fails at its deadline, and a plugin that stops answering health
// checks (its process stopped with SIGSTOP: a real hang) is restarted.
func TestSupervisorRestartsHungPlugin(t *testing.T) {
	e := startPair(t, fastSupervision())
	by := watchBystander(e)
	ctx, cancel := context.WithTimeout(background(), 200*time.Millisecond)
	defer cancel()
	if _, err := e.host.Invoke(ctx, "victim", plugins.Call{Action: "sleep", Args: map[string]any{"ms": 10000}}); !errors.Is(err, plugins.ErrTimeout) {
		t.Fatalf("sleep past the deadline: %v", err)
	}
	before := status(t, e, "victim")
	kill(t, before.PID, syscall.SIGSTOP)
	// kill returns once the signal is queued, not once the process has
	// stopped: until the thread the kernel woke for it gets a CPU, the
	// plugin's other threads go on answering calls.
	waitStopped(t, before.PID)
	ctx, cancel = context.WithTimeout(background(), 200*time.Millisecond)
	defer cancel()
	if _, err := e.host.Invoke(ctx, "victim", plugins.Call{Action: "echo"}); !errors.Is(err, plugins.ErrTimeout) {
		t.Errorf("invoke a hung plugin: %v", err)
	}
	after := waitStatus(t, e, "victim", "restarted", func(s plugins.Status) bool {
		return s.State == plugins.StateRunning && s.Restarts == 1
	})
	mustContain(t, "the last error", after.LastError, "health checks in a row")
	invoke(t, e, "victim", plugins.Call{Action: "echo"})
	waitGone(t, before.PID)
	by.check(t)
}

// waitStopped waits until every thread of a process is stopped by a
// signal (state T in /proc), so that none of them can answer a call.
func waitStopped(t *testing.T, pid int) {
	t.Helper()
	dir := filepath.Join("/proc", strconv.Itoa(pid), "task")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("no %s to see the plugin stop: %v", dir, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		running := ""
		threads, err := os.ReadDir(dir)
		if err != nil {
			t.Fatalf("threads of process %d: %v", pid, err)
		}
		for _, th := range threads {
			stat, err := os.ReadFile(filepath.Join(dir, th.Name(), "stat"))
			if err != nil {
				continue // the thread ended
			}
			_, rest, _ := strings.Cut(string(stat), ") ")
			if !strings.HasPrefix(rest, "T") {
				running = th.Name() + " " + rest[:min(len(rest), 1)]
				break
			}
		}
		if running == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("process %d did not stop: thread %s", pid, running)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// callsReached returns how many calls reached the test plugin's current
// process (its "calls" action).
func callsReached(t *testing.T, e *env, name string) int {
	t.Helper()
	return int(invoke(t, e, name, plugins.Call{Action: "calls"})["calls"].(float64))
}

// waitCallsReached waits until n calls have reached the plugin's process:
// a call sent from a goroutine is in flight only once the plugin has it.
func waitCallsReached(t *testing.T, e *env, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := callsReached(t, e, name)
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin %s: %d calls reached it, want %d", name, got, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A plugin that answers its health check with sdk.Degraded keeps running,
// and its status carries the warning until a check says otherwise.
func TestDegradedPluginShowsAWarning(t *testing.T) {
	e := newEnv(t, fastSupervision())
	c := thirdParty(t, "victim", testplugin.ModeOK)
	c.Config["degraded"] = `the converter "soffice" is not installed`
	if err := e.host.Start(background(), []*config.Plugin{c}); err != nil {
		t.Fatal(err)
	}
	st := waitStatus(t, e, "victim", "a warning", func(s plugins.Status) bool { return s.Warning != "" })
	if st.State != plugins.StateRunning || !strings.Contains(st.Warning, "soffice") || st.Restarts != 0 {
		t.Errorf("degraded plugin: %+v", st)
	}
}
