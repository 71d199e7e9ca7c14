package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

// actorsConfig has an own_only role, a role that may not read deals, and a
// plugin that may write contacts, deals and tasks.
const actorsConfig = `
role "sales" {
  read     = ["contact", "company", "deal", "activity", "task"]
  write    = ["contact", "deal", "activity", "task"]
  own_only = true
}
role "tasker" {
  read  = ["contact", "task"]
  write = ["task"]
}
`

// TestPluginActsWithinTheUsersRights drives a real plugin process through
// the API as users of an own_only role and of a role without deals: the
// record service applies the same ownership and read rules to the plugin
// acting for them as to the users themselves.
func TestPluginActsWithinTheUsersRights(t *testing.T) {
	path, sum := testPlugin(t)
	s := testkit.Start(t, map[string]string{"crm.hcl": actorsConfig, "plugins.hcl": `
plugin "tp" {
  path   = "` + path + `"
  sha256 = "` + sum + `"
  read   = ["contact", "deal", "task"]
  write  = ["contact", "deal", "task"]
}
`})
	ann, annTok := s.AddUser(t, "ann@example.com", "sales")
	bob, bobTok := s.AddUser(t, "bob@example.com", "sales")
	_, taskerTok := s.AddUser(t, "tasker@example.com", "tasker")
	act := func(token, action string, args map[string]any) *testkit.Response {
		t.Helper()
		return s.Do(t, "POST", "/api/v1/plugins/tp/actions/"+action, token, map[string]any{"args": args})
	}
	count := func(entity string) int {
		t.Helper()
		var page struct{ Items []map[string]any }
		s.Do(t, "GET", "/api/v1/records/"+entity+"?limit=1000", s.AdminToken, nil).Decode(t, &page)
		return len(page.Items)
	}

	// A record the plugin creates for a user is that user's.
	r := act(annTok, "must_create", map[string]any{"entity": "contact", "values": map[string]any{"name": "Ani"}})
	if r.Status != 200 {
		t.Fatalf("create for ann: %d %s", r.Status, r.Body)
	}
	var res struct{ Result map[string]any }
	r.Decode(t, &res)
	aniID, _ := res.Result["id"].(string)
	if res.Result["owner"] != ann || res.Result["created_by"] != "plugin:tp" {
		t.Errorf("created for ann: owner %v, created_by %v; want %s, plugin:tp", res.Result["owner"], res.Result["created_by"], ann)
	}

	// An own_only user cannot, through the plugin, create for someone else...
	r = act(annTok, "must_create", map[string]any{"entity": "contact", "values": map[string]any{"name": "For Bob", "owner": bob}})
	if r.Status != 403 || !strings.Contains(r.Body, "owned by someone else") {
		t.Errorf("create owned by bob, as ann: %d %s; want 403", r.Status, r.Body)
	}
	// ...nor hand a record to someone else...
	r = act(annTok, "must_update", map[string]any{"entity": "contact", "id": aniID, "values": map[string]any{"owner": bob}})
	if r.Status != 403 || !strings.Contains(r.Body, "someone else") {
		t.Errorf("give ann's contact to bob, as ann: %d %s; want 403", r.Status, r.Body)
	}
	// ...nor change someone else's record, which for bob does not exist:
	// the plugin meets what it meets for a record that does not.
	r = act(bobTok, "must_update", map[string]any{"entity": "contact", "id": aniID, "values": map[string]any{"name": "Changed"}})
	missing := act(bobTok, "must_update", map[string]any{"entity": "contact", "id": "01JAAAAAAAAAAAAAAAAAAAAAAA", "values": map[string]any{"name": "Changed"}})
	if r.Status != missing.Status || r.Body != missing.Body || !strings.Contains(r.Body, `"not_found"`) {
		t.Errorf("change ann's contact, as bob: %d %s; want what a missing one gives: %d %s", r.Status, r.Body, missing.Status, missing.Body)
	}
	var ani map[string]any
	s.Do(t, "GET", "/api/v1/records/contact/"+aniID, s.AdminToken, nil).Decode(t, &ani)
	if ani["owner"] != ann || ani["name"] != "Ani" || count("contact") != 1 {
		t.Errorf("after the refused writes: %v, %d contacts", ani, count("contact"))
	}

	// A role denial met by the plugin is the user's 403, not the plugin's
	// 502; the plugin's own refusal stays a 4xx and its crash a 5xx.
	r = act(taskerTok, "must_create", map[string]any{"entity": "deal", "values": map[string]any{"title": "Big"}})
	if r.Status != 403 || !strings.Contains(r.Body, "whose role may not") {
		t.Errorf("create a deal as tasker through the plugin: %d %s; want 403", r.Status, r.Body)
	}
	if r := act(taskerTok, "refuse", map[string]any{}); r.Status != 422 {
		t.Errorf("the plugin's refusal: %d %s; want 422", r.Status, r.Body)
	}
	if r := act(taskerTok, "panic", map[string]any{}); r.Status != 502 || !strings.Contains(r.Body, "plugin_failed") {
		t.Errorf("the plugin's crash: %d %s; want 502 plugin_failed", r.Status, r.Body)
	}
	if n := count("deal"); n != 0 {
		t.Errorf("%d deals written", n)
	}
}

