package plugins_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/plugins"
	"github.com/crmkit/crm/core/plugins/internal/testplugin"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/plugins/proto/crmv1"
)

func invoke(t *testing.T, e *env, plugin string, c plugins.Call) map[string]any {
	t.Helper()
	raw, err := e.host.Invoke(background(), plugin, c)
	if err != nil {
		t.Fatalf("invoke %s.%s: %v", plugin, c.Action, err)
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("invoke %s.%s: result %s: %v", plugin, c.Action, raw, err)
	}
	return out
}

func countRecords(t *testing.T, e *env, entity string) int {
	t.Helper()
	page, err := e.store.List(background(), store.Query{Entity: entity})
	if err != nil {
		t.Fatal(err)
	}
	return len(page.Items)
}

// TestThirdPartyPlugin starts the test plugin as a third-party executable
// with its correct checksum and drives every call both ways.
func TestThirdPartyPlugin(t *testing.T) {
	e := newEnv(t, plugins.Options{})
	cfg := thirdParty(t, "tp", testplugin.ModeOK)
	if err := e.host.Start(background(), []*config.Plugin{cfg}); err != nil {
		t.Fatal(err)
	}

	t.Run("manifest and status", func(t *testing.T) {
		m, ok := e.host.Manifest("tp")
		if !ok {
			t.Fatal("no manifest")
		}
		if m.Name != "testplugin" || m.Version != "0.1.0" || m.ProtocolVersion != crmv1.ProtocolVersion {
			t.Errorf("manifest %+v", m)
		}
		if a := m.Action("create"); a == nil || len(a.Args) != 2 || a.Args[0].Type != "string" || !a.Args[0].Required || a.Args[1].Type != "object" {
			t.Errorf("action create: %+v", a)
		}
		if !slices.Equal(m.Emits, []string{"testplugin.pinged", "testplugin.serviced", "testplugin.noted"}) || len(m.Events) != 2 || len(m.Entities) != 1 || m.Entities[0].Fields[1].Values[2] != "l" {
			t.Errorf("manifest %+v", m)
		}
		st := e.host.Plugins()
		if len(st) != 1 || st[0].State != plugins.StateRunning || st[0].Version != "0.1.0" || st[0].Source != "path" || st[0].PID == 0 || st[0].LastError != "" {
			t.Errorf("status %+v", st)
		}
	})

	t.Run("invoke echoes the call", func(t *testing.T) {
		out := invoke(t, e, "tp", plugins.Call{
			Action: "echo", Args: map[string]any{"text": "hello"}, IdempotencyKey: "k1",
			User: &plugins.User{ID: "u1", Email: "u@example.com"}, Record: &plugins.RecordRef{Entity: "contact", ID: "c1"},
		})
		if out["key"] != "k1" || out["user"] != "u1" || out["record"] != "contact/c1" || out["args"].(map[string]any)["text"] != "hello" {
			t.Errorf("echo: %v", out)
		}
	})

	t.Run("config reaches the plugin", func(t *testing.T) {
		out := invoke(t, e, "tp", plugins.Call{Action: "config"})
		if out["greeting"] != "hi" || out["limit"] != float64(3) {
			t.Errorf("config: %v", out)
		}
	})

	var contactID string
	t.Run("create a record it may write", func(t *testing.T) {
		call := plugins.Call{Action: "create", IdempotencyKey: "create-ani",
			Args: map[string]any{"entity": "contact", "values": map[string]any{"name": "Ani", "email": "ani@example.com"}}}
		out := invoke(t, e, "tp", call)
		rec, ok := out["record"].(map[string]any)
		if !ok {
			t.Fatalf("create: %v", out)
		}
		contactID = rec["id"].(string)
		got, err := e.store.Get(background(), "contact", contactID)
		if err != nil {
			t.Fatal(err)
		}
		if got.CreatedBy != "plugin:tp" || got.Values["name"] != "Ani" {
			t.Errorf("stored %+v", got)
		}
		// Retried with the same key: the same record, not a second one.
		again := invoke(t, e, "tp", call)
		if again["record"].(map[string]any)["id"] != contactID || countRecords(t, e, "contact") != 1 {
			t.Errorf("retry made another record: %v", again)
		}
	})

	t.Run("write to an entity not granted is denied", func(t *testing.T) {
		out := invoke(t, e, "tp", plugins.Call{Action: "create",
			Args: map[string]any{"entity": "deal", "values": map[string]any{"title": "Big deal"}}})
		if out["denied"] != true || out["code"] != "denied" {
			t.Fatalf("create deal: %v", out)
		}
		mustContain(t, "the plugin's error", out["error"].(string), `plugin "tp" may not write deal records`, "write = [contact]")
		if n := countRecords(t, e, "deal"); n != 0 {
			t.Errorf("%d deals written", n)
		}
		mustContain(t, "the host log", e.log.String(), "plugin call denied", "plugin=tp", "op=create", "entity=deal")
	})

	t.Run("read of an entity not granted is denied", func(t *testing.T) {
		out := invoke(t, e, "tp", plugins.Call{Action: "list", Args: map[string]any{"entity": "task"}})
		if out["denied"] != true {
			t.Errorf("list task: %v", out)
		}
		out = invoke(t, e, "tp", plugins.Call{Action: "list", Args: map[string]any{"entity": "deal"}})
		if ids, ok := out["ids"].([]any); !ok || len(ids) != 0 {
			t.Errorf("list deal (granted read): %v", out)
		}
	})

	t.Run("get, update and list", func(t *testing.T) {
		out := invoke(t, e, "tp", plugins.Call{Action: "update",
			Args: map[string]any{"entity": "contact", "id": contactID, "values": map[string]any{"phone": "+37410123456", "email": nil}}})
		rec, ok := out["record"].(map[string]any)
		if !ok || rec["phone"] != "+37410123456" || rec["email"] != nil || rec["version"] != float64(2) {
			t.Fatalf("update: %v", out)
		}
		out = invoke(t, e, "tp", plugins.Call{Action: "get", Args: map[string]any{"entity": "contact", "id": contactID}})
		if out["record"].(map[string]any)["name"] != "Ani" {
			t.Errorf("get: %v", out)
		}
		out = invoke(t, e, "tp", plugins.Call{Action: "list", Args: map[string]any{"entity": "contact", "filter": "name == 'Ani'"}})
		if ids := out["ids"].([]any); len(ids) != 1 || ids[0] != contactID {
			t.Errorf("list: %v", out)
		}
		out = invoke(t, e, "tp", plugins.Call{Action: "get", Args: map[string]any{"entity": "contact", "id": "01J0000000000000000000000X"}})
		if out["not_found"] != true {
			t.Errorf("get missing: %v", out)
		}
	})

	t.Run("invalid values are refused as the API refuses them", func(t *testing.T) {
		out := invoke(t, e, "tp", plugins.Call{Action: "create",
			Args: map[string]any{"entity": "contact", "values": map[string]any{"name": "X", "shoe_size": 44}}})
		if out["invalid"] != true || out["code"] != "unknown_field" {
			t.Errorf("unknown field: %v", out)
		}
		out = invoke(t, e, "tp", plugins.Call{Action: "list", Args: map[string]any{"entity": "contact", "filter": "nmae == 'x'"}})
		if out["invalid"] != true || out["code"] != "invalid_filter" {
			t.Errorf("bad filter: %v", out)
		}
	})

	t.Run("a refusal is not a failure", func(t *testing.T) {
		_, err := e.host.Invoke(background(), "tp", plugins.Call{Action: "refuse"})
		var r *plugins.Refusal
		if !errors.As(err, &r) || r.Code != "not_today" || r.Plugin != "tp" {
			t.Fatalf("refuse: %v", err)
		}
		_, err = e.host.Invoke(background(), "tp", plugins.Call{Action: "no_such_action"})
		var ic *plugins.InvalidCall
		if !errors.As(err, &ic) || ic.Code != plugins.CodeUnknownAction {
			t.Errorf("unknown action: %v", err)
		}
	})

	t.Run("a panic fails the call, not the plugin", func(t *testing.T) {
		_, err := e.host.Invoke(background(), "tp", plugins.Call{Action: "panic"})
		var ce *plugins.CallError
		if !errors.As(err, &ce) || ce.Code != "plugin_panic" {
			t.Fatalf("panic: %v", err)
		}
		mustContain(t, "the error", err.Error(), "boom")
		invoke(t, e, "tp", plugins.Call{Action: "echo"})
		// The stack comes on the plugin's stderr, a moment after the answer
		// or before it: wait for the plugin's own line (the host's "plugin
		// call failed" line has err="the plugin panicked in Invoke ...").
		waitForLog(t, e, `msg="the plugin panicked"`)
		for line := range strings.Lines(e.log.String()) {
			if strings.Contains(line, `msg="the plugin panicked"`) {
				mustContain(t, "the plugin's panic line", line, "stack=", "level=ERROR")
			}
		}
	})

	t.Run("a call past its deadline", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := e.host.Invoke(ctx, "tp", plugins.Call{Action: "sleep", Args: map[string]any{"ms": 10000}})
		if !errors.Is(err, plugins.ErrTimeout) {
			t.Fatalf("sleep: %v", err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("the deadline took %s", d)
		}
		invoke(t, e, "tp", plugins.Call{Action: "echo"})
	})

	t.Run("emit declared events only", func(t *testing.T) {
		before := e.store.LastSeq()
		out := invoke(t, e, "tp", plugins.Call{Action: "emit", Args: map[string]any{"entity": "testplugin.pinged"}})
		if out["error"] != nil {
			t.Fatalf("emit: %v", out)
		}
		evs, err := e.store.Events(background(), before, 10)
		if err != nil || len(evs) != 1 || evs[0].Entity != "testplugin" || evs[0].Op != "pinged" || evs[0].By != "plugin:tp" {
			t.Errorf("events %+v, %v", evs, err)
		}
		out = invoke(t, e, "tp", plugins.Call{Action: "emit", Args: map[string]any{"entity": "call.missed"}})
		if out["denied"] != true {
			t.Errorf("emit undeclared: %v", out)
		}
	})

	t.Run("read a file a readable record holds", func(t *testing.T) {
		body := strings.Repeat("contract text ", 50000) // several chunks
		f, err := e.store.PutFile(background(), "contract.txt", "text/plain", "u1", strings.NewReader(body), 10<<20)
		if err != nil {
			t.Fatal(err)
		}
		lone, err := e.store.PutFile(background(), "secret.txt", "text/plain", "u1", strings.NewReader("secret"), 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.Create(background(), store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "Holder", "contract": f.ID}}); err != nil {
			t.Fatal(err)
		}
		out := invoke(t, e, "tp", plugins.Call{Action: "read_file", Args: map[string]any{"id": f.ID}})
		sum := sha256.Sum256([]byte(body))
		if out["sha256"] != hex.EncodeToString(sum[:]) || out["info_sha256"] != f.SHA256 || out["size"] != float64(len(body)) || out["name"] != "contract.txt" {
			t.Errorf("read_file: %v", out)
		}
		out = invoke(t, e, "tp", plugins.Call{Action: "read_file", Args: map[string]any{"id": lone.ID}})
		if out["denied"] != true {
			t.Errorf("read a file no readable record holds: %v", out)
		}
	})

	t.Run("the plugin's log lines reach the host log", func(t *testing.T) {
		invoke(t, e, "tp", plugins.Call{Action: "log"})
		mustContain(t, "the host log", e.log.String(), "hello from the test plugin", "n=42")
	})

	t.Run("events are delivered in batches", func(t *testing.T) {
		evs := []plugins.Event{
			{Seq: 7, Name: "contact.created", Entity: "contact", ID: contactID, At: time.Now(), Record: json.RawMessage(`{"name":"Ani"}`), IdempotencyKey: "e7"},
			{Seq: 8, Name: "contact.created", Entity: "contact", ID: contactID, At: time.Now(), IdempotencyKey: "e8"},
		}
		if err := e.host.HandleEvents(background(), "tp", evs); err != nil {
			t.Fatal(err)
		}
		raw, err := e.host.Invoke(background(), "tp", plugins.Call{Action: "seen"})
		if err != nil || string(raw) != `["contact.created:e7","contact.created:e8"]` {
			t.Errorf("seen: %s, %v", raw, err)
		}
	})

	t.Run("webhook", func(t *testing.T) {
		resp, err := e.host.HandleWebhook(background(), "tp", plugins.WebhookRequest{Method: "POST", Path: "/ping", Body: []byte("hi"), Header: http.Header{"X-Sig": {"abc"}}})
		if err != nil || resp.Status != http.StatusAccepted || string(resp.Body) != "pong: hi" || resp.Header.Get("X-Test") != "yes" {
			t.Errorf("webhook: %+v, %v", resp, err)
		}
	})

	t.Run("health", func(t *testing.T) {
		if err := e.host.Health(background(), "tp"); err != nil {
			t.Error(err)
		}
	})

	t.Run("stop leaves no process behind", func(t *testing.T) {
		pid := e.host.Plugins()[0].PID
		child := int(invoke(t, e, "tp", plugins.Call{Action: "spawn"})["pid"].(float64))
		if err := e.host.Close(); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("plugin process %d still there after Close: %v", pid, err)
		}
		// The plugin's child dies with its process group (and is reaped
		// by init a moment later).
		deadline := time.Now().Add(3 * time.Second)
		for syscall.Kill(child, 0) == nil && !isZombie(child) {
			if time.Now().After(deadline) {
				t.Fatalf("the plugin's child %d outlived Close", child)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if st := e.host.Plugins()[0].State; st != plugins.StateStopped {
			t.Errorf("state %s after Close", st)
		}
		_, err := e.host.Invoke(background(), "tp", plugins.Call{Action: "echo"})
		if !errors.Is(err, plugins.ErrNotRunning) {
			t.Errorf("invoke after Close: %v", err)
		}
	})
}

