package rules

import (
	"bytes"
	"context"
	"io"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
)

// reportRules are the rules the report tests run tests of.
const reportRules = `
rule "lead" {
  on   = ["contact.created"]
  when = "record.source == 'website'"
  action "create_task" {
    title    = "'Follow up ' + record.name"
    assignee = "record.owner"
    due      = "now() + duration('2h')"
    notes    = "string(count_related('activity')) + ' earlier activities'"
  }
}

rule "sold" {
  on   = ["vehicle.updated"]
  when = "old.status != record.status && record.status == 'sold'"
  action "set" {
    price = "money(record.price.amount * 0.9, 'AMD')"
  }
  action "notify" {
    to      = "'role:manager'"
    message = "'Sold ' + record.vin + ' to ' + related('buyer').name"
  }
}
`

// reportTests are tests of reportRules: each failing one fails in one way.
const reportTests = `
test "lead_gets_a_task" {
  rule  = "lead"
  now   = "2026-03-21T09:00:00+04:00"
  given = { name = "Ani", source = "website", owner = "u1" }
  count "activity" { value = 3 }
  expect {
    action "create_task" {
      title = "Follow up Ani"
      due   = "2026-03-21T11:00:00+04:00"
      notes = "3 earlier activities"
    }
  }
}

test "lead_title_differs" {
  rule  = "lead"
  given = { name = "ani", source = "website", owner = "u1" }
  expect {
    action "create_task" {
      title    = "Follow up Ani"
      assignee = "u2"
    }
  }
}

test "walk_in_matches" {
  rule  = "lead"
  given = { name = "Aram", source = "walk_in" }
  expect {
    matched = true
  }
}

test "sold_vehicle" {
  rule  = "sold"
  given = { vin = "V1", status = "sold", price = { amount = "1000", currency = "AMD" } }
  old   = { status = "in_stock" }
  related "buyer" { name = "Narek" }
  expect {
    action "set" {
      price = { amount = "900.00", currency = "AMD" }
    }
    action "notify" {
      to      = "role:manager"
      message = "Sold V1 to Narek"
    }
  }
}

test "sold_vehicle_one_action" {
  rule  = "sold"
  given = { vin = "V1", status = "sold", price = { amount = "1000", currency = "AMD" } }
  old   = { status = "in_stock" }
  related "buyer" { name = "Narek" }
  expect {
    action "notify" {
      message = "Sold V1 to Narek"
    }
  }
}

test "sold_vehicle_wrong_order" {
  rule  = "sold"
  given = { vin = "V1", status = "sold", price = { amount = "1000", currency = "AMD" } }
  old   = { status = "in_stock" }
  related "buyer" { name = "Narek" }
  expect {
    action "notify" {}
    action "set" {}
  }
}

test "no_buyer_is_an_error" {
  rule  = "sold"
  given = { vin = "V1", status = "sold", price = { amount = "1000", currency = "AMD" } }
  old   = { status = "in_stock" }
  expect {
    action "set" {}
    action "notify" {}
  }
}

test "unsold_vehicle" {
  rule  = "sold"
  given = { vin = "V1", status = "in_stock" }
  expect {
    matched = false
  }
}
`

// times makes the durations of a report repeatable.
var times = regexp.MustCompile(`\(\d+\.\d\ds\)`)

func runReport(t *testing.T, tests string, filter *regexp.Regexp) (string, int, int) {
	t.Helper()
	cfg, sch := load(t, reportRules+tests)
	set, diags := Compile(cfg, sch)
	if diags.HasErrors() {
		t.Fatalf("compile: %s", formatDiags(diags))
	}
	if diags := CheckTests(cfg, sch, set); len(diags) > 0 {
		t.Fatalf("CheckTests: %s", formatDiags(diags))
	}
	var b bytes.Buffer
	passed, failed := RunTests(context.Background(), cfg, sch, set, &b, filter)
	return times.ReplaceAllString(b.String(), "(0.00s)"), passed, failed
}

