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
	card, ok := calltracking.ParseCard(call.String("card"))
	if !ok {
		t.Fatalf("card field %q is no card", call.String("card"))
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
