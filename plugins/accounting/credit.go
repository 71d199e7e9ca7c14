package accounting

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/series"
)

// An issued invoice is not edited: what it should not have charged is
// credited. A credit note is an invoice record of its own series (config
// credit_series, "CN") with status credit_note, credit_of naming the
// invoice, and negative lines and totals; the invoice's credited amount
// grows by it and its balance shrinks by it. A credit note is at most the
// invoice's balance: what was paid is refunded, not credited.

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
// credit note.
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
		if cn, err := firstWhere(ctx, InvoiceEntity, sdk.Eq("key", key)); err != nil || cn != nil {
			return cn, err
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

	// Apply the credit to the invoice, refusing more than its balance,
	// under its version (a concurrent payment or credit is seen).
	var opts []sdk.Option
	if key != "" {
		opts = append(opts, sdk.IdempotencyKey(key+":credited"))
	}
	for attempt := 0; ; attempt++ {
		if err := creditable(inv); err != nil {
			return nil, err
		}
		bal, err := moneyOf(inv["balance"])
		if err != nil {
			return nil, fmt.Errorf("invoice %s: balance: %w", number, err)
		}
		before := int64(0)
		if c, err := moneyOf(inv["credited"]); err == nil {
			before = c.Minor
		}
		if totals.Gross > bal.Minor {
			return nil, sdk.RefuseField("lines", CodeOvercredit, fmt.Sprintf("the credit of %s is more than the balance of invoice %s, %s (what was paid is refunded, not credited); nothing was recorded",
				Money{totals.Gross, cur}, number, bal))
		}
		left := bal.Minor - totals.Gross
		status := inv.String("status")
		if left == 0 {
			status = StatusCredited
			if pd, err := moneyOf(inv["paid"]); err == nil && pd.Minor > 0 {
				status = StatusPaid
			}
		}
		updated, err := host.Update(ctx, InvoiceEntity, inv.ID(), map[string]any{
			"credited": Money{before + totals.Gross, cur}.JSON(), "balance": Money{left, cur}.JSON(), "status": status,
		}, append(opts, sdk.IfVersion(inv.Version()))...)
		if errors.Is(err, sdk.ErrConflict) && attempt < maxAttempts {
			series.Backoff(ctx, attempt)
			if inv, err = host.Get(ctx, InvoiceEntity, inv.ID()); err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		inv = updated
		break
	}
	// A key for the writes below: the call's, else the invoice's version
	// the credit made (each credit of an invoice makes one).
	wkey := key
	if wkey == "" {
		wkey = fmt.Sprintf("credit:%s:%d", inv.ID(), inv.Version())
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
	m := func(minor int64) map[string]any { return Money{minor, cur}.JSON() }
	values := map[string]any{
		"number": fmt.Sprintf("%s-%d-%04d", ser, year, n), "series": ser, "year": year, "seq": n,
		"deal": orNil(inv.String("deal")), "company": orNil(inv.String("company")), "contact": orNil(inv.String("contact")),
		"issue_date": issued.Format(time.DateOnly), "due_date": issued.Format(time.DateOnly),
		"currency": cur, "status": StatusCreditNote, "credit_of": inv.ID(),
		"net": m(-totals.Net), "vat": m(-totals.VAT), "gross": m(-totals.Gross), "paid": m(0), "balance": m(0),
		"cancel_reason": orNil(a.Reason), "key": orNil(key),
	}
	if owner := inv.String("owner"); owner != "" && call.User == nil {
		values["owner"] = owner
	}
	cn, err := host.Create(ctx, InvoiceEntity, values, sdk.IdempotencyKey(wkey+":credit_note"))
	if err != nil {
		return nil, fmt.Errorf("invoice %s: store the credit note: %w", number, err)
	}
	for i, l := range lines {
		values := map[string]any{
			"invoice": cn.ID(), "position": i + 1, "product": orNil(l.Product), "description": l.Description,
			"quantity": negate(l.Quantity), "unit_price": m(l.UnitPrice), "discount": orNil(l.Discount), "vat_rate": l.VATRate,
			"net": m(-l.Net), "vat": m(-l.VAT), "gross": m(-l.Gross), "locked": true,
		}
		if _, err := host.Create(ctx, LineEntity, values, sdk.IdempotencyKey(fmt.Sprintf("line:%s:%d", cn.ID(), i+1))); err != nil {
			return nil, fmt.Errorf("credit note %s: line %d: %w", cn.String("number"), i+1, err)
		}
	}
	if err := emitIssued(ctx, cn); err != nil {
		return nil, err
	}
	return cn, nil
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
