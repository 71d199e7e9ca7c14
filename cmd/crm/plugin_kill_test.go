package main_test

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
)

// TestPluginKilledDuringEventStream runs crm serve with the example loyalty
// plugin, streams won deals through the API and kills the plugin with
// SIGKILL twice in the middle: the API answers every request throughout,
// the plugin comes back, and every won deal's points are credited exactly
// once (no event lost, none applied twice).
func TestPluginKilledDuringEventStream(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test in -short mode")
	}
	dir := t.TempDir()
	plugin, sum := testkit.BuildPlugin(t, "./examples/loyalty")
	cfgDir := filepath.Join(dir, "conf")
	os.Mkdir(cfgDir, 0o700)
	os.WriteFile(filepath.Join(cfgDir, "main.hcl"), []byte(crashConfig), 0o600)
	os.WriteFile(filepath.Join(cfgDir, "loyalty.hcl"), []byte(fmt.Sprintf(`
plugin "loyalty" {
  path     = %q
  sha256   = %q
  entities = ["loyalty_account"]
  read     = ["contact", "deal"]
  write    = ["loyalty_account"]
  config   = { points_per = 1000, secret = "s" }
}
`, plugin, sum)), 0o600)
	c := startChild(t, testkit.Binary(t), cfgDir, filepath.Join(dir, "data"))
	defer func() { c.cmd.Process.Signal(syscall.SIGTERM); c.cmd.Wait() }()
	client := &http.Client{Timeout: 10 * time.Second}
	token := login(t, c, client)

	const contacts, deals = 8, 120
	ids := make([]string, contacts)
	for i := range ids {
		code, rec, err := c.call(client, "POST", "/api/v1/records/contact", token, map[string]any{"name": fmt.Sprint("customer ", i)})
		if err != nil || code != 201 {
			t.Fatalf("contact: %d %v", code, err)
		}
		ids[i] = rec["id"].(string)
	}
	pluginPID := func() int {
		_, res, err := c.call(client, "GET", "/api/v1/plugins/loyalty", token, nil)
		if err != nil {
			return 0
		}
		st, _ := res["status"].(map[string]any)
		pid, _ := st["pid"].(float64)
		if st["state"] != "running" {
			return 0
		}
		return int(pid)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	kills := 0
	go func() { // kill the plugin twice while the deals stream in
		defer wg.Done()
		for kills < 2 {
			time.Sleep(400 * time.Millisecond)
			if pid := pluginPID(); pid > 0 && syscall.Kill(pid, syscall.SIGKILL) == nil {
				kills++
			}
		}
	}()
	for i := range deals {
		body := map[string]any{"title": fmt.Sprint("deal ", i), "stage": "won", "contact": ids[i%contacts],
			"amount": map[string]any{"amount": "5000", "currency": "AMD"}}
		code, _, err := c.call(client, "POST", "/api/v1/records/deal", token, body)
		if err != nil || code != 201 {
			t.Fatalf("deal %d while the plugin was being killed: %d %v", i, code, err)
		}
		time.Sleep(8 * time.Millisecond)
	}
	wg.Wait()
	want := int64(5 * deals / contacts)
	deadline := time.Now().Add(60 * time.Second)
	var points map[string]int64
	for time.Now().Before(deadline) {
		points = map[string]int64{}
		_, res, err := c.call(client, "GET", "/api/v1/records/loyalty_account?limit=100", token, nil)
		if err == nil {
			items, _ := res["items"].([]any)
			for _, it := range items {
				m := it.(map[string]any)
				p, _ := m["points"].(float64)
				points[m["contact"].(string)] = int64(p)
			}
		}
		done := len(points) == contacts
		for _, p := range points {
			done = done && p == want
			if p > want {
				t.Fatalf("points applied twice: %v (want %d each)", points, want)
			}
		}
		if done {
			t.Logf("%d won deals, plugin killed %d times, every contact has %d points", deals, kills, want)
			// The plugin comes back after its last kill too, and the CLI shows it.
			t.Setenv("CRM_TOKEN", token)
			var out, errOut string
			for end := time.Now().Add(20 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
				var code int
				out, errOut, code = crm(t, "", "plugin", "list", "--server", c.url)
				if code == 0 && strings.Contains(out, "loyalty  running") && strings.Contains(out, "handle_event") {
					t.Logf("crm plugin list --server:\n%s", out)
					return
				}
			}
			t.Fatalf("crm plugin list --server:\n%s%s", out, errOut)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("points = %v, want %d for each of %d contacts\n%s", points, want, contacts, c.logs)
}
