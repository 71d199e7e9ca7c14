package accounting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
)

// issueArgs are issue_invoice's arguments.
type issueArgs struct {
	IssueDate string `json:"issue_date"`
	DueDate   string `json:"due_date"`
	Series    string `json:"series"`
	Lines     *struct {
		Items []lineArg `json:"items"`
	} `json:"lines"`
}

// lineArg is one line of issue_invoice's lines.
type lineArg struct {
	Product     string         `json:"product"`
	Description string         `json:"description"`
	Quantity    any            `json:"quantity"`
	UnitPrice   map[string]any `json:"unit_price"`
	Discount    any            `json:"discount"`
	VATRate     any            `json:"vat_rate"`
}

// decimalString reads a decimal given as a JSON number or a string.
func decimalString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return fmt.Sprint(x)
	}
	return fmt.Sprint(v)
}

// issue issues an invoice for a won deal: numbered in its series and year
// without gaps, its lines computed under the rounding rule, locked from
// the start. With the call's idempotency key (a rule's call), a repeat
// answers the invoice the first call made.
func (p *Plugin) issue(ctx context.Context, call sdk.Call) (any, error) {
	var a issueArgs
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, "issue_invoice: "+err.Error())
	}
	if call.Record != nil && call.Record.Entity == InvoiceEntity {
		return p.issueDraft(ctx, call, a)
	}
	if call.Record == nil || call.Record.Entity != "deal" {
		return nil, sdk.RefuseField("entity", sdk.CodeInvalidArgs, "issue_invoice works on a deal, or on a draft invoice")
	}
	host := sdk.HostFrom(ctx)
	key := call.IdempotencyKey
	if key != "" {
		if inv, err := firstWhere(ctx, InvoiceEntity, sdk.Eq("key", key)); err != nil || inv != nil {
			return inv, err
		}
	}
	cfg := p.settings()
	deal, err := host.Get(ctx, "deal", call.Record.ID)
	if err != nil {
		return nil, err
	}
	if stage := deal.String("stage"); stage != cfg.wonStage {
		return nil, sdk.RefuseField("entity", CodeNotWon, fmt.Sprintf("deal %q is at stage %q: an invoice is issued for a %s deal", deal.String("title"), stage, cfg.wonStage))
	}
	cur, lines, err := p.dealLines(ctx, deal, a)
	if err != nil {
		return nil, err
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
	}
	if due.Before(issued) {
		return nil, sdk.RefuseField("due_date", sdk.CodeInvalidArgs, fmt.Sprintf("the due date %s is before the issue date %s", due.Format(time.DateOnly), issued.Format(time.DateOnly)))
	}
	if inv, err := firstWhere(ctx, InvoiceEntity, standing(deal.ID())); err != nil {
		return nil, err
	} else if inv != nil {
		return nil, sdk.RefuseField("entity", CodeInvoiced, fmt.Sprintf("deal %q has invoice %s already; cancel or credit it first to issue another", deal.String("title"), inv.String("number")))
	}

	// Everything is checked: take the number.
	ser := a.Series
	if ser == "" {
		ser = cfg.series
	}
	year := issued.Year()
	n, err := numbers.Take(ctx, ser, year, key)
	if err != nil {
		return nil, err
	}
	totals := Sum(lines)
	m := func(minor int64) map[string]any { return Money{minor, cur}.JSON() }
	values := map[string]any{
		"number": fmt.Sprintf("%s-%d-%04d", ser, year, n), "series": ser, "year": year, "seq": n,
		"deal": deal.ID(), "company": orNil(deal.String("company")), "contact": orNil(deal.String("contact")),
		"issue_date": issued.Format(time.DateOnly), "due_date": due.Format(time.DateOnly),
		"currency": cur, "status": StatusIssued,
		"net": m(totals.Net), "vat": m(totals.VAT), "gross": m(totals.Gross), "paid": m(0), "balance": m(totals.Gross),
		"key": orNil(key),
	}
	if owner := deal.String("owner"); owner != "" && call.User == nil {
		values["owner"] = owner // a rule's invoice is the deal owner's
	}
	var opts []sdk.Option
	if key != "" {
		opts = append(opts, sdk.IdempotencyKey(key+":invoice"))
	}
	inv, created, err := host.CreateUnless(ctx, InvoiceEntity,
		standing(deal.ID()), values, opts...)
	if err != nil || (!created && inv.String("key") != key) || (!created && key == "") {
		p.giveBack(ctx, ser, year, n)
		if err != nil {
			return nil, err
		}
		return nil, sdk.RefuseField("entity", CodeInvoiced, fmt.Sprintf("deal %q has invoice %s already; cancel or credit it first to issue another", deal.String("title"), inv.String("number")))
	}
	for i, l := range lines {
		values := map[string]any{
			"invoice": inv.ID(), "position": i + 1, "product": orNil(l.Product), "description": l.Description,
			"quantity": l.Quantity, "unit_price": m(l.UnitPrice), "discount": orNil(l.Discount), "vat_rate": l.VATRate,
			"net": m(l.Net), "vat": m(l.VAT), "gross": m(l.Gross), "locked": true,
		}
		if _, err := host.Create(ctx, LineEntity, values, sdk.IdempotencyKey(fmt.Sprintf("line:%s:%d", inv.ID(), i+1))); err != nil {
			return nil, fmt.Errorf("invoice %s: line %d: %w", inv.String("number"), i+1, err)
		}
	}
	if err := emitIssued(ctx, inv); err != nil {
		return nil, err
	}
	return inv, nil
}

