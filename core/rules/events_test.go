package rules

import (
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/core/store"
)

// A rule on a typed plugin event is checked against the event's payload
// (event.FIELD) and its subject entity (record, with owner and related).
func TestTypedPluginEventRuleCompiles(t *testing.T) {
	set := mustCompile(t, `
plugin "warranty" {}
rule "expired" {
  on   = ["warranty.expired"]
  when = "event.mileage > 100000 && event.reason == 'mileage' && record.owner != '' && related('buyer') != nil && event.refund.amount > 0"
  action "set" {
    status = "'service'"
  }
  action "notify" {
    to      = "record.owner"
    message = "record.vin + ' at ' + string(event.mileage) + ' km, ends ' + format_date(event.ends, 'gregorian', 'yyyy-MM-dd')"
  }
}
rule "reminder" {
  on = ["warranty.reminder"]
  action "notify" {
    to      = "'admin'"
    message = "event.note ?? 'reminder'"
  }
}`)
	r := set.Rule("expired")
	if r.Entity != "vehicle" || r.Event == nil || r.Event.Name != "warranty.expired" || r.Actions[0].Target != "vehicle" {
		t.Fatalf("rule: entity %q, event %+v, set target %q", r.Entity, r.Event, r.Actions[0].Target)
	}
	if got := set.Matching("warranty", "expired"); len(got) != 1 || got[0] != r {
		t.Fatalf("matching warranty.expired: %v", got)
	}
	// Evaluated with a payload as the engine gives it (decoded JSON).
	in := &Input{
		Record: &store.Record{ID: "v1", Entity: "vehicle", Owner: "u1", Values: map[string]any{"vin": "WVW1"}},
		Event:  "warranty.expired",
		Payload: map[string]any{"mileage": float64(120000), "ends": "2026-04-01",
			"refund": map[string]any{"amount": "150.00", "currency": "AMD"}},
		Now: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
	}
	msg, err := r.Actions[1].Args["message"].Eval(in)
	if err != nil || msg != "WVW1 at 120000 km, ends 2026-04-01" {
		t.Fatalf("message = %v, %v", msg, err)
	}
	note, err := set.Rule("reminder").Actions[0].Args["message"].Eval(&Input{Event: "warranty.reminder", Payload: map[string]any{"note": "check"}})
	if err != nil || note != "check" {
		t.Fatalf("reminder message = %v, %v", note, err)
	}
}

// A mistake in a rule on a typed plugin event is a load error at its
// place, with a did-you-mean, not a failed run.
func TestTypedPluginEventDiagnostics(t *testing.T) {
	for _, c := range []struct {
		name, rules string
		want        []string
	}{
		{"unknown field of the subject", onRule(`"warranty.expired"`, "record.vn == ''", notifyOwner),
			[]string{`rules.hcl:4:18: error: unknown field "vn" of vehicle; did you mean "vin"?`}},
		{"unknown payload field", onRule(`"warranty.expired"`, "event.milage > 5", notifyOwner),
			[]string{`rules.hcl:4:17: error: unknown field "milage" of event warranty.expired; did you mean "mileage"?`}},
		{"payload field type", onRule(`"warranty.expired"`, "event.mileage > 'far'", notifyOwner),
			[]string{`rules.hcl:4:25: error: invalid operation: > (mismatched types int and string)`}},
		{"no subject record", onRule(`"warranty.reminder"`, "record.vin == ''", `
  action "notify" {
    to      = "'admin'"
    message = "'x'"
  }`),
			[]string{`rules.hcl:4:18: error: unknown field "vin" of plugin event warranty.reminder, which declares no subject record`}},
		{"typed event with another", onRule(`"warranty.expired", "warranty.claimed"`, "true", notifyOwner),
			[]string{`rules.hcl:3:31: error: rule "r" is on typed plugin event "warranty.expired" and on "warranty.claimed"; a rule on a plugin event whose payload is declared is on that event alone, whose payload its expressions use; write one rule per event`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, diags := compileRules(t, strings.Replace(c.rules, "rule \"r\"", "plugin \"warranty\" {}\nrule \"r\"", 1))
			got := strings.Split(formatDiags(diags), "\n")
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Fatalf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

// warrantyTestRules are rules on typed plugin events, for tests that give
// a payload.
const warrantyTestRules = `
plugin "warranty" {}
rule "expired" {
  on   = ["warranty.expired"]
  when = "event.mileage > 100000 && event.reason == 'mileage'"
  action "notify" {
    to      = "record.owner"
    message = "record.vin + ' at ' + string(event.mileage) + ' km'"
  }
}
rule "reminder" {
  on = ["warranty.reminder"]
  action "notify" {
    to      = "'admin'"
    message = "event.note ?? 'reminder'"
  }
}
`

// A rule test gives a typed plugin event's payload, checked against the
// event's declaration; the rule sees it as event.
func TestRuleTestPayload(t *testing.T) {
	got, passed, failed := runReport(t, warrantyTestRules+`
test "expired_by_mileage" {
  rule    = "expired"
  given   = { vin = "WVW1", owner = "u1" }
  payload = { mileage = 120000, reason = "mileage" }
  expect {
    action "notify" { message = "WVW1 at 120000 km" }
  }
}
test "expired_by_age" {
  rule    = "expired"
  given   = { vin = "WVW1" }
  payload = { mileage = 120000, reason = "age" }
  expect { matched = false }
}
test "reminder_without_subject" {
  rule    = "reminder"
  payload = { note = "check the brakes" }
  expect {
    action "notify" { message = "check the brakes" }
  }
}
`, nil)
	if passed != 3 || failed != 0 {
		t.Fatalf("%d passed, %d failed:\n%s", passed, failed, got)
	}
	for _, c := range []struct{ test, want string }{
		{`test "t" {
  rule    = "expired"
  given   = { vin = "WVW1" }
  payload = { milage = 120000 }
  expect { matched = false }
}`, `rules.hcl:29:13: error: the payload of warranty.expired lacks the required field "mileage"; plugin warranty always sends it
rules.hcl:29:15: error: unknown field "milage" in the payload of warranty.expired; did you mean "mileage"?`},
		{`test "t" {
  rule    = "expired"
  given   = { vin = "WVW1" }
  payload = { mileage = "far", reason = "km" }
  expect { matched = false }
}`, `rules.hcl:29:25: error: invalid value of mileage in the payload of warranty.expired; expected an integer, got a string
rules.hcl:29:41: error: invalid value of reason in the payload of warranty.expired; "km" is not one of "age", "mileage"`},
		{`test "t" {
  rule    = "lead"
  given   = { name = "Ani" }
  payload = { mileage = 1 }
  expect { matched = false }
}`, `rules.hcl:29:13: error: rule "lead" is not on a plugin event with a declared payload; a rule on a record's event gets the record: give its values in given`},
	} {
		cfg, sch := load(t, warrantyTestRules+`
rule "lead" {
  on = ["contact.created"]
  action "notify" {
    to      = "record.owner"
    message = "'hi'"
  }
}
`+c.test)
		set := mustCompileCfg(t, cfg, sch)
		if got := formatDiags(CheckTests(cfg, sch, set)); got != c.want {
			t.Errorf("diagnostics:\n%s\nwant:\n%s", got, c.want)
		}
	}
}
