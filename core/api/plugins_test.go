package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/app"
	"github.com/crmkit/crm/core/testkit"
)

// testPlugin builds the plugin host's test plugin and returns its path and
// SHA-256.
func testPlugin(t *testing.T) (string, string) {
	t.Helper()
	return testkit.BuildPlugin(t, "./core/plugins/internal/testplugin/cmd")
}

// TestPluginsThroughTheAPI starts a real plugin process with crm serve's
// wiring: its status and manifest over the API, an action called on a
// record as the calling user, a refusal told apart, a rule calling it.
func TestPluginsThroughTheAPI(t *testing.T) {
	path, sum := testPlugin(t)
	s := testkit.Start(t, map[string]string{"crm.hcl": testConfig, "plugins.hcl": `
plugin "testplugin" {
  path   = "` + path + `"
  sha256 = "` + sum + `"
  read   = ["contact"]
  write  = ["contact"]
}
rule "on_ping" {
  on = ["testplugin.pinged"]
  action "create_task" {
    title = "'pinged ' + string(record.n)"
  }
}
rule "echo_new_contacts" {
  on = ["contact.created"]
  action "testplugin.echo" {
    text = "record.name"
  }
}
`})
	_, viewer := s.AddUser(t, "viewer@example.com", "viewer")
	c := s.Do(t, "POST", "/api/v1/records/contact", s.AdminToken, map[string]any{"name": "Ani"})
	if c.Status != 201 {
		t.Fatal(c.Body)
	}
	cid := c.JSON["id"].(string)
	d := s.Do(t, "POST", "/api/v1/records/deal", s.AdminToken, map[string]any{"title": "x"})
	did := d.JSON["id"].(string)
	s.Run(t, []testkit.Scenario{
		{Name: "status", Method: "GET", Path: "/api/v1/plugins", Token: viewer, Status: 200, Contains: []string{`"name":"testplugin"`, `"state":"running"`, `"version":"0.1.0"`}},
		{Name: "manifest", Method: "GET", Path: "/api/v1/plugins/testplugin", Token: viewer, Status: 200, Contains: []string{`"echo"`,
			// A record button, and a list button whose action gets no record.
			`{"entity":"contact","action":"echo","label":"Echo","scope":"record"}`,
			`{"entity":"test_thing","action":"create","label":"New thing","scope":"list"}`}},
		{Name: "unknown plugin", Method: "GET", Path: "/api/v1/plugins/nope", Token: viewer, Status: 404},
		{Name: "action on a record", Method: "POST", Path: "/api/v1/plugins/testplugin/actions/echo", Token: viewer,
			Body: map[string]any{"entity": "contact", "id": cid, "args": map[string]any{"text": "hi"}}, Status: 200, Contains: []string{`"result":`, `"text":"hi"`}},
		{Name: "a record the caller may not read", Method: "POST", Path: "/api/v1/plugins/testplugin/actions/echo", Token: viewer,
			Body: map[string]any{"entity": "deal", "id": did}, Status: 403},
		{Name: "a missing record", Method: "POST", Path: "/api/v1/plugins/testplugin/actions/echo", Token: viewer,
			Body: map[string]any{"entity": "contact", "id": "01JAAAAAAAAAAAAAAAAAAAAAAA"}, Status: 404},
		{Name: "the plugin says no", Method: "POST", Path: "/api/v1/plugins/testplugin/actions/refuse", Token: viewer, Body: map[string]any{}, Status: 422},
		{Name: "unknown action", Method: "POST", Path: "/api/v1/plugins/testplugin/actions/nope", Token: viewer, Body: map[string]any{}, Status: 404},
		{Name: "no credentials", Method: "POST", Path: "/api/v1/plugins/testplugin/actions/echo", Body: map[string]any{}, Status: 401},
	})
	// The plugin subscribes to contact.created: the event arrives with its key.
	deadline := time.Now().Add(10 * time.Second)
	var seen string
	for time.Now().Before(deadline) {
		seen = s.Do(t, "POST", "/api/v1/plugins/testplugin/actions/seen", viewer, map[string]any{}).Body
		if strings.Contains(seen, "contact.created:plugin:testplugin:1") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(seen, "contact.created:plugin:testplugin:1") || strings.Contains(seen, "deal.") {
		t.Fatalf("events the plugin saw: %s", seen)
	}
	hook := s.Do(t, "POST", "/hooks/testplugin/ping", "", "hello")
	if hook.Status != 202 || hook.Body != "pong: hello" || hook.Header.Get("X-Test") != "yes" {
		t.Fatalf("webhook: %d %q", hook.Status, hook.Body)
	}
	if r := s.Do(t, "POST", "/hooks/nope/ping", "", "x"); r.Status != 404 {
		t.Fatalf("webhook of an unknown plugin: %d", r.Status)
	}
	// An event the plugin emits goes through the change feed to the rules.
	if r := s.Do(t, "POST", "/api/v1/plugins/testplugin/actions/emit", viewer, map[string]any{"args": map[string]any{"entity": "testplugin.pinged"}}); r.Status != 200 {
		t.Fatalf("emit: %d %s", r.Status, r.Body)
	}
	var tasks string
	for time.Now().Before(deadline) {
		tasks = s.Do(t, "GET", "/api/v1/records/task", s.AdminToken, nil).Body
		if strings.Contains(tasks, "pinged 1") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(tasks, "pinged 1") {
		t.Fatalf("no task from the plugin's event: %s", tasks)
	}
	var runs string
	for time.Now().Before(deadline) {
		runs = s.Do(t, "GET", "/api/v1/rules/echo_new_contacts/runs", s.AdminToken, nil).Body
		if strings.Contains(runs, `"status":"ok"`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(runs, `"status":"ok"`) || !strings.Contains(runs, `testplugin.echo:`) || !strings.Contains(runs, `Ani`) {
		t.Fatalf("rule runs: %s", runs)
	}
	// A plugin acting for a user may do only what both may: the plugin may
	// write contacts, the viewer may not, so the plugin's write is denied.
	_, sales := s.AddUser(t, "sales@example.com", "sales")
	for _, c := range []struct {
		token, want string
	}{
		{viewer, `"denied":true`},
		{sales, `"record":`},
	} {
		r := s.Do(t, "POST", "/api/v1/plugins/testplugin/actions/create", c.token,
			map[string]any{"args": map[string]any{"entity": "contact", "values": map[string]any{"name": "via plugin"}}})
		if r.Status != 200 || !strings.Contains(r.Body, c.want) {
			t.Fatalf("plugin write on behalf of a user: %d %s, want %s", r.Status, r.Body, c.want)
		}
	}
	// Last, as it starts the plugin afresh: an admin's restart.
	s.Run(t, []testkit.Scenario{
		{Name: "restart is for admins", Method: "POST", Path: "/api/v1/plugins/testplugin/restart", Token: viewer, Status: 403},
		{Name: "restart", Method: "POST", Path: "/api/v1/plugins/testplugin/restart", Token: s.AdminToken, Status: 200, Contains: []string{`"state":"running"`, `"restarts":`}},
		{Name: "plugin metrics", Method: "GET", Path: "/metrics", Token: s.AdminToken, Status: 200, Contains: []string{`crm_plugin_up{plugin="testplugin"} 1`}},
	})
}

// TestPluginContributedEntity starts a plugin whose block declares the
// entity its manifest contributes: the entity's records have the API,
// history and rules of any other, and the plugin's own writes to it are
// validated against the manifest's fields.
func TestPluginContributedEntity(t *testing.T) {
	path, sum := testPlugin(t)
	block := `
plugin "testplugin" {
  path     = "` + path + `"
  sha256   = "` + sum + `"
  entities = ["test_thing"]
  write    = ["test_thing"]
}
`
	s := testkit.Start(t, map[string]string{"crm.hcl": testConfig, "plugins.hcl": block + `
rule "medium_things" {
  on   = ["test_thing.created"]
  when = "record.size == 'm'"
  action "create_task" {
    title = "'medium ' + record.title"
  }
}
`})
	c := s.Do(t, "POST", "/api/v1/records/test_thing", s.AdminToken, map[string]any{"title": "x", "size": "m"})
	if c.Status != 201 {
		t.Fatalf("create: %d %s", c.Status, c.Body)
	}
	id := c.JSON["id"].(string)
	s.Run(t, []testkit.Scenario{
		{Name: "history", Method: "GET", Path: "/api/v1/records/test_thing/" + id + "/history", Token: s.AdminToken, Status: 200, Contains: []string{`"action":"created"`, `"title":{"old":null,"new":"x"}`}},
		{Name: "a value outside the enum", Method: "POST", Path: "/api/v1/records/test_thing", Token: s.AdminToken,
			Body: map[string]any{"title": "y", "size": "xl"}, Status: 422},
		{Name: "the plugin creates one", Method: "POST", Path: "/api/v1/plugins/testplugin/actions/create", Token: s.AdminToken,
			Body:   map[string]any{"args": map[string]any{"entity": "test_thing", "values": map[string]any{"title": "from the plugin", "size": "s"}}},
			Status: 200, Contains: []string{`"record":`, `"title":"from the plugin"`}},
		{Name: "the plugin's invalid write", Method: "POST", Path: "/api/v1/plugins/testplugin/actions/create", Token: s.AdminToken,
			Body:   map[string]any{"args": map[string]any{"entity": "test_thing", "values": map[string]any{"size": "xl"}}},
			Status: 200, Contains: []string{`"invalid":true`}},
	})
	deadline := time.Now().Add(10 * time.Second)
	var tasks string
	for time.Now().Before(deadline) {
		tasks = s.Do(t, "GET", "/api/v1/records/task", s.AdminToken, nil).Body
		if strings.Contains(tasks, "medium x") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(tasks, "medium x") {
		t.Fatalf("no task from the rule on test_thing.created: %s", tasks)
	}

	// A rule naming a field the manifest does not declare is a check error.
	_, _, _, diags := app.CheckSources(map[string][]byte{"crm.hcl": []byte(testConfig), "plugins.hcl": []byte(block + `
rule "typo" {
  on   = ["test_thing.created"]
  when = "record.sise == 'm'"
  action "notify" { to = "record.owner" }
}
`)})
	var msgs []string
	for _, d := range diags {
		msgs = append(msgs, config.FormatDiagnostic(d))
	}
	if got := strings.Join(msgs, "\n"); !diags.HasErrors() || !strings.Contains(got, `unknown field "sise" of test_thing; did you mean "size"?`) {
		t.Fatalf("diagnostics of record.sise:\n%s", got)
	}
}
