package accounting

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/crmkit/crm/plugins/doctemplates/format"
	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/series"
)

// payArgs are record_payment's arguments.
type payArgs struct {
	Amount    map[string]any `json:"amount"`
	Date      string         `json:"date"`
	Method    string         `json:"method"`
	Rate      any            `json:"rate"`
	Reference string         `json:"reference"`
	// Allocations, on a company or contact: the invoices the payment pays.
	Allocations *struct {
		Items []allocArg `json:"items"`
	} `json:"allocations"`
}

// maxAttempts bounds the retries of an invoice update that keeps losing to
// concurrent writers.
const maxAttempts = series.MaxAttempts

// pay records a payment of an invoice: the payment (in the currency it was
// made in, with its rate), its allocation to the invoice (in the invoice's
// currency) and the invoice's new paid amount, balance and status. A
// payment larger than the balance is refused and nothing is written.
func (p *Plugin) pay(ctx context.Context, call sdk.Call) (any, error) {
	var a payArgs
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, "record_payment: "+err.Error())
	}
	if call.Record != nil && (call.Record.Entity == "company" || call.Record.Entity == "contact") {
		return p.payCustomer(ctx, call, a)
	}
	if call.Record == nil || call.Record.Entity != InvoiceEntity {
		return nil, sdk.RefuseField("entity", sdk.CodeInvalidArgs, "record_payment works on an invoice, or on a company or contact with allocations")
	}
	if a.Allocations != nil {
		return nil, sdk.RefuseField("allocations", sdk.CodeInvalidArgs, "allocations: a payment of one invoice pays that invoice; record a payment of several on their company or contact")
	}
	paid, err := moneyOf(a.Amount)
	if err != nil {
		return nil, sdk.RefuseField("amount", CodeCurrency, "amount: "+err.Error())
	}
	day, err := p.dateArg("date", a.Date)
	if err != nil {
		return nil, err
	}
	return recordPayment(ctx, call.Record.ID, payment{Paid: paid, Rate: decimalString(a.Rate), Day: day,
		Method: a.Method, Reference: a.Reference, Key: call.IdempotencyKey})
}

// payment is a payment to record against one invoice.
type payment struct {
	Paid      Money     // in the currency it was paid in
	Rate      string    // decimal: units of the invoice's currency per unit of Paid's; "" for none
	Day       time.Time // paid_on
	Method    string    // "" for bank_transfer
	Reference string
	// Key, when set, makes a repeat answer the payment the first one
	// recorded.
	Key string
}

// recordPayment records a payment of an invoice: the payment (holding its
// allocation), the invoice's paid amount, balance and status recomputed
// from its payments, and the allocation record (settle.go tells the
// order). It answers {"payment", "allocation", "invoice"}.
func recordPayment(ctx context.Context, invoiceID string, in payment) (map[string]any, error) {
	host := sdk.HostFrom(ctx)
	key, paid, rateText := in.Key, in.Paid, in.Rate
	if key != "" {
		pm, err := firstWhere(ctx, PaymentEntity, sdk.Eq("key", key))
		if err != nil {
			return nil, err
		}
		if pm != nil {
			return repeated(ctx, pm)
		}
	}
	if paid.Minor <= 0 {
		return nil, sdk.RefuseField("amount", sdk.CodeInvalidArgs, fmt.Sprintf("amount: a payment is more than 0, not %s", paid))
	}
	method := in.Method
	if method == "" {
		method = "bank_transfer"
	}
	inv, err := host.Get(ctx, InvoiceEntity, invoiceID)
	if err != nil {
		return nil, err
	}
	if err := payable(inv); err != nil {
		return nil, err
	}
	digits, cur, err := currencyDigits(inv.String("currency"))
	if err != nil {
		return nil, fmt.Errorf("invoice %s: %w", inv.String("number"), err)
	}
	converted, err := convertPayment(paid, cur, digits, rateText)
	if err != nil {
		return nil, err
	}
	bal, err := moneyOf(inv["balance"])
	if err != nil {
		return nil, fmt.Errorf("invoice %s: balance: %w", inv.String("number"), err)
	}
	if converted > bal.Minor {
		what := Money{converted, cur}.String()
		if paid.Currency != cur {
			what = fmt.Sprintf("%s (%s at %s)", what, paid, rateText)
		}
		return nil, sdk.RefuseField("amount", CodeOverpayment, fmt.Sprintf("the payment of %s is more than the balance of invoice %s, %s; nothing was recorded",
			what, inv.String("number"), bal))
	}
	values := map[string]any{
		"amount": paid.JSON(), "paid_on": in.Day.Format(time.DateOnly), "method": method, "rate": orNil(rateText),
		"reference": orNil(in.Reference), "company": orNil(inv.String("company")), "contact": orNil(inv.String("contact")),
	}
	pm, invoices, allocs, err := record(ctx, newPayment{values: values, key: key, rate: rateText,
		parts: []part{{at: "amount", inv: inv, paid: paid, converted: converted}}})
	if err != nil {
		return nil, err
	}
	return map[string]any{"payment": pm, "allocation": allocs[0], "invoice": invoices[0]}, nil
}

