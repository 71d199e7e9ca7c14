package accounting_test

import (
	"testing"

	"github.com/crmkit/crm/plugins/accounting"
	"github.com/crmkit/crm/plugins/sdk"
)

// TestOnePaymentSeveralInvoices: record_payment on a company allocates one
// payment to several of its invoices, exactly to the luma, also in
// another currency at a rate; parts that do not add up to the payment,
// a part larger than its invoice's balance, another customer's invoice, an
// invoice named twice or in another currency are refused and nothing
// changes.
func TestOnePaymentSeveralInvoices(t *testing.T) {
	e := start(t, nil)
	co := e.Create("company", map[string]any{"name": "Ararat Motors"})
	deal := func(title string, amount map[string]any) sdk.Record {
		return e.Create("deal", map[string]any{"title": title, "stage": "won", "company": co.ID(), "pipeline": "sales", "amount": amount})
	}
	a, err := e.issue(deal("A", amd("100")), map[string]any{"issue_date": "2026-03-01"}) // 120.00
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.issue(deal("B", amd("1000.01")), map[string]any{"issue_date": "2026-03-02"}) // 1200.01
	if err != nil {
		t.Fatal(err)
	}
	other, _ := e.issue(e.wonDeal("Other", amd("100")), nil)
	eur, _ := e.issue(deal("E", map[string]any{"amount": "10", "currency": "EUR"}), nil)

	payCo := func(args map[string]any) (map[string]any, error) {
		var out map[string]any
		err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionPay, Args: args,
			Record: &sdk.RecordRef{Entity: "company", ID: co.ID()}}, &out)
		return out, err
	}
	alloc := func(items ...any) map[string]any { return map[string]any{"items": items} }
	part := func(inv sdk.Record, m map[string]any) map[string]any {
		return map[string]any{"invoice": inv.ID(), "amount": m}
	}

	out, err := payCo(map[string]any{"amount": amd("1000.00"), "date": "2026-03-10", "reference": "one transfer",
		"allocations": alloc(part(a, amd("120.00")), part(b, amd("880.00")))})
	if err != nil {
		t.Fatal(err)
	}
	pm, _ := out["payment"].(map[string]any)
	if allocs, _ := out["allocations"].([]any); len(allocs) != 2 || pm["company"] != co.ID() {
		t.Fatalf("payment %v, allocations %v", pm, out["allocations"])
	}
	check := func(when string, inv sdk.Record, balance, status string) {
		t.Helper()
		got := e.Get("invoice", inv.ID())
		if amount(got, "balance") != balance || got.String("status") != status {
			t.Errorf("%s: invoice %s balance %s %s, want %s %s", when, got.String("number"), amount(got, "balance"), got.String("status"), balance, status)
		}
	}
	check("paid", a, "0.00 AMD", "paid")
	check("paid", b, "320.01 AMD", "partly_paid")

	payments := len(e.List("payment", ""))
	for _, c := range []struct {
		args        map[string]any
		code, field string
		says        string
	}{
		{map[string]any{"amount": amd("320.00"), "allocations": alloc(part(b, amd("319.99")))},
			accounting.CodeOverpayment, "allocations", "the parts add up to 319.99 AMD, less than the payment of 320.00 AMD"},
		{map[string]any{"amount": amd("320.00"), "allocations": alloc(part(b, amd("320.01")))},
			accounting.CodeOverpayment, "allocations", "the parts add up to 320.01 AMD, more than the payment of 320.00 AMD"},
		{map[string]any{"amount": amd("320.02"), "allocations": alloc(part(b, amd("320.02")))},
			accounting.CodeOverpayment, "allocations.items[0].amount", "320.02 AMD is more than the balance of invoice INV-2026-0002, 320.01 AMD"},
		{map[string]any{"amount": amd("10"), "allocations": alloc(part(a, amd("10")))},
			accounting.CodeNotPayable, "allocations.items[0].invoice", "is paid in full"},
		{map[string]any{"amount": amd("10"), "allocations": alloc(part(other, amd("10")))},
			sdk.CodeInvalidArgs, "allocations.items[0].invoice", "is not this company's"},
		{map[string]any{"amount": amd("10"), "allocations": alloc(part(b, amd("5")), part(b, amd("5")))},
			sdk.CodeInvalidArgs, "allocations.items[1].invoice", "is named twice"},
		{map[string]any{"amount": amd("10"), "allocations": alloc(part(b, amd("5")), part(eur, map[string]any{"amount": "5", "currency": "AMD"}))},
			accounting.CodeCurrency, "allocations.items[1].invoice", "one payment pays invoices of one currency"},
		{map[string]any{"amount": amd("10"), "allocations": alloc(part(b, map[string]any{"amount": "10", "currency": "EUR"}))},
			accounting.CodeCurrency, "allocations.items[0].amount", "in its currency, AMD, not EUR"},
		{map[string]any{"amount": amd("10"), "allocations": alloc(part(b, amd("-10")))},
			sdk.CodeInvalidArgs, "allocations.items[0].amount", "more than 0"},
		{map[string]any{"amount": amd("10"), "allocations": alloc(map[string]any{"invoice": "nope", "amount": amd("10")})},
			sdk.CodeInvalidArgs, "allocations.items[0].invoice", `no invoice with id "nope"`},
		{map[string]any{"amount": amd("10")}, sdk.CodeInvalidArgs, "allocations", "names the invoices it pays"},
	} {
		_, err := payCo(c.args)
		refusal(t, err, c.code, c.field, c.says)
	}
	if n := len(e.List("payment", "")); n != payments {
		t.Errorf("%d payments after refusals, want %d", n, payments)
	}
	check("after refusals", b, "320.01 AMD", "partly_paid")

	// The rest in euros at a rate, with an invoice of the company not
	// named: 0.76 EUR at 421.07 = 320.0132 AMD, 320.01.
	out, err = payCo(map[string]any{"amount": map[string]any{"amount": "0.76", "currency": "EUR"}, "rate": "421.07",
		"allocations": alloc(part(b, map[string]any{"amount": "0.76", "currency": "EUR"}))})
	if err != nil {
		t.Fatal(err)
	}
	allocs, _ := out["allocations"].([]any)
	if len(allocs) != 1 || amount(sdk.Record(allocs[0].(map[string]any)), "amount") != "320.01 AMD" {
		t.Errorf("allocations in euros: %v", allocs)
	}
	check("paid in euros", b, "0.00 AMD", "paid")
}