// TestRefusedStarts: plugins that must not run, or cannot, are refused
// with a message that says why, and the host goes on with the others.
func TestRefusedStarts(t *testing.T) {
	wrongSum := thirdParty(t, "tampered", testplugin.ModeOK)
	wrongSum.SHA256 = strings.Repeat("ab", 32)
	noSum := thirdParty(t, "unchecked", testplugin.ModeOK)
	noSum.SHA256 = ""
	missing := thirdParty(t, "missing", testplugin.ModeOK)
	missing.Path += ".gone"
	refusesConfig := thirdParty(t, "picky", testplugin.ModeOK)
	refusesConfig.Config = map[string]any{"refuse": true}

	cases := []struct {
		name  string
		cfg   *config.Plugin
		is    error
		wants []string
	}{
		{"wrong checksum", wrongSum, plugins.ErrChecksum, []string{`plugin "tampered"`, "refused to run", "the configuration says abab", "set sha256 = "}},
		{"no checksum", noSum, plugins.ErrChecksum, []string{"gives no sha256"}},
		{"missing executable", missing, nil, []string{"open the plugin executable", "no such file"}},
		{"protocol version 2 handshake", thirdParty(t, "future", testplugin.ModeProto2), plugins.ErrProtocol,
			[]string{`plugin "future"`, "speaks plugin protocol 2", "this crm speaks 1", "rebuild the plugin"}},
		{"protocol version 2 manifest", thirdParty(t, "liar", testplugin.ModeManifest2), plugins.ErrProtocol,
			[]string{"manifest says protocol version 2", "started with protocol version 1"}},
		{"exits at start", thirdParty(t, "dies", testplugin.ModeExit), plugins.ErrExited,
			[]string{`plugin "dies"`, "ended before it was ready", "no licence file"}},
		{"prints before serving", thirdParty(t, "chatty", testplugin.ModeStdout), nil,
			[]string{"must not print before sdk.Serve"}},
		{"refuses its config", refusesConfig, nil, []string{`plugin "picky" refused its configuration`, "refuse = true", "invalid_config"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, plugins.Options{StartTimeout: 20 * time.Second})
			good := thirdParty(t, "good", testplugin.ModeOK)
			err := e.host.Start(background(), []*config.Plugin{tc.cfg, good})
			if err == nil {
				t.Fatal("started")
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("error %v is not %v", err, tc.is)
			}
			mustContain(t, "the error", err.Error(), tc.wants...)
			st := e.host.Plugins()
			if st[0].State != plugins.StateFailed || st[0].LastError != err.Error() || st[0].PID != 0 {
				t.Errorf("status %+v", st[0])
			}
			// The host keeps working with the good plugin.
			if st[1].State != plugins.StateRunning {
				t.Fatalf("the good plugin: %+v", st[1])
			}
			invoke(t, e, "good", plugins.Call{Action: "echo"})
			_, err = e.host.Invoke(background(), tc.cfg.Name, plugins.Call{Action: "echo"})
			if !errors.Is(err, plugins.ErrNotRunning) {
				t.Errorf("invoke the failed plugin: %v", err)
			}
		})
	}
}

