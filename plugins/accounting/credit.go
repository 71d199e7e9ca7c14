package accounting

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/series"
)

// An issued invoice is not edited: what it should not have charged is
// credited. A credit note is an invoice record of its own series (config
// credit_series, "CN") with status credit_note, credit_of naming the
// invoice, and negative lines and totals; the invoice's credited amount
// is the sum of the credit notes it lists, and its balance shrinks by it.
// A credit note is at most the invoice's balance: what was paid is
// refunded, not credited.
//
// Crediting takes several writes and the host has no transaction across
// records, so they are ordered as a payment's (settle.go) to make a crash
// (kill -9) between any two harmless:
//
//  1. The number is taken from the series with a key, and the credit
//     note is written with it, status pending, its totals and its lines
//     (a JSON list in its credit_lines field): the source of truth.
//  2. The invoice is derived from it: unless it lists the credit note
//     already (field credit_notes), its credited, balance and status are
//     recomputed (applied.values, the one derivation payments use too)
//     from the credit notes and payments it lists with this one added,
//     under its version, with a key derived from the credit note's id.
//  3. The invoice_line records are written (each unless there is one),
//     invoice.issued is emitted (keyed), and the status becomes
//     credit_note.
//
// A credit note left pending is completed by a keyed retry of the call,
// at the plugin's start and by the overdue ticker (reconcileCredits). One
// that no longer fits the invoice when it is applied (a concurrent payment
// or credit took the balance) is refused: its status becomes refused and
// its amounts 0, and it keeps its number, so the series stays gapless.

// creditArgs are credit_invoice's arguments.
type creditArgs struct {
	Reason    string `json:"reason"`
	IssueDate string `json:"issue_date"`
	Series    string `json:"series"`
	Lines     *struct {
		Items []lineArg `json:"items"`
	} `json:"lines"`
}

