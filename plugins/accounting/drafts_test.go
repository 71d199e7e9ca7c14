package accounting_test

import (
	"testing"

	"github.com/crmkit/crm/plugins/accounting"
	"github.com/crmkit/crm/plugins/sdk"
)

// TestDraftLines: a draft invoice made by hand gets its lines with
// add_invoice_line (from a product, or given), its totals following them;
// a line edited with its own form is recomputed when its event comes; bad
// input is refused naming the argument; issue_invoice on the draft numbers
// it and locks its lines, after which add_invoice_line is refused.
func TestDraftLines(t *testing.T) {
	e := start(t, nil)
	co := e.Create("company", map[string]any{"name": "Ararat Motors"})
	prod := e.Create("product", map[string]any{"name": "Oil change", "price": amd("15000"), "vat_rate": "20"})
	inv, err := e.As(e.admin).Create("invoice", map[string]any{"status": "draft", "currency": "AMD", "company": co.ID()})
	if err != nil {
		t.Fatal(err)
	}
	add := func(args map[string]any) (map[string]sdk.Record, error) {
		var out map[string]sdk.Record
		err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionAddLine, Args: args,
			Record: &sdk.RecordRef{Entity: "invoice", ID: inv.ID()}}, &out)
		return out, err
	}
	totals := func(when, net, vat, gross string) {
		t.Helper()
		got := e.Get("invoice", inv.ID())
		if amount(got, "net") != net || amount(got, "vat") != vat || amount(got, "gross") != gross || amount(got, "balance") != gross {
			t.Errorf("%s: net %s vat %s gross %s balance %s; want %s %s %s", when, amount(got, "net"), amount(got, "vat"),
				amount(got, "gross"), amount(got, "balance"), net, vat, gross)
		}
	}
	out, err := add(map[string]any{"product": prod.ID(), "quantity": "2"})
	if err != nil {
		t.Fatal(err)
	}
	if out["line"].String("description") != "Oil change" || amount(out["line"], "gross") != "36000.00 AMD" {
		t.Errorf("line from the product: %v", out["line"])
	}
	totals("one line", "30000.00 AMD", "6000.00 AMD", "36000.00 AMD")
	// 3 × 333.33 less 10 % = 899.991 → 899.99; VAT 20 % = 179.998 → 180.00.
	out, err = add(map[string]any{"description": "Wipers", "quantity": "3", "unit_price": amd("333.33"), "discount": "10"})
	if err != nil {
		t.Fatal(err)
	}
	if p := out["line"]["position"]; p != float64(2) {
		t.Errorf("second line at position %v", p)
	}
	totals("two lines", "30899.99 AMD", "6180.00 AMD", "37079.99 AMD")

	before := len(e.List("invoice_line", ""))
	for _, c := range []struct {
		args              map[string]any
		code, field, says string
	}{
		{map[string]any{"description": "x", "quantity": "-1", "unit_price": amd("1")}, accounting.CodeBadLine, "quantity", "more than 0"},
		{map[string]any{"quantity": "1", "unit_price": amd("1")}, accounting.CodeBadLine, "description", "give a description"},
		{map[string]any{"description": "x", "quantity": "1"}, accounting.CodeBadLine, "unit_price", "give a unit_price"},
		{map[string]any{"description": "x", "quantity": "1", "unit_price": map[string]any{"amount": "1", "currency": "EUR"}}, accounting.CodeCurrency, "unit_price", "one invoice has one currency"},
		{map[string]any{"description": "x", "quantity": "1", "unit_price": amd("1"), "discount": "120"}, accounting.CodeBadLine, "discount", "not between 0 and 100"},
	} {
		_, err := add(c.args)
		refusal(t, err, c.code, c.field, c.says)
	}
	if n := len(e.List("invoice_line", "")); n != before {
		t.Errorf("%d lines after refusals, want %d", n, before)
	}

	// The wipers line edited with its own form: 4 instead of 3.
	line := out["line"]
	if _, err := e.As(e.admin).Update("invoice_line", line.ID(), map[string]any{"quantity": "4"}); err != nil {
		t.Fatal(err)
	}
	if err := e.DeliverChanges(); err != nil {
		t.Fatal(err)
	}
	// 4 × 333.33 less 10 % = 1199.988 → 1199.99; VAT 240.00.
	if got := e.Get("invoice_line", line.ID()); amount(got, "gross") != "1439.99 AMD" {
		t.Errorf("the edited line: %v", got)
	}
	totals("the line edited", "31199.99 AMD", "6240.00 AMD", "37439.99 AMD")

	var issued sdk.Record
	if err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionIssue, Args: map[string]any{"issue_date": "2026-03-21"},
		Record: &sdk.RecordRef{Entity: "invoice", ID: inv.ID()}}, &issued); err != nil {
		t.Fatal(err)
	}
	if issued.String("number") != "INV-2026-0001" || issued.String("status") != "issued" || issued.String("due_date") != "2026-04-04" || amount(issued, "balance") != "37439.99 AMD" {
		t.Errorf("issued draft: %v", issued)
	}
	for _, l := range e.List("invoice_line", sdk.Eq("invoice", inv.ID())) {
		if l["locked"] != true {
			t.Errorf("line %s of the issued invoice is not locked", l.ID())
		}
	}
	_, err = add(map[string]any{"description": "x", "quantity": "1", "unit_price": amd("1")})
	refusal(t, err, accounting.CodeNotDraft, "entity", "only a draft's lines change")
}
