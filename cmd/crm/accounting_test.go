package main_test

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
)

// TestAccountingOnTheDefaultConfig runs the default crm.hcl with the
// accounting plugin as its own process (this test binary re-executed as
// `crm plugin serve accounting`), over the API: a won deal becomes an
// invoice, an admin's edit of the issued invoice is refused with 409, and
// the invoice.overdue event, emitted once for the day however often the
// check runs, makes crm.hcl's rule create one reminder task.
func TestAccountingOnTheDefaultConfig(t *testing.T) {
	hcl, err := os.ReadFile(filepath.Join(testkit.RepoRoot(), "crm.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	s := testkit.Start(t, map[string]string{"crm.hcl": string(hcl)})
	tok := s.AdminToken
	must := func(res *testkit.Response, status int) map[string]any {
		t.Helper()
		if res.Status != status {
			t.Fatalf("status %d, want %d: %s", res.Status, status, res.Body)
		}
		return res.JSON
	}
	co := must(s.Do(t, "POST", "/api/v1/records/company", tok, map[string]any{"name": "Ararat Motors"}), http.StatusCreated)
	deal := must(s.Do(t, "POST", "/api/v1/records/deal", tok, map[string]any{"title": "Camry", "stage": "won", "pipeline": "sales",
		"company": co["id"], "amount": map[string]any{"amount": "12500000", "currency": "AMD"}}), http.StatusCreated)
	out := must(s.Do(t, "POST", "/api/v1/plugins/accounting/actions/issue_invoice", tok, map[string]any{
		"entity": "deal", "id": deal["id"], "args": map[string]any{"issue_date": "2026-01-01", "due_date": "2026-01-10"}}), http.StatusOK)
	inv, _ := out["result"].(map[string]any)
	if inv["number"] != "INV-2026-0001" || inv["status"] != "issued" {
		t.Fatalf("invoice: %v", out)
	}
	res := s.Do(t, "PATCH", "/api/v1/records/invoice/"+inv["id"].(string), tok, map[string]any{"status": "paid"})
	if res.Status != http.StatusConflict || !strings.Contains(res.Body, `"code":"locked"`) {
		t.Fatalf("admin marks an issued invoice paid: %d %s", res.Status, res.Body)
	}
	for range 2 {
		must(s.Do(t, "POST", "/api/v1/plugins/accounting/actions/check_overdue", tok, map[string]any{"args": map[string]any{"date": "2026-01-20"}}), http.StatusOK)
	}
	want := "Remind the customer: invoice INV-2026-0001 is 10 days overdue"
	deadline := time.Now().Add(30 * time.Second)
	var tasks []any
	for {
		list := must(s.Do(t, "GET", "/api/v1/records/task", tok, nil), http.StatusOK)
		tasks, _ = list["items"].([]any)
		if len(tasks) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(tasks) != 1 {
		t.Fatalf("tasks: %v", tasks)
	}
	task := tasks[0].(map[string]any)
	if task["title"] != want || task["deal"] != deal["id"] {
		t.Errorf("task: %v", task)
	}
	// The run is recorded once its actions are done: wait for it.
	for {
		res = s.Do(t, "GET", "/api/v1/rules/overdue_invoice_reminder/runs", tok, nil)
		if items, _ := res.JSON["items"].([]any); len(items) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if items, _ := res.JSON["items"].([]any); len(items) != 1 {
		t.Errorf("runs of overdue_invoice_reminder: %s", res.Body)
	}
}
