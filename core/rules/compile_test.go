package rules

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

const triggerRules = `
rule "stage_log" {
  on   = ["deal.stage_changed", "deal.updated"]
  when = "old != nil && old.stage != record.stage && user?.role == 'sales'"
  action "create_record" {
    entity  = "'activity'"
    kind    = "'note'"
    subject = "'Stage ' + (old?.stage ?? '') + ' -> ' + record.stage"
    deal    = "record.id"
    at      = "now()"
  }
}

rule "big_deal_won" {
  on   = ["deal.stage_changed"]
  when = "record.stage == 'won' && record.amount?.amount >= 1000000"
  action "notify" {
    to      = "['role:manager', record.owner]"
    title   = "'Won'"
    message = "'Deal ' + record.title + ' won: ' + format_money(record.amount)"
    channel = "'email'"
  }
  action "set" {
    closed_at = "now()"
    amount    = "money(record.amount.amount, 'AMD')"
    owner     = "user.id"
  }
}

rule "missed_call" {
  on   = ["call.missed"]
  when = "record.from != ''"
  action "create_task" {
    title = "'Call back ' + record.from"
    due   = "now() + duration('2h')"
  }
}

rule "stale_deal" {
  every    = "1h"
  for_each = "deal"
  filter   = "stage != 'won' && stage != 'lost'"
  when     = "since(record.updated_at) > duration('72h') && event == 'schedule'"
  action "notify" {
    to      = "record.owner"
    message = "'Deal ' + record.title + ' is idle'"
  }
}

rule "morning" {
  cron     = "0 9 * * 1-5"
  for_each = "contact"
  action "doctemplates.generate_document" {
    template = "'greeting'"
    format   = "'pdf'"
    data     = "{name: record.name, at: now()}"
  }
}
`