// credit issues a credit note of an invoice: of every line of the invoice
// when no lines are given (an invoice nothing was paid or credited of),
// else of the lines given (computed as issue_invoice's, then negated).
// With the call's idempotency key, a repeat answers the first call's
// credit note, completing it first if it was left pending.
func (p *Plugin) credit(ctx context.Context, call sdk.Call) (any, error) {
	var a creditArgs
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, "credit_invoice: "+err.Error())
	}
	if call.Record == nil || call.Record.Entity != InvoiceEntity {
		return nil, sdk.RefuseField("entity", sdk.CodeInvalidArgs, "credit_invoice works on an invoice")
	}
	host := sdk.HostFrom(ctx)
	key := call.IdempotencyKey
	if key != "" {
		if cn, err := firstWhere(ctx, InvoiceEntity, sdk.Eq("key", key)); err != nil {
			return nil, err
		} else if cn != nil && cn.String("credit_of") != "" {
			return completeCredit(ctx, cn)
		} else if cn != nil {
			return cn, nil
		}
	}
	cfg := p.settings()
	inv, err := host.Get(ctx, InvoiceEntity, call.Record.ID)
	if err != nil {
		return nil, err
	}
	if err := creditable(inv); err != nil {
		return nil, err
	}
	number, cur := inv.String("number"), inv.String("currency")
	var lines []Line
	if a.Lines == nil {
		if lines, err = invoiceLines(ctx, inv); err != nil {
			return nil, err
		}
	} else {
		c, ls, err := p.dealLines(ctx, sdk.Record{"title": "Credit for invoice " + number}, issueArgs{Lines: a.Lines})
		if err != nil {
			return nil, err
		}
		if c != cur {
			return nil, sdk.RefuseField("lines.items[0].unit_price", CodeCurrency, fmt.Sprintf("the credit is in %s, invoice %s in %s: a credit note is in its invoice's currency", c, number, cur))
		}
		lines = ls
	}
	totals := Sum(lines)
	if totals.Gross <= 0 {
		return nil, sdk.RefuseField("lines", CodeBadLine, fmt.Sprintf("a credit note of invoice %s credits more than 0", number))
	}
	issued, err := p.dateArg("issue_date", a.IssueDate)
	if err != nil {
		return nil, err
	}
	if d := inv.String("issue_date"); d != "" && issued.Format(time.DateOnly) < d {
		return nil, sdk.RefuseField("issue_date", sdk.CodeInvalidArgs, fmt.Sprintf("the credit note's date %s is before invoice %s's, %s", issued.Format(time.DateOnly), number, d))
	}

	// Checked against the balance as it is now, before a number is
	// taken: a credit that fits no longer is refused with nothing written.
	if bal, err := moneyOf(inv["balance"]); err != nil {
		return nil, fmt.Errorf("invoice %s: balance: %w", number, err)
	} else if totals.Gross > bal.Minor {
		return nil, overcredit(Money{totals.Gross, cur}, number, bal, "nothing was recorded")
	}
	wkey := key
	if wkey == "" {
		wkey = "credit:" + rand.Text()
	}
	ser := a.Series
	if ser == "" {
		ser = cfg.creditSeries
	}
	year := issued.Year()
	n, err := numbers.Take(ctx, ser, year, wkey)
	if err != nil {
		return nil, err
	}
	js, err := json.Marshal(lines)
	if err != nil {
		return nil, fmt.Errorf("credit note: lines: %w", err)
	}
	m := func(minor int64) map[string]any { return Money{minor, cur}.JSON() }
	values := map[string]any{
		"number": fmt.Sprintf("%s-%d-%04d", ser, year, n), "series": ser, "year": year, "seq": n,
		"deal": orNil(inv.String("deal")), "company": orNil(inv.String("company")), "contact": orNil(inv.String("contact")),
		"issue_date": issued.Format(time.DateOnly), "due_date": issued.Format(time.DateOnly),
		"currency": cur, "status": StatusPending, "credit_of": inv.ID(), "credit_lines": string(js),
		"net": m(-totals.Net), "vat": m(-totals.VAT), "gross": m(-totals.Gross), "paid": m(0), "balance": m(0),
		"cancel_reason": orNil(a.Reason), "key": orNil(key),
	}
	if owner := inv.String("owner"); owner != "" && call.User == nil {
		values["owner"] = owner
	}
	cn, err := host.Create(ctx, InvoiceEntity, values, sdk.IdempotencyKey(wkey+":credit_note"))
	if err != nil {
		// The number is left to the sweep (numbers.Recover): the write may
		// have been made.
		return nil, fmt.Errorf("invoice %s: store the credit note: %w", number, err)
	}
	crashPoint("credit_note", a.Reason)
	return completeCredit(ctx, cn)
}

// overcredit refuses a credit of more than an invoice's balance.
func overcredit(credit Money, number string, bal Money, outcome string) error {
	return sdk.RefuseField("lines", CodeOvercredit, fmt.Sprintf("the credit of %s is more than the balance of invoice %s, %s (what was paid is refunded, not credited); %s",
		credit, number, bal, outcome))
}

