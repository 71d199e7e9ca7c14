package accounting

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/series"
)

// Recording a payment takes several writes, and the host has no
// transaction across records, so the writes are ordered to make a crash
// (kill -9) between any two of them harmless:
//
//  1. The payment record is written first, with status pending and its
//     allocations (which invoice it pays and how much, in the invoice's
//     currency) in its own allocations field: one write holds everything
//     the payment is. It is the source of truth.
//  2. Each invoice it pays is then settled: its paid amount is the sum of
//     the allocations to it of the payments it lists in its payments
//     field, recomputed with this one added, never incremented, and its
//     balance and status follow; the write is under the invoice's version
//     (a concurrent payment or credit is seen, and a payment larger than
//     the balance refused) with an idempotency key derived from the
//     payment's id. An invoice that lists the payment already is left
//     alone, so a repeat changes nothing and history shows each change
//     once.
//  3. The payment_allocation records are written (one per invoice, made
//     unless there is one), then the payment's status becomes recorded.
//
// A payment left pending (the process died between its writes) is
// settled again by a keyed retry of the call, and by the plugin itself:
// at its start every pending payment is settled (reconcile), and the
// overdue ticker settles those pending for longer than a call lasts. A
// payment that no longer fits an invoice's balance when it is settled (a
// concurrent payment took it) is refused: the invoices it was already
// settled on are recomputed without it, and its status becomes refused.

// Payment statuses.
const (
	PaymentPending  = "pending"
	PaymentRecorded = "recorded"
	PaymentRefused  = "refused"
)

// paymentStatuses are the payment status field's values.
var paymentStatuses = []string{PaymentPending, PaymentRecorded, PaymentRefused}

// share is one invoice a payment pays, as the payment record keeps it (a
// JSON list in its allocations field).
type share struct {
	Invoice string         `json:"invoice"`
	Number  string         `json:"number"`
	Amount  map[string]any `json:"amount"` // in the invoice's currency
	Part    map[string]any `json:"part"`   // in the payment's currency
}

// newPayment is a checked payment to record: its fields, the invoices it
// pays, and for a refusal of part i the argument it names and the part
// as the user gave it.
type newPayment struct {
	values map[string]any
	parts  []part
	key    string
	rate   string
	field  func(i int) string
}

// record writes a checked payment and settles it on its invoices. It
// answers the payment, its invoices and its allocation records, in the
// order of the parts.
func record(ctx context.Context, np newPayment) (sdk.Record, []sdk.Record, []sdk.Record, error) {
	host := sdk.HostFrom(ctx)
	shares := make([]share, len(np.parts))
	for i, pt := range np.parts {
		shares[i] = share{Invoice: pt.inv.ID(), Number: pt.inv.String("number"),
			Amount: Money{pt.converted, pt.inv.String("currency")}.JSON(), Part: pt.paid.JSON()}
	}
	js, err := json.Marshal(shares)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("payment: allocations: %w", err)
	}
	values := maps(np.values)
	values["allocations"], values["status"], values["key"] = string(js), PaymentPending, orNil(np.key)
	wkey := np.key
	if wkey == "" {
		wkey = "payment:" + rand.Text()
	}
	pm, err := host.Create(ctx, PaymentEntity, values, sdk.IdempotencyKey(wkey+":payment"))
	if err != nil {
		return nil, nil, nil, fmt.Errorf("store the payment: %w", err)
	}
	crashPoint("payment", pm.String("reference"))
	return settle(ctx, pm, np.field)
}

// maps is a shallow copy of m.
func maps(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+3)
	for k, v := range m {
		out[k] = v
	}
	return out
}

