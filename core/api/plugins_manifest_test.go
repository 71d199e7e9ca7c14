package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
)

// TestPluginCallsAreCheckedAgainstTheManifest calls a real plugin process
// through the API and a rule with calls its manifest does not allow: each
// is a 4xx naming the argument (a rule's run fails without retries), and
// the plugin's own count of the calls that reached it does not move.
func TestPluginCallsAreCheckedAgainstTheManifest(t *testing.T) {
	path, sum := testPlugin(t)
	s := testkit.Start(t, map[string]string{"crm.hcl": testConfig, "plugins.hcl": `
plugin "testplugin" {
  path   = "` + path + `"
  sha256 = "` + sum + `"
  read   = ["contact", "deal"]
}
rule "award_on_deals" {
  on = ["deal.created"]
  action "testplugin.award" {
    points = "7"
  }
}
`})
	c := s.Do(t, "POST", "/api/v1/records/contact", s.AdminToken, map[string]any{"name": "Ani"})
	if c.Status != 201 {
		t.Fatal(c.Body)
	}
	cid := c.JSON["id"].(string)
	calls := func() float64 {
		t.Helper()
		r := s.Do(t, "POST", "/api/v1/plugins/testplugin/actions/calls", s.AdminToken, map[string]any{})
		n, ok := r.JSON["result"].(map[string]any)["calls"].(float64)
		if r.Status != 200 || !ok {
			t.Fatalf("calls: %d %s", r.Status, r.Body)
		}
		return n
	}
	award := "/api/v1/plugins/testplugin/actions/award"
	on := func(args map[string]any) map[string]any {
		return map[string]any{"entity": "contact", "id": cid, "args": args}
	}

	before := calls()
	ok := s.Do(t, "POST", award, s.AdminToken, on(map[string]any{"points": 500, "until": "2026-03-21"}))
	if ok.Status != 200 || !strings.Contains(ok.Body, `"points":500`) {
		t.Fatalf("a valid call: %d %s", ok.Status, ok.Body)
	}
	if got := calls(); got != before+1 {
		t.Fatalf("calls = %v after a valid call, want %v", got, before+1)
	}

	before = calls()
	s.Run(t, []testkit.Scenario{
		{Name: "a required argument missing", Method: "POST", Path: award, Token: s.AdminToken, Body: on(map[string]any{}),
			Status: 400, Contains: []string{`"code":"invalid_argument"`, `"field":"args.points"`, `required`}},
		{Name: "a wrong type", Method: "POST", Path: award, Token: s.AdminToken, Body: on(map[string]any{"points": "many"}),
			Status: 400, Contains: []string{`"field":"args.points"`, `expected an integer`}},
		{Name: "an unknown argument", Method: "POST", Path: award, Token: s.AdminToken, Body: on(map[string]any{"points": 1, "point": 2}),
			Status: 400, Contains: []string{`"field":"args.point"`}},
		{Name: "args not an object", Method: "POST", Path: award, Token: s.AdminToken,
			Body: map[string]any{"entity": "contact", "id": cid, "args": []int{1}}, Status: 400, Contains: []string{`"field":"args"`}},
		{Name: "a record of another entity", Method: "POST", Path: award, Token: s.AdminToken,
			Body: map[string]any{"args": map[string]any{"points": 1}}, Status: 400, Contains: []string{`"field":"entity"`, `contact`}},
		{Name: "an unknown action", Method: "POST", Path: "/api/v1/plugins/testplugin/actions/awrad", Token: s.AdminToken, Body: on(nil),
			Status: 404, Contains: []string{`"code":"unknown_action"`, `did you mean \"award\"?`}},
		{Name: "a webhook's undeclared method", Method: "GET", Path: "/hooks/testplugin/ping",
			Status: 405, Contains: []string{`"code":"method_not_allowed"`}},
		{Name: "a webhook's undeclared path", Method: "POST", Path: "/hooks/testplugin/pong", Body: "x",
			Status: 404, Contains: []string{`"code":"no_route"`}},
	})
	if r := s.Do(t, "PUT", "/hooks/testplugin/items/1", "", "x"); r.Status != 405 || r.Header.Get("Allow") != "GET" {
		t.Errorf("PUT on a GET route: %d, Allow %q", r.Status, r.Header.Get("Allow"))
	}
	if got := calls(); got != before {
		t.Fatalf("refused calls reached the plugin: calls %v -> %v", before, got)
	}

	// The rule calls an action for contacts on a deal: its run fails at
	// once (no retry), saying why, and the plugin is not called.
	if r := s.Do(t, "POST", "/api/v1/records/deal", s.AdminToken, map[string]any{"title": "x"}); r.Status != 201 {
		t.Fatal(r.Body)
	}
	deadline := time.Now().Add(10 * time.Second)
	var runs string
	for time.Now().Before(deadline) {
		runs = s.Do(t, "GET", "/api/v1/rules/award_on_deals/runs", s.AdminToken, nil).Body
		if strings.Contains(runs, `"status":"failed"`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(runs, `"status":"failed"`) || !strings.Contains(runs, `"attempts":1`) ||
		!strings.Contains(runs, `testplugin.award: entity: the action works on a record of contact, not of deal`) {
		t.Fatalf("rule runs: %s", runs)
	}
	if got := calls(); got != before {
		t.Fatalf("the rule's refused call reached the plugin: calls %v -> %v", before, got)
	}
}
