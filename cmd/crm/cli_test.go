package main_test

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
)

func crm(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(testkit.Binary(t), args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

func TestCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.hcl")
	os.WriteFile(bad, []byte(`entity "vehicle" {
  field "vin" { type = "strng" }
  field "buyer" {
    type = "ref"
    to   = "contcat"
  }
}
role "sales" {
  read = ["vehicle", "dael"]
}
`), 0o600)
	_, stderr, code := crm(t, "", "check", "--config", bad)
	if code != 1 {
		t.Fatalf("exit %d for a bad config", code)
	}
	for _, want := range []string{
		bad + `:2:24: error:`, `"strng"`, `did you mean "string"?`,
		bad + `:5:12: error:`, `did you mean "contact"?`,
		bad + `:9:22: error:`, `did you mean "deal"?`,
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("crm check output lacks %q:\n%s", want, stderr)
		}
	}
	if !regexp.MustCompile(`(?m)^\s+\|\s+\^`).MatchString(stderr) {
		t.Errorf("no caret line:\n%s", stderr)
	}
	stdout, stderr, code := crm(t, "", "check", "--config", filepath.Join(testkit.RepoRoot(), "crm.hcl"))
	if code != 0 || !strings.Contains(stdout, "ok") {
		t.Fatalf("crm.hcl: exit %d\n%s%s", code, stdout, stderr)
	}
}

func TestHelpAndVersion(t *testing.T) {
	out, _, code := crm(t, "", "help")
	if code != 0 || !strings.Contains(out, "crm serve") || !strings.Contains(out, "crm token create") {
		t.Fatalf("help: %d %s", code, out)
	}
	_, errOut, code := crm(t, "", "serve", "--help")
	if code != 0 || !strings.Contains(errOut, "-listen") {
		t.Fatalf("serve --help: %d %s", code, errOut)
	}
	if out, _, code := crm(t, "", "version"); code != 0 || !strings.HasPrefix(out, "crm ") {
		t.Fatalf("version: %d %s", code, out)
	}
	if _, _, code := crm(t, "", "frobnicate"); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
}

// TestUsersTokensAndGracefulShutdown adds a user and a token with the CLI,
// uses the token against a served store, and stops the server with SIGTERM.
func TestUsersTokensAndGracefulShutdown(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "crm.hcl")
	os.WriteFile(cfg, []byte(crashConfig+`
role "sales" {
  read  = ["contact"]
  write = ["contact"]
}
`), 0o600)
	data := filepath.Join(dir, "data")
	if _, errOut, code := crm(t, "a long sales password\n", "user", "add", "--config", cfg, "--data", data, "--email", "Sona@Example.com", "--role", "sales", "--name", "Sona"); code != 0 {
		t.Fatalf("user add: %d %s", code, errOut)
	}
	if _, errOut, code := crm(t, "", "user", "add", "--config", cfg, "--data", data, "--email", "x@example.com", "--role", "salse", "--password", "long enough pass"); code != 1 || !strings.Contains(errOut, "sales") {
		t.Fatalf("user add with a bad role: %d %s", code, errOut)
	}
	token, errOut, code := crm(t, "", "token", "create", "--config", cfg, "--data", data, "--email", "sona@example.com", "--name", "script")
	if code != 0 {
		t.Fatalf("token create: %d %s", code, errOut)
	}
	token = strings.TrimSpace(token)
	c := startChild(t, testkit.Binary(t), cfg, data)
	client := &http.Client{Timeout: 10 * time.Second}
	code, rec, err := c.call(client, "POST", "/api/v1/records/contact", token, map[string]any{"name": "via token"})
	if err != nil || code != 201 {
		t.Fatalf("create with CLI token: %d %v", code, err)
	}
	if code, _, _ := c.call(client, "POST", "/api/v1/records/deal", token, map[string]any{"title": "x"}); code != 403 {
		t.Fatalf("sales writing deal: %d", code)
	}
	if err := c.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err != nil {
		t.Fatalf("crm serve after SIGTERM: %v\n%s", err, c.logs)
	}
	if !strings.Contains(c.logs.String(), "shutting down") {
		t.Errorf("no shutdown log:\n%s", c.logs)
	}
	// The store was closed cleanly: the CLI can open it and the record is there.
	out, errOut, code := crm(t, "", "token", "list", "--config", cfg, "--data", data)
	if code != 0 || !strings.Contains(out, "script") {
		t.Fatalf("token list: %d %s %s", code, out, errOut)
	}
	c2 := startChild(t, testkit.Binary(t), cfg, data)
	defer func() { c2.cmd.Process.Kill(); c2.cmd.Wait() }()
	code, got, err := c2.call(client, "GET", "/api/v1/records/contact/"+rec["id"].(string), token, nil)
	if err != nil || code != 200 || got["name"] != "via token" {
		t.Fatalf("after restart: %d %v %v", code, got, err)
	}
}

func TestFirstStartPrintsLogin(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "crm.hcl")
	os.WriteFile(cfg, []byte(crashConfig), 0o600)
	addr := freePort(t)
	cmd := exec.Command(testkit.Binary(t), "serve", "--config", cfg, "--data", filepath.Join(dir, "d"), "--listen", addr)
	var out testkit.LogBuffer
	cmd.Stdout = &out
	cmd.Env = os.Environ()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && !strings.Contains(out.String(), "password") {
		time.Sleep(50 * time.Millisecond)
	}
	text := out.String()
	m := regexp.MustCompile(`admin@localhost with the password (\S+)`).FindStringSubmatch(text)
	if m == nil || !strings.Contains(text, "listening on http://") {
		t.Fatalf("banner:\n%s", text)
	}
	c := &child{url: "http://" + addr}
	code, _, err := c.call(http.DefaultClient, "POST", "/api/v1/auth/login", "", map[string]string{"email": "admin@localhost", "password": m[1]})
	if err != nil || code != 200 {
		t.Fatalf("login with the printed password: %d %v", code, err)
	}
}

// TestCheckPluginActions: crm check starts the plugins, reads their
// manifests and checks the rules' plugin actions against them.
func TestCheckPluginActions(t *testing.T) {
	dir := t.TempDir()
	bin, sum := testkit.BuildPlugin(t, "./core/plugins/internal/testplugin/cmd")
	cfg := filepath.Join(dir, "crm.hcl")
	write := func(action string) {
		os.WriteFile(cfg, []byte(`plugin "testplugin" {
  path   = "`+bin+`"
  sha256 = "`+sum+`"
  read   = ["contact"]
}
rule "r" {
  on = ["contact.created"]
  action "`+action+`" {
    txet = "record.name"
  }
}
`), 0o600)
	}
	write("testplugin.ecoh")
	_, stderr, code := crm(t, "", "check", "--config", cfg)
	if code != 1 || !strings.Contains(stderr, cfg+`:8:3: error: plugin testplugin has no action "ecoh"; did you mean "echo"?`) {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	write("testplugin.echo")
	_, stderr, code = crm(t, "", "check", "--config", cfg)
	if code != 1 || !strings.Contains(stderr, `has no argument "txet"; did you mean "text"?`) {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
}
