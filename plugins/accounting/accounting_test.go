package accounting_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/accounting"
	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// TestMain serves the plugin when the host starts this test binary as the
// plugin's process: the tests run it as crm does, in a process of its own.
func TestMain(m *testing.M) { sdktest.Main(m, accounting.New) }

const testHCL = `
locale {
  currency = "AMD"
  timezone = "Asia/Yerevan"
}
pipeline "sales" {
  entity = "deal"
  stages = ["new", "offer", "won", "lost"]
}
`

var writes = []string{"invoice", "invoice_line", "payment", "payment_allocation", "product", "invoice_series", "accounting_export", "bank_line"}

// env is a running plugin on a real host with an admin to act as.
type env struct {
	*sdktest.Host
	t     testing.TB
	admin sdk.User
}

// start runs the plugin in a process of its own, its ticker off unless
// config says otherwise.
func start(t testing.TB, config map[string]any) *env {
	t.Helper()
	cfg := map[string]any{"vat_percent": 20, "check_every": "0"}
	for k, v := range config {
		cfg[k] = v
	}
	h := sdktest.Start(t, accounting.New(), sdktest.Options{
		Config: testHCL,
		Read:   []string{"contact", "company", "deal"}, Write: writes,
		PluginConfig: cfg,
		Process:      true,
		CallTimeout:  60 * time.Second,
		Locale:       sdk.Locale{Currency: "AMD", Timezone: "Asia/Yerevan"},
	})
	return &env{Host: h, t: t, admin: h.AddUser("admin@example.com", "admin")}
}

func amd(amount string) map[string]any { return map[string]any{"amount": amount, "currency": "AMD"} }

// wonDeal is a won deal of a new company, with amount when it is not nil.
func (e *env) wonDeal(title string, amount map[string]any) sdk.Record {
	e.t.Helper()
	co := e.Create("company", map[string]any{"name": title + " LLC"})
	values := map[string]any{"title": title, "stage": "won", "company": co.ID(), "pipeline": "sales"}
	if amount != nil {
		values["amount"] = amount
	}
	return e.Create("deal", values)
}

// issue calls issue_invoice on a deal as the admin.
func (e *env) issue(deal sdk.Record, args map[string]any) (sdk.Record, error) {
	var inv sdk.Record
	err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionIssue, Args: args,
		Record: &sdk.RecordRef{Entity: "deal", ID: deal.ID()}}, &inv)
	return inv, err
}

// pay calls record_payment on an invoice as the admin.
func (e *env) pay(inv sdk.Record, args map[string]any) (map[string]sdk.Record, error) {
	var out map[string]sdk.Record
	err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionPay, Args: args,
		Record: &sdk.RecordRef{Entity: "invoice", ID: inv.ID()}}, &out)
	return out, err
}

func amount(r sdk.Record, field string) string {
	m, _ := r[field].(map[string]any)
	return fmt.Sprint(m["amount"], " ", m["currency"])
}

// refusal is err as a refusal with code, or fails the test.
func refusal(t testing.TB, err error, code, field, says string) {
	t.Helper()
	var r *sdk.Refusal
	if !errors.As(err, &r) || r.Code != code || r.Field != field || !strings.Contains(r.Message, says) {
		t.Errorf("got %v (%#v); want a refusal %s on %s saying %q", err, r, code, field, says)
	}
}

