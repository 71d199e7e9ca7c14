package accounting

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
)

// Revenue groupings.
const (
	ByMonth   = "month"
	ByManager = "manager"
	ByProduct = "product"
	BySource  = "source"
)

// revenueRow is one group of a revenue report in one currency.
type revenueRow struct {
	Key, Label, Currency string
	Net, Gross           int64
	Invoices             map[string]bool
}

// revenue answers the revenue of a period: the net and gross of the
// invoices issued in it (drafts and cancelled ones left out), grouped by
// the month of issue, the deal's owner (the manager), the lines' product,
// or the deal's lead source; each group per currency, never summed across
// currencies.
func (p *Plugin) revenue(ctx context.Context, call sdk.Call) (any, error) {
	var a struct {
		By   string `json:"by"`
		From string `json:"from"`
		To   string `json:"to"`
	}
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, "revenue: "+err.Error())
	}
	from, to, err := p.periodArgs(a.From, a.To)
	if err != nil {
		return nil, err
	}
	host := sdk.HostFrom(ctx)
	rows := map[[2]string]*revenueRow{}
	add := func(key, label, cur string, net, gross int64, inv string) {
		r := rows[[2]string{key, cur}]
		if r == nil {
			r = &revenueRow{Key: key, Label: label, Currency: cur, Invoices: map[string]bool{}}
			rows[[2]string{key, cur}] = r
		}
		r.Net += net
		r.Gross += gross
		r.Invoices[inv] = true
	}
	deals := map[string]sdk.Record{}
	deal := func(id string) (sdk.Record, error) {
		if d, ok := deals[id]; ok || id == "" {
			return d, nil
		}
		d, err := host.Get(ctx, "deal", id)
		if errors.Is(err, sdk.ErrNotFound) {
			err = nil
		}
		deals[id] = d
		return d, err
	}
	// products maps a product's id to its name, "" with false for one that
	// cannot be read, so that each product is read once, not once per line.
	type named struct {
		name string
		ok   bool
	}
	products := map[string]named{}
	product := func(id string) (string, bool) {
		n, seen := products[id]
		if !seen {
			if pr, err := host.Get(ctx, ProductEntity, id); err == nil {
				n = named{pr.String("name"), true}
			}
			products[id] = n
		}
		return n.name, n.ok
	}
	filter := sdk.And(sdk.Ge("issue_date", from), sdk.Le("issue_date", to), sdk.In("status", StatusIssued, StatusPartlyPaid, StatusPaid, StatusOverdue, StatusCredited, StatusCreditNote))
	err = each(ctx, InvoiceEntity, filter, "issue_date", func(inv sdk.Record) error {
		net, err := moneyOf(inv["net"])
		if err != nil {
			return fmt.Errorf("invoice %s: net: %w", inv.String("number"), err)
		}
		gross, err := moneyOf(inv["gross"])
		if err != nil {
			return fmt.Errorf("invoice %s: gross: %w", inv.String("number"), err)
		}
		switch a.By {
		case ByMonth:
			m := inv.String("issue_date")[:7]
			add(m, m, net.Currency, net.Minor, gross.Minor, inv.ID())
		case ByManager, BySource:
			d, err := deal(inv.String("deal"))
			if err != nil {
				return err
			}
			field := "owner"
			if a.By == BySource {
				field = "source"
			}
			k := d.String(field)
			add(k, k, net.Currency, net.Minor, gross.Minor, inv.ID())
		case ByProduct:
			return each(ctx, LineEntity, sdk.Eq("invoice", inv.ID()), "position", func(l sdk.Record) error {
				ln, err1 := moneyOf(l["net"])
				lg, err2 := moneyOf(l["gross"])
				if err := errors.Join(err1, err2); err != nil {
					return fmt.Errorf("invoice %s line: %w", inv.String("number"), err)
				}
				label := l.String("description")
				if l.String("product") == "" {
					label = "(no product)"
				} else if name, ok := product(l.String("product")); ok {
					label = name
				}
				add(l.String("product"), label, ln.Currency, ln.Minor, lg.Minor, inv.ID())
				return nil
			})
		default:
			return sdk.RefuseField("by", sdk.CodeInvalidArgs, "by is month, manager, product or source")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	list := make([]*revenueRow, 0, len(rows))
	for _, r := range rows {
		list = append(list, r)
	}
	slices.SortFunc(list, func(x, y *revenueRow) int {
		return cmp.Or(cmp.Compare(x.Key, y.Key), cmp.Compare(x.Currency, y.Currency))
	})
	out := make([]map[string]any, 0, len(list))
	trows := make([]map[string]any, 0, len(list))
	type total struct {
		net, gross int64
		invoices   map[string]bool
	}
	totals := map[string]*total{}
	for _, r := range list {
		out = append(out, map[string]any{"key": r.Key, "label": r.Label, "currency": r.Currency, "invoices": len(r.Invoices),
			"net": Money{r.Net, r.Currency}.JSON(), "gross": Money{r.Gross, r.Currency}.JSON()})
		group := any(r.Label)
		if a.By == ByManager {
			group = orNil(r.Key) // a user's id, shown by name
		}
		trows = append(trows, map[string]any{"group": group, "currency": r.Currency, "invoices": len(r.Invoices),
			"net": Money{r.Net, r.Currency}.JSON(), "gross": Money{r.Gross, r.Currency}.JSON()})
		tt := totals[r.Currency]
		if tt == nil {
			tt = &total{invoices: map[string]bool{}}
			totals[r.Currency] = tt
		}
		tt.net, tt.gross = tt.net+r.Net, tt.gross+r.Gross
		for id := range r.Invoices {
			tt.invoices[id] = true
		}
	}
	curs := make([]string, 0, len(totals))
	for c := range totals {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	foot := []map[string]any{}
	for _, c := range curs {
		tt := totals[c]
		foot = append(foot, map[string]any{"currency": c, "invoices": len(tt.invoices),
			"net": Money{tt.net, c}.JSON(), "gross": Money{tt.gross, c}.JSON()})
	}
	groupType := sdk.TypeString
	if a.By == ByManager {
		groupType = sdk.TypeUser
	}
	table := sdk.Table{
		Title: "Revenue " + from.Format(time.DateOnly) + " – " + to.Format(time.DateOnly), TitleLabels: periodTitle("title:revenue", "Revenue", from, to),
		Columns: []sdk.Column{column("group", a.By, groupType), column("currency", "", sdk.TypeString), column("invoices", "", sdk.TypeInt),
			column("net", "", sdk.TypeMoney), column("gross", "", sdk.TypeMoney)},
		Rows: trows, Totals: foot,
	}
	return map[string]any{"by": a.By, "from": from.Format(time.DateOnly), "to": to.Format(time.DateOnly), "rows": out, "table": table}, nil
}

// columnLabels are the English headings of report columns, by name (a
// revenue report's group column by its grouping).
var columnLabels = map[string]string{
	ByMonth: "Month", ByManager: "Manager", ByProduct: "Product", BySource: "Lead source",
	"currency": "Currency", "invoices": "Invoices", "days_overdue": "Days overdue", "net": "Net", "gross": "Total", "customer": "Customer", "balance": "Owed",
	BucketCurrent: "Not yet due", Bucket30: "1–30 days", Bucket60: "31–60 days", Bucket90: "61–90 days", BucketOver90: "Over 90 days",
}

// column is a report's column named name, headed as columnLabels[key]
// says in every language (key is name when empty).
func column(name, key, typ string) sdk.Column {
	if key == "" {
		key = name
	}
	return sdk.Column{Name: name, Label: columnLabels[key], Labels: translations.Labels("column:"+key, columnLabels[key]), Type: typ}
}

// periodTitle is a report's title, "Revenue 2026-01-01 – 2026-03-31", in
// every language.
func periodTitle(key, english string, from, to time.Time) map[string]string {
	period := " " + from.Format(time.DateOnly) + " – " + to.Format(time.DateOnly)
	out := translations.Labels(key, english)
	for lang := range out {
		out[lang] += period
	}
	return out
}

// asOfTitle is a report's title as of a day in every language: key
// names its translations.
func asOfTitle(key, english string, day time.Time) map[string]string {
	out := translations.Labels(key, english)
	for lang := range out {
		out[lang] += " " + day.Format(time.DateOnly)
	}
	return out
}

// receivables answers what all customers owe as of a day: per customer and
// currency the open balance and its ageing, and the totals per currency.
func (p *Plugin) receivables(ctx context.Context, call sdk.Call) (any, error) {
	var a struct {
		Date string `json:"date"`
	}
	if err := call.DecodeArgs(&a); err != nil {
		return nil, sdk.Refuse(sdk.CodeInvalidArgs, "receivables: "+err.Error())
	}
	day, err := p.dateArg("date", a.Date)
	if err != nil {
		return nil, err
	}
	type sums struct {
		entity, id, cur string
		total           int64
		buckets         map[string]int64
	}
	per := map[[3]string]*sums{}
	totals := map[string]*sums{}
	err = openInvoices(ctx, "", func(inv sdk.Record) error {
		bal, err := moneyOf(inv["balance"])
		if err != nil {
			return fmt.Errorf("invoice %s: balance: %w", inv.String("number"), err)
		}
		due, err := time.Parse(time.DateOnly, inv.String("due_date"))
		if err != nil {
			return fmt.Errorf("invoice %s: due date: %w", inv.String("number"), err)
		}
		entity, id := "company", inv.String("company")
		if id == "" {
			entity, id = "contact", inv.String("contact")
		}
		k := [3]string{entity, id, bal.Currency}
		if per[k] == nil {
			per[k] = &sums{entity: entity, id: id, cur: bal.Currency, buckets: map[string]int64{}}
		}
		if totals[bal.Currency] == nil {
			totals[bal.Currency] = &sums{cur: bal.Currency, buckets: map[string]int64{}}
		}
		b := bucket(daysPast(due, day))
		for _, s := range []*sums{per[k], totals[bal.Currency]} {
			s.total += bal.Minor
			s.buckets[b] += bal.Minor
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	form := func(s *sums) map[string]any {
		m := map[string]any{"currency": s.cur, "balance": Money{s.total, s.cur}.JSON()}
		for _, name := range Buckets {
			m[name] = Money{s.buckets[name], s.cur}.JSON()
		}
		return m
	}
	names := &nameCache{ctx: ctx, names: map[string]string{}}
	customers := []map[string]any{}
	keys := make([][3]string, 0, len(per))
	for k := range per {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y [3]string) int { return cmp.Compare(per[y].total, per[x].total) }) // who owes most first
	for _, k := range keys {
		s := per[k]
		m := form(s)
		name, err := names.name(s.entity, s.id)
		if err != nil {
			return nil, err
		}
		m["entity"], m["id"], m["name"] = s.entity, s.id, name
		customers = append(customers, m)
	}
	curs := make([]string, 0, len(totals))
	for c := range totals {
		curs = append(curs, c)
	}
	slices.Sort(curs)
	tots := []map[string]any{}
	for _, c := range curs {
		tots = append(tots, form(totals[c]))
	}
	cols := []sdk.Column{column("customer", "", sdk.TypeString), column("currency", "", sdk.TypeString), column("balance", "", sdk.TypeMoney)}
	for _, b := range Buckets {
		cols = append(cols, column(b, "", sdk.TypeMoney))
	}
	rows := make([]map[string]any, len(customers))
	for i, c := range customers {
		rows[i] = maps(c)
		rows[i]["customer"] = c["name"]
	}
	table := sdk.Table{Title: "Receivables as of " + day.Format(time.DateOnly), TitleLabels: asOfTitle("title:receivables", "Receivables as of", day),
		Columns: cols, Rows: rows, Totals: tots}
	return map[string]any{"as_of": day.Format(time.DateOnly), "totals": tots, "customers": customers, "table": table}, nil
}