// settle brings the invoices a payment pays, its allocation records and
// its status in line with the payment record: the second and third steps
// of recording it, which a repeat, a retry or the reconciliation at start
// runs again with no change to what is done already. field names the
// argument a refusal of part i names (nil: "amount").
func settle(ctx context.Context, pm sdk.Record, field func(i int) string) (sdk.Record, []sdk.Record, []sdk.Record, error) {
	host := sdk.HostFrom(ctx)
	if field == nil {
		field = func(int) string { return "amount" }
	}
	if pm.String("status") == PaymentRefused {
		return nil, nil, nil, sdk.RefuseField(field(0), CodeOverpayment, fmt.Sprintf("payment %s was refused: when it was recorded, a concurrent payment had taken the balance it was to pay; nothing of it is recorded", pm.ID()))
	}
	shares, err := sharesOf(pm)
	if err != nil {
		return nil, nil, nil, err
	}
	if len(shares) == 0 {
		// A payment recorded before payments kept their allocations.
		return pm, nil, nil, nil
	}
	invoices := make([]sdk.Record, len(shares))
	for i, sh := range shares {
		inv, changed, err := settleOn(ctx, pm, sh, field(i))
		if err != nil {
			var r *sdk.Refusal
			if errors.As(err, &r) {
				if rerr := refusePayment(ctx, pm, shares[:i]); rerr != nil {
					return nil, nil, nil, errors.Join(err, rerr)
				}
			}
			return nil, nil, nil, err
		}
		invoices[i] = inv
		if i == 0 && len(shares) > 1 && changed {
			crashPoint("invoice", pm.String("reference"))
		}
	}
	allocs := make([]sdk.Record, len(shares))
	for i, sh := range shares {
		al, _, err := host.CreateUnless(ctx, AllocationEntity, sdk.And(sdk.Eq("payment", pm.ID()), sdk.Eq("invoice", sh.Invoice)),
			map[string]any{"payment": pm.ID(), "invoice": sh.Invoice, "amount": sh.Amount},
			sdk.IdempotencyKey("allocation:"+pm.ID()+":"+sh.Invoice))
		if err != nil {
			return nil, nil, nil, fmt.Errorf("invoice %s: allocate payment %s: %w", sh.Number, pm.ID(), err)
		}
		allocs[i] = al
	}
	if pm.String("status") != PaymentRecorded {
		if pm, err = host.Update(ctx, PaymentEntity, pm.ID(), map[string]any{"status": PaymentRecorded},
			sdk.IdempotencyKey("recorded:"+pm.ID())); err != nil {
			return nil, nil, nil, fmt.Errorf("payment %s: mark it recorded: %w", pm.ID(), err)
		}
	}
	return pm, invoices, allocs, nil
}

// sharesOf reads a payment's allocations field.
func sharesOf(pm sdk.Record) ([]share, error) {
	s := pm.String("allocations")
	if s == "" {
		return nil, nil
	}
	var out []share
	if err := json.Unmarshal([]byte(s), &out); err != nil {
		return nil, fmt.Errorf("payment %s: allocations: %w", pm.ID(), err)
	}
	return out, nil
}

