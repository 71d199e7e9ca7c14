package api_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestHostileFiltersAnswer400 sends, as a user who may only read
// contacts, filters that without budgets kill the process (out of memory)
// or hold a worker for seconds: each answers 400 saying which budget it
// exceeded, quickly, and the server answers after.
func TestHostileFiltersAnswer400(t *testing.T) {
	s := start(t)
	for i := range 200 {
		if r := s.Do(t, "POST", "/api/v1/records/contact", s.AdminToken, map[string]any{"name": fmt.Sprintf("Contact %03d", i)}); r.Status != 201 {
			t.Fatalf("create contact: %d %s", r.Status, r.Body)
		}
	}
	_, viewer := s.AddUser(t, "viewer@example.com", "viewer")
	for _, c := range []struct{ filter, budget string }{
		{`len(repeat(repeat("a", 100000), 1000000)) > 0`, "memory budget exceeded"},
		{`!all(1..999990, {# > 0})`, "steps budget exceeded"},
		{`len(reduce(1..64, #acc + #acc, "ab")) > 0`, "memory budget exceeded"},
	} {
		for _, sort := range []string{"", "&sort=-name"} {
			start := time.Now()
			r := s.Do(t, "GET", "/api/v1/records/contact?filter="+url.QueryEscape(c.filter)+sort, viewer, nil)
			took := time.Since(start)
			// Under heavy load the time budget may stop a filter before its
			// steps run out: also a correct 400, so either is accepted there.
			budgetOK := strings.Contains(r.Body, c.budget) ||
				c.budget == "steps budget exceeded" && strings.Contains(r.Body, "time budget exceeded")
			if r.Status != 400 || !strings.Contains(r.Body, `"code":"filter_budget_exceeded"`) || !budgetOK || !strings.Contains(r.Body, `"field":"filter"`) {
				t.Errorf("%s%s: %d %s", c.filter, sort, r.Status, r.Body)
			}
			t.Logf("%s%s: %s %s", c.filter, sort, took, strings.TrimSpace(r.Body))
		}
	}
	r := s.Do(t, "GET", "/api/v1/records/contact?limit=5&filter="+escape("name startsWith 'Contact 1'"), viewer, nil)
	if r.Status != 200 || !strings.Contains(r.Body, "Contact 1") {
		t.Fatalf("after the hostile filters: %d %s", r.Status, r.Body)
	}
}