// emitIssued emits invoice.issued for an invoice (or credit note) whose
// lines are all written, once per invoice (a retried call emits it again
// with the same key, which the host answers once).
func emitIssued(ctx context.Context, inv sdk.Record) error {
	payload := map[string]any{
		"number": inv.String("number"), "issue_date": inv.String("issue_date"), "gross": inv["gross"],
		"company": orNil(inv.String("company")), "contact": orNil(inv.String("contact")),
		"deal": orNil(inv.String("deal")), "credit_of": orNil(inv.String("credit_of")),
	}
	return sdk.HostFrom(ctx).Emit(ctx, EventIssued, payload, sdk.About(InvoiceEntity, inv.ID()),
		sdk.IdempotencyKey("issued:"+inv.ID()))
}

// standing is the filter of a deal's invoice that stands: not cancelled,
// not credited in full, not a credit note (of any status). A deal has at
// most one.
func standing(deal string) string {
	return sdk.And(sdk.Eq("deal", deal), sdk.Not(sdk.In("status", StatusCancelled, StatusCredited, StatusCreditNote, StatusPending, StatusRefused)))
}

// giveBack returns a number an invoice that was not made took.
func (p *Plugin) giveBack(ctx context.Context, ser string, year int, n int64) {
	if err := numbers.GiveBack(ctx, ser, year, n); err != nil {
		sdk.HostFrom(ctx).Log(ctx, slog.LevelError, "an invoice number was not given back", slog.String("series", ser), slog.Int64("number", n), slog.String("err", err.Error()))
	}
}

