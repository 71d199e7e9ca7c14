package accounting_test

import (
	"strings"
	"testing"

	"github.com/crmkit/crm/plugins/accounting"
	"github.com/crmkit/crm/plugins/sdk"
)

// credit calls credit_invoice on an invoice as the admin.
func (e *env) credit(inv sdk.Record, args map[string]any) (sdk.Record, error) {
	var out sdk.Record
	err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionCredit, Args: args,
		Record: &sdk.RecordRef{Entity: "invoice", ID: inv.ID()}}, &out)
	return out, err
}

func (e *env) cancel(inv sdk.Record) error {
	_, err := e.As(e.admin).Invoke(sdk.Call{Action: accounting.ActionCancel, Record: &sdk.RecordRef{Entity: "invoice", ID: inv.ID()}})
	return err
}

// TestCreditNote: an invoice with a payment cannot be cancelled, the
// refusal pointing to a credit note; a credit note of some lines is a
// negative invoice of the CN series linked to the invoice, whose balance
// it reduces to the luma; a credit of more than the balance, of a credit
// note or of a paid invoice is refused with nothing changed; a credit of a
// whole unpaid invoice credits it in full, and its deal may be invoiced
// again.
func TestCreditNote(t *testing.T) {
	e := start(t, nil)
	inv := e.workedExample() // 210 195.60 AMD
	if _, err := e.pay(inv, map[string]any{"amount": amd("84100.00"), "date": "2026-03-25"}); err != nil {
		t.Fatal(err)
	}
	refusal(t, e.cancel(inv), accounting.CodeHasPayments, "entity", "issue a credit note (credit_invoice)")

	_, err := e.credit(inv, nil)
	refusal(t, err, accounting.CodeOvercredit, "lines", "give the lines to credit")

	// The fitting was not done: credit its line, 1.5 × 3 333.33 = 5 000.00
	// net, 1 000.00 VAT.
	fitting := map[string]any{"description": "Fitting (hours)", "quantity": "1.5", "unit_price": amd("3333.33")}
	cn, err := e.credit(inv, map[string]any{"reason": "fitting not done", "issue_date": "2026-03-28",
		"lines": map[string]any{"items": []any{fitting}}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"number": "CN-2026-0001", "series": "CN", "status": "credit_note", "credit_of": inv.ID(),
		"deal": inv.String("deal"), "company": inv.String("company"), "issue_date": "2026-03-28", "cancel_reason": "fitting not done"}
	for f, v := range want {
		if cn.String(f) != v {
			t.Errorf("credit note %s = %q, want %q", f, cn.String(f), v)
		}
	}
	for f, v := range map[string]string{"net": "-5000.00 AMD", "vat": "-1000.00 AMD", "gross": "-6000.00 AMD", "balance": "0.00 AMD"} {
		if got := amount(cn, f); got != v {
			t.Errorf("credit note %s = %s, want %s", f, got, v)
		}
	}
	lines := e.List("invoice_line", sdk.Eq("invoice", cn.ID()))
	if len(lines) != 1 || lines[0].String("quantity") != "-1.5" || amount(lines[0], "gross") != "-6000.00 AMD" {
		t.Errorf("credit note lines: %v", lines)
	}
	got := e.Get("invoice", inv.ID())
	if amount(got, "credited") != "6000.00 AMD" || amount(got, "balance") != "120095.60 AMD" || got.String("status") != "partly_paid" {
		t.Errorf("credited invoice: credited %s, balance %s, %s", amount(got, "credited"), amount(got, "balance"), got.String("status"))
	}

	// Refused, nothing changed.
	before := len(e.List("invoice", ""))
	_, err = e.credit(inv, map[string]any{"lines": map[string]any{"items": []any{
		map[string]any{"description": "Everything", "quantity": 1, "unit_price": amd("100079.68")}}}})
	refusal(t, err, accounting.CodeOvercredit, "lines", "the credit of 120095.62 AMD is more than the balance of invoice INV-2026-0001, 120095.60 AMD")
	_, err = e.credit(inv, map[string]any{"lines": map[string]any{"items": []any{
		map[string]any{"description": "x", "quantity": 1, "unit_price": map[string]any{"amount": "1", "currency": "EUR"}}}}})
	refusal(t, err, accounting.CodeCurrency, "lines.items[0].unit_price", "a credit note is in its invoice's currency")
	_, err = e.credit(inv, map[string]any{"lines": map[string]any{"items": []any{
		map[string]any{"description": "x", "quantity": -1, "unit_price": amd("1")}}}})
	refusal(t, err, accounting.CodeBadLine, "lines.items[0].quantity", "")
	_, err = e.credit(cn, nil)
	refusal(t, err, accounting.CodeNotCreditable, "entity", "CN-2026-0001 is a credit note")
	refusal(t, e.cancel(cn), accounting.CodeNotCreditable, "entity", "is a credit note")
	_, err = e.pay(cn, map[string]any{"amount": amd("1")})
	refusal(t, err, accounting.CodeNotPayable, "entity", "credit_note")
	if n := len(e.List("invoice", "")); n != before {
		t.Errorf("%d invoices after refusals, want %d", n, before)
	}
	if got := e.Get("invoice", inv.ID()); amount(got, "balance") != "120095.60 AMD" {
		t.Errorf("balance after refusals: %s", amount(got, "balance"))
	}

	// The rest is paid: nothing is left to credit.
	if _, err := e.pay(inv, map[string]any{"amount": amd("120095.60")}); err != nil {
		t.Fatal(err)
	}
	_, err = e.credit(inv, map[string]any{"lines": map[string]any{"items": []any{fitting}}})
	refusal(t, err, accounting.CodeNotCreditable, "entity", "nothing is left to credit")

	// A whole unpaid invoice: every line credited, the invoice credited in
	// full; it cannot be cancelled, and its deal is invoiced again.
	deal := e.wonDeal("Corolla", amd("1000.01"))
	b, err := e.issue(deal, map[string]any{"issue_date": "2026-04-01"})
	if err != nil {
		t.Fatal(err)
	}
	cn2, err := e.credit(b, map[string]any{"issue_date": "2026-04-02"})
	if err != nil {
		t.Fatal(err)
	}
	if cn2.String("number") != "CN-2026-0002" || amount(cn2, "gross") != "-1200.01 AMD" || amount(cn2, "vat") != "-200.00 AMD" {
		t.Errorf("whole credit note: %s %s %s", cn2.String("number"), amount(cn2, "gross"), amount(cn2, "vat"))
	}
	got = e.Get("invoice", b.ID())
	if got.String("status") != "credited" || amount(got, "balance") != "0.00 AMD" || amount(got, "credited") != "1200.01 AMD" {
		t.Errorf("credited in full: %s %s %s", got.String("status"), amount(got, "balance"), amount(got, "credited"))
	}
	refusal(t, e.cancel(got), accounting.CodeHasPayments, "entity", "credited in full")
	again, err := e.issue(deal, map[string]any{"issue_date": "2026-04-03"})
	if err != nil || again.String("number") != "INV-2026-0003" {
		t.Errorf("invoiced again: %v %v", again.String("number"), err)
	}
	// The export lists the credit note with its invoice's number; the
	// revenue of March is the invoice less the credit.
	_, csv := e.exportFile("invoices", "csv", "2026-03-01", "2026-03-31")
	if !strings.Contains(csv, "\nCN-2026-0001,2026-03-28,2026-03-28,credit_note,AMD,-5000.00,-1000.00,-6000.00,0.00,0.00,") ||
		!strings.Contains(csv, ",6000.00,\n") || !strings.HasSuffix(csv, ",0.00,INV-2026-0001\n") {
		t.Errorf("export with a credit note:\n%s", csv)
	}
	var rev struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionRevenue,
		Args: map[string]any{"by": "month", "from": "2026-03-01", "to": "2026-03-31"}}, &rev); err != nil {
		t.Fatal(err)
	}
	if len(rev.Rows) != 1 || rev.Rows[0]["net"].(map[string]any)["amount"] != "170163.00" || rev.Rows[0]["gross"].(map[string]any)["amount"] != "204195.60" {
		t.Errorf("revenue of March: %v", rev.Rows)
	}

	var issued int
	for _, ev := range e.Emitted() {
		if ev.Name == accounting.EventIssued {
			issued++
		}
	}
	if issued != 5 { // three invoices, two credit notes
		t.Errorf("invoice.issued emitted %d times, want 5", issued)
	}
}
