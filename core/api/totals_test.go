package api_test

import (
	"fmt"
	"net/url"
	"testing"
)

// TestListCountAndKanbanTotals: a list answers its total count and the
// kanban's totals per stage, exact sums per currency, never mixed.
func TestListCountAndKanbanTotals(t *testing.T) {
	s := start(t)
	admin := s.AdminToken
	_, viewer := s.AddUser(t, "viewer@example.com", "viewer")
	for _, d := range []struct{ stage, amount, currency string }{
		{"new", "100.10", "USD"},
		{"new", "0.90", "USD"},
		{"new", "5000", "AMD"},
		{"won", "1200.00", "USD"},
		{"won", "", ""},
		{"lost", "99.99", "USD"},
	} {
		body := map[string]any{"title": "deal in " + d.stage, "stage": d.stage}
		if d.amount != "" {
			body["amount"] = map[string]any{"amount": d.amount, "currency": d.currency}
		}
		if res := s.Do(t, "POST", "/api/v1/records/deal", admin, body); res.Status != 201 {
			t.Fatalf("create deal: %d %s", res.Status, res.Body)
		}
	}
	var out struct {
		Items      []map[string]any `json:"items"`
		Total      *int64           `json:"total"`
		TotalExact bool             `json:"total_exact"`
		Totals     []struct {
			Group    any    `json:"group"`
			Currency string `json:"currency"`
			Sum      string `json:"sum"`
			Count    int64  `json:"count"`
		} `json:"totals"`
	}
	q := url.Values{"count": {"true"}, "totals": {"amount"}, "group": {"stage"}, "filter": {"pipeline == 'sales'"}, "limit": {"2"}}
	res := s.Do(t, "GET", "/api/v1/records/deal?"+q.Encode(), admin, nil)
	if res.Status != 200 {
		t.Fatalf("list: %d %s", res.Status, res.Body)
	}
	res.Decode(t, &out)
	if len(out.Items) != 2 || out.Total == nil || *out.Total != 6 || !out.TotalExact {
		t.Fatalf("page of %d, total %v exact %v; want 2 of 6, exact\n%s", len(out.Items), out.Total, out.TotalExact, res.Body)
	}
	var got []string
	for _, tt := range out.Totals {
		got = append(got, fmt.Sprintf("%v %s %s %d", tt.Group, tt.Currency, tt.Sum, tt.Count))
	}
	// In the order of the stage values; the won deal without an amount is in no currency.
	want := fmt.Sprint([]string{"lost USD 99.99 1", "new AMD 5000.00 1", "new USD 101.00 2", "won USD 1200.00 1"})
	if fmt.Sprint(got) != want {
		t.Fatalf("totals = %v\nwant     %v", got, want)
	}

	// group alone: the count per stage (the kanban's column sizes).
	res = s.Do(t, "GET", "/api/v1/records/deal?group=stage&filter="+url.QueryEscape("stage in ['won', 'new']"), admin, nil)
	if res.Status != 200 {
		t.Fatalf("counts per stage: %d %s", res.Status, res.Body)
	}
	out.Totals = nil
	res.Decode(t, &out)
	got = nil
	for _, tt := range out.Totals {
		got = append(got, fmt.Sprintf("%v %q %q %d", tt.Group, tt.Currency, tt.Sum, tt.Count))
	}
	if fmt.Sprint(got) != fmt.Sprint([]string{`new "" "" 3`, `won "" "" 2`}) {
		t.Fatalf("counts per stage = %v", got)
	}

	for _, c := range []struct {
		name, query string
		status      int
		field       string
	}{
		{"count is true or false", "count=maybe", 400, "count"},
		{"group by a free-text field", "totals=amount&group=title", 400, "group"},
		{"sum of a field that is not money", "totals=title", 400, "totals"},
		{"a bad filter", "count=true&filter=" + url.QueryEscape("stage =="), 400, "filter"},
	} {
		res := s.Do(t, "GET", "/api/v1/records/deal?"+c.query, admin, nil)
		e, _ := res.JSON["error"].(map[string]any)
		if res.Status != c.status || e["field"] != c.field {
			t.Errorf("%s: %d %s; want %d on field %q", c.name, res.Status, res.Body, c.status, c.field)
		}
	}
	// Totals are authorised as the list: a role that may not read deals gets none.
	if res := s.Do(t, "GET", "/api/v1/records/deal?count=true&totals=amount", viewer, nil); res.Status != 403 {
		t.Fatalf("viewer: %d %s", res.Status, res.Body)
	}
}
