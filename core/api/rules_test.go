package api_test

import (
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
)

func TestRulesOverTheAPI(t *testing.T) {
	s := testkit.Start(t, map[string]string{"crm.hcl": testConfig, "rules.hcl": `
rule "big_deal" {
  on   = ["deal.created"]
  when = "record.amount != nil && record.amount.amount >= 5000000"
  action "notify" {
    to      = "'role:sales'"
    title   = "'Big deal'"
    message = "'New deal ' + record.title"
  }
}
`})
	_, sales := s.AddUser(t, "sales@example.com", "sales")
	res := s.Do(t, "POST", "/api/v1/records/deal", s.AdminToken, map[string]any{"title": "Fleet", "amount": map[string]any{"amount": "6000000", "currency": "AMD"}})
	if res.Status != 201 {
		t.Fatal(res.Body)
	}
	s.Do(t, "POST", "/api/v1/records/deal", s.AdminToken, map[string]any{"title": "Small", "amount": map[string]any{"amount": "100", "currency": "AMD"}})
	var body string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		body = s.Do(t, "GET", "/api/v1/notifications", sales, nil).Body
		if strings.Contains(body, "New deal Fleet") {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(body, "New deal Fleet") || strings.Contains(body, "Small") {
		t.Fatalf("sales notifications: %s", body)
	}
	// The notification is written by the run's effects; the run's own
	// record (its status and the rule's counts) commits after them.
	for time.Now().Before(deadline) {
		if strings.Contains(s.Do(t, "GET", "/api/v1/rules", s.AdminToken, nil).Body, `"ok":1`) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Run(t, []testkit.Scenario{
		{Name: "admin has no notification", Method: "GET", Path: "/api/v1/notifications", Token: s.AdminToken, Status: 200, NotContains: []string{"Fleet"}},
		{Name: "rules with counts", Method: "GET", Path: "/api/v1/rules", Token: s.AdminToken, Status: 200,
			Contains: []string{`"name":"big_deal"`, `"on":["deal.created"]`, `"ok":1`, `"actions":["notify"]`}},
		{Name: "runs", Method: "GET", Path: "/api/v1/rules/big_deal/runs", Token: s.AdminToken, Status: 200,
			Contains: []string{`"status":"ok"`, `"notified `}},
		{Name: "bad limit", Method: "GET", Path: "/api/v1/rules/big_deal/runs?limit=0", Token: s.AdminToken, Status: 400},
		{Name: "unknown run", Method: "POST", Path: "/api/v1/rules/big_deal/runs/999/retry", Token: s.AdminToken, Status: 404},
		{Name: "bad seq", Method: "POST", Path: "/api/v1/rules/big_deal/runs/x/retry", Token: s.AdminToken, Status: 400},
		{Name: "a scheduled run by its id", Method: "POST", Path: "/api/v1/rules/big_deal/runs/s-01JAAAAAAAAAAAAAAAAAAAAAAA-3/retry", Token: s.AdminToken, Status: 404},
		{Name: "a bad scheduled run id", Method: "POST", Path: "/api/v1/rules/big_deal/runs/s-nope-3/retry", Token: s.AdminToken, Status: 400},
		{Name: "mark read", Method: "POST", Path: "/api/v1/notifications/read", Token: sales, Body: map[string]any{"ids": []string{"big_deal:1:0"}}, Status: 204},
		{Name: "unread only", Method: "GET", Path: "/api/v1/notifications?unread=true", Token: sales, Status: 200, NotContains: []string{"Fleet"}},
		{Name: "bad read body", Method: "POST", Path: "/api/v1/notifications/read", Token: sales, Body: `{"ids": 1}`, Status: 400},
	})
}
