package main_test

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
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
// check runs, makes crm.hcl's rule create one reminder task (the plugin's
// own ticker off).
func TestAccountingOnTheDefaultConfig(t *testing.T) {
	hcl, err := os.ReadFile(filepath.Join(testkit.RepoRoot(), "crm.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	// The plugin's own hourly check (its first two seconds after start)
	// would see the invoice overdue today as well, a second reminder on a
	// loaded machine: the test calls check_overdue itself (the ticker is
	// TestOverdueTicker's, in plugins/accounting).
	cfg := `config = { vat_percent = 20, series = "INV" }`
	if !strings.Contains(string(hcl), cfg) {
		t.Fatalf("crm.hcl has no %s", cfg)
	}
	hcl = []byte(strings.Replace(string(hcl), cfg, `config = { vat_percent = 20, series = "INV", check_every = "0" }`, 1))
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

// TestInvoiceDocumentOnTheDefaultConfig: with the default crm.hcl, the
// accounting plugin brings its "invoice" template to doctemplates, and
// crm.hcl's invoice_document rule makes an issued invoice's PDF: its
// lines with their VAT, the totals and the total in words.
func TestInvoiceDocumentOnTheDefaultConfig(t *testing.T) {
	if _, err := exec.LookPath("chromium"); err != nil {
		t.Skip("chromium is not installed: the invoice PDF needs it")
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext is not installed")
	}
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
	deal := must(s.Do(t, "POST", "/api/v1/records/deal", tok, map[string]any{"title": "Tyres for the Camry", "stage": "won", "pipeline": "sales",
		"company": co["id"]}), http.StatusCreated)
	amd := func(a string) map[string]any { return map[string]any{"amount": a, "currency": "AMD"} }
	out := must(s.Do(t, "POST", "/api/v1/plugins/accounting/actions/issue_invoice", tok, map[string]any{
		"entity": "deal", "id": deal["id"], "args": map[string]any{"issue_date": "2026-03-21", "lines": map[string]any{"items": []any{
			map[string]any{"description": "Winter tyre", "quantity": 4, "unit_price": amd("45990.00"), "discount": 7.5},
			map[string]any{"description": "Fitting", "quantity": 1.5, "unit_price": amd("3333.33"), "vat_rate": 0},
		}}}}), http.StatusOK)
	inv, _ := out["result"].(map[string]any)
	// The rule runs once the invoice.issued event is delivered: wait for
	// its document.
	deadline := time.Now().Add(60 * time.Second)
	var docs []any
	for {
		list := must(s.Do(t, "GET", "/api/v1/records/document?filter="+url.QueryEscape("record_id == '"+inv["id"].(string)+"'"), tok, nil), http.StatusOK)
		docs, _ = list["items"].([]any)
		if len(docs) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(docs) != 1 {
		res := s.Do(t, "GET", "/api/v1/rules/invoice_document/runs", tok, nil)
		t.Fatalf("documents of the invoice: %v; runs: %s", docs, res.Body)
	}
	doc := docs[0].(map[string]any)
	if doc["record_entity"] != "invoice" || doc["company"] != co["id"] || doc["format"] != "pdf" {
		t.Errorf("document: %v", doc)
	}
	fileID, _ := doc["file"].(string)
	if f, ok := doc["file"].(map[string]any); ok {
		fileID, _ = f["id"].(string)
	}
	res := s.Do(t, "GET", "/api/v1/files/"+fileID, tok, nil)
	if res.Status != http.StatusOK || !strings.HasPrefix(res.Body, "%PDF") {
		t.Fatalf("the document's file: %d %.200s", res.Status, res.Body)
	}
	cmd := exec.Command("pdftotext", "-enc", "UTF-8", "-", "-")
	cmd.Stdin = strings.NewReader(res.Body)
	text, err := cmd.Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	got := strings.Join(strings.Fields(string(text)), " ")
	t.Logf("the invoice PDF reads: %s", got)
	// 4 × 45 990.00 × 92.5 % = 170 163.00, VAT 20 % 34 032.60; 1.5 ×
	// 3 333.33 = 5 000.00 (half a luma rounds away from zero), VAT 0.
	for _, want := range []string{"Invoice INV-2026-0001", "Ararat Motors", "Winter tyre", "Fitting",
		"170,163.00", "34,032.60", "5,000.00", "175,163.00", "209,195.60", "two hundred nine thousand one hundred ninety-five"} {
		if !strings.Contains(strings.ReplaceAll(got, "\u00a0", " "), want) {
			t.Errorf("the invoice PDF does not say %q", want)
		}
	}
}
