package calltracking

import (
	"context"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/crmkit/crm/plugins/sdk"
)

// Report actions, called on no record.
const (
	ActionAttributionReport = "attribution_report"
	ActionSLAReport         = "sla_report"
)

// CampaignEntity holds a campaign's ad cost, entered in the CRM.
const CampaignEntity = "ad_campaign"

// maxReportRecords bounds the records a report reads per entity.
const maxReportRecords = 100000

// CampaignRow is one campaign's line of the attribution report.
type CampaignRow struct {
	Campaign string `json:"campaign"`
	Calls    int    `json:"calls"`
	Missed   int    `json:"missed"`
	Leads    int    `json:"leads"`
	Deals    int    `json:"deals"`
	Won      int    `json:"won"`
	// Revenue is the sum of the won deals' amounts, per currency.
	Revenue map[string]string `json:"revenue"`
	// Cost is the campaign's ad cost (its ad_campaign record), if entered.
	Cost *Money `json:"cost"`
	// CostPerLead is Cost over Leads; ROAS is revenue in Cost's currency
	// over Cost. Both null when they cannot be computed.
	CostPerLead *Money  `json:"cost_per_lead"`
	ROAS        *string `json:"roas"`
}

// Money is the API's money form.
type Money struct {
	Amount   string `json:"amount"`
	Currency string `json:"currency"`
}

// each calls fn for every record of entity matching filter, at most
// maxReportRecords of them.
func each(ctx context.Context, entity, filter string, fn func(sdk.Record) error) error {
	seen := 0
	var fnErr error
	err := sdk.Each(ctx, sdk.Query{Entity: entity, Filter: filter, Limit: 1000}, func(r sdk.Record) error {
		if seen >= maxReportRecords {
			return sdk.ErrStop
		}
		seen++
		fnErr = fn(r)
		return fnErr
	})
	switch {
	case fnErr != nil:
		return fnErr
	case err != nil:
		return fmt.Errorf("read %s: %w", entity, err)
	}
	return nil
}