// TestFirstParty starts built-in plugins by re-executing the binary (here
// the test binary, whose TestMain serves them).
func TestFirstParty(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, plugins.Options{Executable: exe})
	err = e.host.Start(background(), []*config.Plugin{
		{Name: "testplugin", Write: []string{"contact"}},
		{Name: "exit_builtin"},
	})
	if !errors.Is(err, plugins.ErrExited) {
		t.Fatalf("start: %v", err)
	}
	mustContain(t, "the error", err.Error(), `plugin "exit_builtin"`, "no licence file")
	st := e.host.Plugins()
	if st[0].State != plugins.StateRunning || st[0].Source != "builtin" || st[1].State != plugins.StateFailed {
		t.Fatalf("status %+v", st)
	}
	out := invoke(t, e, "testplugin", plugins.Call{Action: "create",
		Args: map[string]any{"entity": "contact", "values": map[string]any{"name": "Built in"}}})
	if rec, ok := out["record"].(map[string]any); !ok || rec["created_by"] != "plugin:testplugin" {
		t.Errorf("create: %v", out)
	}
}

// TestEnvAllowList: a plugin sees only the allowed environment variables.
func TestEnvAllowList(t *testing.T) {
	t.Setenv("CRM_SECRET_FOR_TEST", "do not leak")
	t.Setenv("CRM_ALLOWED_FOR_TEST", "fine")
	if os.Getenv("PATH") == "" {
		t.Skip("no PATH")
	}
	e := newEnv(t, plugins.Options{Env: []string{"CRM_ALLOWED_FOR_TEST"}})
	// The test plugin has no env action; what reaches it is checked on
	// the command go-plugin runs, through the process's environ file.
	if err := e.host.Start(background(), []*config.Plugin{thirdParty(t, "tp", testplugin.ModeOK)}); err != nil {
		t.Fatal(err)
	}
	environ, err := os.ReadFile("/proc/" + strconv.Itoa(e.host.Plugins()[0].PID) + "/environ")
	if err != nil {
		t.Skipf("no /proc: %v", err)
	}
	vars := strings.Split(string(environ), "\x00")
	if slices.Contains(vars, "CRM_SECRET_FOR_TEST=do not leak") {
		t.Error("a variable off the allow-list reached the plugin")
	}
	if !slices.Contains(vars, "CRM_ALLOWED_FOR_TEST=fine") || !slices.Contains(vars, "PATH="+os.Getenv("PATH")) {
		t.Errorf("allowed variables missing: %q", vars)
	}
}