// completeCredit brings a credit note's invoice, its lines and its status
// in line with the credit note record: the second and third steps of
// crediting, which a retry or the reconciliation runs again with no change
// to what is done already. A credit note that does not fit its invoice is
// refused (refuseCredit).
func completeCredit(ctx context.Context, cn sdk.Record) (sdk.Record, error) {
	host := sdk.HostFrom(ctx)
	switch cn.String("status") {
	case StatusCreditNote:
		return cn, nil
	case StatusRefused:
		return nil, sdk.RefuseField("lines", CodeOvercredit, fmt.Sprintf("credit note %s was refused: when it was applied, a concurrent payment or credit had taken the balance it credited; it credits nothing and keeps its number", cn.String("number")))
	case StatusPending:
	default:
		return nil, fmt.Errorf("credit note %s: status %q", cn.String("number"), cn.String("status"))
	}
	var lines []Line
	if err := json.Unmarshal([]byte(cn.String("credit_lines")), &lines); err != nil {
		return nil, fmt.Errorf("credit note %s: lines: %w", cn.String("number"), err)
	}
	changed, err := applyCredit(ctx, cn)
	if err != nil {
		var r *sdk.Refusal
		if errors.As(err, &r) {
			if rerr := refuseCredit(ctx, cn); rerr != nil {
				return nil, errors.Join(err, rerr)
			}
		}
		return nil, err
	}
	if changed {
		crashPoint("credited", cn.String("cancel_reason"))
	}
	cur := cn.String("currency")
	m := func(minor int64) map[string]any { return Money{minor, cur}.JSON() }
	for i, l := range lines {
		values := map[string]any{
			"invoice": cn.ID(), "position": i + 1, "product": orNil(l.Product), "description": l.Description,
			"quantity": negate(l.Quantity), "unit_price": m(l.UnitPrice), "discount": orNil(l.Discount), "vat_rate": l.VATRate,
			"net": m(-l.Net), "vat": m(-l.VAT), "gross": m(-l.Gross), "locked": true,
		}
		if _, _, err := host.CreateUnless(ctx, LineEntity, sdk.And(sdk.Eq("invoice", cn.ID()), sdk.Eq("position", i+1)), values,
			sdk.IdempotencyKey(fmt.Sprintf("line:%s:%d", cn.ID(), i+1))); err != nil {
			return nil, fmt.Errorf("credit note %s: line %d: %w", cn.String("number"), i+1, err)
		}
	}
	if err := emitIssued(ctx, cn); err != nil {
		return nil, err
	}
	done, err := host.Update(ctx, InvoiceEntity, cn.ID(), map[string]any{"status": StatusCreditNote},
		sdk.IdempotencyKey("credit_note:"+cn.ID()))
	if err != nil {
		return nil, fmt.Errorf("credit note %s: mark it issued: %w", cn.String("number"), err)
	}
	return done, nil
}

// applyCredit credits a credit note's invoice: unless the invoice lists it
// already, its credited amount, balance and status are derived from the
// credit notes and payments it lists with this one added, under its
// version. More than the balance, or an invoice no longer open, is
// refused. changed is false when the invoice listed the credit note
// already.
func applyCredit(ctx context.Context, cn sdk.Record) (changed bool, err error) {
	host := sdk.HostFrom(ctx)
	amt := -minorOf(cn, "gross")
	for attempt := 0; ; attempt++ {
		inv, err := host.Get(ctx, InvoiceEntity, cn.String("credit_of"))
		if err != nil {
			return false, fmt.Errorf("credit note %s: its invoice: %w", cn.String("number"), err)
		}
		st, err := appliedTo(ctx, inv)
		if err != nil {
			return false, err
		}
		if slices.Contains(st.credits, cn.ID()) {
			return false, nil
		}
		if err := creditable(inv); err != nil {
			return false, err
		}
		if open := st.open(inv); amt > open {
			cur := inv.String("currency")
			return false, overcredit(Money{amt, cur}, inv.String("number"), Money{open, cur},
				fmt.Sprintf("credit note %s is refused and credits nothing", cn.String("number")))
		}
		st.credits, st.credited = append(st.credits, cn.ID()), st.credited+amt
		_, err = host.Update(ctx, InvoiceEntity, inv.ID(), st.values(inv),
			sdk.IfVersion(inv.Version()), sdk.IdempotencyKey("credit:"+cn.ID()+":"+inv.ID()))
		if errors.Is(err, sdk.ErrConflict) && attempt < maxAttempts {
			series.Backoff(ctx, attempt)
			continue
		}
		if err != nil {
			return false, fmt.Errorf("invoice %s: apply credit note %s: %w", inv.String("number"), cn.String("number"), err)
		}
		return true, nil
	}
}

// refuseCredit marks a credit note that did not fit its invoice refused,
// with amounts of 0; it keeps its number (the series stays gapless). It
// was never applied: applyCredit refuses before the invoice's write.
func refuseCredit(ctx context.Context, cn sdk.Record) error {
	cur := cn.String("currency")
	zero := Money{0, cur}.JSON()
	if _, err := sdk.HostFrom(ctx).Update(ctx, InvoiceEntity, cn.ID(), map[string]any{
		"status": StatusRefused, "net": zero, "vat": zero, "gross": zero,
	}, sdk.IdempotencyKey("refused:"+cn.ID())); err != nil {
		return fmt.Errorf("credit note %s: mark it refused: %w", cn.String("number"), err)
	}
	return nil
}