func TestManifestIsValid(t *testing.T) {
	if err := accounting.New().Manifest().Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestWonDealBecomesAnInvoice: issue_invoice on a won deal makes an issued
// invoice numbered INV-YEAR-0001 with one line of the deal's amount and
// VAT from the config; a second issue for the deal is refused.
func TestWonDealBecomesAnInvoice(t *testing.T) {
	e := start(t, nil)
	deal := e.wonDeal("Camry", amd("12500000"))
	inv, err := e.issue(deal, map[string]any{"issue_date": "2026-03-21"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"number": "INV-2026-0001", "status": "issued", "currency": "AMD", "issue_date": "2026-03-21",
		"due_date": "2026-04-04", "deal": deal.ID(), "company": deal.String("company")}
	for f, v := range want {
		if inv.String(f) != v {
			t.Errorf("%s = %q, want %q", f, inv.String(f), v)
		}
	}
	for f, v := range map[string]string{"net": "12500000.00 AMD", "vat": "2500000.00 AMD", "gross": "15000000.00 AMD", "paid": "0.00 AMD", "balance": "15000000.00 AMD"} {
		if got := amount(inv, f); got != v {
			t.Errorf("%s = %s, want %s", f, got, v)
		}
	}
	lines := e.List("invoice_line", sdk.Eq("invoice", inv.ID()))
	if len(lines) != 1 || lines[0].String("description") != "Camry" || amount(lines[0], "gross") != "15000000.00 AMD" || lines[0]["locked"] != true {
		t.Fatalf("lines: %v", lines)
	}
	_, err = e.issue(deal, nil)
	refusal(t, err, accounting.CodeInvoiced, "entity", "has invoice INV-2026-0001 already")

	notWon := e.Create("deal", map[string]any{"title": "Corolla", "stage": "offer", "pipeline": "sales", "amount": amd("100")})
	_, err = e.issue(notWon, nil)
	refusal(t, err, accounting.CodeNotWon, "entity", `is at stage "offer"`)
	if n := len(e.List("invoice", "")); n != 1 {
		t.Errorf("%d invoices, want 1", n)
	}
}

// workedExample is the invoice of docs/accounting.md: two lines, one of a
// product with a discount, one with a fractional quantity whose net is
// exactly half a luma and rounds away from zero.
func (e *env) workedExample() sdk.Record {
	e.t.Helper()
	tyres := e.Create("product", map[string]any{"name": "Winter tyre", "sku": "TYRE-W", "price": amd("45990"), "vat_rate": "20"})
	deal := e.wonDeal("Tyres for the Camry", nil)
	inv, err := e.issue(deal, map[string]any{"issue_date": "2026-03-21", "due_date": "2026-04-20", "lines": map[string]any{"items": []any{
		map[string]any{"product": tyres.ID(), "quantity": 4, "discount": "7.5"},
		map[string]any{"description": "Fitting (hours)", "quantity": "1.5", "unit_price": amd("3333.33")},
	}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return inv
}

// TestWorkedExample checks the figures docs/accounting.md and the README
// show, to the luma.
func TestWorkedExample(t *testing.T) {
	e := start(t, nil)
	inv := e.workedExample()
	lines := e.List("invoice_line", sdk.Eq("invoice", inv.ID()))
	slices.SortFunc(lines, func(a, b sdk.Record) int { return int(a["position"].(float64) - b["position"].(float64)) })
	got := []string{}
	for _, l := range lines {
		got = append(got, fmt.Sprintf("%s|%s|%s|%s", l.String("description"), amount(l, "net"), amount(l, "vat"), amount(l, "gross")))
	}
	want := []string{
		"Winter tyre|170163.00 AMD|34032.60 AMD|204195.60 AMD",
		"Fitting (hours)|5000.00 AMD|1000.00 AMD|6000.00 AMD",
	}
	if !slices.Equal(got, want) {
		t.Errorf("lines\n%v\nwant\n%v", got, want)
	}
	if n, v, g := amount(inv, "net"), amount(inv, "vat"), amount(inv, "gross"); n != "175163.00 AMD" || v != "35032.60 AMD" || g != "210195.60 AMD" {
		t.Errorf("totals %s %s %s", n, v, g)
	}

	// 200 EUR at 420.50 AMD per euro: 84 100.00 AMD.
	out, err := e.pay(inv, map[string]any{"amount": map[string]any{"amount": "200", "currency": "EUR"}, "rate": "420.50", "date": "2026-03-25"})
	if err != nil {
		t.Fatal(err)
	}
	if amount(out["allocation"], "amount") != "84100.00 AMD" || amount(out["payment"], "amount") != "200.00 EUR" ||
		amount(out["invoice"], "balance") != "126095.60 AMD" || out["invoice"].String("status") != "partly_paid" {
		t.Errorf("first payment: allocation %s, payment %s, invoice %s %s", amount(out["allocation"], "amount"),
			amount(out["payment"], "amount"), amount(out["invoice"], "balance"), out["invoice"].String("status"))
	}
	// The rest in drams.
	out, err = e.pay(inv, map[string]any{"amount": amd("126095.60"), "method": "cash"})
	if err != nil {
		t.Fatal(err)
	}
	if amount(out["invoice"], "balance") != "0.00 AMD" || amount(out["invoice"], "paid") != "210195.60 AMD" || out["invoice"].String("status") != "paid" {
		t.Errorf("second payment: invoice %v", out["invoice"])
	}
}

// TestPartialPaymentsInAnotherCurrency: payments in EUR and RUB of an AMD
// invoice at recorded rates, each converted and rounded half away from
// zero; an overpayment and a payment without a rate are refused and
// change nothing.
func TestPartialPaymentsInAnotherCurrency(t *testing.T) {
	e := start(t, nil)
	inv, err := e.issue(e.wonDeal("Service", amd("100000")), nil) // gross 120 000.00
	if err != nil {
		t.Fatal(err)
	}
	// 33.33 EUR at 420.55: 14 016.9315 AMD, 14 016.93.
	if _, err := e.pay(inv, map[string]any{"amount": map[string]any{"amount": "33.33", "currency": "EUR"}, "rate": "420.55"}); err != nil {
		t.Fatal(err)
	}
	// 1 000.01 RUB at 4.625: 4 625.04625 AMD, 4 625.05.
	if _, err := e.pay(inv, map[string]any{"amount": map[string]any{"amount": "1000.01", "currency": "RUB"}, "rate": "4.625"}); err != nil {
		t.Fatal(err)
	}
	inv = e.Get("invoice", inv.ID())
	if amount(inv, "paid") != "18641.98 AMD" || amount(inv, "balance") != "101358.02 AMD" || inv.String("status") != "partly_paid" {
		t.Fatalf("after two payments: paid %s, balance %s, %s", amount(inv, "paid"), amount(inv, "balance"), inv.String("status"))
	}
	before := inv.Version()
	_, err = e.pay(inv, map[string]any{"amount": map[string]any{"amount": "250", "currency": "EUR"}, "rate": "420.55"})
	refusal(t, err, accounting.CodeOverpayment, "amount", "the payment of 105137.50 AMD (250.00 EUR at 420.55) is more than the balance of invoice INV-")
	_, err = e.pay(inv, map[string]any{"amount": map[string]any{"amount": "10", "currency": "EUR"}})
	refusal(t, err, sdk.CodeInvalidArgs, "rate", "needs the rate it was converted at (AMD per 1 EUR)")
	if got := e.Get("invoice", inv.ID()); got.Version() != before {
		t.Errorf("a refused payment changed the invoice: %v", got)
	}
	if n := len(e.List("payment", "")); n != 2 {
		t.Errorf("%d payments, want 2", n)
	}
	allocs := e.List("payment_allocation", sdk.Eq("invoice", inv.ID()))
	if len(allocs) != 2 {
		t.Errorf("allocations: %v", allocs)
	}
}

// TestBadInputChangesNothing: a negative quantity, an unknown currency, an
// overpayment, an edit of an issued invoice or line: each a clear error
// naming what is wrong, and no record changed, no number taken.
func TestBadInputChangesNothing(t *testing.T) {
	e := start(t, nil)
	deal := e.wonDeal("Parts", nil)
	_, err := e.issue(deal, map[string]any{"lines": map[string]any{"items": []any{
		map[string]any{"description": "Filter", "quantity": -2, "unit_price": amd("500")},
	}}})
	refusal(t, err, accounting.CodeBadLine, "lines.items[0].quantity", "the quantity must be more than 0, not -2")
	_, err = e.issue(deal, map[string]any{"lines": map[string]any{"items": []any{
		map[string]any{"description": "Filter", "quantity": 1, "unit_price": map[string]any{"amount": "5", "currency": "XYZ"}},
	}}})
	refusal(t, err, accounting.CodeCurrency, "lines.items[0].unit_price", `unknown currency "XYZ"`)
	_, err = e.issue(deal, map[string]any{"lines": map[string]any{"items": []any{
		map[string]any{"description": "Filter", "quantity": 1, "unit_price": amd("5"), "discount": 120},
	}}})
	refusal(t, err, accounting.CodeBadLine, "lines.items[0].discount", "120% is not between 0 and 100")
	if invs, series := e.List("invoice", ""), e.List("invoice_series", ""); len(invs) != 0 || len(series) != 0 {
		t.Fatalf("refused issues left invoices %v, series %v", invs, series)
	}

	inv, err := e.issue(deal, map[string]any{"lines": map[string]any{"items": []any{
		map[string]any{"description": "Filter", "quantity": 2, "unit_price": amd("500")},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	// An unknown currency in a money argument: the host refuses it before the plugin.
	_, err = e.pay(inv, map[string]any{"amount": map[string]any{"amount": "5", "currency": "XYZ"}})
	if err == nil || !strings.Contains(err.Error(), "args.amount") || !strings.Contains(err.Error(), `unknown currency "XYZ"`) {
		t.Errorf("pay in XYZ: %v", err)
	}
	_, err = e.pay(inv, map[string]any{"amount": amd("1200.01")})
	refusal(t, err, accounting.CodeOverpayment, "amount", "the payment of 1200.01 AMD is more than the balance of invoice INV-")
	_, err = e.pay(inv, map[string]any{"amount": amd("-5")})
	refusal(t, err, sdk.CodeInvalidArgs, "amount", "a payment is more than 0")

	// Nobody but the plugin edits an issued invoice or its lines, an admin neither.
	_, err = e.As(e.admin).Update("invoice", inv.ID(), map[string]any{"gross": amd("1")})
	if err == nil || !strings.Contains(err.Error(), `only plugin "accounting" changes it now`) {
		t.Errorf("admin edits an issued invoice: %v", err)
	}
	line := e.List("invoice_line", sdk.Eq("invoice", inv.ID()))[0]
	_, err = e.As(e.admin).Update("invoice_line", line.ID(), map[string]any{"quantity": "20"})
	if err == nil || !strings.Contains(err.Error(), "is locked") {
		t.Errorf("admin edits an issued invoice's line: %v", err)
	}
	_, err = e.As(e.admin).Create("invoice", map[string]any{"currency": "AMD", "status": "paid", "number": "FAKE-1"})
	if err == nil || !strings.Contains(err.Error(), "is made by plugin \"accounting\" alone") {
		t.Errorf("admin creates a paid invoice: %v", err)
	}
	if got := e.Get("invoice", inv.ID()); got.Version() != inv.Version() || amount(got, "balance") != "1200.00 AMD" {
		t.Errorf("the invoice changed: %v", got)
	}
	if got := e.Get("invoice_line", line.ID()); got.String("quantity") != "2" {
		t.Errorf("the line changed: %v", got)
	}
	// A draft, made by hand, is anyone's to edit.
	draft, err := e.As(e.admin).Create("invoice", map[string]any{"currency": "AMD", "status": "draft"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.As(e.admin).Update("invoice", draft.ID(), map[string]any{"currency": "EUR"}); err != nil {
		t.Errorf("admin edits a draft: %v", err)
	}
}

// TestCancel: an invoice without payments is cancelled (its number
// stays taken), one with payments is not.
func TestCancel(t *testing.T) {
	e := start(t, nil)
	a, _ := e.issue(e.wonDeal("A", amd("100")), nil)
	b, _ := e.issue(e.wonDeal("B", amd("100")), nil)
	if _, err := e.pay(b, map[string]any{"amount": amd("10")}); err != nil {
		t.Fatal(err)
	}
	var out sdk.Record
	if err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionCancel, Args: map[string]any{"reason": "wrong customer"},
		Record: &sdk.RecordRef{Entity: "invoice", ID: a.ID()}}, &out); err != nil {
		t.Fatal(err)
	}
	if out.String("status") != "cancelled" || amount(out, "balance") != "0.00 AMD" || out.String("number") != a.String("number") {
		t.Errorf("cancelled: %v", out)
	}
	_, err := e.As(e.admin).Invoke(sdk.Call{Action: accounting.ActionCancel, Record: &sdk.RecordRef{Entity: "invoice", ID: b.ID()}})
	refusal(t, err, accounting.CodeHasPayments, "entity", "has payments of 10.00 AMD")
	_, err = e.pay(out, map[string]any{"amount": amd("1")})
	refusal(t, err, accounting.CodeNotPayable, "entity", "is cancelled")
}

// TestConcurrentIssuesAreConsecutive: 100 won deals invoiced at once get
// the numbers 1 to 100 of the year, each once.
func TestConcurrentIssuesAreConsecutive(t *testing.T) {
	e := start(t, nil)
	const n = 100
	deals := make([]sdk.Record, n)
	co := e.Create("company", map[string]any{"name": "Fleet LLC"})
	for i := range deals {
		deals[i] = e.Create("deal", map[string]any{"title": fmt.Sprintf("Car %d", i), "stage": "won", "pipeline": "sales",
			"company": co.ID(), "amount": amd("1000")})
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range deals {
		wg.Go(func() {
			_, errs[i] = e.Invoke(sdk.Call{Action: accounting.ActionIssue, Args: map[string]any{"issue_date": "2026-05-01"},
				Record: &sdk.RecordRef{Entity: "deal", ID: deals[i].ID()}})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("issue %d: %v", i, err)
		}
	}
	var got []string
	for _, inv := range e.List("invoice", "") {
		got = append(got, inv.String("number"))
	}
	slices.Sort(got)
	if len(got) != n {
		t.Fatalf("%d invoices, want %d", len(got), n)
	}
	for i, num := range got {
		if want := fmt.Sprintf("INV-2026-%04d", i+1); num != want {
			t.Fatalf("number %d is %s, want %s (all: %v)", i, num, want, got)
		}
	}
}

// TestBalanceAndAgeing: a company's open invoices in two currencies, as
// of a day, summed per currency and aged by days past due, to the luma
// and the cent; paid and cancelled invoices are not owed.
func TestBalanceAndAgeing(t *testing.T) {
	e := start(t, nil)
	co := e.Create("company", map[string]any{"name": "Ararat Motors"})
	issue := func(title string, amt map[string]any, due string) sdk.Record {
		t.Helper()
		d := e.Create("deal", map[string]any{"title": title, "stage": "won", "pipeline": "sales", "company": co.ID(), "amount": amt})
		inv, err := e.issue(d, map[string]any{"issue_date": "2025-12-01", "due_date": due})
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	const asOf = "2026-04-30"
	issue("not yet due", amd("1000.01"), "2026-04-30")                                // 0 days: current, 1 200.01 (1200.012 rounds down)
	issue("ten days", amd("2500"), "2026-04-20")                                      // 10: 0-30, 3 000.00
	issue("forty-five days", amd("333.33"), "2026-03-16")                             // 45: 31-60, 399.996 -> 400.00
	issue("ninety days", amd("10"), "2026-01-30")                                     // 90: 61-90, 12.00
	old := issue("ninety-one days", amd("100"), "2026-01-29")                         // 91: 90+, 120.00, 20.00 paid: 100.00
	issue("euro", map[string]any{"amount": "99.99", "currency": "EUR"}, "2026-02-28") // 61: 61-90, 119.988 -> 119.99 EUR
	paid := issue("paid", amd("50"), "2026-01-01")                                    // paid in full: not owed
	cancelled := issue("cancelled", amd("70"), "2026-01-01")                          // cancelled: not owed
	if _, err := e.pay(old, map[string]any{"amount": amd("20")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pay(paid, map[string]any{"amount": amd("60")}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Invoke(sdk.Call{Action: accounting.ActionCancel, Record: &sdk.RecordRef{Entity: "invoice", ID: cancelled.ID()}}); err != nil {
		t.Fatal(err)
	}
	var got struct {
		AsOf     string           `json:"as_of"`
		Balances []map[string]any `json:"balances"`
		Invoices []map[string]any `json:"invoices"`
		Table    sdk.Table        `json:"table"`
	}
	if err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionBalance, Args: map[string]any{"date": asOf},
		Record: &sdk.RecordRef{Entity: "company", ID: co.ID()}}, &got); err != nil {
		t.Fatal(err)
	}
	text := func(b map[string]any) string {
		var parts []string
		for _, k := range append([]string{"balance"}, accounting.Buckets...) {
			m := b[k].(map[string]any)
			parts = append(parts, k+"="+m["amount"].(string))
		}
		return b["currency"].(string) + " " + strings.Join(parts, " ")
	}
	want := []string{
		"AMD balance=4712.01 current=1200.01 0-30=3000.00 31-60=400.00 61-90=12.00 90+=100.00",
		"EUR balance=119.99 current=0.00 0-30=0.00 31-60=0.00 61-90=119.99 90+=0.00",
	}
	var have []string
	for _, b := range got.Balances {
		have = append(have, text(b))
	}
	if got.AsOf != asOf || !slices.Equal(have, want) {
		t.Errorf("balance as of %s:\n%s\nwant\n%s", got.AsOf, strings.Join(have, "\n"), strings.Join(want, "\n"))
	}
	if len(got.Invoices) != 6 {
		raw, _ := json.Marshal(got.Invoices)
		t.Errorf("%d open invoices, want 6: %s", len(got.Invoices), raw)
	}
	// The table the UI shows: a row per open invoice, a total per currency.
	if len(got.Table.Rows) != 6 || len(got.Table.Totals) != 2 || fmt.Sprint(got.Table.Totals[0]["balance"]) != "map[amount:4712.01 currency:AMD]" {
		t.Errorf("table rows %v, totals %v", got.Table.Rows, got.Table.Totals)
	}
}

// TestOverdueOncePerDay: check_overdue marks an open invoice past its due
// date overdue and emits invoice.overdue with its typed payload once per
// invoice and day, however often it runs that day; the next day again.
func TestOverdueOncePerDay(t *testing.T) {
	e := start(t, nil)
	inv, err := e.issue(e.wonDeal("Late", amd("1000")), map[string]any{"issue_date": "2026-01-01", "due_date": "2026-01-10"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.issue(e.wonDeal("On time", amd("1000")), map[string]any{"issue_date": "2026-01-01", "due_date": "2026-02-10"}); err != nil {
		t.Fatal(err)
	}
	check := func(day string) {
		t.Helper()
		if _, err := e.Invoke(sdk.Call{Action: accounting.ActionCheckOverdue, Args: map[string]any{"date": day}}); err != nil {
			t.Fatal(err)
		}
	}
	overdue := func() []sdk.Event {
		var out []sdk.Event
		for _, ev := range e.Emitted() {
			if ev.Name == accounting.EventOverdue {
				out = append(out, ev)
			}
		}
		return out
	}
	check("2026-01-20")
	check("2026-01-20")
	evs := overdue()
	if len(evs) != 1 {
		t.Fatalf("%d overdue events after two checks on one day, want 1: %v", len(evs), evs)
	}
	p := evs[0].Record
	if evs[0].ID != inv.ID() || p.String("number") != inv.String("number") || p["days_overdue"] != float64(10) ||
		p.String("due_date") != "2026-01-10" || amount(p, "balance") != "1200.00 AMD" {
		t.Errorf("event %+v", evs[0])
	}
	if got := e.Get("invoice", inv.ID()); got.String("status") != "overdue" {
		t.Errorf("status %s, want overdue", got.String("status"))
	}
	check("2026-01-21")
	if n := len(overdue()); n != 2 {
		t.Errorf("%d overdue events after the next day's check, want 2", n)
	}
	// Paid: no more reminders.
	if _, err := e.pay(inv, map[string]any{"amount": amd("1200")}); err != nil {
		t.Fatal(err)
	}
	check("2026-01-22")
	if n := len(overdue()); n != 2 {
		t.Errorf("%d overdue events after payment, want 2", n)
	}
}

// TestOverdueTicker: the plugin's own ticker finds an overdue invoice and
// emits invoice.overdue for today; a check the same day adds nothing.
func TestOverdueTicker(t *testing.T) {
	e := start(t, map[string]any{"check_every": "100ms"})
	if _, err := e.issue(e.wonDeal("Late", amd("1000")), map[string]any{"issue_date": "2025-01-01", "due_date": "2025-01-10"}); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		n := 0
		for _, ev := range e.Emitted() {
			if ev.Name == accounting.EventOverdue {
				n++
			}
		}
		return n
	}
	deadline := time.Now().Add(30 * time.Second)
	for count() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no invoice.overdue from the ticker; log:\n%s", e.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := e.Invoke(sdk.Call{Action: accounting.ActionCheckOverdue}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1 {
		t.Errorf("%d overdue events today, want 1", n)
	}
}

// minor reads a money field of a record as integer minor units.
func minor(t testing.TB, r sdk.Record, field string) int64 {
	t.Helper()
	m, _ := r[field].(map[string]any)
	s, _ := m["amount"].(string)
	n, err := strconv.ParseInt(strings.Replace(s, ".", "", 1), 10, 64)
	if err != nil {
		t.Fatalf("%s %v: %v", field, r[field], err)
	}
	return n
}

// TestStoredTotalsProperty: random invoices issued through the host, in
// AMD, EUR and IRR: each invoice's stored totals equal the sums of its
// stored lines, in integer minor units.
func TestStoredTotalsProperty(t *testing.T) {
	e := start(t, nil)
	r := rand.New(rand.NewPCG(18, 1))
	for i := range 15 {
		cur := []string{"AMD", "EUR", "IRR"}[i%3]
		var items []any
		for range 1 + r.IntN(5) {
			price := fmt.Sprintf("%d.%02d", r.IntN(100000), r.IntN(100))
			if cur == "IRR" {
				price = strconv.Itoa(r.IntN(10_000_000))
			}
			items = append(items, map[string]any{
				"description": "item", "quantity": fmt.Sprintf("%d.%03d", 1+r.IntN(50), r.IntN(1000)),
				"unit_price": map[string]any{"amount": price, "currency": cur},
				"discount":   fmt.Sprintf("%d.%d", r.IntN(100), r.IntN(10)), "vat_rate": []string{"20", "21", "18", "10", "0"}[r.IntN(5)],
			})
		}
		inv, err := e.issue(e.wonDeal(fmt.Sprintf("Random %d", i), nil), map[string]any{"lines": map[string]any{"items": items}})
		if err != nil {
			t.Fatalf("invoice %d: %v", i, err)
		}
		var net, vat, gross int64
		lines := e.List("invoice_line", sdk.Eq("invoice", inv.ID()))
		if len(lines) != len(items) {
			t.Fatalf("invoice %d: %d lines, want %d", i, len(lines), len(items))
		}
		for _, l := range lines {
			if minor(t, l, "net")+minor(t, l, "vat") != minor(t, l, "gross") {
				t.Errorf("invoice %d: line %v: net + vat != gross", i, l)
			}
			net, vat, gross = net+minor(t, l, "net"), vat+minor(t, l, "vat"), gross+minor(t, l, "gross")
		}
		if minor(t, inv, "net") != net || minor(t, inv, "vat") != vat || minor(t, inv, "gross") != gross || minor(t, inv, "balance") != gross {
			t.Errorf("invoice %d (%s): totals %v %v %v, lines sum to %d %d %d", i, cur, inv["net"], inv["vat"], inv["gross"], net, vat, gross)
		}
	}
}

// exportFile runs export and returns the accounting_export record and its
// file's content.
func (e *env) exportFile(kind, format, from, to string) (sdk.Record, string) {
	e.t.Helper()
	var rec sdk.Record
	if err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionExport,
		Args: map[string]any{"kind": kind, "format": format, "from": from, "to": to}}, &rec); err != nil {
		e.t.Fatal(err)
	}
	file, _ := rec["file"].(map[string]any)
	_, data := e.ReadFile(file["id"].(string))
	return rec, string(data)
}

// TestExport: the invoices issued and the payments made in a period, as
// CSV with the documented columns and as JSON with the lines, exact to the
// luma; drafts and other periods are left out.
func TestExport(t *testing.T) {
	e := start(t, nil)
	inv := e.workedExample() // 2026-03-21, Tyres for the Camry LLC
	late, err := e.issue(e.wonDeal("April", amd("100")), map[string]any{"issue_date": "2026-04-01"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.pay(inv, map[string]any{"amount": map[string]any{"amount": "200", "currency": "EUR"}, "rate": "420.50", "date": "2026-03-25", "reference": "SWIFT 123"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.pay(late, map[string]any{"amount": amd("10"), "date": "2026-04-02"}); err != nil {
		t.Fatal(err)
	}
	rec, got := e.exportFile("invoices", "csv", "2026-03-01", "2026-03-31")
	co := e.Get("deal", inv.String("deal")).String("company")
	want := "number,issue_date,due_date,status,currency,net,vat,gross,paid,balance,company_id,company_name,contact_id,contact_name,deal_id,invoice_id,credited,credit_of_number\n" +
		fmt.Sprintf("INV-2026-0001,2026-03-21,2026-04-20,partly_paid,AMD,175163.00,35032.60,210195.60,84100.00,126095.60,%s,Tyres for the Camry LLC,,,%s,%s,0.00,\n", co, inv.String("deal"), inv.ID())
	if got != want || rec["rows"] != float64(1) || rec.String("name") != "invoices-2026-03-01-2026-03-31.csv" {
		t.Errorf("invoices CSV %v:\n%s\nwant\n%s", rec, got, want)
	}
	_, got = e.exportFile("payments", "csv", "2026-03-01", "2026-03-31")
	lines := strings.Split(strings.TrimSpace(got), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[1], "2026-03-25,200.00,EUR,420.5,bank_transfer,SWIFT 123,INV-2026-0001,84100.00,AMD,"+co+",Tyres for the Camry LLC,") {
		t.Errorf("payments CSV:\n%s", got)
	}
	_, got = e.exportFile("invoices", "json", "2026-03-01", "2026-04-30")
	var doc struct {
		Kind  string           `json:"kind"`
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(got), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != "invoices" || len(doc.Items) != 2 || doc.Items[0]["gross"] != "210195.60" || doc.Items[1]["number"] != "INV-2026-0002" {
		t.Fatalf("JSON: %s", got)
	}
	ls, _ := doc.Items[0]["lines"].([]any)
	if len(ls) != 2 || ls[1].(map[string]any)["net"] != "5000.00" || ls[0].(map[string]any)["discount"] != "7.5" {
		t.Errorf("JSON lines: %v", ls)
	}
	_, err = e.As(e.admin).Invoke(sdk.Call{Action: accounting.ActionExport, Args: map[string]any{"kind": "invoices", "format": "csv", "from": "2026-04-01", "to": "2026-03-01"}})
	refusal(t, err, sdk.CodeInvalidArgs, "to", "is before from")
}

// TestImportBankStatement: a statement's receipts become payments of the
// invoices their references name (or, naming none, of the one open invoice
// with exactly that balance); the rest are listed, kept as unmatched
// bank lines, and one is then matched by hand; importing the statement
// again records nothing twice.
func TestImportBankStatement(t *testing.T) {
	e := start(t, nil)
	a, _ := e.issue(e.wonDeal("A", amd("1000")), nil)   // INV-...-0001, 1 200.00
	b, _ := e.issue(e.wonDeal("B", amd("2000")), nil)   // 0002, 2 400.00
	c, _ := e.issue(e.wonDeal("C", amd("333.33")), nil) // 0003, 399.996 -> 400.00
	num := func(r sdk.Record) string { return r.String("number") }
	statement := "Date;Amount;Currency;Reference;Payer\n" +
		"2026-03-02;1200.00;AMD;Payment for " + strings.ToLower(num(a)) + ";A LLC\n" + // by number, any case: paid
		"02.03.2026;1 000.00;AMD;" + num(b) + " part;B LLC\n" + // by number, part: partly paid
		"2026-03-03;400.00;AMD;thanks;C LLC\n" + // no number, one open invoice of 400.00: c
		"2026-03-03;-50.00;AMD;bank fee;\n" + // outgoing: left out
		"2026-03-04;77.00;AMD;no idea;D LLC\n" + // nothing to match
		"2026-03-04;5000.00;AMD;" + num(b) + ";B LLC\n" // more than b's balance
	file := e.As(e.admin).StoreFile("march.csv", "text/csv", []byte(statement))
	var got struct {
		Lines, Matched, Skipped int
		Unmatched               []map[string]any
	}
	imp := sdk.Call{Action: accounting.ActionImportBank, Args: map[string]any{"file": file["id"]}}
	if err := e.As(e.admin).InvokeInto(imp, &got); err != nil {
		t.Fatal(err)
	}
	if got.Lines != 5 || got.Matched != 3 || got.Skipped != 0 || len(got.Unmatched) != 2 {
		t.Fatalf("import: %+v", got)
	}
	if r := got.Unmatched[0]["reason"].(string); !strings.Contains(r, "names no invoice and no open invoice has a balance of 77.00 AMD") {
		t.Errorf("reason: %s", r)
	}
	if r := got.Unmatched[1]["reason"].(string); !strings.Contains(r, "names invoice "+num(b)+", but: the payment of 5000.00 AMD is more than the balance") {
		t.Errorf("reason: %s", r)
	}
	for _, w := range []struct {
		inv  sdk.Record
		want string
	}{{a, "paid 0.00 AMD"}, {b, "partly_paid 1400.00 AMD"}, {c, "paid 0.00 AMD"}} {
		inv, want := w.inv, w.want
		got := e.Get("invoice", inv.ID())
		if s := got.String("status") + " " + amount(got, "balance"); s != want {
			t.Errorf("%s: %s, want %s", num(inv), s, want)
		}
	}
	// Again: every line is known.
	if err := e.As(e.admin).InvokeInto(imp, &got); err != nil || got.Skipped != 5 || got.Matched != 0 || len(got.Unmatched) != 0 {
		t.Fatalf("import again: %+v, %v", got, err)
	}
	if n := len(e.List("payment", "")); n != 3 {
		t.Errorf("%d payments, want 3", n)
	}
	// A person matches the line of 77.00 to b.
	var out map[string]sdk.Record
	if err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionMatchBank, Args: map[string]any{"invoice": b.ID()},
		Record: &sdk.RecordRef{Entity: "bank_line", ID: bankLineID(t, e, "no idea")}}, &out); err != nil {
		t.Fatal(err)
	}
	if out["bank_line"].String("status") != "matched" || amount(out["invoice"], "balance") != "1323.00 AMD" {
		t.Errorf("matched by hand: %v", out)
	}
	_, err := e.As(e.admin).Update("bank_line", out["bank_line"].ID(), map[string]any{"reference": "x"})
	if err == nil || !strings.Contains(err.Error(), "is locked") {
		t.Errorf("edit a matched bank line: %v", err)
	}
	_, err = e.As(e.admin).Invoke(sdk.Call{Action: accounting.ActionImportBank, Args: map[string]any{"file": e.As(e.admin).StoreFile("x.csv", "text/csv", []byte("when,how much\n1,2\n"))["id"]}})
	refusal(t, err, sdk.CodeInvalidArgs, "file", `the statement's header has no "date" column`)
}

// bankLineID is the id of the bank line with a reference.
func bankLineID(t *testing.T, e *env, reference string) string {
	t.Helper()
	lines := e.List("bank_line", sdk.Eq("reference", reference))
	if len(lines) != 1 {
		t.Fatalf("bank lines %q: %v", reference, lines)
	}
	return lines[0].ID()
}

// TestReports: revenue of a period by month, manager, product and lead
// source, per currency, and the receivables of every customer with their
// ageing; cancelled invoices and other periods left out.
func TestReports(t *testing.T) {
	e := start(t, nil)
	ann := e.AddUser("ann@example.com", "admin")
	issue := func(title, source, owner, date string, amt map[string]any) sdk.Record {
		t.Helper()
		co := e.Create("company", map[string]any{"name": title + " LLC"})
		d := e.Create("deal", map[string]any{"title": title, "stage": "won", "pipeline": "sales", "company": co.ID(),
			"amount": amt, "source": source, "owner": owner})
		inv, err := e.issue(d, map[string]any{"issue_date": date, "due_date": date})
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	issue("A", "website", ann.ID, "2026-03-05", amd("1000"))                                       // net 1 000.00, gross 1 200.00
	issue("B", "referral", e.admin.ID, "2026-03-20", amd("500.50"))                                // 500.50, 600.60
	issue("C", "website", ann.ID, "2026-04-02", map[string]any{"amount": "10", "currency": "EUR"}) // 10.00, 12.00 EUR
	x := issue("X", "website", ann.ID, "2026-04-03", amd("999"))                                   // cancelled
	issue("Z", "website", ann.ID, "2026-05-01", amd("7"))                                          // out of the period
	if _, err := e.Invoke(sdk.Call{Action: accounting.ActionCancel, Record: &sdk.RecordRef{Entity: "invoice", ID: x.ID()}}); err != nil {
		t.Fatal(err)
	}
	report := func(by string) []string {
		t.Helper()
		var got struct{ Rows []map[string]any }
		if err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionRevenue,
			Args: map[string]any{"by": by, "from": "2026-03-01", "to": "2026-04-30"}}, &got); err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range got.Rows {
			out = append(out, fmt.Sprintf("%v %v %v/%v x%v", r["label"], r["currency"], r["net"].(map[string]any)["amount"], r["gross"].(map[string]any)["amount"], r["invoices"]))
		}
		return out
	}
	for by, want := range map[string][]string{
		"month":   {"2026-03 AMD 1500.50/1800.60 x2", "2026-04 EUR 10.00/12.00 x1"},
		"source":  {"referral AMD 500.50/600.60 x1", "website AMD 1000.00/1200.00 x1", "website EUR 10.00/12.00 x1"},
		"product": {"(no product) AMD 1500.50/1800.60 x2", "(no product) EUR 10.00/12.00 x1"},
	} {
		if got := report(by); !slices.Equal(got, want) {
			t.Errorf("by %s:\n%v\nwant\n%v", by, got, want)
		}
	}
	// The same report as a table the UI shows: columns labelled in every
	// language, one totals row per currency.
	var tab struct{ Table sdk.Table }
	if err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionRevenue,
		Args: map[string]any{"by": "month", "from": "2026-03-01", "to": "2026-04-30"}}, &tab); err != nil {
		t.Fatal(err)
	}
	var cols []string
	for _, c := range tab.Table.Columns {
		cols = append(cols, c.Name+":"+c.Type)
		for _, lang := range sdk.UILanguages {
			if c.Labels[lang] == "" {
				t.Errorf("column %s has no %s label", c.Name, lang)
			}
		}
	}
	if want := []string{"group:string", "currency:string", "invoices:int", "net:money", "gross:money"}; !slices.Equal(cols, want) {
		t.Errorf("columns %v, want %v", cols, want)
	}
	if len(tab.Table.Rows) != 2 || tab.Table.Rows[0]["group"] != "2026-03" || len(tab.Table.Totals) != 2 ||
		fmt.Sprint(tab.Table.Totals[0]["gross"]) != "map[amount:1800.60 currency:AMD]" || tab.Table.Totals[0]["invoices"] != float64(2) {
		t.Errorf("table rows %v, totals %v", tab.Table.Rows, tab.Table.Totals)
	}
	byManager := report("manager")
	slices.Sort(byManager)
	want := []string{ann.ID + " AMD 1000.00/1200.00 x1", ann.ID + " EUR 10.00/12.00 x1", e.admin.ID + " AMD 500.50/600.60 x1"}
	slices.Sort(want)
	if !slices.Equal(byManager, want) {
		t.Errorf("by manager:\n%v\nwant\n%v", byManager, want)
	}

	var rec struct {
		Totals    []map[string]any
		Customers []map[string]any
	}
	if err := e.As(e.admin).InvokeInto(sdk.Call{Action: accounting.ActionReceivables, Args: map[string]any{"date": "2026-04-20"}}, &rec); err != nil {
		t.Fatal(err)
	}
	am := func(m map[string]any, k string) string { return m[k].(map[string]any)["amount"].(string) }
	// As of 20 April: A (due 5 March) 46 days and B (20 March) 31 days past
	// due, Z (1 May) not yet due; C in euros 18 days.
	if len(rec.Totals) != 2 || am(rec.Totals[0], "balance") != "1809.00" || am(rec.Totals[0], "31-60") != "1800.60" ||
		am(rec.Totals[0], "current") != "8.40" || am(rec.Totals[1], "balance") != "12.00" || am(rec.Totals[1], "0-30") != "12.00" {
		t.Errorf("totals: %v", rec.Totals)
	}
	if len(rec.Customers) != 4 || rec.Customers[0]["name"] != "A LLC" || am(rec.Customers[0], "31-60") != "1200.00" {
		t.Errorf("customers: %v", rec.Customers)
	}
}
