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
	return map[string]any{"campaigns": out}, nil
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
	return map[string]any{"sla": cfg.sla.String(), "missed": missed, "returned": returned, "not_returned": rows}, nil
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