// settleOn settles a payment on one invoice it pays: unless the invoice
// lists it already, its paid amount becomes the sum of the allocations of
// the payments it lists and this one's, under its version. A share that
// is more than the balance is refused (naming field), as is an invoice
// that is not open. changed is false when the invoice listed the payment
// already.
func settleOn(ctx context.Context, pm sdk.Record, sh share, field string) (inv sdk.Record, changed bool, err error) {
	host := sdk.HostFrom(ctx)
	amt, err := moneyOf(sh.Amount)
	if err != nil {
		return nil, false, fmt.Errorf("payment %s: allocation to %s: %w", pm.ID(), sh.Number, err)
	}
	for attempt := 0; ; attempt++ {
		inv, err = host.Get(ctx, InvoiceEntity, sh.Invoice)
		if err != nil {
			return nil, false, fmt.Errorf("payment %s: invoice %s: %w", pm.ID(), sh.Number, err)
		}
		st, err := appliedTo(ctx, inv)
		if err != nil {
			return nil, false, err
		}
		if slices.Contains(st.payments, pm.ID()) {
			return inv, false, nil
		}
		if err := payable(inv); err != nil {
			if field != "amount" {
				return nil, false, sdk.RefuseField(strings.TrimSuffix(field, ".amount")+".invoice", CodeNotPayable, strings.TrimSuffix(field, ".amount")+".invoice: "+refusalMessage(err))
			}
			return nil, false, err
		}
		cur := inv.String("currency")
		open := st.open(inv)
		if amt.Minor > open {
			what := amt.String()
			if part, err := moneyOf(sh.Part); err == nil && part.Currency != amt.Currency {
				what = partString(part, amt, decimalString(pm["rate"]))
			}
			msg := fmt.Sprintf("the payment of %s is more than the balance of invoice %s, %s; nothing was recorded", what, inv.String("number"), Money{open, cur})
			if field != "amount" {
				msg = fmt.Sprintf("%s: %s is more than the balance of invoice %s, %s; nothing was recorded", field, what, inv.String("number"), Money{open, cur})
			}
			return nil, false, sdk.RefuseField(field, CodeOverpayment, msg)
		}
		st.payments, st.paid = append(st.payments, pm.ID()), st.paid+amt.Minor
		updated, err := host.Update(ctx, InvoiceEntity, inv.ID(), st.values(inv),
			sdk.IfVersion(inv.Version()), sdk.IdempotencyKey("settle:"+pm.ID()+":"+inv.ID()))
		if errors.Is(err, sdk.ErrConflict) && attempt < maxAttempts {
			series.Backoff(ctx, attempt)
			continue
		}
		if err != nil {
			return nil, false, fmt.Errorf("invoice %s: settle payment %s: %w", inv.String("number"), pm.ID(), err)
		}
		return updated, true, nil
	}
}

// applied is what an invoice reflects: the payments it lists and the sum
// of their allocations to it, the credit notes it lists and the sum of
// their totals (positive), in minor units of its currency.
type applied struct {
	payments []string
	paid     int64
	credits  []string
	credited int64
}

// appliedTo reads what an invoice reflects from the payments and credit
// notes themselves (never from its own paid or credited amounts, except
// to know that an invoice credited before invoices listed their credit
// notes has some).
func appliedTo(ctx context.Context, inv sdk.Record) (applied, error) {
	var st applied
	var err error
	if st.payments, st.paid, err = appliedPayments(ctx, inv); err != nil {
		return st, err
	}
	if st.credits, st.credited, err = appliedCredits(ctx, inv); err != nil {
		return st, err
	}
	return st, nil
}

// open is the invoice's balance once st is applied to it.
func (st applied) open(inv sdk.Record) int64 {
	return minorOf(inv, "gross") - st.credited - st.paid
}

// values are an invoice's payments, paid, credit notes, credited, balance
// and status once st is applied to it: the one derivation of an invoice's
// state, for payments and credit notes alike.
func (st applied) values(inv sdk.Record) map[string]any {
	cur := inv.String("currency")
	left := st.open(inv)
	status := StatusIssued
	switch {
	case left == 0 && st.paid > 0:
		status = StatusPaid
	case left == 0:
		status = StatusCredited
	case inv.String("status") == StatusOverdue:
		status = StatusOverdue
	case st.paid > 0:
		status = StatusPartlyPaid
	}
	return map[string]any{"payments": orNil(strings.Join(st.payments, ",")), "paid": Money{st.paid, cur}.JSON(),
		"credit_notes": orNil(strings.Join(st.credits, ",")), "credited": Money{st.credited, cur}.JSON(),
		"balance": Money{left, cur}.JSON(), "status": status}
}

