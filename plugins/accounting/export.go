package accounting

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
)

// Export kinds and formats.
const (
	ExportInvoices = "invoices"
	ExportPayments = "payments"
	FormatCSV      = "csv"
	FormatJSON     = "json"
)

// InvoiceColumns are the columns of an invoices CSV export, in order: what
// an operator of 1C, Sepidar or Rahkaran maps to their import. Amounts are
// plain decimals with a point and no grouping, dates ISO 8601.
var InvoiceColumns = []string{"number", "issue_date", "due_date", "status", "currency", "net", "vat", "gross", "paid", "balance",
	"company_id", "company_name", "contact_id", "contact_name", "deal_id", "invoice_id", "credited", "credit_of_number"}

// PaymentColumns are the columns of a payments CSV export: one row per
// allocation of a payment to an invoice.
var PaymentColumns = []string{"date", "amount", "currency", "rate", "method", "reference", "invoice_number", "allocated", "invoice_currency",
	"company_id", "company_name", "contact_id", "contact_name", "payment_id", "invoice_id"}

// exportArgs are export's arguments.
type exportArgs struct {
	Kind   string `json:"kind"`
	Format string `json:"format"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// export writes the issued invoices (by issue date) or the payments (by
// date) of a period as CSV or JSON, stores the file and an
// accounting_export record that holds it, and answers that record.
func (p *Plugin) export(ctx context.Context, call sdk.Call) (any, error) {
	var a exportArgs
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, "export: "+err.Error())
	}
	from, to, err := p.periodArgs(a.From, a.To)
	if err != nil {
		return nil, err
	}
	names := &nameCache{ctx: ctx, names: map[string]string{}}
	var rows [][]string
	var items []map[string]any
	switch a.Kind {
	case ExportInvoices:
		rows, items, err = invoiceRows(ctx, names, from, to)
	case ExportPayments:
		rows, items, err = paymentRows(ctx, names, from, to)
	default:
		return nil, sdk.RefuseField("kind", sdk.CodeInvalidArgs, "kind is invoices or payments")
	}
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	ct := "text/csv; charset=utf-8"
	switch a.Format {
	case FormatJSON:
		ct = "application/json"
		if items == nil {
			items = []map[string]any{}
		}
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(map[string]any{"kind": a.Kind, "from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "items": items}); err != nil {
			return nil, fmt.Errorf("export: encode: %w", err)
		}
	default:
		w := csv.NewWriter(&buf)
		header := InvoiceColumns
		if a.Kind == ExportPayments {
			header = PaymentColumns
		}
		if err := w.Write(header); err != nil {
			return nil, err
		}
		if err := w.WriteAll(rows); err != nil {
			return nil, fmt.Errorf("export: write CSV: %w", err)
		}
	}
	name := fmt.Sprintf("%s-%s-%s.%s", a.Kind, from.Format(time.DateOnly), to.Format(time.DateOnly), a.Format)
	info, err := sdk.HostFrom(ctx).WriteFile(ctx, name, ct, &buf)
	if err != nil {
		return nil, err
	}
	return sdk.HostFrom(ctx).Create(ctx, ExportEntity, map[string]any{
		"name": name, "kind": a.Kind, "format": a.Format, "from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly),
		"rows": len(rows), "file": info.ID,
	})
}

// nameCache reads the names of companies and contacts once each.
type nameCache struct {
	ctx   context.Context
	names map[string]string
}

func (c *nameCache) name(entity, id string) (string, error) {
	if id == "" {
		return "", nil
	}
	if n, ok := c.names[id]; ok {
		return n, nil
	}
	r, err := sdk.HostFrom(c.ctx).Get(c.ctx, entity, id)
	if errors.Is(err, sdk.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	c.names[id] = r.String("name")
	return c.names[id], nil
}

// each calls fn for every record of entity that matches filter, in sort.
func each(ctx context.Context, entity, filter, sort string, fn func(sdk.Record) error) error {
	return sdk.Each(ctx, sdk.Query{Entity: entity, Filter: filter, Sort: sort, Limit: 500}, fn)
}

// plain is a money field's amount as a plain decimal ("" when unset).
func plain(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["amount"].(string)
	return s
}

// invoiceRows are the rows and JSON items of the invoices issued in
// [from, to], drafts and credit notes not yet applied (pending) left
// out; a refused credit note is listed, with amounts of 0, so that the
// series stays gapless. The JSON items carry their lines.
func invoiceRows(ctx context.Context, names *nameCache, from, to time.Time) ([][]string, []map[string]any, error) {
	var rows [][]string
	var items []map[string]any
	filter := sdk.And(sdk.Ge("issue_date", from), sdk.Le("issue_date", to), sdk.Not(sdk.In("status", StatusDraft, StatusPending)))
	err := each(ctx, InvoiceEntity, filter, "issue_date,number", func(inv sdk.Record) error {
		co, err := names.name("company", inv.String("company"))
		if err != nil {
			return err
		}
		ct, err := names.name("contact", inv.String("contact"))
		if err != nil {
			return err
		}
		creditOf := ""
		if id := inv.String("credit_of"); id != "" {
			orig, err := sdk.HostFrom(ctx).Get(ctx, InvoiceEntity, id)
			if err != nil {
				return fmt.Errorf("credit note %s: its invoice: %w", inv.String("number"), err)
			}
			creditOf = orig.String("number")
		}
		credited := plain(inv["credited"])
		if credited == "" {
			credited = plain(Money{0, inv.String("currency")}.JSON())
		}
		rows = append(rows, []string{inv.String("number"), inv.String("issue_date"), inv.String("due_date"), inv.String("status"),
			inv.String("currency"), plain(inv["net"]), plain(inv["vat"]), plain(inv["gross"]), plain(inv["paid"]), plain(inv["balance"]),
			inv.String("company"), co, inv.String("contact"), ct, inv.String("deal"), inv.ID(), credited, creditOf})
		var lines []map[string]any
		err = each(ctx, LineEntity, sdk.Eq("invoice", inv.ID()), "position", func(l sdk.Record) error {
			lines = append(lines, map[string]any{"position": l["position"], "description": l.String("description"),
				"product_id": l["product"], "quantity": l["quantity"], "unit_price": plain(l["unit_price"]), "discount": l["discount"],
				"vat_rate": l["vat_rate"], "net": plain(l["net"]), "vat": plain(l["vat"]), "gross": plain(l["gross"])})
			return nil
		})
		if err != nil {
			return err
		}
		item := map[string]any{}
		for i, c := range InvoiceColumns {
			item[c] = rows[len(rows)-1][i]
		}
		item["lines"] = lines
		items = append(items, item)
		return nil
	})
	return rows, items, err
}

// paymentRows are the rows and JSON items of the payments dated in
// [from, to], one per allocation.
func paymentRows(ctx context.Context, names *nameCache, from, to time.Time) ([][]string, []map[string]any, error) {
	var rows [][]string
	var items []map[string]any
	// invoices are the allocations' invoices, each read once: several
	// payments are often allocated to one invoice.
	invoices := map[string]sdk.Record{}
	filter := sdk.And(sdk.Ge("paid_on", from), sdk.Le("paid_on", to))
	err := each(ctx, PaymentEntity, filter, "paid_on,created_at", func(pm sdk.Record) error {
		co, err := names.name("company", pm.String("company"))
		if err != nil {
			return err
		}
		ct, err := names.name("contact", pm.String("contact"))
		if err != nil {
			return err
		}
		amt, _ := pm["amount"].(map[string]any)
		cur, _ := amt["currency"].(string)
		return each(ctx, AllocationEntity, sdk.Eq("payment", pm.ID()), "created_at", func(al sdk.Record) error {
			inv, ok := invoices[al.String("invoice")]
			if !ok {
				var err error
				if inv, err = sdk.HostFrom(ctx).Get(ctx, InvoiceEntity, al.String("invoice")); err != nil {
					return err
				}
				invoices[al.String("invoice")] = inv
			}
			rate := decimalString(pm["rate"])
			row := []string{pm.String("paid_on"), plain(pm["amount"]), cur, rate, pm.String("method"), pm.String("reference"),
				inv.String("number"), plain(al["amount"]), inv.String("currency"),
				pm.String("company"), co, pm.String("contact"), ct, pm.ID(), inv.ID()}
			rows = append(rows, row)
			item := map[string]any{}
			for i, c := range PaymentColumns {
				item[c] = row[i]
			}
			items = append(items, item)
			return nil
		})
	})
	return rows, items, err
}
