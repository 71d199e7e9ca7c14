package api_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
)

// TestRetryFailedRunOverTheAPI: a run whose webhook failed is run again by
// an admin's retry and succeeds.
func TestRetryFailedRunOverTheAPI(t *testing.T) {
	var up atomic.Bool
	var hits atomic.Int32
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if !up.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	defer hook.Close()
	s := testkit.Start(t, map[string]string{"crm.hcl": `
workflow {
  max_attempts = 1
}
role "sales" {
  read = ["contact"]
}
rule "hook" {
  on = ["contact.created"]
  action "webhook" { url = "'` + hook.URL + `'" }
}`})
	if res := s.Do(t, "POST", "/api/v1/records/contact", s.AdminToken, map[string]any{"name": "x"}); res.Status != 201 {
		t.Fatal(res.Body)
	}
	type run struct {
		Seq    uint64 `json:"seq"`
		Status string `json:"status"`
	}
	var runs struct{ Items []run }
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		s.Do(t, "GET", "/api/v1/rules/hook/runs", s.AdminToken, nil).Decode(t, &runs)
		if len(runs.Items) == 1 && runs.Items[0].Status == "failed" {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(runs.Items) != 1 || runs.Items[0].Status != "failed" {
		t.Fatalf("runs: %+v", runs.Items)
	}
	up.Store(true)
	path := fmt.Sprintf("/api/v1/rules/hook/runs/%d/retry", runs.Items[0].Seq)
	s.Run(t, []testkit.Scenario{
		{Name: "not for a non-admin", Method: "POST", Path: path, Token: func() string { _, tok := s.AddUser(t, "v@example.com", "sales"); return tok }(), Status: 403},
		{Name: "retry", Method: "POST", Path: path, Token: s.AdminToken, Status: 200, Contains: []string{`"status":"ok"`, `"rule":"hook"`}},
		{Name: "the last refused reload is at config/status (none here)", Method: "GET", Path: "/api/v1/config/status", Token: s.AdminToken, Status: 404},
	})
	if n := hits.Load(); n != 2 {
		t.Fatalf("the webhook was called %d times, want 2 (the failure, the retry)", n)
	}
}