// appliedCredits are the ids of the credit notes an invoice reflects and
// the sum of their totals (positive, minor units of its currency), read
// from the credit notes. An invoice credited before invoices listed their
// credit notes reflects its issued credit notes (status credit_note).
func appliedCredits(ctx context.Context, inv sdk.Record) ([]string, int64, error) {
	host := sdk.HostFrom(ctx)
	var ids []string
	var sum int64
	if list := inv.String("credit_notes"); list != "" {
		ids = strings.Split(list, ",")
		for _, id := range ids {
			cn, err := host.Get(ctx, InvoiceEntity, id)
			if err != nil {
				return nil, 0, fmt.Errorf("invoice %s: credit note %s: %w", inv.String("number"), id, err)
			}
			sum -= minorOf(cn, "gross")
		}
		return ids, sum, nil
	}
	if minorOf(inv, "credited") == 0 {
		return nil, 0, nil
	}
	err := each(ctx, InvoiceEntity, sdk.And(sdk.Eq("credit_of", inv.ID()), sdk.Eq("status", StatusCreditNote)), "created_at", func(cn sdk.Record) error {
		ids, sum = append(ids, cn.ID()), sum-minorOf(cn, "gross")
		return nil
	})
	return ids, sum, err
}

// appliedPayments are the ids of the payments an invoice reflects and the
// sum of their allocations to it (minor units of its currency), read from
// the payments themselves. An invoice paid before invoices listed their
// payments reflects those its allocation records name.
func appliedPayments(ctx context.Context, inv sdk.Record) ([]string, int64, error) {
	host := sdk.HostFrom(ctx)
	if list := inv.String("payments"); list != "" {
		ids := strings.Split(list, ",")
		var sum int64
		for _, id := range ids {
			pm, err := host.Get(ctx, PaymentEntity, id)
			if err != nil {
				return nil, 0, fmt.Errorf("invoice %s: payment %s: %w", inv.String("number"), id, err)
			}
			n, err := shareOf(ctx, pm, inv)
			if err != nil {
				return nil, 0, err
			}
			sum += n
		}
		return ids, sum, nil
	}
	var ids []string
	var sum int64
	err := each(ctx, AllocationEntity, sdk.Eq("invoice", inv.ID()), "created_at", func(al sdk.Record) error {
		m, err := moneyOf(al["amount"])
		if err != nil {
			return fmt.Errorf("invoice %s: allocation %s: %w", inv.String("number"), al.ID(), err)
		}
		ids, sum = append(ids, al.String("payment")), sum+m.Minor
		return nil
	})
	return ids, sum, err
}

// shareOf is the part of a payment that pays an invoice, in minor units
// of the invoice's currency: from the payment's allocations, or from its
// allocation record for a payment written before payments kept them.
func shareOf(ctx context.Context, pm, inv sdk.Record) (int64, error) {
	shares, err := sharesOf(pm)
	if err != nil {
		return 0, err
	}
	if shares == nil {
		al, err := firstWhere(ctx, AllocationEntity, sdk.And(sdk.Eq("payment", pm.ID()), sdk.Eq("invoice", inv.ID())))
		if err != nil || al == nil {
			return 0, err
		}
		m, err := moneyOf(al["amount"])
		return m.Minor, err
	}
	var sum int64
	for _, sh := range shares {
		if sh.Invoice == inv.ID() {
			m, err := moneyOf(sh.Amount)
			if err != nil {
				return 0, fmt.Errorf("payment %s: allocation to %s: %w", pm.ID(), sh.Number, err)
			}
			sum += m.Minor
		}
	}
	return sum, nil
}

