package accounting_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/plugins/accounting"
	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// startCrashing runs the plugin in a process of its own that kills itself
// (as kill -9 does) at the point crash names (accounting.CrashEnv).
func startCrashing(t *testing.T, crash string) *env {
	t.Setenv(accounting.CrashEnv, crash)
	h := sdktest.Start(t, accounting.New(), sdktest.Options{
		Config: testHCL,
		Read:   []string{"contact", "company", "deal"}, Write: writes,
		PluginConfig: map[string]any{"vat_percent": 20, "check_every": "0"},
		Process:      true,
		CallTimeout:  60 * time.Second,
		Locale:       sdk.Locale{Currency: "AMD", Timezone: "Asia/Yerevan"},
		Env:          []string{accounting.CrashEnv},
	})
	return &env{Host: h, t: t, admin: h.AddUser("admin@example.com", "admin")}
}

// answering waits until the plugin answers again after its crash (its
// supervisor starts a new process, whose Configure reconciles).
func (e *env) answering(company string) {
	e.t.Helper()
	var err error
	for range 120 {
		if _, err = e.As(e.admin).Invoke(sdk.Call{Action: accounting.ActionBalance,
			Record: &sdk.RecordRef{Entity: "company", ID: company}}); err == nil {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
	e.t.Fatalf("the plugin does not answer after its crash: %v", err)
}

// paidChanges are the changes of an invoice's history that touched its
// paid amount, as "old -> new".
func paidChanges(e *env, inv sdk.Record) []string {
	var out []string
	for _, h := range e.History("invoice", inv.ID()) {
		if c, ok := h.Changes["paid"]; ok && h.Action == "updated" {
			out = append(out, fmt.Sprint(c.Old, " -> ", c.New))
		}
	}
	return out
}

// TestKilledBetweenPaymentAndInvoice kills the plugin's process right
// after a payment is written, before its invoice is: the new process
// settles the payment at its start, and the invoice reflects it exactly
// once, however often the call is then retried with its key (the host
// itself sends a keyed call in flight at a crash to the new process once
// more).
func TestKilledBetweenPaymentAndInvoice(t *testing.T) {
	e := startCrashing(t, "payment:KILL-1")
	deal := e.wonDeal("Camry", amd("1000")) // 1200.00 gross
	inv, err := e.issue(deal, map[string]any{"issue_date": "2026-03-21"})
	if err != nil {
		t.Fatal(err)
	}
	call := sdk.Call{Action: accounting.ActionPay, IdempotencyKey: "rule:pay:1",
		Record: &sdk.RecordRef{Entity: "invoice", ID: inv.ID()},
		Args:   map[string]any{"amount": amd("500.01"), "date": "2026-03-25", "reference": "KILL-1"}}
	first, err := e.As(e.admin).Invoke(call) // answered by the new process, or failed with the old one
	e.answering(deal.String("company"))
	if e.Restarts() == 0 {
		t.Fatal("the plugin was not restarted")
	}
	check := func(when string) {
		t.Helper()
		got := e.Get("invoice", inv.ID())
		if got.String("status") != "partly_paid" || amount(got, "paid") != "500.01 AMD" || amount(got, "balance") != "699.99 AMD" {
			t.Errorf("%s: invoice %s, paid %s, balance %s; want partly_paid, 500.01 AMD, 699.99 AMD",
				when, got.String("status"), amount(got, "paid"), amount(got, "balance"))
		}
		pms := e.List("payment", "")
		if len(pms) != 1 || pms[0].String("status") != accounting.PaymentRecorded {
			t.Errorf("%s: payments %v, want one recorded", when, pms)
		}
		if al := e.List("payment_allocation", sdk.Eq("invoice", inv.ID())); len(al) != 1 || amount(al[0], "amount") != "500.01 AMD" {
			t.Errorf("%s: allocations %v, want one of 500.01 AMD", when, al)
		}
		if ch := paidChanges(e, inv); len(ch) != 1 || !strings.Contains(ch[0], "500.01") {
			t.Errorf("%s: the invoice's paid changed %d times (%v), want once, to 500.01", when, len(ch), ch)
		}
	}
	check("after the restart")
	if err == nil && !strings.Contains(string(first), e.List("payment", "")[0].ID()) {
		t.Errorf("the call answered %s, not the payment", first)
	}

	// The rule's retry with its key answers the payment and changes nothing.
	var out map[string]sdk.Record
	if err := e.As(e.admin).InvokeInto(call, &out); err != nil {
		t.Fatal(err)
	}
	if out["payment"].ID() != e.List("payment", "")[0].ID() || out["invoice"].String("status") != "partly_paid" {
		t.Errorf("the retry answered %v", out)
	}
	check("after the keyed retry")

	// The rest pays it in full.
	if _, err := e.pay(inv, map[string]any{"amount": amd("699.99"), "date": "2026-03-26"}); err != nil {
		t.Fatal(err)
	}
	if got := e.Get("invoice", inv.ID()); got.String("status") != "paid" || amount(got, "balance") != "0.00 AMD" || amount(got, "paid") != "1200.00 AMD" {
		t.Errorf("after the rest: %s paid %s balance %s", got.String("status"), amount(got, "paid"), amount(got, "balance"))
	}
	if ch := paidChanges(e, inv); len(ch) != 2 {
		t.Errorf("paid changes %v, want 2", ch)
	}
}

// TestKilledBetweenTwoInvoices kills the plugin's process after a payment
// of a company is settled on the first of its two invoices, before the
// second: the new process settles the second, and each invoice shows the
// payment once.
func TestKilledBetweenTwoInvoices(t *testing.T) {
	e := startCrashing(t, "invoice:KILL-2")
	co := e.Create("company", map[string]any{"name": "Ararat Motors"})
	issue := func(title, amt string) sdk.Record {
		d := e.Create("deal", map[string]any{"title": title, "stage": "won", "company": co.ID(), "pipeline": "sales", "amount": amd(amt)})
		inv, err := e.issue(d, map[string]any{"issue_date": "2026-03-01"})
		if err != nil {
			t.Fatal(err)
		}
		return inv
	}
	a, b := issue("A", "100"), issue("B", "1000.01") // 120.00 and 1200.01
	items := []any{
		map[string]any{"invoice": a.ID(), "amount": amd("120.00")},
		map[string]any{"invoice": b.ID(), "amount": amd("880.00")},
	}
	_, err := e.As(e.admin).Invoke(sdk.Call{Action: accounting.ActionPay, Record: &sdk.RecordRef{Entity: "company", ID: co.ID()},
		Args: map[string]any{"amount": amd("1000.00"), "date": "2026-03-10", "reference": "KILL-2", "allocations": map[string]any{"items": items}}})
	if err == nil {
		t.Fatal("the call that kills the plugin answered")
	}
	e.answering(co.ID())
	if e.Restarts() == 0 {
		t.Fatal("the plugin was not restarted")
	}
	for _, c := range []struct {
		inv                   sdk.Record
		status, paid, balance string
	}{{a, "paid", "120.00 AMD", "0.00 AMD"}, {b, "partly_paid", "880.00 AMD", "320.01 AMD"}} {
		got := e.Get("invoice", c.inv.ID())
		if got.String("status") != c.status || amount(got, "paid") != c.paid || amount(got, "balance") != c.balance {
			t.Errorf("invoice %s: %s paid %s balance %s; want %s, %s, %s", got.String("number"), got.String("status"),
				amount(got, "paid"), amount(got, "balance"), c.status, c.paid, c.balance)
		}
		if ch := paidChanges(e, c.inv); len(ch) != 1 {
			t.Errorf("invoice %s: paid changed %v, want once", got.String("number"), ch)
		}
	}
	pms := e.List("payment", "")
	if len(pms) != 1 || pms[0].String("status") != accounting.PaymentRecorded || len(e.List("payment_allocation", "")) != 2 {
		t.Errorf("payments %v, allocations %d; want one recorded payment with 2", pms, len(e.List("payment_allocation", "")))
	}
}

// TestConcurrentPaymentsNeverOverpay: ten payments of 200.00 at once on an
// invoice of 1200.00 all pass the first check, but each is settled on the
// invoice under its version: six are recorded, four refused as
// overpayments (their records marked refused), and the invoice is paid
// exactly, its paid amount changed six times.
func TestConcurrentPaymentsNeverOverpay(t *testing.T) {
	e := start(t, nil)
	inv, err := e.issue(e.wonDeal("Camry", amd("1000")), map[string]any{"issue_date": "2026-03-21"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for range 10 {
		wg.Go(func() {
			_, err := e.pay(inv, map[string]any{"amount": amd("200.00"), "date": "2026-03-25"})
			var r *sdk.Refusal
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.As(err, &r) && (r.Code == accounting.CodeOverpayment || r.Code == accounting.CodeNotPayable):
				refused++
			default:
				t.Errorf("pay: %v", err)
			}
		})
	}
	wg.Wait()
	got := e.Get("invoice", inv.ID())
	if ok != 6 || refused != 4 || got.String("status") != "paid" || amount(got, "paid") != "1200.00 AMD" || amount(got, "balance") != "0.00 AMD" {
		t.Errorf("%d recorded, %d refused; invoice %s paid %s balance %s; want 6, 4, paid 1200.00 AMD, 0.00 AMD",
			ok, refused, got.String("status"), amount(got, "paid"), amount(got, "balance"))
	}
	if n := len(e.List("payment", sdk.Eq("status", accounting.PaymentRecorded))); n != 6 {
		t.Errorf("%d payments recorded, want 6", n)
	}
	if n := len(e.List("payment_allocation", "")); n != 6 {
		t.Errorf("%d allocations, want 6", n)
	}
	if ch := paidChanges(e, inv); len(ch) != 6 {
		t.Errorf("paid changed %d times, want 6: %v", len(ch), ch)
	}
}