// dealLines are the invoice's currency and computed lines: those the call
// gives, or one line of the deal's amount.
func (p *Plugin) dealLines(ctx context.Context, deal sdk.Record, a issueArgs) (string, []Line, error) {
	cfg := p.settings()
	var cur string
	if amt, ok := deal["amount"].(map[string]any); ok {
		m, err := moneyOf(amt)
		if err != nil {
			return "", nil, sdk.RefuseField("entity", CodeCurrency, "the deal's amount: "+err.Error())
		}
		cur = m.Currency
		if a.Lines == nil {
			if m.Minor <= 0 {
				return "", nil, sdk.RefuseField("entity", CodeBadLine, fmt.Sprintf("the deal's amount is %s: an invoice needs more than 0; give lines instead", m))
			}
			l, err := ComputeLine(LineInput{Description: dealTitle(deal), Quantity: "1", UnitPrice: m.Minor, VATRate: cfg.vat})
			if err != nil {
				return "", nil, lineRefusal("deal.amount", err)
			}
			return cur, []Line{l}, nil
		}
	}
	if a.Lines == nil {
		return "", nil, sdk.RefuseField("lines", CodeBadLine, "the deal has no amount: give the invoice's lines")
	}
	if len(a.Lines.Items) == 0 {
		return "", nil, sdk.RefuseField("lines", CodeBadLine, `lines: give at least one item: {"items": [{"product": "...", "quantity": 1}]}`)
	}
	var out []Line
	for i, it := range a.Lines.Items {
		at := fmt.Sprintf("lines.items[%d]", i)
		in := LineInput{Product: it.Product, Description: it.Description, Quantity: decimalString(it.Quantity),
			Discount: decimalString(it.Discount), VATRate: decimalString(it.VATRate)}
		if in.Quantity == "" {
			return "", nil, sdk.RefuseField(at+".quantity", CodeBadLine, at+".quantity is required")
		}
		var price *Money
		if it.Product != "" {
			prod, err := sdk.HostFrom(ctx).Get(ctx, ProductEntity, it.Product)
			if errors.Is(err, sdk.ErrNotFound) {
				return "", nil, sdk.RefuseField(at+".product", CodeBadLine, fmt.Sprintf("%s.product: no product with id %q", at, it.Product))
			}
			if err != nil {
				return "", nil, err
			}
			if in.Description == "" {
				in.Description = prod.String("name")
			}
			if in.VATRate == "" {
				in.VATRate = decimalString(prod["vat_rate"])
			}
			if pm, ok := prod["price"].(map[string]any); ok {
				m, err := moneyOf(pm)
				if err != nil {
					return "", nil, sdk.RefuseField(at+".product", CodeCurrency, fmt.Sprintf("%s.product: its price: %v", at, err))
				}
				price = &m
			}
		}
		if it.UnitPrice != nil {
			m, err := moneyOf(it.UnitPrice)
			if err != nil {
				return "", nil, sdk.RefuseField(at+".unit_price", CodeCurrency, fmt.Sprintf("%s.unit_price: %v", at, err))
			}
			price = &m
		}
		if price == nil {
			return "", nil, sdk.RefuseField(at+".unit_price", CodeBadLine, at+": give a unit_price or a product with a price")
		}
		if cur == "" {
			cur = price.Currency
		}
		if price.Currency != cur {
			return "", nil, sdk.RefuseField(at+".unit_price", CodeCurrency, fmt.Sprintf("%s: the price is in %s, the invoice in %s: one invoice has one currency", at, price.Currency, cur))
		}
		in.UnitPrice = price.Minor
		if in.Description == "" {
			in.Description = dealTitle(deal)
		}
		if in.VATRate == "" {
			in.VATRate = cfg.vat
		}
		l, err := ComputeLine(in)
		if err != nil {
			return "", nil, lineRefusal(at, err)
		}
		out = append(out, l)
	}
	return cur, out, nil
}

func dealTitle(deal sdk.Record) string {
	if t := strings.TrimSpace(deal.String("title")); t != "" {
		return t
	}
	return "Deal " + deal.ID()
}

// lineRefusal is the refusal of a line's bad input, naming the field.
func lineRefusal(at string, err error) error {
	var le *lineError
	if errors.As(err, &le) {
		return sdk.RefuseField(at+"."+le.Field, CodeBadLine, at+"."+le.Field+": "+le.Message)
	}
	return sdk.RefuseField(at, CodeBadLine, at+": "+err.Error())
}

// firstWhere is the first record of entity that matches filter, or nil.
func firstWhere(ctx context.Context, entity, filter string) (sdk.Record, error) {
	page, err := sdk.HostFrom(ctx).List(ctx, sdk.Query{Entity: entity, Filter: filter, Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(page.Items) == 0 {
		return nil, nil
	}
	return page.Items[0], nil
}

func orNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}