// refusePayment undoes a payment that did not fit one of its invoices:
// the invoices it was settled on are recomputed without it, and its
// status becomes refused.
func refusePayment(ctx context.Context, pm sdk.Record, settled []share) error {
	host := sdk.HostFrom(ctx)
	var errs []error
	for _, sh := range settled {
		for attempt := 0; ; attempt++ {
			inv, err := host.Get(ctx, InvoiceEntity, sh.Invoice)
			if err != nil {
				errs = append(errs, err)
				break
			}
			st, err := appliedTo(ctx, inv)
			if err != nil {
				errs = append(errs, err)
				break
			}
			if !slices.Contains(st.payments, pm.ID()) {
				break
			}
			st.payments = slices.DeleteFunc(slices.Clone(st.payments), func(id string) bool { return id == pm.ID() })
			st.paid = 0
			for _, id := range st.payments {
				q, err := host.Get(ctx, PaymentEntity, id)
				if err == nil {
					var n int64
					n, err = shareOf(ctx, q, inv)
					st.paid += n
				}
				if err != nil {
					errs = append(errs, err)
					break
				}
			}
			_, err = host.Update(ctx, InvoiceEntity, inv.ID(), st.values(inv),
				sdk.IfVersion(inv.Version()), sdk.IdempotencyKey("unsettle:"+pm.ID()+":"+inv.ID()))
			if errors.Is(err, sdk.ErrConflict) && attempt < maxAttempts {
				series.Backoff(ctx, attempt)
				continue
			}
			if err != nil {
				errs = append(errs, err)
			}
			break
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("payment %s: take it back from its invoices: %w", pm.ID(), err)
	}
	if _, err := host.Update(ctx, PaymentEntity, pm.ID(), map[string]any{"status": PaymentRefused},
		sdk.IdempotencyKey("refused:"+pm.ID())); err != nil {
		return fmt.Errorf("payment %s: mark it refused: %w", pm.ID(), err)
	}
	return nil
}

// reconcile settles the payments, and completes the credit notes
// (reconcileCredits), left pending for more than grace (the process died
// between their writes): at the plugin's start with grace 0,
// from the overdue ticker with a grace longer than a call lasts, so that
// a payment a call is settling is left to it. It answers how many it
// settled or refused.
func reconcile(ctx context.Context, grace time.Duration) (int, error) {
	host := sdk.HostFrom(ctx)
	var pending []sdk.Record
	filter := sdk.Eq("status", PaymentPending)
	if grace > 0 {
		filter = sdk.And(filter, sdk.Lt("created_at", time.Now().Add(-grace)))
	}
	// Collected first: settling takes a payment off the pending index the
	// walk reads.
	if err := sdk.Each(ctx, sdk.Query{Entity: PaymentEntity, Filter: filter, Sort: "created_at", Limit: 100}, func(pm sdk.Record) error {
		pending = append(pending, pm)
		return nil
	}); err != nil {
		return 0, fmt.Errorf("reconcile payments: %w", err)
	}
	var errs []error
	n := 0
	for _, pm := range pending {
		_, _, _, err := settle(ctx, pm, nil)
		var r *sdk.Refusal
		switch {
		case errors.As(err, &r):
			host.Log(ctx, slog.LevelWarn, "a payment left pending was refused: it no longer fits its invoices",
				slog.String("payment", pm.ID()), slog.String("reason", r.Message))
		case err != nil:
			errs = append(errs, err)
			continue
		}
		n++
	}
	m, err := reconcileCredits(ctx, grace)
	return n + m, errors.Join(append(errs, err)...)
}

// CrashEnv names the environment variable of the plugin's crash test
// hook: "payment:REF" kills the process (as kill -9 does) right after the
// payment with reference REF is written, "invoice:REF" right after the
// first of its invoices is settled; "credit_note:REASON" right after the
// credit note with reason REASON is written, "credited:REASON" right after
// its invoice is credited, before its lines. crm passes a plugin process only the
// variables it names, and not this one: the hook is for tests that start
// the plugin with it (sdktest.Options.Env).
const CrashEnv = "CRM_ACCOUNTING_CRASH"

// crashPoint kills the process at the point CrashEnv names, for the
// payment or credit note ref names.
func crashPoint(point, ref string) {
	want := os.Getenv(CrashEnv)
	if want == "" || want != point+":"+ref {
		return
	}
	if p, err := os.FindProcess(os.Getpid()); err == nil {
		_ = p.Kill()
		select {}
	}
}