// repeated answers a payment recorded before, with its allocation and
// invoice, settling it first if it was left pending.
func repeated(ctx context.Context, pm sdk.Record) (map[string]any, error) {
	pm, invoices, allocs, err := settle(ctx, pm, nil)
	if err != nil {
		return nil, err
	}
	if len(invoices) > 0 {
		return map[string]any{"payment": pm, "allocation": allocs[0], "invoice": invoices[0]}, nil
	}
	alloc, err := firstWhere(ctx, AllocationEntity, sdk.Eq("payment", pm.ID()))
	if err != nil || alloc == nil {
		return map[string]any{"payment": pm}, err
	}
	inv, err := sdk.HostFrom(ctx).Get(ctx, InvoiceEntity, alloc.String("invoice"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"payment": pm, "allocation": alloc, "invoice": inv}, nil
}

// payable refuses a payment on an invoice that is not open.
func payable(inv sdk.Record) error {
	switch st := inv.String("status"); st {
	case StatusIssued, StatusPartlyPaid, StatusOverdue:
		return nil
	case StatusPaid:
		return sdk.RefuseField("entity", CodeNotPayable, fmt.Sprintf("invoice %s is paid in full: nothing is left to pay", inv.String("number")))
	default:
		return sdk.RefuseField("entity", CodeNotPayable, fmt.Sprintf("invoice %s is %s: only an issued invoice is paid", inv.String("number"), st))
	}
}

// convertPayment is a payment in the invoice's currency's minor units:
// the payment itself when it is in that currency, else converted at rate
// (units of the invoice's currency per unit of the payment's), rounded half
// away from zero.
func convertPayment(paid Money, cur string, digits int, rateText string) (int64, error) {
	if paid.Currency == cur {
		if rateText != "" {
			r, err := parseDecimal(rateText)
			if err != nil || r.Cmp(big.NewRat(1, 1)) != 0 {
				return 0, sdk.RefuseField("rate", sdk.CodeInvalidArgs, fmt.Sprintf("rate: the payment is in the invoice's currency, %s: leave rate out", cur))
			}
		}
		return paid.Minor, nil
	}
	if rateText == "" {
		return 0, sdk.RefuseField("rate", sdk.CodeInvalidArgs, fmt.Sprintf("rate: a payment in %s of an invoice in %s needs the rate it was converted at (%s per 1 %s)", paid.Currency, cur, cur, paid.Currency))
	}
	rate, err := parseDecimal(rateText)
	if err != nil || rate.Sign() <= 0 {
		return 0, sdk.RefuseField("rate", sdk.CodeInvalidArgs, fmt.Sprintf("rate: %q is not a rate more than 0", rateText))
	}
	n, err := convert(paid.Minor, format.MinorDigits(paid.Currency), digits, rate)
	if err != nil {
		return 0, sdk.RefuseField("amount", sdk.CodeInvalidArgs, "amount: "+err.Error())
	}
	if n <= 0 {
		return 0, sdk.RefuseField("amount", sdk.CodeInvalidArgs, fmt.Sprintf("amount: %s at %s is less than the smallest unit of %s", paid, rateText, cur))
	}
	return n, nil
}

// cancel cancels an invoice without payments: its status becomes
// cancelled and its balance 0; its number stays taken (a cancelled invoice
// keeps its place in the series).
func (p *Plugin) cancel(ctx context.Context, call sdk.Call) (any, error) {
	var a struct {
		Reason string `json:"reason"`
	}
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, "cancel_invoice: "+err.Error())
	}
	if call.Record == nil || call.Record.Entity != InvoiceEntity {
		return nil, sdk.RefuseField("entity", sdk.CodeInvalidArgs, "cancel_invoice works on an invoice")
	}
	host := sdk.HostFrom(ctx)
	var opts []sdk.Option
	if call.IdempotencyKey != "" {
		opts = append(opts, sdk.IdempotencyKey(call.IdempotencyKey+":cancel"))
	}
	for attempt := 0; ; attempt++ {
		inv, err := host.Get(ctx, InvoiceEntity, call.Record.ID)
		if err != nil {
			return nil, err
		}
		if inv.String("status") == StatusCancelled {
			return nil, sdk.RefuseField("entity", sdk.CodeInvalidArgs, fmt.Sprintf("invoice %s is cancelled already", inv.String("number")))
		}
		switch st := inv.String("status"); {
		case inv.String("credit_of") != "" || st == StatusCreditNote:
			return nil, sdk.RefuseField("entity", CodeNotCreditable, fmt.Sprintf("%s is a credit note: it stays; issue the invoice again if it was wrong", inv.String("number")))
		case st == StatusCredited:
			return nil, sdk.RefuseField("entity", CodeHasPayments, fmt.Sprintf("invoice %s is credited in full: its credit notes already cancel it", inv.String("number")))
		}
		if pd, err := moneyOf(inv["paid"]); err == nil && pd.Minor != 0 {
			return nil, sdk.RefuseField("entity", CodeHasPayments, fmt.Sprintf("invoice %s has payments of %s: it cannot be cancelled; issue a credit note (credit_invoice) for what is not owed, and refund what was paid; nothing was changed", inv.String("number"), pd))
		}
		if cr, err := moneyOf(inv["credited"]); err == nil && cr.Minor != 0 {
			return nil, sdk.RefuseField("entity", CodeHasPayments, fmt.Sprintf("invoice %s has credit notes of %s: it cannot be cancelled; credit the rest (credit_invoice) instead; nothing was changed", inv.String("number"), cr))
		}
		values := map[string]any{"status": StatusCancelled, "cancel_reason": orNil(a.Reason)}
		if c := inv.String("currency"); c != "" {
			values["balance"] = Money{0, c}.JSON()
		}
		out, err := host.Update(ctx, InvoiceEntity, inv.ID(), values, append(opts, sdk.IfVersion(inv.Version()))...)
		if errors.Is(err, sdk.ErrConflict) && attempt < maxAttempts {
			series.Backoff(ctx, attempt)
			continue
		}
		return out, err
	}
}