func TestRunTestsReport(t *testing.T) {
	got, passed, failed := runReport(t, reportTests, nil)
	want := `=== RUN   lead_gets_a_task
--- PASS: lead_gets_a_task (0.00s)
=== RUN   lead_title_differs
--- FAIL: lead_title_differs (0.00s)
    action 1 create_task: title = "Follow up ani", want "Follow up Ani"
    action 1 create_task: assignee = "u1", want "u2"
=== RUN   walk_in_matches
--- FAIL: walk_in_matches (0.00s)
    matched = false, want true
=== RUN   sold_vehicle
--- PASS: sold_vehicle (0.00s)
=== RUN   sold_vehicle_one_action
--- FAIL: sold_vehicle_one_action (0.00s)
    got 2 actions, want 1: set, notify
=== RUN   sold_vehicle_wrong_order
--- FAIL: sold_vehicle_wrong_order (0.00s)
    action 1: got set, want notify
    action 2: got notify, want set
=== RUN   no_buyer_is_an_error
--- FAIL: no_buyer_is_an_error (0.00s)
    error: rule sold: action 2 (notify): message: rules.hcl:21:16: cannot fetch name from <nil>
=== RUN   unsold_vehicle
--- PASS: unsold_vehicle (0.00s)
FAIL
3 passed, 5 failed
`
	if got != want {
		t.Errorf("report:\n%s\nwant:\n%s", got, want)
	}
	if passed != 3 || failed != 5 {
		t.Errorf("passed, failed = %d, %d; want 3, 5", passed, failed)
	}
}

func TestRunTestsAllPass(t *testing.T) {
	got, passed, failed := runReport(t, reportTests, regexp.MustCompile(`^(lead_gets|sold_vehicle$|unsold)`))
	want := `=== RUN   lead_gets_a_task
--- PASS: lead_gets_a_task (0.00s)
=== RUN   sold_vehicle
--- PASS: sold_vehicle (0.00s)
=== RUN   unsold_vehicle
--- PASS: unsold_vehicle (0.00s)
PASS
3 passed, 0 failed
`
	if got != want || passed != 3 || failed != 0 {
		t.Errorf("report (%d passed, %d failed):\n%s\nwant:\n%s", passed, failed, got, want)
	}
	got, _, _ = runReport(t, reportTests, regexp.MustCompile(`nothing`))
	if want := "no tests to run\nPASS\n0 passed, 0 failed\n"; got != want {
		t.Errorf("no tests: %q, want %q", got, want)
	}
}

// TestRunTestsDefaults checks the input a test builds: the default event,
// clock, ids and owner, old copied from given, and related ids.
func TestRunTestsDefaults(t *testing.T) {
	rules := `
rule "echo" {
  on = ["vehicle.updated", "vehicle.created"]
  action "webhook" {
    url  = "'http://localhost/'"
    body = "{'event': event, 'now': now(), 'id': record.id, 'version': record.version, 'owner': record.owner, 'by': record.created_by, 'old': old?.status, 'new': record.status, 'mileage': old?.mileage, 'buyer': record.buyer, 'buyer_name': related('buyer')?.name, 'user': user?.role}"
  }
}
rule "tick" {
  every    = "1h"
  for_each = "vehicle"
  action "webhook" {
    url  = "'http://localhost/'"
    body = "{'event': event, 'old': old}"
  }
}
`
	tests := `
test "update" {
  rule  = "echo"
  given = { vin = "V1", status = "sold", mileage = 10, owner = "u9" }
  old   = { status = "in_stock" }
  user  = { id = "u1", role = "admin" }
  related "buyer" { name = "Narek" }
  expect {
    action "webhook" {
      body = {
        event = "updated", now = "2026-01-01T09:00:00Z", id = "test-vehicle", version = 2, owner = "u9", by = "u1",
        old = "in_stock", new = "sold", mileage = 10, buyer = "test-buyer", buyer_name = "Narek", user = "admin"
      }
    }
  }
}
test "created" {
  rule  = "echo"
  event = "created"
  now   = "2026-03-21T09:00:00+04:00"
  given = { id = "V7", vin = "V1", buyer = "C1" }
  user  = { id = "u1" }
  related "buyer" { name = "Narek" }
  expect {
    action "webhook" {
      body = {
        event = "created", now = "2026-03-21T05:00:00Z", id = "V7", version = 1, owner = "u1", by = "u1",
        old = null, new = null, mileage = null, buyer = "C1", buyer_name = "Narek", user = ""
      }
    }
  }
}
test "tick" {
  rule  = "tick"
  given = { vin = "V1" }
  expect {
    action "webhook" {
      body = { event = "schedule", old = null }
    }
  }
}
`
	cfg, sch := load(t, rules+tests)
	set := mustCompileCfg(t, cfg, sch)
	if diags := CheckTests(cfg, sch, set); len(diags) > 0 {
		t.Fatalf("CheckTests: %s", formatDiags(diags))
	}
	var b bytes.Buffer
	if _, failed := RunTests(context.Background(), cfg, sch, set, &b, nil); failed > 0 {
		t.Errorf("report:\n%s", b.String())
	}
}

