package calltracking_test

import (
	"encoding/json"
	"testing"

	"github.com/crmkit/crm/plugins/calltracking"
	"github.com/crmkit/crm/plugins/sdk"
	"github.com/crmkit/crm/plugins/sdk/sdktest"
)

// The attribution report of the recorded calls: spring_ads has Ani's
// answered call and a new caller's missed one (a lead, whose deal is
// attributed to it and won), plus a deal entered with its source; radio
// has that caller's second, missed call (no new lead) and a lost deal.
func TestAttributionReport(t *testing.T) {
	h := sdktest.Start(t, calltracking.New(), sdktest.Options{
		Read:         []string{"contact", "company", "activity", calltracking.CampaignEntity},
		Write:        []string{calltracking.CallEntity, "activity", "contact", "deal"},
		PluginConfig: baseConfig(), Process: true,
		Locale: sdk.Locale{Languages: []string{"en"}, Default: "en", Calendar: "gregorian", Currency: "AMD", Timezone: "Asia/Yerevan", Region: "AM"},
	})
	h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456"})
	postAll(t, h, calltracking.FormatGeneric, recording(t, "generic_answered.jsonl"))
	postAll(t, h, calltracking.FormatGeneric, recording(t, "generic_missed.jsonl"))
	postAll(t, h, calltracking.FormatTwilio, recording(t, "twilio_missed.form"))
	lead := only(t, h, "contact", sdk.Eq("phone", "+37493555777"))
	amd := func(a string) map[string]any { return map[string]any{"amount": a, "currency": "AMD"} }
	d := h.Create("deal", map[string]any{"title": "Camry", "contact": lead.ID(), "amount": amd("5000000")})
	h.Create("deal", map[string]any{"title": "Rav4", "source": "spring_ads", "stage": "won", "amount": amd("2000000")})
	h.Create("deal", map[string]any{"title": "Prius", "source": "radio", "stage": "lost", "amount": amd("3000000")})
	if err := h.DeliverChanges(); err != nil {
		t.Fatal(err)
	}
	h.Update("deal", d.ID(), map[string]any{"stage": "won"})
	h.Create(calltracking.CampaignEntity, map[string]any{"name": "spring_ads", "cost": amd("700000")})
	h.Create(calltracking.CampaignEntity, map[string]any{"name": "radio", "cost": amd("300000")})

	raw, err := h.Invoke(sdk.Call{Action: calltracking.ActionAttributionReport})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("attribution report: %s", raw)
	var rep struct{ Campaigns []calltracking.CampaignRow }
	if err := json.Unmarshal(raw, &rep); err != nil || len(rep.Campaigns) != 2 {
		t.Fatalf("report %s: %v", raw, err)
	}
	radio, spring := rep.Campaigns[0], rep.Campaigns[1]
	if spring.Campaign != "spring_ads" || spring.Calls != 2 || spring.Missed != 1 || spring.Leads != 1 || spring.Deals != 2 ||
		spring.Won != 2 || spring.Revenue["AMD"] != "7000000.00" || spring.CostPerLead == nil ||
		*spring.CostPerLead != (calltracking.Money{Amount: "700000.00", Currency: "AMD"}) || spring.ROAS == nil || *spring.ROAS != "10.00" {
		t.Errorf("spring_ads: %+v", spring)
	}
	if radio.Campaign != "radio" || radio.Calls != 1 || radio.Missed != 1 || radio.Leads != 0 || radio.Deals != 1 || radio.Won != 0 ||
		len(radio.Revenue) != 0 || radio.CostPerLead != nil || radio.ROAS == nil || *radio.ROAS != "0.00" {
		t.Errorf("radio: %+v", radio)
	}
	// The same as a table: columns labelled in six languages, a row per
	// campaign keyed by the columns' names.
	var tab struct{ Table sdk.Table }
	if err := json.Unmarshal(raw, &tab); err != nil {
		t.Fatal(err)
	}
	checkTable(t, tab.Table, "campaign", "calls", "missed", "leads", "deals", "won", "revenue", "cost", "cost_per_lead", "roas")
	if len(tab.Table.Rows) != 2 {
		t.Fatalf("table rows %v", tab.Table.Rows)
	}
	got, _ := json.Marshal(tab.Table.Rows[1])
	want := `{"calls":2,"campaign":"spring_ads","cost":{"amount":"700000.00","currency":"AMD"},"cost_per_lead":{"amount":"700000.00","currency":"AMD"},` +
		`"deals":2,"leads":1,"missed":1,"revenue":{"amount":"7000000.00","currency":"AMD"},"roas":"10.00","won":2}`
	if string(got) != want {
		t.Errorf("spring_ads row\n%s\nwant\n%s", got, want)
	}
	if r := tab.Table.Rows[0]; r["campaign"] != "radio" || r["revenue"] != nil || r["cost_per_lead"] != nil || r["roas"] != "0.00" {
		t.Errorf("radio row %v", r)
	}
}

// checkTable checks a report's sdk.Table: the columns in order, each with
// a type and a label in the six languages, and every row keyed by them.
func checkTable(t *testing.T, tab sdk.Table, names ...string) {
	t.Helper()
	if tab.Title == "" || len(tab.TitleLabels) != 6 || tab.TitleLabels["en"] != tab.Title {
		t.Errorf("table title %q %v", tab.Title, tab.TitleLabels)
	}
	if len(tab.Columns) != len(names) {
		t.Fatalf("columns %+v, want %v", tab.Columns, names)
	}
	for i, c := range tab.Columns {
		if c.Name != names[i] || c.Type == "" || c.Label == "" || len(c.Labels) != 6 {
			t.Errorf("column %d: %+v, want %s labelled in six languages", i, c, names[i])
		}
		for lang, l := range c.Labels {
			if l == "" {
				t.Errorf("column %s: no %s label", c.Name, lang)
			}
		}
	}
	for _, r := range tab.Rows {
		if len(r) != len(names) {
			t.Errorf("row %v has not the columns %v", r, names)
		}
		for _, n := range names {
			if _, ok := r[n]; !ok {
				t.Errorf("row %v lacks %s", r, n)
			}
		}
	}
}