func TestTriggersAndSchedules(t *testing.T) {
	set := mustCompile(t, triggerRules)
	names := func(rs []*Rule) string {
		var out []string
		for _, r := range rs {
			out = append(out, r.Name)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct{ entity, event, want string }{
		{"deal", "stage_changed", "stage_log,big_deal_won"},
		{"deal", "updated", "stage_log"},
		{"deal", "created", ""},
		{"call", "missed", "missed_call"},
		{"", "call.missed", "missed_call"},
		{"contact", "updated", ""},
	} {
		if got := names(set.Matching(c.entity, c.event)); got != c.want {
			t.Errorf("Matching(%q, %q) = %q, want %q", c.entity, c.event, got, c.want)
		}
	}
	if r := set.Rule("missed_call"); r == nil || r.Entity != "" || r.On[0] != (Trigger{"call", "missed"}) || r.Scheduled() {
		t.Errorf("missed_call = %+v", r)
	}
	if !set.Rule("stage_log").On[0].Matches("deal", "stage_changed") || set.Rule("nope") != nil {
		t.Error("Rule or Matches")
	}

	stale := set.Rule("stale_deal")
	if stale.Every != time.Hour || stale.ForEach != "deal" || stale.Entity != "deal" || !stale.Scheduled() || stale.Filter.StoreFilter() == nil {
		t.Errorf("stale_deal = %+v", stale)
	}
	won := &store.Record{Values: map[string]any{"stage": "won"}}
	if ok, err := stale.Filter.EvalBool(&Input{Record: won}); ok || err != nil {
		t.Errorf("filter on a won deal = %v, %v", ok, err)
	}
	if ok, _ := stale.Filter.EvalBool(&Input{Record: &store.Record{Values: map[string]any{"stage": "new"}}}); !ok {
		t.Error("filter on a new deal is false")
	}

	// 09:00 on weekdays in Yerevan (UTC+4): from Friday 20 March 2026
	// 06:00 UTC, the next is Monday 23 March 05:00 UTC.
	morning := set.Rule("morning")
	next := morning.Cron.Next(time.Date(2026, 3, 20, 6, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 3, 23, 5, 0, 0, 0, time.UTC); !next.Equal(want) {
		t.Errorf("cron next = %v, want %v", next.UTC(), want)
	}
	act := morning.Actions[0]
	if act.Kind != KindPlugin || act.Plugin != "doctemplates" || act.PluginAction != "generate_document" || len(act.Args) != 3 {
		t.Errorf("plugin action = %+v", act)
	}
}

func TestEvalWhenAndActions(t *testing.T) {
	set := mustCompile(t, triggerRules)
	now := time.Date(2026, 3, 21, 10, 0, 0, 0, time.UTC)
	old := &store.Record{ID: "d1", Entity: "deal", Owner: "u1", Values: map[string]any{"title": "Roof", "stage": "proposal", "amount": schema.Money{Minor: 250000000, Currency: "AMD"}}}
	rec := &store.Record{ID: "d1", Entity: "deal", Owner: "u1", Version: 2, Values: map[string]any{"title": "Roof", "stage": "won", "amount": schema.Money{Minor: 250000000, Currency: "AMD"}}}
	sales := &UserInfo{ID: "u2", Role: "sales"}
	in := &Input{Record: rec, Old: old, User: sales, Event: "stage_changed", Now: now}

	log := set.Rule("stage_log")
	for _, c := range []struct {
		in   *Input
		want bool
	}{
		{in, true},
		{&Input{Record: rec, User: sales, Event: "created", Now: now}, false},    // no old
		{&Input{Record: rec, Old: old, Event: "stage_changed", Now: now}, false}, // the system, no user
		{&Input{Record: rec, Old: rec, User: sales, Event: "updated", Now: now}, false},
	} {
		if got, err := log.When.EvalBool(c.in); err != nil || got != c.want {
			t.Errorf("stage_log when (%s, old %v, user %v) = %v, %v", c.in.Event, c.in.Old != nil, c.in.User != nil, got, err)
		}
	}
	vals, err := log.Actions[0].FieldValues(in)
	want := map[string]any{"kind": "note", "subject": "Stage proposal -> won", "deal": "d1", "at": now}
	if err != nil || !reflect.DeepEqual(vals, want) {
		t.Errorf("create_record values = %#v, %v", vals, err)
	}
	if log.Actions[0].Target != "activity" || log.Actions[0].Index != 0 {
		t.Errorf("create_record = %+v", log.Actions[0])
	}

	won := set.Rule("big_deal_won")
	if ok, err := won.When.EvalBool(in); !ok || err != nil {
		t.Fatalf("big_deal_won when = %v, %v", ok, err)
	}
	args, err := won.Actions[0].Eval(in)
	wantArgs := map[string]any{"to": []any{"role:manager", "u1"}, "title": "Won", "message": "Deal Roof won: 2,500,000.00 AMD", "channel": "email"}
	if err != nil || !reflect.DeepEqual(args, wantArgs) {
		t.Errorf("notify args = %#v, %v", args, err)
	}
	set1 := won.Actions[1]
	vals, err = set1.FieldValues(in)
	want = map[string]any{"closed_at": now, "amount": schema.Money{Minor: 250000000, Currency: "AMD"}, "owner": "u2"}
	if err != nil || !reflect.DeepEqual(vals, want) || set1.Target != "deal" || set1.Index != 1 {
		t.Errorf("set values = %#v, %v (%+v)", vals, err, set1)
	}
	if _, err := won.Actions[0].FieldValues(in); err == nil {
		t.Error("FieldValues of notify: no error")
	}

	call := set.Rule("missed_call")
	callIn := &Input{Record: &store.Record{ID: "call1", Values: map[string]any{"from": "+37410000000"}}, Event: "call.missed", Now: now}
	args, err = call.Actions[0].Eval(callIn)
	if err != nil || args["title"] != "Call back +37410000000" || args["due"] != now.Add(2*time.Hour) {
		t.Errorf("create_task args = %#v, %v", args, err)
	}
}

func TestFieldValuesConvert(t *testing.T) {
	set := mustCompile(t, `
rule "r" {
  on = ["contact.created"]
  action "create_record" {
    entity  = "'vehicle'"
    vin     = "'VIN' + record.id"
    buyer   = "record.id"
    checked = "now() + days(1)"
    weight  = "1450.25"
    mileage = "record.version * 1000"
    price   = "money('99.5', 'USD')"
    status  = "nil"
  }
}
`)
	yerevan := mustLoad(t, "Asia/Yerevan")
	in := &Input{Record: &store.Record{ID: "c1", Version: 3}, Now: time.Date(2026, 3, 20, 22, 0, 0, 0, time.UTC), Location: yerevan}
	vals, err := set.Rules[0].Actions[0].FieldValues(in)
	want := map[string]any{
		"vin": "VINc1", "buyer": "c1", "checked": utcDate(2026, 3, 22), "weight": schema.Decimal("1450.25"),
		"mileage": int64(3000), "price": schema.Money{Minor: 9950, Currency: "USD"}, "status": nil,
	}
	if err != nil || !reflect.DeepEqual(vals, want) {
		t.Errorf("values = %#v, %v", vals, err)
	}
}

func TestCompileCollectsEveryProblem(t *testing.T) {
	_, diags := compileRules(t, `
rule "a" {
  on   = ["deal.updated"]
  when = "record.amout > 1"
  action "create_task" {
    title = "1"
    due   = "'tomorrow'"
  }
}
rule "b" {
  every    = "1h"
  for_each = "contact"
  when     = "record.nmae == ''"
  action "notify" {
    to      = "record.owner"
    message = "record.nmae"
  }
}
`)
	want := []string{
		`rules.hcl:4:18: error: unknown field "amout" of deal; did you mean "amount"?`,
		`rules.hcl:6:14: error: title: expected a string, got int`,
		`rules.hcl:7:14: error: due: expected a time, got string`,
		`rules.hcl:13:22: error: unknown field "nmae" of contact; did you mean "name"?`,
		`rules.hcl:16:23: error: unknown field "nmae" of contact; did you mean "name"?`,
	}
	if got := formatDiags(diags); got != strings.Join(want, "\n") {
		t.Errorf("got:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

func TestCompileWithoutConfig(t *testing.T) {
	set, diags := Compile(nil, nil)
	if !diags.HasErrors() || set == nil || set.Matching("deal", "created") != nil || set.Rule("x") != nil {
		t.Errorf("Compile(nil, nil) = %v, %v", set, diags)
	}
	var none *Set
	if none.Rule("x") != nil || none.Matching("deal", "created") != nil {
		t.Error("nil set")
	}
	// A Set built by hand answers by scanning.
	r := &Rule{Name: "r", On: []Trigger{{"deal", "created"}}}
	hand := &Set{Rules: []*Rule{r}}
	if hand.Rule("r") != r || len(hand.Matching("deal", "created")) != 1 {
		t.Error("hand-built set")
	}
}

// A field without a value is nil: comparing it for equality works, and
// `??` gives a default.
func TestMissingFieldsAreNil(t *testing.T) {
	for _, c := range []struct {
		src  string
		want bool
	}{
		{"record.stage == 'won'", false},
		{"'won' != record.stage", true},
		{"record.stage not in ['won', 'lost']", true},
		{"record.title startsWith 'a'", false},
		{"(record.amount?.amount ?? 0) < 5", true},
		{"old?.stage != record.stage", false},
		{"user?.role == 'admin'", false},
		{"record.closed_at == nil && record.stage == nil", true},
		{"related('contact') == nil", true},
	} {
		p := compileExpr(t, "deal", c.src)
		got, err := p.EvalBool(&Input{Record: &store.Record{Values: map[string]any{}}})
		if err != nil || got != c.want {
			t.Errorf("%s = %v, %v; want %v", c.src, got, err, c.want)
		}
	}
	p := compileExpr(t, "deal", "record.closed_at > now()")
	if _, err := p.EvalBool(&Input{Record: &store.Record{}}); err == nil {
		t.Error("ordering nil: no error")
	}
}