// checkCases are test blocks that load but do not fit the schema or the
// rule, and what CheckTests says about each. Their rule is reportRules'
// and they start on line 24 of rules.hcl.
var checkCases = []struct {
	name string
	src  string
	want []string
}{
	{"unknown field", `test "t" {
  rule  = "lead"
  given = { nmae = "Ani" }
  expect {}
}`, []string{`rules.hcl:26:13: error: unknown field "nmae" of contact in given; did you mean "name"?`}},
	{"wrong value", `test "t" {
  rule  = "sold"
  given = { vin = "V1", status = "sould" }
  expect {}
}`, []string{`rules.hcl:26:34: error: invalid value of status in given; "sould" is not one of "in_stock", "sold", "service"; did you mean "sold"?`}},
	{"wrong money", `test "t" {
  rule  = "sold"
  given = { vin = "V1", price = 1000 }
  expect {}
}`, []string{`rules.hcl:26:33: error: invalid value of price in given; expected {"amount": "<decimal>", "currency": "<ISO 4217>"}, got a number`}},
	{"wrong system field", `test "t" {
  rule  = "lead"
  given = { name = "Ani", created_at = "yesterday", entity = "deal" }
  expect {}
}`, []string{
		`rules.hcl:26:40: error: invalid value of created_at in given; expected an RFC 3339 date-time with a time zone, like "2026-03-21T10:30:00Z" or "2026-03-21T14:30:00+04:00", got "yesterday"`,
		`rules.hcl:26:53: error: entity cannot be given in a test; of the system fields, a test may give id, owner, created_by, created_at, updated_at, version`,
	}},
	{"stage not of the pipeline", `rule "won" {
  on = ["deal.stage_changed"]
  action "notify" {
    to      = "record.owner"
    message = "'won'"
  }
}
test "t" {
  rule  = "won"
  given = { title = "Fleet", stage = "wno" }
  old   = { stage = "nwe" }
  expect {}
}`, []string{
		`rules.hcl:33:38: error: invalid value of stage in given: "wno" is not a stage of pipeline "sales"; stages: new, qualified, proposal, negotiation, won, lost`,
		`rules.hcl:34:21: error: invalid value of stage in old: "nwe" is not a stage of pipeline "sales"; stages: new, qualified, proposal, negotiation, won, lost`,
	}},
	{"pipeline unknown, title missing", `rule "won" {
  on = ["deal.stage_changed"]
  action "notify" {
    to      = "record.owner"
    message = "'won'"
  }
}
test "t" {
  rule  = "won"
  given = { pipeline = "sale", stage = "zzz" }
  expect {}
}`, []string{
		`rules.hcl:33:24: error: invalid value of pipeline in given: "sale" is not a pipeline of deal; did you mean "sales"?`,
	}},
	{"old on created", `test "t" {
  rule  = "lead"
  given = { name = "Ani" }
  old   = { name = "An" }
  expect {}
}`, []string{`rules.hcl:27:11: error: old is only for updated and stage_changed events, and this test's event is "created"`}},
	{"id in old", `test "t" {
  rule  = "sold"
  given = { vin = "V1" }
  old   = { id = "V2" }
  expect {}
}`, []string{`rules.hcl:27:13: error: old cannot change id; old is the previous version of the given record`}},
	{"event not a trigger", `test "t" {
  rule  = "lead"
  event = "updated"
  given = { name = "Ani" }
  expect {}
}`, []string{`rules.hcl:26:11: error: rule "lead" is not triggered by "updated"; its events: created`}},
	{"unknown ref field", `test "t" {
  rule  = "sold"
  given = { vin = "V1" }
  related "buyr" { name = "Narek" }
  expect {}
}`, []string{`rules.hcl:27:11: error: unknown ref field "buyr" of vehicle; did you mean "buyer"?`}},
	{"related wrong value", `test "t" {
  rule  = "sold"
  given = { vin = "V1" }
  related "buyer" { birthday = "14 May" }
  expect {}
}`, []string{`rules.hcl:27:32: error: invalid value of birthday in related "buyer"; expected a date as "YYYY-MM-DD", like "2026-03-21", got "14 May"`}},
	{"related id differs", `test "t" {
  rule  = "sold"
  given = { vin = "V1", buyer = "C1" }
  related "buyer" { id = "C2" }
  expect {}
}`, []string{`rules.hcl:27:26: error: related "buyer" has id "C2", but given.buyer is "C1"; leave out one of them`}},
	{"count unknown entity", `test "t" {
  rule  = "sold"
  given = { vin = "V1" }
  count "activty" { value = 1 }
  expect {}
}`, []string{`rules.hcl:27:9: error: unknown entity "activty"; did you mean "activity"?`}},
	{"expected action not in rule", `test "t" {
  rule  = "sold"
  given = { vin = "V1" }
  expect {
    action "notfy" {}
  }
}`, []string{`rules.hcl:28:12: error: rule "sold" has no action "notfy"; did you mean "notify"?`}},
	{"expected argument not in action", `test "t" {
  rule  = "sold"
  given = { vin = "V1" }
  expect {
    action "notify" { mesage = "x" }
  }
}`, []string{`rules.hcl:28:23: error: action notify of rule "sold" has no argument "mesage"; did you mean "message"?`}},
	{"expected field value wrong", `test "t" {
  rule  = "lead"
  given = { name = "Ani" }
  expect {
    action "create_task" { due = "tomorrow" }
  }
}`, []string{`rules.hcl:28:34: error: invalid value of due in expected create_task; expected an RFC 3339 date-time with a time zone, like "2026-03-21T10:30:00Z" or "2026-03-21T14:30:00+04:00", got "tomorrow"`}},
}

