package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

func TestTimeline(t *testing.T) {
	s := startUI(t)
	admin := s.AdminToken
	salesID, sales := s.AddUser(t, "sales@example.com", "sales")
	_, viewer := s.AddUser(t, "viewer@example.com", "viewer")
	post := func(entity string, body map[string]any) string {
		t.Helper()
		res := s.Do(t, "POST", "/api/v1/records/"+entity, admin, body)
		if res.Status != 201 {
			t.Fatalf("create %s: %d %s", entity, res.Status, res.Body)
		}
		return res.JSON["id"].(string)
	}
	cid := post("contact", map[string]any{"name": "Anahit"})
	other := post("contact", map[string]any{"name": "Someone else"})
	want := map[string]bool{} // "change:VERSION" or "record:ENTITY:ID"
	want["change:1"] = true
	for i := range 4 {
		if res := s.Do(t, "PATCH", "/api/v1/records/contact/"+cid, admin, map[string]any{"source": fmt.Sprintf("s%d", i)}); res.Status != 200 {
			t.Fatal(res.Body)
		}
		want[fmt.Sprintf("change:%d", i+2)] = true
		want["record:activity:"+post("activity", map[string]any{"kind": "call", "subject": fmt.Sprintf("call %d", i), "contact": cid})] = true
		want["record:task:"+post("task", map[string]any{"title": fmt.Sprintf("task %d", i), "contact": cid})] = true
		post("task", map[string]any{"title": "not about her", "contact": other})
	}
	want["record:deal:"+post("deal", map[string]any{"title": "a deal", "contact": cid})] = true
	want["record:vehicle:"+post("vehicle", map[string]any{"vin": "V1", "buyer": cid})] = true

	base := "/api/v1/records/contact/" + cid + "/timeline"
	s.Run(t, []testkit.Scenario{
		{Name: "newest first: the vehicle", Method: "GET", Path: base + "?limit=1", Token: admin, Status: 200,
			Contains: []string{`"kind":"record"`, `"entity":"vehicle","field":"buyer"`, `"vin":"V1"`, `"next_cursor":"e`}},
		{Name: "changes have their diff", Method: "GET", Path: base + "?limit=200", Token: admin, Status: 200,
			Contains:    []string{`"kind":"change"`, `"action":"updated"`, `"source":{"old":"s0","new":"s1"}`, `"action":"created"`, `"next_cursor":""`},
			NotContains: []string{"not about her"}},
		{Name: "a reader of contacts only sees only its changes", Method: "GET", Path: base + "?limit=200", Token: viewer, Status: 200,
			Contains: []string{`"kind":"change"`}, NotContains: []string{`"kind":"record"`}},
		{Name: "a bad limit", Method: "GET", Path: base + "?limit=0", Token: admin, Status: 400, Contains: []string{`"field":"limit"`}},
		{Name: "a too large limit", Method: "GET", Path: base + "?limit=201", Token: admin, Status: 400, Contains: []string{`"field":"limit"`}},
		{Name: "a bad cursor", Method: "GET", Path: base + "?cursor=nope", Token: admin, Status: 400, Contains: []string{`"field":"cursor"`}},
		{Name: "a missing record", Method: "GET", Path: "/api/v1/records/contact/01JAAAAAAAAAAAAAAAAAAAAAAA/timeline", Token: admin, Status: 404},
		{Name: "an entity the caller may not read", Method: "GET", Path: "/api/v1/records/deal/" + cid + "/timeline", Token: viewer, Status: 403},
	})

	// An own_only user does not see the admin's contact: its timeline is
	// not found, as a record that does not exist. Given the contact, they
	// see its whole history, and of the records about it only their own.
	if res := s.Do(t, "GET", base, sales, nil); res.Status != 404 {
		t.Fatalf("sales reads the admin's contact's timeline: %d %s", res.Status, res.Body)
	}
	if res := s.Do(t, "PATCH", "/api/v1/records/contact/"+cid, admin, map[string]any{"owner": salesID}); res.Status != 200 {
		t.Fatal(res.Body)
	}
	want["change:6"] = true
	res := s.Do(t, "POST", "/api/v1/records/activity", sales, map[string]any{"kind": "note", "subject": "mine", "contact": cid})
	if res.Status != 201 {
		t.Fatal(res.Body)
	}
	mine := "record:activity:" + res.JSON["id"].(string)
	want[mine] = true
	salesWant := map[string]bool{mine: true}
	for k := range want {
		if strings.HasPrefix(k, "change:") {
			salesWant[k] = true
		}
	}

	// Paging in threes gives the same items as one page, each once.
	for _, who := range []struct {
		name, token string
		want        map[string]bool
	}{{"admin", admin, want}, {"sales", sales, salesWant}} {
		want := who.want
		one := timelineKeys(t, s, base+"?limit=200", who.token)
		var paged []string
		cursor := ""
		for range 50 {
			res := s.Do(t, "GET", base+"?limit=3&cursor="+cursor, who.token, nil)
			if res.Status != 200 {
				t.Fatalf("%s: %d %s", who.name, res.Status, res.Body)
			}
			paged = append(paged, keysOf(res.JSON)...)
			cursor, _ = res.JSON["next_cursor"].(string)
			if cursor == "" {
				break
			}
		}
		if !slices.Equal(one, paged) {
			t.Errorf("%s: pages of 3 give\n%v\none page gives\n%v", who.name, paged, one)
		}
		got := map[string]bool{}
		for _, k := range one {
			if got[k] {
				t.Errorf("%s: %s twice", who.name, k)
			}
			got[k] = true
		}
		for k := range want {
			if !got[k] {
				t.Errorf("%s: the timeline lacks %s: %v", who.name, k, one)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d items, want %d", who.name, len(got), len(want))
		}
	}
}

func timelineKeys(t *testing.T, s *testkit.Server, path, token string) []string {
	res := s.Do(t, "GET", path, token, nil)
	if res.Status != 200 {
		t.Fatalf("%s: %d %s", path, res.Status, res.Body)
	}
	if c, _ := res.JSON["next_cursor"].(string); c != "" {
		t.Fatalf("%s: more than one page", path)
	}
	return keysOf(res.JSON)
}

func keysOf(page map[string]any) []string {
	var out []string
	for _, it := range page["items"].([]any) {
		m := it.(map[string]any)
		if m["kind"] == "change" {
			out = append(out, fmt.Sprintf("change:%v", m["version"]))
			continue
		}
		rec := m["record"].(map[string]any)
		out = append(out, strings.Join([]string{"record", m["entity"].(string), rec["id"].(string)}, ":"))
	}
	return out
}
