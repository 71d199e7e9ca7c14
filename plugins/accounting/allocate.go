package accounting

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
)

// One payment of a customer may pay several invoices: record_payment on a
// company or a contact, with allocations naming each invoice and the part
// of the payment (in the payment's currency) that pays it. The parts add
// up to the payment exactly, to the minor unit; each part, converted at
// the payment's rate, is at most its invoice's balance. Everything is
// checked before anything is written; an invoice a concurrent payment
// changed meanwhile is checked again when the payment is settled on it,
// and if its part no longer fits, the invoices already settled are
// recomputed without it and the payment is refused (settle.go).

// allocArg is one item of record_payment's allocations.
type allocArg struct {
	Invoice string         `json:"invoice"`
	Amount  map[string]any `json:"amount"`
}

// part is a checked allocation: the invoice, the part of the payment and
// its conversion to the invoice's currency.
type part struct {
	at        string // allocations.items[N]
	inv       sdk.Record
	paid      Money // in the payment's currency
	converted int64 // minor units of the invoice's currency
}

// payCustomer records one payment of a company or contact allocated to
// several of its invoices. It answers {"payment", "allocations",
// "invoices"}.
func (p *Plugin) payCustomer(ctx context.Context, call sdk.Call, a payArgs) (any, error) {
	host := sdk.HostFrom(ctx)
	key := call.IdempotencyKey
	if key != "" {
		pm, err := firstWhere(ctx, PaymentEntity, sdk.Eq("key", key))
		if err != nil {
			return nil, err
		}
		if pm != nil {
			return repeatedMany(ctx, pm)
		}
	}
	paid, err := moneyOf(a.Amount)
	if err != nil {
		return nil, sdk.RefuseField("amount", CodeCurrency, "amount: "+err.Error())
	}
	if paid.Minor <= 0 {
		return nil, sdk.RefuseField("amount", sdk.CodeInvalidArgs, fmt.Sprintf("amount: a payment is more than 0, not %s", paid))
	}
	day, err := p.dateArg("date", a.Date)
	if err != nil {
		return nil, err
	}
	if a.Allocations == nil || len(a.Allocations.Items) == 0 {
		return nil, sdk.RefuseField("allocations", sdk.CodeInvalidArgs,
			fmt.Sprintf(`allocations: a payment of a %s names the invoices it pays: {"items": [{"invoice": "...", "amount": {"amount": "...", "currency": %q}}]}`, call.Record.Entity, paid.Currency))
	}
	rateText := decimalString(a.Rate)
	cust := call.Record
	var parts []part
	var sum int64
	seen := map[string]bool{}
	for i, it := range a.Allocations.Items {
		at := fmt.Sprintf("allocations.items[%d]", i)
		if it.Invoice == "" {
			return nil, sdk.RefuseField(at+".invoice", sdk.CodeInvalidArgs, at+".invoice: name the invoice this part pays")
		}
		if seen[it.Invoice] {
			return nil, sdk.RefuseField(at+".invoice", sdk.CodeInvalidArgs, fmt.Sprintf("%s.invoice: invoice %s is named twice: give it one part", at, it.Invoice))
		}
		seen[it.Invoice] = true
		inv, err := host.Get(ctx, InvoiceEntity, it.Invoice)
		if errors.Is(err, sdk.ErrNotFound) {
			return nil, sdk.RefuseField(at+".invoice", sdk.CodeInvalidArgs, fmt.Sprintf("%s.invoice: no invoice with id %q", at, it.Invoice))
		}
		if err != nil {
			return nil, err
		}
		if inv.String(cust.Entity) != cust.ID {
			return nil, sdk.RefuseField(at+".invoice", sdk.CodeInvalidArgs, fmt.Sprintf("%s.invoice: invoice %s is not this %s's", at, inv.String("number"), cust.Entity))
		}
		if err := payable(inv); err != nil {
			return nil, sdk.RefuseField(at+".invoice", CodeNotPayable, at+".invoice: "+refusalMessage(err))
		}
		if parts != nil && inv.String("currency") != parts[0].inv.String("currency") {
			return nil, sdk.RefuseField(at+".invoice", CodeCurrency, fmt.Sprintf("%s.invoice: invoice %s is in %s, invoice %s in %s: one payment pays invoices of one currency",
				at, inv.String("number"), inv.String("currency"), parts[0].inv.String("number"), parts[0].inv.String("currency")))
		}
		m, err := moneyOf(it.Amount)
		if err != nil {
			return nil, sdk.RefuseField(at+".amount", CodeCurrency, fmt.Sprintf("%s.amount: %v", at, err))
		}
		if m.Currency != paid.Currency {
			return nil, sdk.RefuseField(at+".amount", CodeCurrency, fmt.Sprintf("%s.amount: a part of the payment is in its currency, %s, not %s", at, paid.Currency, m.Currency))
		}
		if m.Minor <= 0 {
			return nil, sdk.RefuseField(at+".amount", sdk.CodeInvalidArgs, fmt.Sprintf("%s.amount: a part is more than 0, not %s", at, m))
		}
		digits, cur, err := currencyDigits(inv.String("currency"))
		if err != nil {
			return nil, fmt.Errorf("invoice %s: %w", inv.String("number"), err)
		}
		converted, err := convertPayment(m, cur, digits, rateText)
		if err != nil {
			return nil, err
		}
		bal, err := moneyOf(inv["balance"])
		if err != nil {
			return nil, fmt.Errorf("invoice %s: balance: %w", inv.String("number"), err)
		}
		if converted > bal.Minor {
			return nil, sdk.RefuseField(at+".amount", CodeOverpayment, fmt.Sprintf("%s.amount: %s is more than the balance of invoice %s, %s; nothing was recorded",
				at, partString(m, Money{converted, cur}, rateText), inv.String("number"), bal))
		}
		sum += m.Minor
		parts = append(parts, part{at: at, inv: inv, paid: m, converted: converted})
	}
	if sum != paid.Minor {
		more := "less"
		if sum > paid.Minor {
			more = "more"
		}
		return nil, sdk.RefuseField("allocations", CodeOverpayment, fmt.Sprintf("allocations: the parts add up to %s, %s than the payment of %s: allocate all of it, exactly; nothing was recorded",
			Money{sum, paid.Currency}, more, paid))
	}

	method := a.Method
	if method == "" {
		method = "bank_transfer"
	}
	values := map[string]any{
		"amount": paid.JSON(), "paid_on": day.Format(time.DateOnly), "method": method, "rate": orNil(rateText),
		"reference": orNil(a.Reference), cust.Entity: cust.ID,
	}
	if cust.Entity == "contact" {
		values["company"] = orNil(parts[0].inv.String("company"))
	}
	pm, invoices, allocs, err := record(ctx, newPayment{values: values, parts: parts, key: key, rate: rateText,
		field: func(i int) string { return fmt.Sprintf("allocations.items[%d].amount", i) }})
	if err != nil {
		return nil, err
	}
	return map[string]any{"payment": pm, "allocations": allocs, "invoices": invoices}, nil
}