// waitForLog waits until the host's log has want.
func waitForLog(t *testing.T, e *env, want string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(e.log.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the host log lacks %q:\n%s", want, e.log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// isZombie reports whether a process has exited and waits to be reaped.
func isZombie(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // gone, or no /proc to tell
	}
	_, rest, _ := strings.Cut(string(stat), ") ")
	return strings.HasPrefix(rest, "Z")
}

// TestPluginKilled: a plugin process killed from outside shows as failed,
// calls to it fail at once, and the host serves the other plugins.
func TestPluginKilled(t *testing.T) {
	e := newEnv(t, plugins.Options{MaxCrashes: 1}) // the first crash marks it failed: no restart
	if err := e.host.Start(background(), []*config.Plugin{thirdParty(t, "victim", testplugin.ModeOK), thirdParty(t, "other", testplugin.ModeOK)}); err != nil {
		t.Fatal(err)
	}
	pid := e.host.Plugins()[0].PID
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.host.Plugins()[0].State != plugins.StateFailed {
		if time.Now().After(deadline) {
			t.Fatalf("still %+v after SIGKILL", e.host.Plugins()[0])
		}
		time.Sleep(20 * time.Millisecond)
	}
	mustContain(t, "the last error", e.host.Plugins()[0].LastError, "exited unexpectedly")
	if _, err := e.host.Invoke(background(), "victim", plugins.Call{Action: "echo"}); !errors.Is(err, plugins.ErrNotRunning) {
		t.Errorf("invoke the killed plugin: %v", err)
	}
	invoke(t, e, "other", plugins.Call{Action: "echo"})
}

// TestFieldTypesMatchConfig: the protocol's field types are the HCL ones.
func TestFieldTypesMatchConfig(t *testing.T) {
	if !slices.Equal(crmv1.FieldTypes, config.FieldTypes) {
		t.Errorf("crmv1.FieldTypes %v != config.FieldTypes %v", crmv1.FieldTypes, config.FieldTypes)
	}
	if !slices.Equal(crmv1.ReservedFields, config.ReservedFields) {
		t.Errorf("crmv1.ReservedFields %v != config.ReservedFields %v", crmv1.ReservedFields, config.ReservedFields)
	}
}

// TestActionTimeout: an action that declares a Timeout is waited for that
// long, past the host's call timeout, which still ends an action that
// declares none.
func TestActionTimeout(t *testing.T) {
	e := newEnv(t, plugins.Options{CallTimeout: 300 * time.Millisecond, StartTimeout: 20 * time.Second})
	if err := e.host.Start(background(), []*config.Plugin{thirdParty(t, "tp", testplugin.ModeOK)}); err != nil {
		t.Fatal(err)
	}
	sleep := map[string]any{"ms": 1500}
	if _, err := e.host.Invoke(background(), "tp", plugins.Call{Action: "sleep", Args: sleep}); !errors.Is(err, plugins.ErrTimeout) {
		t.Fatalf("sleep past the host's timeout: %v", err)
	}
	raw, err := e.host.Invoke(background(), "tp", plugins.Call{Action: "slow", Args: sleep})
	if err != nil || string(raw) != `"slept"` {
		t.Fatalf("slow, which declares a minute: %s, %v", raw, err)
	}
}
