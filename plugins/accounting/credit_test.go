package accounting_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
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

// creditedChanges are the changes of an invoice's history that touched
// its credited amount, as "old -> new".
func creditedChanges(e *env, inv sdk.Record) []string {
	var out []string
	for _, h := range e.History("invoice", inv.ID()) {
		if c, ok := h.Changes["credited"]; ok && h.Action == "updated" {
			out = append(out, fmt.Sprint(c.Old, " -> ", c.New))
		}
	}
	return out
}

// killedCredit credits 300.00 of an invoice of 1200.00 with a keyed call
// whose process is killed at point (accounting.CrashEnv): after the
// restart the invoice is credited once, the credit note is issued with
// its one line, its number is CN-2026-0001, and a keyed retry answers it
// and changes nothing.
func killedCredit(t *testing.T, point string) {
	reason := "KILL-" + point
	e := startCrashing(t, point+":"+reason)
	deal := e.wonDeal("Camry", amd("1000")) // 1200.00 gross
	inv, err := e.issue(deal, map[string]any{"issue_date": "2026-03-21"})
	if err != nil {
		t.Fatal(err)
	}
	call := sdk.Call{Action: accounting.ActionCredit, IdempotencyKey: "rule:credit:1",
		Record: &sdk.RecordRef{Entity: "invoice", ID: inv.ID()},
		Args: map[string]any{"reason": reason, "issue_date": "2026-03-22", "lines": map[string]any{"items": []any{
			map[string]any{"description": "Mats", "quantity": 1, "unit_price": amd("250")}}}}}
	_, _ = e.As(e.admin).Invoke(call) // answered by the new process, or failed with the old one
	e.answering(deal.String("company"))
	if e.Restarts() == 0 {
		t.Fatal("the plugin was not restarted")
	}
	var cnID string
	check := func(when string) {
		t.Helper()
		got := e.Get("invoice", inv.ID())
		if got.String("status") != "issued" || amount(got, "credited") != "300.00 AMD" || amount(got, "balance") != "900.00 AMD" {
			t.Errorf("%s: invoice %s, credited %s, balance %s; want issued, 300.00 AMD, 900.00 AMD",
				when, got.String("status"), amount(got, "credited"), amount(got, "balance"))
		}
		cns := e.List("invoice", sdk.Eq("credit_of", inv.ID()))
		if len(cns) != 1 {
			t.Fatalf("%s: credit notes %v, want one", when, cns)
		}
		cn := cns[0]
		cnID = cn.ID()
		if cn.String("status") != "credit_note" || cn.String("number") != "CN-2026-0001" || amount(cn, "gross") != "-300.00 AMD" {
			t.Errorf("%s: credit note %s %s %s, want credit_note CN-2026-0001 -300.00 AMD", when, cn.String("status"), cn.String("number"), amount(cn, "gross"))
		}
		if got.String("credit_notes") != cn.ID() {
			t.Errorf("%s: the invoice lists credit notes %q, want %q", when, got.String("credit_notes"), cn.ID())
		}
		if ls := e.List("invoice_line", sdk.Eq("invoice", cn.ID())); len(ls) != 1 || amount(ls[0], "gross") != "-300.00 AMD" || ls[0].String("quantity") != "-1" {
			t.Errorf("%s: credit note lines %v, want one of -300.00 AMD", when, ls)
		}
		if ch := creditedChanges(e, inv); len(ch) != 1 || !strings.Contains(ch[0], "300.00") {
			t.Errorf("%s: the invoice's credited changed %d times (%v), want once, to 300.00", when, len(ch), ch)
		}
		if n := len(e.List("invoice", "")); n != 2 {
			t.Errorf("%s: %d invoice records, want the invoice and its credit note", when, n)
		}
	}
	check("after the restart")

	var out sdk.Record
	if err := e.As(e.admin).InvokeInto(call, &out); err != nil {
		t.Fatal(err)
	}
	if out.ID() != cnID || out.String("status") != "credit_note" {
		t.Errorf("the keyed retry answered %v", out)
	}
	check("after the keyed retry")

	// The invoice takes a payment and another credit as usual.
	if _, err := e.pay(inv, map[string]any{"amount": amd("600.00"), "date": "2026-03-25"}); err != nil {
		t.Fatal(err)
	}
	cn2, err := e.credit(inv, map[string]any{"issue_date": "2026-03-26", "lines": map[string]any{"items": []any{
		map[string]any{"description": "Rest", "quantity": 1, "unit_price": amd("250")}}}})
	if err != nil {
		t.Fatal(err)
	}
	got := e.Get("invoice", inv.ID())
	if cn2.String("number") != "CN-2026-0002" || got.String("status") != "paid" || amount(got, "credited") != "600.00 AMD" ||
		amount(got, "paid") != "600.00 AMD" || amount(got, "balance") != "0.00 AMD" {
		t.Errorf("after a payment and a second credit: %s, %s credited %s paid %s balance %s", cn2.String("number"),
			got.String("status"), amount(got, "credited"), amount(got, "paid"), amount(got, "balance"))
	}
}