func TestCheckTests(t *testing.T) {
	for _, c := range checkCases {
		t.Run(c.name, func(t *testing.T) {
			cfg, sch := load(t, reportRules+c.src)
			set := mustCompileCfg(t, cfg, sch)
			diags := CheckTests(cfg, sch, set)
			var got []string
			for _, d := range diags {
				got = append(got, formatDiags(hclDiags(d)))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(c.want, "\n\t"))
			}
			// RunTests fails such a test with the same lines.
			var b bytes.Buffer
			if _, failed := RunTests(context.Background(), cfg, sch, set, &b, nil); failed != 1 {
				t.Errorf("RunTests: %d failed, want 1", failed)
			}
			for _, w := range c.want {
				if !strings.Contains(b.String(), "    "+w+"\n") {
					t.Errorf("report lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

func TestCheckTestsNoConfig(t *testing.T) {
	if diags := CheckTests(nil, nil, nil); !diags.HasErrors() {
		t.Error("CheckTests(nil) has no error")
	}
	var b bytes.Buffer
	if p, f := RunTests(context.Background(), nil, nil, nil, &b, nil); p != 0 || f != 1 {
		t.Errorf("RunTests(nil) = %d, %d", p, f)
	}
}

// mustCompileCfg compiles a loaded configuration that must have no errors.
func mustCompileCfg(t testing.TB, cfg *config.Config, sch *schema.Schema) *Set {
	t.Helper()
	set, diags := Compile(cfg, sch)
	if diags.HasErrors() {
		t.Fatalf("compile: %s", formatDiags(diags))
	}
	return set
}

func hclDiags(d *hcl.Diagnostic) hcl.Diagnostics { return hcl.Diagnostics{d} }

// FuzzRuleTests runs arbitrary test blocks against reportRules: checking
// and running them must never panic.
func FuzzRuleTests(f *testing.F) {
	f.Add(reportTests)
	for _, c := range checkCases {
		f.Add(c.src)
	}
	f.Fuzz(func(t *testing.T, tests string) {
		cfg, diags := config.LoadSources(map[string][]byte{"base.hcl": []byte(baseHCL), "rules.hcl": []byte(reportRules + tests)})
		if diags.HasErrors() {
			return
		}
		sch, err := schema.New(cfg)
		if err != nil {
			return
		}
		set, diags := Compile(cfg, sch)
		if diags.HasErrors() {
			return
		}
		CheckTests(cfg, sch, set)
		RunTests(context.Background(), cfg, sch, set, io.Discard, nil)
	})
}

func TestSameValue(t *testing.T) {
	yerevan := time.FixedZone("+04", 4*3600)
	at := time.Date(2026, 3, 21, 7, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		got, want any
		same      bool
	}{
		{at, "2026-03-21T11:00:00+04:00", true},
		{at, "2026-03-21T07:00:00Z", true},
		{at, "2026-03-21T07:00:01Z", false},
		{at, "2026-03-21", true},
		{time.Date(2026, 3, 21, 22, 0, 0, 0, time.UTC), "2026-03-22", true}, // 02:00 on the 22nd in +04
		{at, "soon", false},
		{2 * time.Hour, "2h", true},
		{2 * time.Hour, "120m", true},
		{2 * time.Hour, "1h", false},
		{schema.Money{Minor: 150000, Currency: "AMD"}, map[string]any{"amount": "1500", "currency": "AMD"}, true},
		{schema.ExprMoney{Minor: 150000, Currency: "AMD"}, map[string]any{"amount": int64(1500), "currency": "AMD"}, true},
		{schema.Money{Minor: 150000, Currency: "AMD"}, map[string]any{"amount": "1500", "currency": "USD"}, false},
		{schema.Decimal("1450.50"), "1450.5", true},
		{schema.Decimal("1450.50"), 1450.5, true},
		{int64(10), int64(10), true},
		{10, 10.0, true},
		{int64(10), "10", false},
		{1.5, int64(2), false},
		{"a", "a", true},
		{"a", nil, false},
		{nil, nil, true},
		{true, true, true},
		{[]string{"a", "b"}, []any{"a", "b"}, true},
		{[]any{"a", at}, []any{"a", "2026-03-21T07:00:00Z"}, true},
		{[]any{"a"}, []any{"a", "b"}, false},
		{map[string]any{"a": int64(1)}, map[string]any{"a": int64(1)}, true},
		{map[string]any{"a": int64(1)}, map[string]any{"a": int64(1), "b": nil}, false},
	} {
		if got := sameValue(c.got, c.want, yerevan); got != c.same {
			t.Errorf("sameValue(%#v, %#v) = %v", c.got, c.want, got)
		}
	}
	pr := printer{loc: yerevan}
	for v, want := range map[any]string{
		"a":                    `"a"`,
		at:                     `"2026-03-21T11:00:00+04:00"`,
		utcDate(2026, 3, 21):   `"2026-03-21"`,
		90 * time.Minute:       `"1h30m0s"`,
		schema.Decimal("1.50"): `1.50`,
		schema.Money{Minor: 150000, Currency: "AMD"}: `{ amount = "1500.00", currency = "AMD" }`,
		1.5:      `1.5`,
		int64(3): `3`,
		true:     `true`,
	} {
		if got := pr.show(v); got != want {
			t.Errorf("show(%#v) = %s, want %s", v, got, want)
		}
	}
	if got := pr.show(map[string]any{"b": []any{nil, "x"}, "a": 1}); got != `{ a = 1, b = [null, "x"] }` {
		t.Errorf("show(map) = %s", got)
	}
}