// The SLA report lists the missed calls nobody returned.
func TestSLAReport(t *testing.T) {
	cfg := baseConfig()
	cfg["sla"] = "1h"
	h := start(t, cfg)
	postAll(t, h, calltracking.FormatGeneric, recording(t, "generic_missed.jsonl"))
	postAll(t, h, calltracking.FormatTwilio, recording(t, "twilio_missed.form"))
	postAll(t, h, calltracking.FormatGeneric, recording(t, "generic_callback.jsonl"))
	var rep struct {
		SLA         string
		Missed      int
		Returned    int
		NotReturned []calltracking.MissedRow `json:"not_returned"`
	}
	if err := h.InvokeInto(sdk.Call{Action: calltracking.ActionSLAReport}, &rep); err != nil {
		t.Fatal(err)
	}
	// g-2 (11:00) was called back at 11:40; the Twilio call (17:00) not.
	if rep.SLA != "1h0m0s" || rep.Missed != 2 || rep.Returned != 1 || len(rep.NotReturned) != 1 ||
		rep.NotReturned[0].CallID != "CA22222222222222222222222222222222" || !rep.NotReturned[0].Overdue {
		t.Errorf("report %+v", rep)
	}
	var tab struct{ Table sdk.Table }
	if err := h.InvokeInto(sdk.Call{Action: calltracking.ActionSLAReport}, &tab); err != nil {
		t.Fatal(err)
	}
	checkTable(t, tab.Table, "at", "number", "contact", "overdue", "call_id")
	if len(tab.Table.Rows) != 1 || tab.Table.Rows[0]["call_id"] != "CA22222222222222222222222222222222" ||
		tab.Table.Rows[0]["overdue"] != true || tab.Table.Rows[0]["number"] != "+37493555777" || tab.Table.Columns[2].To != "contact" {
		t.Errorf("table rows %v", tab.Table.Rows)
	}
	// The SLA and the counts are figures about the whole report, labelled
	// in the six languages.
	figures := map[string]any{}
	for _, f := range tab.Table.Figures {
		figures[f.Name] = f.Value
		if f.Label == "" || len(f.Labels) != 6 || f.Type == "" {
			t.Errorf("figure %+v, want a type and labels in six languages", f)
		}
	}
	if len(tab.Table.Figures) != 3 || figures["sla"] != "1h0m0s" || figures["missed"] != float64(2) || figures["returned"] != float64(1) {
		t.Errorf("figures %v", figures)
	}
	if len(tab.Table.Totals) != 0 {
		t.Errorf("totals %v", tab.Table.Totals)
	}
}

// A ringing call of a known contact carries the caller's card as a
// structured object: name, number, company, owner, open deals with amount
// and stage, last activities with date and subject, the record's link. A
// subject that reads like the card's old headings ("Owner: ...") stays a
// subject, verbatim.
func TestCallerCard(t *testing.T) {
	h := sdktest.Start(t, calltracking.New(), sdktest.Options{
		Read:         []string{"contact", "company", "activity", "deal"},
		Write:        []string{calltracking.CallEntity, "activity", "contact"},
		PluginConfig: baseConfig(), Process: true,
		Locale: sdk.Locale{Languages: []string{"en"}, Default: "en", Calendar: "gregorian", Currency: "AMD", Timezone: "Asia/Yerevan", Region: "AM"},
	})
	ann := h.AddUser("ann@example.com", "admin")
	acme := h.Create("company", map[string]any{"name": "Acme"})
	ani := h.Create("contact", map[string]any{"name": "Ani", "phone": "+37491123456", "owner": ann.ID, "company": acme.ID()})
	camry := h.Create("deal", map[string]any{"title": "Camry", "contact": ani.ID(), "stage": "proposal",
		"amount": map[string]any{"amount": "5000000", "currency": "AMD"}})
	h.Create("deal", map[string]any{"title": "Old sale", "contact": ani.ID(), "stage": "won"})
	const tricky = "Owner: someone else - Open deals: (none)"
	drive := h.Create("activity", map[string]any{"kind": "meeting", "subject": tricky, "contact": ani.ID(), "at": "2026-03-20T09:00:00Z"})
	postAll(t, h, calltracking.FormatGeneric, recording(t, "generic_answered.jsonl")[:1])
	call := only(t, h, calltracking.CallEntity, sdk.Filterf("extension == %v && status == %v", "101", "ringing"))
	card, ok := calltracking.ParseCard(call["card"])
	if !ok {
		t.Fatalf("card field %#v is no card", call["card"])
	}
	want := calltracking.Card{V: calltracking.CardVersion, Name: "Ani", Number: "+37491123456",
		Record: calltracking.CardRef{Entity: "contact", ID: ani.ID()}, Owner: ann.ID,
		Company:    &calltracking.CardRef{Entity: "company", ID: acme.ID(), Name: "Acme"},
		Deals:      []calltracking.CardDeal{{ID: camry.ID(), Title: "Camry", Stage: "proposal", Amount: &calltracking.Money{Amount: "5000000.00", Currency: "AMD"}}},
		Activities: []calltracking.CardActivity{{ID: drive.ID(), At: "2026-03-20T09:00:00Z", Kind: "meeting", Subject: tricky}}}
	got, _ := json.Marshal(card)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Errorf("card:\n%s\nwant:\n%s", got, exp)
	}
}
