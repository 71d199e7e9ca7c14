package accounting

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/series"
)

// A draft invoice is made by hand (the invoice form, status draft) and is
// anyone's to edit, its lines too. add_invoice_line adds a line computed
// under the rounding rule; a line edited or deleted with the line's own
// form is recomputed when its change event comes (HandleEvents), and the
// draft's totals follow its lines either way. issue_invoice on a draft
// numbers it, locks its lines and issues it.

// CodeNotDraft: add_invoice_line on an invoice that is not a draft.
const CodeNotDraft = "not_draft"

// lineEvents are the record events of invoice lines the plugin follows to
// keep a draft's totals in line with its lines.
var lineEvents = []string{LineEntity + ".created", LineEntity + ".updated", LineEntity + ".deleted"}

// addLine adds a line to a draft invoice: computed like issue_invoice's
// lines (a product gives its name, price and VAT rate unless the line
// gives its own), at the end, and the draft's totals recomputed. It
// answers {"line", "invoice"}.
func (p *Plugin) addLine(ctx context.Context, call sdk.Call) (any, error) {
	var a lineArg
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, "add_invoice_line: "+err.Error())
	}
	if call.Record == nil || call.Record.Entity != InvoiceEntity {
		return nil, sdk.RefuseField("entity", sdk.CodeInvalidArgs, "add_invoice_line works on an invoice")
	}
	host := sdk.HostFrom(ctx)
	inv, err := host.Get(ctx, InvoiceEntity, call.Record.ID)
	if err != nil {
		return nil, err
	}
	if err := draft(inv); err != nil {
		return nil, err
	}
	if strings.TrimSpace(a.Description) == "" && a.Product == "" {
		return nil, sdk.RefuseField("description", CodeBadLine, "description: give a description, or a product whose name the line takes")
	}
	cur, lines, err := p.dealLines(ctx, sdk.Record{}, issueArgs{Lines: &struct {
		Items []lineArg `json:"items"`
	}{Items: []lineArg{a}}})
	if err != nil {
		return nil, unlisted(err)
	}
	if ic := inv.String("currency"); ic != "" && ic != cur {
		return nil, sdk.RefuseField("unit_price", CodeCurrency, fmt.Sprintf("unit_price: the price is in %s, invoice %s in %s: one invoice has one currency", cur, draftName(inv), ic))
	}
	position := int64(0)
	if err := each(ctx, LineEntity, sdk.Eq("invoice", inv.ID()), "position", func(r sdk.Record) error {
		position = max(position, series.Int(r, "position"))
		return nil
	}); err != nil {
		return nil, err
	}
	l := lines[0]
	m := func(minor int64) map[string]any { return Money{minor, cur}.JSON() }
	key := call.IdempotencyKey
	if key == "" {
		key = rand.Text()
	}
	line, err := host.Create(ctx, LineEntity, map[string]any{
		"invoice": inv.ID(), "position": position + 1, "product": orNil(l.Product), "description": l.Description,
		"quantity": l.Quantity, "unit_price": m(l.UnitPrice), "discount": orNil(l.Discount), "vat_rate": l.VATRate,
		"net": m(l.Net), "vat": m(l.VAT), "gross": m(l.Gross), "locked": false,
	}, sdk.IdempotencyKey("add_line:"+key))
	if err != nil {
		return nil, fmt.Errorf("invoice %s: add a line: %w", draftName(inv), err)
	}
	inv, err = recomputeDraft(ctx, inv.ID())
	if err != nil {
		return nil, err
	}
	return map[string]any{"line": line, "invoice": inv}, nil
}

// unlisted is a refusal of issue_invoice's first line as a refusal of
// add_invoice_line's arguments: "quantity", not "lines.items[0].quantity".
func unlisted(err error) error {
	var r *sdk.Refusal
	if !errors.As(err, &r) {
		return err
	}
	const at = "lines.items[0]"
	field := strings.TrimPrefix(strings.TrimPrefix(r.Field, at), ".")
	if field == "" {
		field = "quantity"
	}
	msg := strings.TrimPrefix(strings.TrimPrefix(r.Message, at+"."), at+": ")
	return sdk.RefuseField(field, r.Code, msg)
}

