package main_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
)

const ruleV1 = `
rule "tag_leads" {
  on = ["contact.created"]
  action "set" {
    notes = "'v1'"
  }
}
`

// TestHotReload changes the rules of a running server: a clean change takes
// effect without a restart, a broken one is refused with its diagnostics
// and the running rules stay.
func TestHotReload(t *testing.T) {
	dir := t.TempDir()
	cfgDir := filepath.Join(dir, "conf")
	os.Mkdir(cfgDir, 0o700)
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(cfgDir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("main.hcl", crashConfig)
	write("rules.hcl", ruleV1)
	c := startChild(t, testkit.Binary(t), cfgDir, filepath.Join(dir, "data"))
	defer func() { c.cmd.Process.Signal(syscall.SIGTERM); c.cmd.Wait() }()
	client := &http.Client{Timeout: 10 * time.Second}
	token := login(t, c, client)

	notesOfNewContact := func() string {
		t.Helper()
		code, rec, err := c.call(client, "POST", "/api/v1/records/contact", token, map[string]any{"name": "x"})
		if err != nil || code != 201 {
			t.Fatalf("create: %d %v", code, err)
		}
		id := rec["id"].(string)
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			_, got, _ := c.call(client, "GET", "/api/v1/records/contact/"+id, token, nil)
			if n, _ := got["notes"].(string); n != "" {
				return n
			}
			time.Sleep(20 * time.Millisecond)
		}
		return ""
	}
	status := func() map[string]any {
		_, st, err := c.call(client, "GET", "/api/v1/config/status", token, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	// waitStatus waits for the watcher to have checked a change: refused
	// (ok false), or loaded (ok true, and loaded_at moved on).
	var loadedAt any
	waitStatus := func(ok bool) map[string]any {
		t.Helper()
		deadline := time.Now().Add(15 * time.Second)
		for time.Now().Before(deadline) {
			st := status()
			if st["ok"] == ok && (!ok || st["loaded_at"] != loadedAt) {
				loadedAt = st["loaded_at"]
				return st
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Fatalf("config status never became ok=%v: %v", ok, status())
		return nil
	}
	if got := notesOfNewContact(); got != "v1" {
		t.Fatalf("notes = %q, want v1", got)
	}
	loadedAt = status()["loaded_at"]

	// A broken change is refused: the diagnostics are shown, v1 keeps running.
	write("rules.hcl", strings.Replace(ruleV1, "notes", "ntoes", 1))
	st := waitStatus(false)
	diags, _ := st["diagnostics"].([]any)
	if len(diags) == 0 || !strings.Contains(diags[0].(string), "rules.hcl:5:5") || !strings.Contains(diags[0].(string), `did you mean "notes"?`) {
		t.Fatalf("diagnostics = %v", st["diagnostics"])
	}
	if got := notesOfNewContact(); got != "v1" {
		t.Fatalf("after a refused change: notes = %q, want v1", got)
	}

	// A clean change takes effect without a restart.
	write("rules.hcl", strings.Replace(ruleV1, "'v1'", "'v2'", 1))
	waitStatus(true)
	if got := notesOfNewContact(); got != "v2" {
		t.Fatalf("after reload: notes = %q, want v2", got)
	}
}