// partString is a part of a payment as the user gave it, and converted
// when the invoice is in another currency: "200.00 EUR (84100.00 AMD at
// 420.50)".
func partString(paid, converted Money, rate string) string {
	if paid.Currency == converted.Currency {
		return paid.String()
	}
	return fmt.Sprintf("%s (%s at %s)", paid, converted, rate)
}

// refusalMessage is a refusal's message, or the error's text.
func refusalMessage(err error) string {
	var r *sdk.Refusal
	if errors.As(err, &r) {
		return r.Message
	}
	return err.Error()
}

// minorOf is a money field's minor units, 0 when unset.
func minorOf(r sdk.Record, field string) int64 {
	m, err := moneyOf(r[field])
	if err != nil {
		return 0
	}
	return m.Minor
}

// repeatedMany answers a payment recorded before, with its allocations
// and invoices, settling it first if it was left pending.
func repeatedMany(ctx context.Context, pm sdk.Record) (map[string]any, error) {
	pm, invoices, allocs, err := settle(ctx, pm, func(i int) string { return fmt.Sprintf("allocations.items[%d].amount", i) })
	if err != nil {
		return nil, err
	}
	if len(invoices) > 0 {
		return map[string]any{"payment": pm, "allocations": allocs, "invoices": invoices}, nil
	}
	err = each(ctx, AllocationEntity, sdk.Eq("payment", pm.ID()), "created_at", func(al sdk.Record) error {
		inv, err := sdk.HostFrom(ctx).Get(ctx, InvoiceEntity, al.String("invoice"))
		if err != nil {
			return err
		}
		allocs, invoices = append(allocs, al), append(invoices, inv)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"payment": pm, "allocations": allocs, "invoices": invoices}, nil
}
