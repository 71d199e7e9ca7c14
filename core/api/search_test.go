package api_test

import (
	"net/url"
	"testing"

	"github.com/crmkit/crm/core/testkit"
)

const searchConfig = `
locale { region = "AM" }
role "buyer" {
  read = ["company"]
}
`

// TestSearchOverHTTP: the search route finds contacts and companies, and
// only among the entities the caller's role may read.
func TestSearchOverHTTP(t *testing.T) {
	s := testkit.Start(t, map[string]string{"crm.hcl": searchConfig})
	admin := s.AdminToken
	_, buyer := s.AddUser(t, "buyer@example.com", "buyer")
	c := s.Do(t, "POST", "/api/v1/records/contact", admin, map[string]any{"name": "Anna Petrosyan", "phone": "091 123456", "email": "anna@example.am"})
	if c.Status != 201 {
		t.Fatalf("create contact: %d %s", c.Status, c.Body)
	}
	if r := s.Do(t, "POST", "/api/v1/records/company", admin, map[string]any{"name": "Annaberg Trading"}); r.Status != 201 {
		t.Fatalf("create company: %d %s", r.Status, r.Body)
	}
	type item struct {
		Entity, ID, Title, Match string
		Record                   map[string]any
	}
	find := func(token, query string) (int, []item, string) {
		t.Helper()
		res := s.Do(t, "GET", "/api/v1/search?"+query, token, nil)
		var body struct{ Items []item }
		if res.Status == 200 {
			res.Decode(t, &body)
		}
		return res.Status, body.Items, res.Body
	}

	status, items, body := find(admin, "q=anna")
	if status != 200 || len(items) != 2 {
		t.Fatalf("admin search: %d %s", status, body)
	}
	if items[0].Entity != "contact" || items[0].Title != "Anna Petrosyan" || items[0].Match != "exact" ||
		items[0].ID != c.JSON["id"] || items[0].Record["phone"] != "+37491123456" {
		t.Errorf("first hit = %+v", items[0])
	}
	if items[1].Entity != "company" || items[1].Title != "Annaberg Trading" || items[1].Match != "prefix" {
		t.Errorf("second hit = %+v", items[1])
	}
	if status, items, body = find(admin, "q="+url.QueryEscape("۰۹۱ ۱۲۳")+"&entity=contact"); status != 200 || len(items) != 1 {
		t.Errorf("phone in Persian digits: %d %s", status, body)
	}

	// A role without contacts gets no contacts.
	if status, items, body = find(buyer, "q=anna"); status != 200 || len(items) != 1 || items[0].Entity != "company" {
		t.Errorf("buyer search: %d %s", status, body)
	}
	if status, _, body = find(buyer, "q=anna&entity=contact"); status != 403 {
		t.Errorf("buyer search in contacts: %d %s", status, body)
	}
	if status, items, body = find(buyer, "q=petrosyan"); status != 200 || len(items) != 0 {
		t.Errorf("buyer search for a contact's name: %d %s", status, body)
	}

	for query, want := range map[string]int{
		"":                      400,
		"q=%20":                 400,
		"q=anna&limit=x":        400,
		"q=anna&limit=0":        400,
		"q=anna&entity=nope":    404,
		"q=anna&entity=deal":    400, // no searched fields
		"q=...":                 400, // nothing to search for
		"q=anna&entity=contact": 200,
	} {
		if status, _, body := find(admin, query); status != want {
			t.Errorf("search ?%s = %d, want %d: %s", query, status, want, body)
		}
	}
}