// attributionReport counts, by campaign, the calls to its numbers, the
// leads they made, the deals attributed to it (source = campaign), the
// won ones and their revenue, with cost per lead and return on ad spend
// from the ad_campaign records.
func (p *Plugin) attributionReport(ctx context.Context) (any, error) {
	cfg := p.settings()
	rows := map[string]*CampaignRow{}
	row := func(name string) *CampaignRow {
		r := rows[name]
		if r == nil {
			r = &CampaignRow{Campaign: name, Revenue: map[string]string{}}
			rows[name] = r
		}
		return r
	}
	for _, name := range cfg.campaignOf {
		row(name)
	}
	err := each(ctx, CallEntity, sdk.Ne("campaign", nil), func(c sdk.Record) error {
		r := row(c.String("campaign"))
		r.Calls++
		if c.String("status") == StatusMissed {
			r.Missed++
		}
		if c["lead"] == true {
			r.Leads++
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	revenue := map[string]map[string]*big.Rat{}
	names := make([]string, 0, len(rows))
	for name := range rows {
		names = append(names, name)
	}
	sort.Strings(names)
	if len(names) > 0 {
		err = each(ctx, "deal", sdk.In("source", toAny(names)...), func(d sdk.Record) error {
			r := row(d.String("source"))
			r.Deals++
			if d.String("stage") != "won" {
				return nil
			}
			r.Won++
			var amt struct {
				Amount *Money `json:"amount"`
			}
			if d.Decode(&amt) != nil || amt.Amount == nil {
				return nil
			}
			v, ok := new(big.Rat).SetString(amt.Amount.Amount)
			if !ok {
				return nil
			}
			if revenue[r.Campaign] == nil {
				revenue[r.Campaign] = map[string]*big.Rat{}
			}
			sum := revenue[r.Campaign][amt.Amount.Currency]
			if sum == nil {
				sum = new(big.Rat)
				revenue[r.Campaign][amt.Amount.Currency] = sum
			}
			sum.Add(sum, v)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	err = each(ctx, CampaignEntity, "", func(c sdk.Record) error {
		r, ok := rows[c.String("name")]
		if !ok {
			r = row(c.String("name"))
		}
		var cost struct {
			Cost *Money `json:"cost"`
		}
		if c.Decode(&cost) == nil && cost.Cost != nil {
			r.Cost = cost.Cost
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]*CampaignRow, 0, len(rows))
	names = names[:0]
	for name := range rows {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		r := rows[name]
		for cur, sum := range revenue[name] {
			r.Revenue[cur] = sum.FloatString(2)
		}
		if r.Cost != nil {
			cost, ok := new(big.Rat).SetString(r.Cost.Amount)
			if ok && r.Leads > 0 {
				r.CostPerLead = &Money{Amount: new(big.Rat).Quo(cost, big.NewRat(int64(r.Leads), 1)).FloatString(2), Currency: r.Cost.Currency}
			}
			if ok && cost.Sign() > 0 {
				rev := revenue[name][r.Cost.Currency]
				if rev == nil {
					rev = new(big.Rat)
				}
				roas := new(big.Rat).Quo(rev, cost).FloatString(2)
				r.ROAS = &roas
			}
		}
		out = append(out, r)
	}
	return map[string]any{"campaigns": out, "table": attributionTable(out)}, nil
}

// attributionTable is the attribution report as an sdk.Table: a row per
// campaign.
func attributionTable(rows []*CampaignRow) sdk.Table {
	t := sdk.Table{Title: "Attribution by campaign",
		TitleLabels: labels("Attribution by campaign", "Վերագրում ըստ արշավների", "Priskyrimas pagal kampanijas", "Kampaniyalar üzrə atribusiya", "انتساب بر اساس کمپین", "Атрибуция по кампаниям"),
		Columns: []sdk.Column{
			col("campaign", sdk.TypeString, "Campaign", "Արշավ", "Kampanija", "Kampaniya", "کمپین", "Кампания"),
			col("calls", sdk.TypeInt, "Calls", "Զանգեր", "Skambučiai", "Zənglər", "تماس‌ها", "Звонки"),
			col("missed", sdk.TypeInt, "Missed", "Բաց թողնված", "Praleisti", "Buraxılmış", "بی‌پاسخ", "Пропущенные"),
			col("leads", sdk.TypeInt, "Leads", "Լիդեր", "Potencialūs klientai", "Potensial müştərilər", "سرنخ‌ها", "Лиды"),
			col("deals", sdk.TypeInt, "Deals", "Գործարքներ", "Sandoriai", "Sövdələşmələr", "معاملات", "Сделки"),
			col("won", sdk.TypeInt, "Won", "Շահված", "Laimėti", "Qazanılmış", "موفق", "Выиграно"),
			col("revenue", sdk.TypeMoney, "Revenue", "Եկամուտ", "Pajamos", "Gəlir", "درآمد", "Выручка"),
			col("cost", sdk.TypeMoney, "Ad cost", "Գովազդի ծախս", "Reklamos kaina", "Reklam xərci", "هزینهٔ تبلیغ", "Расходы на рекламу"),
			col("cost_per_lead", sdk.TypeMoney, "Cost per lead", "Լիդի արժեք", "Potencialaus kliento kaina", "Potensial müştəri başına xərc", "هزینه به ازای هر سرنخ", "Цена лида"),
			col("roas", sdk.TypeDecimal, "Return on ad spend", "Գովազդի եկամտաբերություն", "Reklamos grąža", "Reklam xərcinin gəlirliliyi", "بازگشت هزینهٔ تبلیغ", "ROAS"),
		},
		Rows: make([]map[string]any, 0, len(rows))}
	for _, r := range rows {
		var revenue any
		curs := make([]string, 0, len(r.Revenue))
		for cur := range r.Revenue {
			curs = append(curs, cur)
		}
		sort.Strings(curs)
		switch len(curs) {
		case 0:
		case 1:
			revenue = Money{Amount: r.Revenue[curs[0]], Currency: curs[0]}
		default:
			list := make([]Money, 0, len(curs))
			for _, cur := range curs {
				list = append(list, Money{Amount: r.Revenue[cur], Currency: cur})
			}
			revenue = list
		}
		row := map[string]any{"campaign": r.Campaign, "calls": r.Calls, "missed": r.Missed, "leads": r.Leads,
			"deals": r.Deals, "won": r.Won, "revenue": revenue, "cost": nil, "cost_per_lead": nil, "roas": nil}
		if r.Cost != nil {
			row["cost"] = *r.Cost
		}
		if r.CostPerLead != nil {
			row["cost_per_lead"] = *r.CostPerLead
		}
		if r.ROAS != nil {
			row["roas"] = *r.ROAS
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// MissedRow is a missed call the SLA report lists.
type MissedRow struct {
	CallID  string `json:"call_id"`
	Number  string `json:"number"`
	Contact string `json:"contact,omitempty"`
	At      string `json:"at"`
	// Overdue is true when the SLA has passed without a call back.
	Overdue bool `json:"overdue"`
}

// slaReport lists the inbound missed calls not returned, the overdue
// ones (SLA passed) first, oldest first.
func (p *Plugin) slaReport(ctx context.Context, now time.Time) (any, error) {
	cfg := p.settings()
	var rows []MissedRow
	returned, missed := 0, 0
	err := each(ctx, CallEntity, sdk.And(sdk.Eq("status", StatusMissed), sdk.Eq("direction", DirectionInbound)), func(c sdk.Record) error {
		missed++
		if c["returned"] == true {
			returned++
			return nil
		}
		var st callState
		if err := c.Decode(&st); err != nil || st.StartedAt == nil {
			return nil
		}
		rows = append(rows, MissedRow{CallID: st.CallID, Number: st.Number, Contact: st.Contact,
			At: st.StartedAt.Format(time.RFC3339), Overdue: now.Sub(*st.StartedAt) > cfg.sla})
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.SliceStable(rows, func(i, j int) bool {
		if rows[i].Overdue != rows[j].Overdue {
			return rows[i].Overdue
		}
		return rows[i].At < rows[j].At
	})
	if rows == nil {
		rows = []MissedRow{}
	}
	return map[string]any{"sla": cfg.sla.String(), "missed": missed, "returned": returned, "not_returned": rows,
		"table": slaTable(cfg.sla, missed, returned, rows)}, nil
}

// slaTable is the SLA report as an sdk.Table: a row per missed call not
// returned, and the SLA and counts as figures above it.
func slaTable(sla time.Duration, missed, returned int, rows []MissedRow) sdk.Table {
	t := sdk.Table{Title: "Missed calls not returned",
		TitleLabels: labels("Missed calls not returned", "Չվերադարձված բաց թողնված զանգեր", "Neatsakyti praleisti skambučiai", "Geri zəng edilməmiş buraxılmış zənglər", "تماس‌های بی‌پاسخی که برگشت داده نشده‌اند", "Пропущенные звонки без перезвона"),
		Columns: []sdk.Column{
			col("at", sdk.TypeDateTime, "Called at", "Զանգի ժամը", "Skambinta", "Zəng vaxtı", "زمان تماس", "Время звонка"),
			col("number", sdk.TypePhone, "Number", "Համար", "Numeris", "Nömrə", "شماره", "Номер"),
			col("contact", sdk.TypeRef, "Contact", "Կոնտակտ", "Kontaktas", "Əlaqə", "مخاطب", "Контакт"),
			col("overdue", sdk.TypeBool, "Past the SLA", "SLA-ն անցել է", "Viršytas SLA", "SLA keçib", "گذشته از SLA", "SLA просрочен"),
			col("call_id", sdk.TypeString, "Call id", "Զանգի նույնացուցիչ", "Skambučio ID", "Zəng ID", "شناسهٔ تماس", "ID звонка"),
		},
		Rows: make([]map[string]any, 0, len(rows)),
		Figures: []sdk.Figure{
			figure(col("sla", sdk.TypeString, "SLA", "SLA", "SLA", "SLA", "SLA", "SLA"), sla.String()),
			figure(col("missed", sdk.TypeInt, "Missed", "Բաց թողնված", "Praleisti", "Buraxılmış", "بی‌پاسخ", "Пропущенные"), missed),
			figure(col("returned", sdk.TypeInt, "Returned", "Հետզանգ է արվել", "Perskambinta", "Geri zəng edilib", "تماس برگشتی انجام شد", "Перезвонили"), returned),
		}}
	t.Columns[2].To = "contact"
	for _, r := range rows {
		row := map[string]any{"at": r.At, "number": r.Number, "contact": nilIfEmpty(r.Contact), "overdue": r.Overdue, "call_id": r.CallID}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// col is a table's column labelled in the six languages: en, hy, lt, az,
// fa, ru.
func col(name, typ string, en, hy, lt, az, fa, ru string) sdk.Column {
	return sdk.Column{Name: name, Type: typ, Label: en, Labels: labels(en, hy, lt, az, fa, ru)}
}

// figure is a report-wide figure labelled as c is.
func figure(c sdk.Column, v any) sdk.Figure {
	return sdk.Figure{Name: c.Name, Label: c.Label, Labels: c.Labels, Type: c.Type, To: c.To, Value: v}
}

// labels is a label in the six languages, keyed by language code.
func labels(en, hy, lt, az, fa, ru string) map[string]string {
	return map[string]string{"en": en, "hy": hy, "lt": lt, "az": az, "fa": fa, "ru": ru}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