// TestKilledAfterCreditNote kills the plugin's process right after the
// credit note is written (pending), before its invoice is credited: the
// new process completes it at its start.
func TestKilledAfterCreditNote(t *testing.T) { killedCredit(t, "credit_note") }

// TestKilledAfterCreditBeforeLines kills the plugin's process after the
// invoice is credited, before the credit note's lines are written: the new
// process writes them and issues the credit note, and the invoice is not
// credited twice.
func TestKilledAfterCreditBeforeLines(t *testing.T) { killedCredit(t, "credited") }

// TestConcurrentCreditsNeverOvercredit: ten credits of 300.00 at once on
// an invoice of 1200.00: four are issued and the invoice is credited in
// full exactly; the others are refused, either before a number is taken
// or, when a concurrent credit took the balance after the check, as a
// refused credit note that keeps its number with amounts of 0. The CN
// series has no gap.
func TestConcurrentCreditsNeverOvercredit(t *testing.T) {
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
			_, err := e.credit(inv, map[string]any{"issue_date": "2026-03-22", "lines": map[string]any{"items": []any{
				map[string]any{"description": "Part", "quantity": 1, "unit_price": amd("250")}}}})
			var r *sdk.Refusal
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok++
			case errors.As(err, &r) && (r.Code == accounting.CodeOvercredit || r.Code == accounting.CodeNotCreditable):
				refused++
			default:
				t.Errorf("credit: %v", err)
			}
		})
	}
	wg.Wait()
	got := e.Get("invoice", inv.ID())
	if ok != 4 || refused != 6 || got.String("status") != "credited" || amount(got, "credited") != "1200.00 AMD" || amount(got, "balance") != "0.00 AMD" {
		t.Errorf("%d issued, %d refused; invoice %s credited %s balance %s; want 4, 6, credited 1200.00 AMD, 0.00 AMD",
			ok, refused, got.String("status"), amount(got, "credited"), amount(got, "balance"))
	}
	cns := e.List("invoice", sdk.Eq("credit_of", inv.ID()))
	seqs := map[string]bool{}
	issued := 0
	for _, cn := range cns {
		seqs[cn.String("number")] = true
		switch cn.String("status") {
		case "credit_note":
			issued++
		case "refused":
			if amount(cn, "gross") != "0.00 AMD" || len(e.List("invoice_line", sdk.Eq("invoice", cn.ID()))) != 0 {
				t.Errorf("refused credit note %s: gross %s, with lines", cn.String("number"), amount(cn, "gross"))
			}
		default:
			t.Errorf("credit note %s is %s", cn.String("number"), cn.String("status"))
		}
	}
	for i := 1; i <= len(cns); i++ {
		if n := fmt.Sprintf("CN-2026-%04d", i); !seqs[n] {
			t.Errorf("the CN series has a gap at %s: %v", n, seqs)
		}
	}
	if issued != 4 {
		t.Errorf("%d credit notes issued, want 4", issued)
	}
	t.Logf("%d refused before a number was taken, %d refused as credit notes keeping their numbers", refused-(len(cns)-issued), len(cns)-issued)
	if ch := creditedChanges(e, inv); len(ch) != 4 {
		t.Errorf("credited changed %d times, want 4: %v", len(ch), ch)
	}
}