// TestRefToUnreadableRecordLooksMissing checks that a user who may not read
// deals learns nothing of them through a task's deal field: a ref to a deal
// that exists is refused exactly as a ref to one that does not, over HTTP
// and through a plugin acting for the user.
func TestRefToUnreadableRecordLooksMissing(t *testing.T) {
	path, sum := testPlugin(t)
	s := testkit.Start(t, map[string]string{"crm.hcl": actorsConfig, "plugins.hcl": `
plugin "tp" {
  path   = "` + path + `"
  sha256 = "` + sum + `"
  read   = ["contact", "deal", "task"]
  write  = ["task"]
}
`})
	_, taskerTok := s.AddUser(t, "tasker@example.com", "tasker")
	var deal map[string]any
	s.Do(t, "POST", "/api/v1/records/deal", s.AdminToken, map[string]any{"title": "Secret"}).Decode(t, &deal)
	real, _ := deal["id"].(string)
	const fake = "01JZZZZZZZZZZZZZZZZZZZZZZZ"
	masked := func(body, id string) string { return strings.ReplaceAll(body, id, "ID") }

	viaHTTP := func(id string) (int, string) {
		r := s.Do(t, "POST", "/api/v1/records/task", taskerTok, map[string]any{"title": "Call", "deal": id})
		return r.Status, masked(r.Body, id)
	}
	rs, rb := viaHTTP(real)
	fs, fb := viaHTTP(fake)
	if rs != 422 || rs != fs || rb != fb {
		t.Errorf("over HTTP, a real deal: %d %s\na missing deal: %d %s\nwant the same 422", rs, rb, fs, fb)
	}

	viaPlugin := func(id string) string {
		r := s.Do(t, "POST", "/api/v1/plugins/tp/actions/create", taskerTok,
			map[string]any{"args": map[string]any{"entity": "task", "values": map[string]any{"title": "Call", "deal": id}}})
		var res struct{ Result map[string]any }
		r.Decode(t, &res)
		out, _ := json.Marshal(res.Result)
		return masked(string(out), id)
	}
	if a, b := viaPlugin(real), viaPlugin(fake); a != b || !strings.Contains(a, "no deal with id") {
		t.Errorf("through the plugin, a real deal: %s\na missing deal: %s\nwant the same refusal", a, b)
	}

	// An admin, who may read deals, links the task.
	if r := s.Do(t, "POST", "/api/v1/records/task", s.AdminToken, map[string]any{"title": "Call", "deal": real}); r.Status != 201 {
		t.Errorf("admin links a task to the deal: %d %s", r.Status, r.Body)
	}
}

// TestConditionalCreateUnderRace sends 100 concurrent "open a claim unless
// one is open for this vehicle" calls through a real plugin: the condition
// is decided inside the write transaction, so exactly one claim is made and
// every other call gets that claim back.
func TestConditionalCreateUnderRace(t *testing.T) {
	path, sum := testPlugin(t)
	s := testkit.Start(t, map[string]string{"crm.hcl": `
entity "claim" {
  field "vehicle" {
    type  = "string"
    index = true
  }
  field "status" {
    type   = "enum"
    values = ["open", "closed"]
  }
}
`, "plugins.hcl": `
plugin "tp" {
  path   = "` + path + `"
  sha256 = "` + sum + `"
  read   = ["claim"]
  write  = ["claim"]
}
`})
	const calls = 100
	type outcome struct {
		id      string
		created bool
		err     string
	}
	results := make(chan outcome, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vin := "VIN-1"
			if i%10 == 0 {
				vin = "VIN-2" // a second vehicle: one claim of its own
			}
			r := s.Do(t, "POST", "/api/v1/plugins/tp/actions/create_unless", s.AdminToken, map[string]any{"args": map[string]any{
				"entity": "claim", "filter": `vehicle == "` + vin + `" && status == "open"`,
				"values": map[string]any{"vehicle": vin, "status": "open"}}})
			var res struct {
				Result struct {
					Record  map[string]any
					Created bool
					Error   string
				}
			}
			if err := json.Unmarshal([]byte(r.Body), &res); err != nil || r.Status != 200 {
				results <- outcome{err: r.Body}
				return
			}
			id, _ := res.Result.Record["vehicle"].(string)
			id += "/" + fmt.Sprint(res.Result.Record["id"])
			results <- outcome{id: id, created: res.Result.Created, err: res.Result.Error}
		}()
	}
	wg.Wait()
	close(results)
	created, ids := 0, map[string]int{}
	for o := range results {
		if o.err != "" {
			t.Fatalf("a call failed: %s", o.err)
		}
		if o.created {
			created++
		}
		ids[o.id]++
	}
	if created != 2 || len(ids) != 2 {
		t.Errorf("%d claims created, calls saw %v; want 2 (one per vehicle), each call seeing its vehicle's", created, ids)
	}
	var page struct{ Items []map[string]any }
	s.Do(t, "GET", "/api/v1/records/claim?limit=1000", s.AdminToken, nil).Decode(t, &page)
	if len(page.Items) != 2 {
		t.Errorf("%d claims stored; want 2", len(page.Items))
	}
	// A malformed condition is the caller's error, not a claim.
	r := s.Do(t, "POST", "/api/v1/plugins/tp/actions/create_unless", s.AdminToken, map[string]any{"args": map[string]any{
		"entity": "claim", "filter": `vehicle ==`, "values": map[string]any{"vehicle": "VIN-3", "status": "open"}}})
	if !strings.Contains(r.Body, "invalid_filter") {
		t.Errorf("a broken condition: %d %s", r.Status, r.Body)
	}
}