// reconcileCredits completes the credit notes left pending for more than
// grace, as reconcile does payments. It answers how many it completed or
// refused.
func reconcileCredits(ctx context.Context, grace time.Duration) (int, error) {
	host := sdk.HostFrom(ctx)
	var pending []sdk.Record
	filter := sdk.Eq("status", StatusPending)
	if grace > 0 {
		filter = sdk.And(filter, sdk.Lt("created_at", time.Now().Add(-grace)))
	}
	if err := sdk.Each(ctx, sdk.Query{Entity: InvoiceEntity, Filter: filter, Sort: "created_at", Limit: 100}, func(cn sdk.Record) error {
		pending = append(pending, cn)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("reconcile credit notes: %w", err)
	}
	var errs []error
	n := 0
	for _, cn := range pending {
		_, err := completeCredit(ctx, cn)
		var r *sdk.Refusal
		switch {
		case errors.As(err, &r):
			host.Log(ctx, slog.LevelWarn, "a credit note left pending was refused: it no longer fits its invoice",
				slog.String("credit_note", cn.String("number")), slog.String("reason", r.Message))
		case err != nil:
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// creditable refuses a credit of what is not an open issued invoice.
func creditable(inv sdk.Record) error {
	number := inv.String("number")
	switch st := inv.String("status"); {
	case inv.String("credit_of") != "" || st == StatusCreditNote:
		return sdk.RefuseField("entity", CodeNotCreditable, fmt.Sprintf("%s is a credit note: credit its invoice instead", number))
	case st == StatusIssued, st == StatusPartlyPaid, st == StatusOverdue:
		return nil
	case st == StatusPaid, st == StatusCredited:
		return sdk.RefuseField("entity", CodeNotCreditable, fmt.Sprintf("invoice %s has a balance of 0 (%s): nothing is left to credit; what was paid is refunded", number, st))
	default:
		return sdk.RefuseField("entity", CodeNotCreditable, fmt.Sprintf("invoice %s is %s: only an issued invoice is credited", number, st))
	}
}

// invoiceLines are the computed lines of an invoice, for a credit of all
// of it: refused once anything was paid or credited of it (then the
// credit names its lines).
func invoiceLines(ctx context.Context, inv sdk.Record) ([]Line, error) {
	number := inv.String("number")
	for _, f := range []string{"paid", "credited"} {
		if m, err := moneyOf(inv[f]); err == nil && m.Minor != 0 {
			return nil, sdk.RefuseField("lines", CodeOvercredit, fmt.Sprintf("invoice %s has %s %s of it: a credit note of the whole invoice is more than its balance, %s; give the lines to credit",
				number, m, f, moneyString(inv["balance"])))
		}
	}
	var out []Line
	err := each(ctx, LineEntity, sdk.Eq("invoice", inv.ID()), "position", func(r sdk.Record) error {
		var l Line
		l.Description, l.Product = r.String("description"), r.String("product")
		l.Quantity, l.Discount, l.VATRate = decimalString(r["quantity"]), decimalString(r["discount"]), decimalString(r["vat_rate"])
		for _, f := range []struct {
			name string
			to   *int64
		}{{"unit_price", &l.UnitPrice}, {"net", &l.Net}, {"vat", &l.VAT}, {"gross", &l.Gross}} {
			m, err := moneyOf(r[f.name])
			if err != nil {
				return fmt.Errorf("invoice %s line %d: %s: %w", number, series.Int(r, "position"), f.name, err)
			}
			*f.to = m.Minor
		}
		out = append(out, l)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, sdk.RefuseField("lines", CodeBadLine, fmt.Sprintf("invoice %s has no lines: give the lines to credit", number))
	}
	return out, nil
}

// moneyString is a money value as "1500.00 AMD", or "?" when it is not
// one.
func moneyString(v any) string {
	m, err := moneyOf(v)
	if err != nil {
		return "?"
	}
	return m.String()
}

// negate is the decimal d with the other sign.
func negate(d string) string {
	if rest, ok := strings.CutPrefix(d, "-"); ok {
		return rest
	}
	return "-" + d
}
