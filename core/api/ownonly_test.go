package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

// ownOnlyConfig has an own_only role that writes deals, contacts and
// vehicles (a vehicle has a file field) and only reads companies.
const ownOnlyConfig = `
entity "vehicle" {
  field "vin" {
    type     = "string"
    required = true
    search   = true
  }
  field "photo" { type = "file" }
}
role "sales" {
  read     = ["contact", "company", "deal", "activity", "task", "vehicle"]
  write    = ["contact", "deal", "activity", "task", "vehicle"]
  own_only = true
}
`

// TestOwnOnlyOnEveryReadPath walks every read path as an own_only user,
// ann, over the records of two owners, ann and bob (the same role), and
// the companies, which the role only reads: every path shows ann's
// records and none of bob's, counts and totals count hers only, and a
// route about one of bob's records answers exactly as for a record that
// does not exist.
func TestOwnOnlyOnEveryReadPath(t *testing.T) {
	s := testkit.Start(t, map[string]string{"crm.hcl": ownOnlyConfig})
	admin := s.AdminToken
	annID, ann := s.AddUser(t, "ann@example.com", "sales")
	_, bob := s.AddUser(t, "bob@example.com", "sales")
	post := func(token, entity string, body map[string]any) string {
		t.Helper()
		res := s.Do(t, "POST", "/api/v1/records/"+entity, token, body)
		if res.Status != 201 {
			t.Fatalf("create %s: %d %s", entity, res.Status, res.Body)
		}
		return res.JSON["id"].(string)
	}
	upload := func(token string) string {
		t.Helper()
		body, ct := multipartBody(t, "photo.jpg", []byte("not really a photo"))
		res := s.Do(t, "POST", "/api/v1/files", token, body.Bytes(), "Content-Type", ct)
		if res.Status != 201 {
			t.Fatalf("upload: %d %s", res.Status, res.Body)
		}
		return res.JSON["id"].(string)
	}

	company := post(admin, "company", map[string]any{"name": "Ararat Motors"})
	// Each owner's records: deals (the money summed), contacts (searched),
	// an activity about each deal, a vehicle whose photo the admin
	// uploaded (so that only the record lends it).
	type owned struct{ deals, contacts, activities []string }
	var mine, theirs owned
	var minePhoto, theirPhoto string
	for _, o := range []struct {
		token, name, amount string
		n                   int
		into                *owned
		photo               *string
	}{{ann, "ann", "100", 2, &mine, &minePhoto}, {bob, "bob", "1000", 3, &theirs, &theirPhoto}} {
		for i := range o.n {
			d := post(o.token, "deal", map[string]any{"title": fmt.Sprintf("Fleet %s %d", o.name, i), "stage": "new", "company": company,
				"amount": map[string]any{"amount": o.amount, "currency": "AMD"}})
			o.into.deals = append(o.into.deals, d)
			o.into.contacts = append(o.into.contacts, post(o.token, "contact", map[string]any{"name": "Anahit " + o.name, "company": company}))
			o.into.activities = append(o.into.activities, post(o.token, "activity", map[string]any{"kind": "call", "deal": d, "company": company}))
		}
		*o.photo = upload(admin)
		post(o.token, "vehicle", map[string]any{"vin": "VIN-" + o.name, "photo": *o.photo})
	}
	all := func(o owned) []string {
		return append(append(append([]string{}, o.deals...), o.contacts...), o.activities...)
	}
	missing := "01JAAAAAAAAAAAAAAAAAAAAAAA"
	notFound := s.Do(t, "GET", "/api/v1/records/deal/"+missing, ann, nil)
	if notFound.Status != 404 {
		t.Fatalf("a missing deal: %d %s", notFound.Status, notFound.Body)
	}
	q := url.QueryEscape

	s.Run(t, []testkit.Scenario{
		{Name: "list", Method: "GET", Path: "/api/v1/records/deal?limit=100", Token: ann, Status: 200,
			Contains: mine.deals, NotContains: theirs.deals},
		{Name: "list with a filter", Method: "GET", Path: "/api/v1/records/deal?filter=" + q(`stage == "new"`), Token: ann, Status: 200,
			Contains: mine.deals, NotContains: theirs.deals},
		{Name: "a filter on owner cannot widen it", Method: "GET", Path: "/api/v1/records/deal?filter=" + q(`owner != ""`), Token: ann, Status: 200,
			Contains: mine.deals, NotContains: theirs.deals},
		{Name: "count, from the owner's counter", Method: "GET", Path: "/api/v1/records/deal?limit=1&count=true", Token: ann, Status: 200,
			Contains: []string{`"total":2`, `"total_exact":true`}},
		{Name: "count with a filter, through the owner's index", Method: "GET", Path: "/api/v1/records/deal?limit=1&count=true&filter=" + q(`stage == "new"`), Token: ann, Status: 200,
			Contains: []string{`"total":2`, `"total_exact":true`}},
		{Name: "totals per stage", Method: "GET", Path: "/api/v1/records/deal?limit=1&group=stage&totals=amount", Token: ann, Status: 200,
			Contains: []string{`{"count":2,"currency":"AMD","group":"new","sum":"200.00"}`}},
		{Name: "totals, all in one group", Method: "GET", Path: "/api/v1/records/deal?limit=1&totals=amount", Token: ann, Status: 200,
			Contains: []string{`{"count":2,"currency":"AMD","sum":"200.00"}`}},
		{Name: "get her own", Method: "GET", Path: "/api/v1/records/deal/" + mine.deals[0], Token: ann, Status: 200, Contains: []string{`"owner":"` + annID + `"`}},
		{Name: "get another's: as a missing one", Method: "GET", Path: "/api/v1/records/deal/" + theirs.deals[0], Token: ann, Status: 404, Contains: []string{notFound.Body}},
		{Name: "history of another's", Method: "GET", Path: "/api/v1/records/deal/" + theirs.deals[0] + "/history", Token: ann, Status: 404, Contains: []string{notFound.Body}},
		{Name: "timeline of another's", Method: "GET", Path: "/api/v1/records/deal/" + theirs.deals[0] + "/timeline", Token: ann, Status: 404, Contains: []string{notFound.Body}},
		{Name: "change another's", Method: "PATCH", Path: "/api/v1/records/deal/" + theirs.deals[0], Token: ann, Body: map[string]any{"title": "mine now"}, Status: 404, Contains: []string{notFound.Body}},
		{Name: "delete another's", Method: "DELETE", Path: "/api/v1/records/deal/" + theirs.deals[0], Token: ann, Status: 404, Contains: []string{notFound.Body}},
		{Name: "refer to another's: as a missing one", Method: "POST", Path: "/api/v1/records/task", Token: ann, Body: map[string]any{"title": "t", "deal": theirs.deals[0]}, Status: 422,
			Contains: []string{`no deal with id`, `"field":"deal"`}},
		{Name: "a company, which the role only reads, is read in full", Method: "GET", Path: "/api/v1/records/company/" + company, Token: ann, Status: 200},
		{Name: "timeline of the company: her records about it only", Method: "GET", Path: "/api/v1/records/company/" + company + "/timeline?limit=200", Token: ann, Status: 200,
			Contains: all(mine), NotContains: all(theirs)},
		{Name: "search", Method: "GET", Path: "/api/v1/search?q=anahit", Token: ann, Status: 200,
			Contains: mine.contacts, NotContains: theirs.contacts},
		{Name: "search finds the company", Method: "GET", Path: "/api/v1/search?q=ararat", Token: ann, Status: 200, Contains: []string{company}},
		{Name: "search of another's vehicle", Method: "GET", Path: "/api/v1/search?q=bob&entity=vehicle", Token: ann, Status: 200, Contains: []string{`"items":[]`}},
		{Name: "export", Method: "GET", Path: "/api/v1/records/deal/export", Token: ann, Status: 200,
			Contains: mine.deals, NotContains: theirs.deals},
		{Name: "bulk edit: another's fails as a missing one", Method: "POST", Path: "/api/v1/records/deal/bulk", Token: ann,
			Body: map[string]any{"ids": []string{mine.deals[0], theirs.deals[0]}, "set": map[string]any{"source": "fair"}}, Status: 200,
			Contains: []string{`"updated":1`, `{"id":"` + theirs.deals[0] + `","error":{"code":"not_found","message":"no deal with id`}},
		{Name: "another's deal is untouched", Method: "GET", Path: "/api/v1/records/deal/" + theirs.deals[0], Token: admin, Status: 200,
			Contains: []string{`"version":1`}, NotContains: []string{`"source"`}},
		{Name: "a file her record holds", Method: "GET", Path: "/api/v1/files/" + minePhoto, Token: ann, Status: 200},
		{Name: "a file another's record holds: as a missing one", Method: "GET", Path: "/api/v1/files/" + theirPhoto, Token: ann, Status: 404},
		{Name: "bob sees his", Method: "GET", Path: "/api/v1/records/deal?count=true", Token: bob, Status: 200,
			Contains: append([]string{`"total":3`}, theirs.deals...), NotContains: mine.deals},
		{Name: "the admin sees all", Method: "GET", Path: "/api/v1/records/deal?count=true", Token: admin, Status: 200,
			Contains: append([]string{`"total":5`}, append(mine.deals, theirs.deals...)...)},
	})

	t.Run("websocket snapshot and changes", func(t *testing.T) {
		ws := s.MustDialWS(t, ann)
		ws.Send(map[string]any{"type": "subscribe", "sub": "d", "entity": "deal"})
		snap := ws.Expect("snapshot", "d")
		for _, id := range mine.deals {
			if !strings.Contains(snap.Raw, id) {
				t.Errorf("the snapshot lacks her deal %s: %s", id, snap.Raw)
			}
		}
		for _, id := range theirs.deals {
			if strings.Contains(snap.Raw, id) {
				t.Errorf("the snapshot has bob's deal %s: %s", id, snap.Raw)
			}
		}
		if res := s.Do(t, "PATCH", "/api/v1/records/deal/"+theirs.deals[1], bob, map[string]any{"title": "bob's, renamed"}); res.Status != 200 {
			t.Fatal(res.Body)
		}
		if extra := ws.Sync(); len(extra) != 0 {
			t.Errorf("ann got a change of bob's deal: %s", extra[0].Raw)
		}
	})
}
