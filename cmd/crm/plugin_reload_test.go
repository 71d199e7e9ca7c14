package main_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
)

// TestPluginBlockReload changes the plugin block of a running crm serve
// with a real plugin process: a new config reaches the plugin through
// Configure, new permissions apply, a change elsewhere does not restart
// it, and a wrong sha256 or a rule calling an action the manifest does not
// offer is refused, shown at /api/v1/config/status, with the running
// plugin left as it was.
func TestPluginBlockReload(t *testing.T) {
	dir := t.TempDir()
	bin, goodSum := testkit.BuildPlugin(t, "./core/plugins/internal/testplugin/cmd")

	cfgDir := filepath.Join(dir, "conf")
	os.Mkdir(cfgDir, 0o700)
	// write replaces a file at once, so that the watcher never reads it
	// half written.
	write := func(name, text string) {
		t.Helper()
		tmp := filepath.Join(cfgDir, name+".tmp")
		if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(cfgDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	block := func(sha, greeting, writes, action string) string {
		return fmt.Sprintf(`plugin "testplugin" {
  path   = %q
  sha256 = %q
  read   = ["contact"]
  write  = [%s]
  config = { greeting = %q }
}

rule "echo_contacts" {
  on = ["contact.created"]
  action "testplugin.%s" {
    text = "record.name"
  }
}
`, bin, sha, writes, greeting, action)
	}
	write("main.hcl", crashConfig)
	write("plugin.hcl", block(goodSum, "v1", `"contact"`, "echo"))
	c := startChild(t, testkit.Binary(t), cfgDir, filepath.Join(dir, "data"))
	defer func() { c.cmd.Process.Signal(syscall.SIGTERM); c.cmd.Wait() }()
	client := &http.Client{Timeout: 15 * time.Second}
	token := login(t, c, client)

	get := func(path string) map[string]any {
		t.Helper()
		code, out, err := c.call(client, "GET", path, token, nil)
		if err != nil || code != 200 {
			t.Fatalf("GET %s: %d %v", path, code, err)
		}
		return out
	}
	action := func(name string, args map[string]any) map[string]any {
		t.Helper()
		code, out, err := c.call(client, "POST", "/api/v1/plugins/testplugin/actions/"+name, token, map[string]any{"args": args})
		if err != nil || code != 200 {
			t.Fatalf("action %s: %d %v %v\n%s", name, code, out, err, c.logs)
		}
		res, _ := out["result"].(map[string]any)
		return res
	}
	pid := func() float64 {
		t.Helper()
		st := get("/api/v1/plugins/testplugin")["status"].(map[string]any)
		if st["state"] != "running" {
			t.Fatalf("plugin status %v", st)
		}
		return st["pid"].(float64)
	}
	checkedAt := get("/api/v1/config/status")["checked_at"]
	// waitStatus waits for the watcher to have checked the change just
	// written (checked_at moved on): applied (ok) or refused.
	waitStatus := func(ok bool) map[string]any {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			st := get("/api/v1/config/status")
			if st["ok"] == ok && st["checked_at"] != checkedAt {
				checkedAt = st["checked_at"]
				return st
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("config status never became ok=%v: %v\n%s", ok, get("/api/v1/config/status"), c.logs)
		return nil
	}
	createThroughPlugin := func() map[string]any {
		return action("create", map[string]any{"entity": "contact", "values": map[string]any{"name": "via plugin"}})
	}

	if got := action("config", nil)["greeting"]; got != "v1" {
		t.Fatalf("greeting = %v, want v1", got)
	}
	first := pid()

	// A new config: the plugin is restarted and sees it through Configure.
	write("plugin.hcl", block(goodSum, "v2", `"contact"`, "echo"))
	st := waitStatus(true)
	if p, _ := st["plugins"].(map[string]any); fmt.Sprint(p["restarted"]) != "[testplugin]" {
		t.Fatalf("status after a config change: %v", st)
	}
	if got := action("config", nil)["greeting"]; got != "v2" {
		t.Fatalf("greeting after reload = %v, want v2", got)
	}
	second := pid()
	if second == first {
		t.Fatalf("the plugin was not restarted (pid %v)", first)
	}

	// A change that leaves the plugin block as it is does not restart it.
	write("main.hcl", crashConfig+"\n# a comment\n")
	st = waitStatus(true)
	if st["plugins"] != nil || pid() != second {
		t.Fatalf("an unchanged plugin block restarted the plugin: %v", st)
	}

	// Permissions: without write on contact the plugin's write is denied,
	// with it again allowed.
	if out := createThroughPlugin(); out["record"] == nil {
		t.Fatalf("write with write = [contact]: %v", out)
	}
	write("plugin.hcl", block(goodSum, "v2", "", "echo"))
	waitStatus(true)
	if out := createThroughPlugin(); out["denied"] != true {
		t.Fatalf("write with write = []: %v", out)
	}
	write("plugin.hcl", block(goodSum, "v2", `"contact"`, "echo"))
	waitStatus(true)
	if out := createThroughPlugin(); out["record"] == nil {
		t.Fatalf("write with write = [contact] again: %v", out)
	}
	running := pid()

	// A wrong sha256 is refused; the running plugin stays as it was.
	write("plugin.hcl", block(strings.Repeat("ab", 32), "v3", `"contact"`, "echo"))
	st = waitStatus(false)
	diags := fmt.Sprint(st["diagnostics"])
	if !strings.Contains(diags, "plugin.hcl:1") || !strings.Contains(diags, "checksum mismatch") || !strings.Contains(diags, "the running plugin stays") {
		t.Fatalf("diagnostics of a wrong sha256: %s", diags)
	}
	if got := action("config", nil)["greeting"]; got != "v2" || pid() != running {
		t.Fatalf("after a refused change: greeting %v, pid %v (was %v)", got, pid(), running)
	}

	// A rule calling an action the manifest does not offer is refused.
	write("plugin.hcl", block(goodSum, "v3", `"contact"`, "ecoh"))
	st = waitStatus(false)
	if diags := fmt.Sprint(st["diagnostics"]); !strings.Contains(diags, `plugin testplugin has no action "ecoh"; did you mean "echo"?`) {
		t.Fatalf("diagnostics of an unknown action: %s", diags)
	}
	if got := action("config", nil)["greeting"]; got != "v2" || pid() != running {
		t.Fatalf("after a refused change: greeting %v, pid %v (was %v)", got, pid(), running)
	}
}

// TestReloadTypeChecksPluginEvents: a crm serve whose rules are on no
// plugin event starts without reading the plugins' events; a reload that
// adds a rule on the test plugin's typed event testplugin.serviced (its
// subject a contact, its payload mileage and kind) is type-checked against
// the running plugin's manifest: a field the subject or the payload does
// not have, or an event the plugin does not declare, is refused and shown
// at /api/v1/config/status; a rule that uses them as declared is applied.
func TestReloadTypeChecksPluginEvents(t *testing.T) {
	dir := t.TempDir()
	cfgDir := filepath.Join(dir, "conf")
	os.Mkdir(cfgDir, 0o700)
	write := func(name, text string) {
		t.Helper()
		tmp := filepath.Join(cfgDir, name+".tmp")
		if err := os.WriteFile(tmp, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(cfgDir, name)); err != nil {
			t.Fatal(err)
		}
	}
	const contactRule = `rule "welcome" {
  on = ["contact.created"]
  action "create_task" {
    title = "'welcome ' + record.name"
  }
}
`
	servicedRule := func(on, when string) string {
		return contactRule + fmt.Sprintf(`
rule "serviced" {
  on   = [%q]
  when = %q
  action "create_task" {
    title = "'serviced ' + record.name"
  }
}
`, on, when)
	}
	write("main.hcl", crashConfig+testPlugin(t))
	write("rules.hcl", contactRule)
	c := startChild(t, testkit.Binary(t), cfgDir, filepath.Join(dir, "data"))
	defer func() { c.cmd.Process.Signal(syscall.SIGTERM); c.cmd.Wait() }()
	client := &http.Client{Timeout: 15 * time.Second}
	token := login(t, c, client)
	get := func(path string) map[string]any {
		t.Helper()
		code, out, err := c.call(client, "GET", path, token, nil)
		if err != nil || code != 200 {
			t.Fatalf("GET %s: %d %v", path, code, err)
		}
		return out
	}
	checkedAt := get("/api/v1/config/status")["checked_at"]
	waitStatus := func(ok bool) map[string]any {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			st := get("/api/v1/config/status")
			if st["checked_at"] != checkedAt {
				checkedAt = st["checked_at"]
				if st["ok"] != ok {
					t.Fatalf("config status ok = %v, want %v: %v", st["ok"], ok, st)
				}
				return st
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("the change was never checked: %v\n%s", get("/api/v1/config/status"), c.logs)
		return nil
	}
	rules := filepath.Join(cfgDir, "rules.hcl")
	for _, bad := range []struct{ on, when, want string }{
		{"testplugin.serviced", "record.mkae == 'BMW'", rules + `:10:18: error: unknown field "mkae" of contact`},
		{"testplugin.serviced", "event.milage > 1", rules + `:10:17: error: unknown field "milage" of event testplugin.serviced; did you mean "mileage"?`},
		{"testplugin.servcied", "true", rules + `:9:11: error: unknown event "testplugin.servcied"; did you mean "testplugin.serviced"?`},
	} {
		write("rules.hcl", servicedRule(bad.on, bad.when))
		st := waitStatus(false)
		if diags := fmt.Sprint(st["diagnostics"]); !strings.Contains(diags, bad.want) {
			t.Errorf("on %s when %s: diagnostics %s; want %q", bad.on, bad.when, diags, bad.want)
		}
		if st["rules"] != float64(1) {
			t.Errorf("on %s when %s: rules in force %v; want the running 1", bad.on, bad.when, st["rules"])
		}
	}
	write("rules.hcl", servicedRule("testplugin.serviced", "event.mileage > 10000 && event.kind == 'oil' && record.name != ''"))
	if st := waitStatus(true); st["rules"] != float64(2) {
		t.Fatalf("a rule on the typed event as declared: %v", st)
	}
}
