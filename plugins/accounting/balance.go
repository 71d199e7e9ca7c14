package accounting

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
)

// Ageing buckets: days past the due date.
const (
	BucketCurrent = "current" // not yet due (due today included)
	Bucket30      = "0-30"    // 1 to 30 days past due
	Bucket60      = "31-60"
	Bucket90      = "61-90"
	BucketOver90  = "90+" // more than 90 days past due
)

// Buckets are the ageing buckets in order.
var Buckets = []string{BucketCurrent, Bucket30, Bucket60, Bucket90, BucketOver90}

// bucket is the ageing bucket of an invoice days past due.
func bucket(days int) string {
	switch {
	case days <= 0:
		return BucketCurrent
	case days <= 30:
		return Bucket30
	case days <= 60:
		return Bucket60
	case days <= 90:
		return Bucket90
	}
	return BucketOver90
}

// daysPast is how many days day is after due (negative before).
func daysPast(due, day time.Time) int {
	return int(day.Sub(due).Hours() / 24)
}

// openInvoices calls fn for every open invoice that matches filter.
func openInvoices(ctx context.Context, filter string, fn func(sdk.Record) error) error {
	f := sdk.In("status", StatusIssued, StatusPartlyPaid, StatusOverdue)
	if filter != "" {
		f = sdk.And(filter, f)
	}
	return each(ctx, InvoiceEntity, f, "due_date", fn)
}

// balance answers what a company or contact owes as of a day: per
// currency, the open invoices' balances and their ageing, and the
// invoices themselves, oldest due first.
func (p *Plugin) balance(ctx context.Context, call sdk.Call) (any, error) {
	var a struct {
		Date string `json:"date"`
	}
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, "balance: "+err.Error())
	}
	if call.Record == nil || (call.Record.Entity != "company" && call.Record.Entity != "contact") {
		return nil, sdk.RefuseField("entity", sdk.CodeInvalidArgs, "balance works on a company or a contact")
	}
	day, err := p.dateArg("date", a.Date)
	if err != nil {
		return nil, err
	}
	type sums struct {
		total   int64
		buckets map[string]int64
	}
	per := map[string]*sums{}
	var invoices []map[string]any
	err = openInvoices(ctx, sdk.Eq(call.Record.Entity, call.Record.ID), func(inv sdk.Record) error {
		bal, err := moneyOf(inv["balance"])
		if err != nil {
			return fmt.Errorf("invoice %s: balance: %w", inv.String("number"), err)
		}
		due, err := time.Parse(time.DateOnly, inv.String("due_date"))
		if err != nil {
			return fmt.Errorf("invoice %s: due date: %w", inv.String("number"), err)
		}
		days := daysPast(due, day)
		s := per[bal.Currency]
		if s == nil {
			s = &sums{buckets: map[string]int64{}}
			per[bal.Currency] = s
		}
		s.total += bal.Minor
		s.buckets[bucket(days)] += bal.Minor
		invoices = append(invoices, map[string]any{
			"id": inv.ID(), "number": inv.String("number"), "due_date": inv.String("due_date"), "status": inv.String("status"),
			"days_overdue": max(days, 0), "bucket": bucket(days), "balance": bal.JSON(),
		})
		return nil
	})
	if err != nil {
		return nil, err
	}
	curs := make([]string, 0, len(per))
	for c := range per {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	balances := []map[string]any{}
	for _, c := range curs {
		s := per[c]
		b := map[string]any{"currency": c, "balance": Money{s.total, c}.JSON()}
		for _, name := range Buckets {
			b[name] = Money{s.buckets[name], c}.JSON()
		}
		balances = append(balances, b)
	}
	if invoices == nil {
		invoices = []map[string]any{}
	}
	rows := make([]map[string]any, len(invoices))
	for i, inv := range invoices {
		rows[i] = map[string]any{"invoice": inv["id"], "due_date": inv["due_date"], "days_overdue": inv["days_overdue"],
			"balance": inv["balance"]}
	}
	totals := make([]map[string]any, len(balances))
	for i, b := range balances {
		totals[i] = map[string]any{"balance": b["balance"]}
	}
	table := sdk.Table{Title: "Owed as of " + day.Format(time.DateOnly), TitleLabels: asOfTitle("title:balance", "Owed as of", day),
		Columns: []sdk.Column{
			{Name: "invoice", Label: "Invoice", Labels: translations.Labels(InvoiceEntity, "Invoice"), Type: sdk.TypeRef, To: InvoiceEntity},
			{Name: "due_date", Label: "Due date", Labels: translations.Labels(InvoiceEntity+".due_date", "Due date"), Type: sdk.TypeDate},
			column("days_overdue", "", sdk.TypeInt), column("balance", "", sdk.TypeMoney),
		}, Rows: rows, Totals: totals}
	return map[string]any{
		"entity": call.Record.Entity, "id": call.Record.ID, "as_of": day.Format(time.DateOnly),
		"balances": balances, "invoices": invoices, "table": table,
	}, nil
}

// checkOverdue marks every open invoice past its due date on day overdue
// and emits invoice.overdue for it, at most once per invoice and day (the
// emit's idempotency key is the invoice and the day, so a second check
// that day, by the ticker or a call, emits nothing more). It answers how
// many invoices are overdue.
func (p *Plugin) checkOverdue(ctx context.Context, day time.Time) (int, error) {
	host := sdk.HostFrom(ctx)
	date := day.Format(time.DateOnly)
	n := 0
	err := openInvoices(ctx, sdk.Lt("due_date", day), func(inv sdk.Record) error {
		due, err := time.Parse(time.DateOnly, inv.String("due_date"))
		if err != nil {
			return fmt.Errorf("invoice %s: due date: %w", inv.String("number"), err)
		}
		bal, err := moneyOf(inv["balance"])
		if err != nil {
			return fmt.Errorf("invoice %s: balance: %w", inv.String("number"), err)
		}
		if inv.String("status") != StatusOverdue {
			_, err := host.Update(ctx, InvoiceEntity, inv.ID(), map[string]any{"status": StatusOverdue}, sdk.IfVersion(inv.Version()))
			if err != nil && !errors.Is(err, sdk.ErrConflict) { // a payment just now: the next check sees it
				return err
			}
		}
		payload := map[string]any{
			"number": inv.String("number"), "due_date": inv.String("due_date"), "days_overdue": daysPast(due, day),
			"balance": bal.JSON(), "company": orNil(inv.String("company")), "contact": orNil(inv.String("contact")),
			"deal": orNil(inv.String("deal")),
		}
		if err := host.Emit(ctx, EventOverdue, payload, sdk.About(InvoiceEntity, inv.ID()),
			sdk.IdempotencyKey("overdue:"+inv.ID()+":"+date)); err != nil {
			return err
		}
		n++
		return nil
	})
	return n, err
}