// draft refuses what is not a draft invoice.
func draft(inv sdk.Record) error {
	if st := inv.String("status"); st != StatusDraft {
		return sdk.RefuseField("entity", CodeNotDraft, fmt.Sprintf("invoice %s is %s: only a draft's lines change; an issued invoice is credited (credit_invoice) instead", draftName(inv), st))
	}
	return nil
}

// draftName is an invoice's number, or its id while it is a draft.
func draftName(inv sdk.Record) string {
	if n := inv.String("number"); n != "" {
		return n
	}
	return inv.ID()
}

// recomputeDraft recomputes a draft's lines from their quantity, unit
// price, discount and VAT rate, writing those whose amounts changed, and
// the draft's net, VAT, gross and balance as their sums. A line it cannot
// compute (a price in another currency than the invoice's, a quantity of
// 0) counts for nothing and is logged. It answers the invoice; one that
// is not a draft (any more) is left alone.
func recomputeDraft(ctx context.Context, id string) (sdk.Record, error) {
	host := sdk.HostFrom(ctx)
	for attempt := 0; ; attempt++ {
		inv, err := host.Get(ctx, InvoiceEntity, id)
		if err != nil {
			return nil, err
		}
		if inv.String("status") != StatusDraft {
			return inv, nil
		}
		_, cur, err := currencyDigits(inv.String("currency"))
		if err != nil {
			return nil, sdk.RefuseField("currency", CodeCurrency, fmt.Sprintf("invoice %s: %v", draftName(inv), err))
		}
		var t Totals
		err = each(ctx, LineEntity, sdk.Eq("invoice", inv.ID()), "position", func(r sdk.Record) error {
			price, err := moneyOf(r["unit_price"])
			if err == nil && price.Currency != cur {
				err = fmt.Errorf("the unit price is in %s, the invoice in %s", price.Currency, cur)
			}
			var l Line
			if err == nil {
				l, err = ComputeLine(LineInput{Quantity: decimalString(r["quantity"]), UnitPrice: price.Minor,
					Discount: decimalString(r["discount"]), VATRate: decimalString(r["vat_rate"])})
			}
			if err != nil {
				host.Log(ctx, slog.LevelWarn, "a draft invoice's line is left out of its totals", slog.String("invoice", inv.ID()),
					slog.String("line", r.ID()), slog.String("err", err.Error()))
				return nil
			}
			t.Net, t.VAT, t.Gross = t.Net+l.Net, t.VAT+l.VAT, t.Gross+l.Gross
			if minorOf(r, "net") != l.Net || minorOf(r, "vat") != l.VAT || minorOf(r, "gross") != l.Gross {
				m := func(minor int64) map[string]any { return Money{minor, cur}.JSON() }
				if _, err := host.Update(ctx, LineEntity, r.ID(), map[string]any{"net": m(l.Net), "vat": m(l.VAT), "gross": m(l.Gross)},
					sdk.IfVersion(r.Version())); err != nil && !errors.Is(err, sdk.ErrConflict) { // a newer edit: its event recomputes
					return fmt.Errorf("invoice %s line %s: %w", draftName(inv), r.ID(), err)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		if minorOf(inv, "net") == t.Net && minorOf(inv, "vat") == t.VAT && minorOf(inv, "gross") == t.Gross &&
			minorOf(inv, "balance") == t.Gross && inv["net"] != nil {
			return inv, nil
		}
		m := func(minor int64) map[string]any { return Money{minor, cur}.JSON() }
		out, err := host.Update(ctx, InvoiceEntity, inv.ID(), map[string]any{
			"net": m(t.Net), "vat": m(t.VAT), "gross": m(t.Gross), "paid": m(0), "balance": m(t.Gross),
		}, sdk.IfVersion(inv.Version()))
		if errors.Is(err, sdk.ErrConflict) && attempt < maxAttempts {
			series.Backoff(ctx, attempt)
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("invoice %s: its totals: %w", draftName(inv), err)
		}
		return out, nil
	}
}

// HandleEvents recomputes the draft invoices whose lines someone else
// than the plugin created, changed or deleted (the plugin recomputes
// after its own writes).
func (p *Plugin) HandleEvents(ctx context.Context, events []sdk.Event) error {
	seen := map[string]bool{}
	for _, ev := range events {
		if ev.Entity != LineEntity || ev.By == "plugin:accounting" || ev.Record["locked"] == true {
			continue
		}
		ids := []string{ev.Record.String("invoice")}
		if c, ok := ev.Changes["invoice"]; ok {
			if old, _ := c.Old.(string); old != "" {
				ids = append(ids, old)
			}
		}
		for _, id := range ids {
			if id == "" || seen[id] {
				continue
			}
			seen[id] = true
			if _, err := recomputeDraft(ctx, id); err != nil && !errors.Is(err, sdk.ErrNotFound) {
				var r *sdk.Refusal
				if errors.As(err, &r) {
					continue // a draft without a currency: nothing to compute yet
				}
				return err
			}
		}
	}
	return nil
}

// issueDraft issues a draft invoice: its lines and totals recomputed, a
// number taken, its lines locked, then its number, dates and status
// written; invoice.issued follows.
func (p *Plugin) issueDraft(ctx context.Context, call sdk.Call, a issueArgs) (any, error) {
	host := sdk.HostFrom(ctx)
	cfg := p.settings()
	if a.Lines != nil {
		return nil, sdk.RefuseField("lines", sdk.CodeInvalidArgs, "lines: a draft is issued with its own lines; add them with add_invoice_line first")
	}
	inv, err := host.Get(ctx, InvoiceEntity, call.Record.ID)
	if err != nil {
		return nil, err
	}
	if inv.String("status") != StatusDraft && call.IdempotencyKey != "" && inv.String("key") == call.IdempotencyKey {
		return inv, nil // a repeat
	}
	if err := draft(inv); err != nil {
		return nil, err
	}
	if inv, err = recomputeDraft(ctx, inv.ID()); err != nil {
		return nil, err
	}
	if minorOf(inv, "gross") <= 0 {
		return nil, sdk.RefuseField("entity", CodeBadLine, fmt.Sprintf("invoice %s has no lines, or totals 0: add its lines first", draftName(inv)))
	}
	issued, err := p.dateArg("issue_date", a.IssueDate)
	if err != nil {
		return nil, err
	}
	due := issued.AddDate(0, 0, cfg.dueDays)
	if a.DueDate != "" {
		if due, err = p.dateArg("due_date", a.DueDate); err != nil {
			return nil, err
		}
	} else if d, err := time.Parse(time.DateOnly, inv.String("due_date")); err == nil {
		due = d
	}
	if due.Before(issued) {
		return nil, sdk.RefuseField("due_date", sdk.CodeInvalidArgs, fmt.Sprintf("the due date %s is before the issue date %s", due.Format(time.DateOnly), issued.Format(time.DateOnly)))
	}
	key := call.IdempotencyKey
	wkey := key
	if wkey == "" {
		wkey = fmt.Sprintf("issue_draft:%s:%d", inv.ID(), inv.Version())
	}
	ser := a.Series
	if ser == "" {
		ser = cfg.series
	}
	year := issued.Year()
	n, err := numbers.Take(ctx, ser, year, key)
	if err != nil {
		return nil, err
	}
	if err := each(ctx, LineEntity, sdk.Eq("invoice", inv.ID()), "position", func(r sdk.Record) error {
		if r["locked"] == true {
			return nil
		}
		_, err := host.Update(ctx, LineEntity, r.ID(), map[string]any{"locked": true}, sdk.IdempotencyKey("lock:"+r.ID()))
		return err
	}); err != nil {
		p.giveBack(ctx, ser, year, n)
		return nil, fmt.Errorf("invoice %s: lock its lines: %w", draftName(inv), err)
	}
	out, err := host.Update(ctx, InvoiceEntity, inv.ID(), map[string]any{
		"number": fmt.Sprintf("%s-%d-%04d", ser, year, n), "series": ser, "year": year, "seq": n,
		"issue_date": issued.Format(time.DateOnly), "due_date": due.Format(time.DateOnly), "status": StatusIssued,
		"balance": inv["gross"], "key": orNil(key),
	}, sdk.IfVersion(inv.Version()), sdk.IdempotencyKey(wkey+":issue"))
	if err != nil {
		p.giveBack(ctx, ser, year, n)
		if errors.Is(err, sdk.ErrConflict) {
			return nil, sdk.RefuseField("entity", sdk.CodeInvalidArgs, fmt.Sprintf("invoice %s changed while it was issued; nothing was issued: try again", draftName(inv)))
		}
		return nil, err
	}
	if err := emitIssued(ctx, out); err != nil {
		return nil, err
	}
	return out, nil
}
