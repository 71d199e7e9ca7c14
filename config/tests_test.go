package config

import (
	"io"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// testBase is the configuration the test blocks of these tests are about;
// it is 9 lines long, so a case's first line is line 10.
const testBase = `# The rule that the tests are about.
role "sales" {}
rule "lead" {
  on = ["contact.created"]
  action "notify" {
    to      = "record.owner"
    message = "'hi'"
  }
}
`

// testErrorCases are test blocks with mistakes, and the diagnostics that
// loading each after testBase must give, in order.
var testErrorCases = []struct {
	name string
	src  string
	want []string
}{
	{"unknown rule", `test "a" {
  rule  = "laed"
  given = {}
  expect {}
}`, []string{`t.hcl:11:11: error: test "a" is of unknown rule "laed"; did you mean "lead"?`}},
	{"unknown rule far", `test "a" {
  rule  = "welcome"
  given = {}
  expect {}
}`, []string{`t.hcl:11:11: error: test "a" is of unknown rule "welcome"; rules: lead`}},
	{"missing rule", `test "a" {
  given = {}
  expect {}
}`, []string{`t.hcl:10:10: error: Missing required argument; The argument "rule" is required, but no definition was found.`}},
	{"missing given", `test "a" {
  rule = "lead"
  expect {}
}`, []string{`t.hcl:10:6: error: test "a" gives no record; give the record the rule gets, e.g. given = { name = "Ani" }, or, for a rule on a plugin event, its payload = { ... }`}},
	{"unknown attribute", `test "a" {
  rule  = "lead"
  given = {}
  olde  = {}
  expect {}
}`, []string{`t.hcl:13:3: error: Unsupported argument; An argument named "olde" is not expected here. Did you mean "old"?`}},
	{"unknown block", `test "a" {
  rule  = "lead"
  given = {}
  expct {}
}`, []string{
		`t.hcl:10:6: error: test "a" has no expect block; say what the rule must do, e.g. expect { action "notify" { message = "..." } }, or expect { matched = false }`,
		`t.hcl:13:3: error: Unsupported block type; Blocks of type "expct" are not expected here. Did you mean "expect"?`,
	}},
	{"no expect", `test "a" {
  rule  = "lead"
  given = {}
}`, []string{`t.hcl:10:6: error: test "a" has no expect block; say what the rule must do, e.g. expect { action "notify" { message = "..." } }, or expect { matched = false }`}},
	{"two expects", `test "a" {
  rule  = "lead"
  given = {}
  expect {}
  expect {}
}`, []string{`t.hcl:14:3: error: duplicate expect block; first defined at t.hcl:13`}},
	{"unknown event near", `test "a" {
  rule  = "lead"
  event = "craeted"
  given = {}
  expect {}
}`, []string{`t.hcl:12:11: error: unknown event "craeted"; did you mean "created"?`}},
	{"unknown event far", `test "a" {
  rule  = "lead"
  event = "won"
  given = {}
  expect {}
}`, []string{`t.hcl:12:11: error: unknown event "won"; events: created, updated, deleted, stage_changed, schedule, or a plugin's event such as "call.missed"`}},
	{"invalid now", `test "a" {
  rule  = "lead"
  now   = "2026-03-21 09:00"
  given = {}
  expect {}
}`, []string{`t.hcl:12:11: error: invalid now "2026-03-21 09:00"; now is an RFC 3339 time, e.g. "2026-03-21T09:00:00+04:00"`}},
	{"given not an object", `test "a" {
  rule  = "lead"
  given = ["Ani"]
  expect {}
}`, []string{`t.hcl:12:11: error: given must be an object of field values; write it in braces, e.g. given = { name = "Ani" }`}},
	{"given duplicate field", `test "a" {
  rule  = "lead"
  given = { name = "Ani", name = "Aram" }
  expect {}
}`, []string{`t.hcl:12:27: error: duplicate field "name" in given; first given at t.hcl:12`}},
	{"given expression", `test "a" {
  rule  = "lead"
  given = { name = record.name }
  expect {}
}`, []string{`t.hcl:12:20: error: Variables not allowed; Variables may not be used here.`}},
	{"user unknown key", `test "a" {
  rule  = "lead"
  given = {}
  user  = { id = "u1", rol = "sales" }
  expect {}
}`, []string{`t.hcl:13:24: error: unknown key "rol" in user; did you mean "role"?`}},
	{"user unknown role", `test "a" {
  rule  = "lead"
  given = {}
  user  = { id = "u1", role = "salse" }
  expect {}
}`, []string{`t.hcl:13:31: error: unknown role "salse"; did you mean "sales"?`}},
	{"user not a string", `test "a" {
  rule  = "lead"
  given = {}
  user  = { id = 7 }
  expect {}
}`, []string{`t.hcl:13:18: error: user id must be a string`}},
	{"related with a block", `test "a" {
  rule  = "lead"
  given = {}
  related "company" {
    name = "Acme"
    field "x" {}
  }
  expect {}
}`, []string{`t.hcl:15:5: error: Unexpected "field" block; Blocks are not allowed here.`}},
	{"related twice", `test "a" {
  rule  = "lead"
  given = {}
  related "company" { name = "A" }
  related "company" { name = "B" }
  expect {}
}`, []string{`t.hcl:14:11: error: duplicate related "company" in test "a"; first defined at t.hcl:13`}},
	{"count negative", `test "a" {
  rule  = "lead"
  given = {}
  count "deal" { value = -1 }
  expect {}
}`, []string{`t.hcl:13:26: error: value must be a whole number of at least 0; it is what count_related returns, e.g. value = 2`}},
	{"count misspelt", `test "a" {
  rule  = "lead"
  given = {}
  count "deal" { valeu = 1 }
  expect {}
}`, []string{
		`t.hcl:13:18: error: Missing required argument; The argument "value" is required, but no definition was found.`,
		`t.hcl:13:18: error: Unsupported argument; An argument named "valeu" is not expected here. Did you mean "value"?`,
	}},
	{"count twice", `test "a" {
  rule  = "lead"
  given = {}
  count "deal" { value = 1 }
  count "deal" { value = 2 }
  expect {}
}`, []string{`t.hcl:14:9: error: duplicate count "deal" in test "a"; first defined at t.hcl:13`}},
	{"matched false with actions", `test "a" {
  rule  = "lead"
  given = {}
  expect {
    matched = false
    action "notify" { message = "hi" }
  }
}`, []string{`t.hcl:14:15: error: matched = false, but expect lists actions; a rule that does not match does nothing; remove the action blocks or the matched line`}},
	{"matched not a bool", `test "a" {
  rule  = "lead"
  given = {}
  expect { matched = "yes" }
}`, []string{`t.hcl:13:22: error: matched must be true or false`}},
	{"expect unknown attribute", `test "a" {
  rule  = "lead"
  given = {}
  expect { matchd = true }
}`, []string{`t.hcl:13:12: error: Unsupported argument; An argument named "matchd" is not expected here. Did you mean "matched"?`}},
	{"expected argument not literal", `test "a" {
  rule  = "lead"
  given = {}
  expect {
    action "notify" { message = upper("hi") }
  }
}`, []string{`t.hcl:14:33: error: Function calls not allowed; Functions may not be called here.`}},
	{"duplicate test", `test "a" {
  rule  = "lead"
  given = {}
  expect {}
}
test "a" {
  rule  = "lead"
  given = {}
  expect {}
}`, []string{`t.hcl:15:6: error: duplicate test "a"; first defined at t.hcl:10`}},
}

func TestLoadTestErrors(t *testing.T) {
	for _, c := range testErrorCases {
		t.Run(c.name, func(t *testing.T) {
			_, diags := load(t, testBase+c.src)
			if got := lines(diags); !slices.Equal(got, c.want) {
				t.Errorf("got\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(c.want, "\n\t"))
			}
			if !diags.HasErrors() {
				t.Error("HasErrors() = false")
			}
		})
	}
}

func TestLoadTest(t *testing.T) {
	cfg := mustLoad(t, testBase+`
test "website_lead_gets_a_task" {
  rule  = "lead"
  event = "created"
  now   = "2026-03-21T09:00:00+04:00"
  given = {
    name   = "Ani"
    amount = { amount = "1500.00", currency = "AMD" }
    score  = 7
    ok     = true
    gone   = null
  }
  old  = { name = "An" }
  user = { id = "u1", role = "sales", email = "ani@example.com", name = "Ani" }
  related "company" {
    name = "Acme"
  }
  count "activity" { value = 2 }
  expect {
    action "notify" {
      message = "hi"
      to      = "u1"
    }
  }
}

test "defaults" {
  rule  = "lead"
  given = {}
  expect {}
}
`)
	if len(cfg.Tests) != 2 {
		t.Fatalf("got %d tests, want 2", len(cfg.Tests))
	}
	tt := cfg.Tests[0]
	if tt.Name != "website_lead_gets_a_task" || tt.Rule != "lead" || tt.Event != "created" {
		t.Errorf("name, rule, event = %q, %q, %q", tt.Name, tt.Rule, tt.Event)
	}
	if want := time.Date(2026, 3, 21, 5, 0, 0, 0, time.UTC); !tt.Now.Equal(want) {
		t.Errorf("now = %v, want %v", tt.Now, want)
	}
	var names []string
	for _, f := range tt.Given.Fields {
		names = append(names, f.Name)
	}
	if want := []string{"name", "amount", "score", "ok", "gone"}; !slices.Equal(names, want) {
		t.Errorf("given fields = %v, want %v (source order)", names, want)
	}
	if v := tt.Given.Get("amount").Value.(map[string]any); v["amount"] != "1500.00" || v["currency"] != "AMD" {
		t.Errorf("amount = %v", v)
	}
	if v := tt.Given.Get("score").Value; v != int64(7) {
		t.Errorf("score = %#v, want int64(7)", v)
	}
	if v := tt.Given.Get("gone"); v == nil || v.Value != nil {
		t.Errorf("gone = %#v, want a nil value", v)
	}
	if r := tt.Given.Get("name").Range; r.Start.Line != 16 || r.Start.Column != 14 {
		t.Errorf("name is at %d:%d, want 16:14", r.Start.Line, r.Start.Column)
	}
	if tt.Old.Get("name").Value != "An" {
		t.Errorf("old = %+v", tt.Old.Fields)
	}
	if u := tt.User; u.ID != "u1" || u.Role != "sales" || u.Email != "ani@example.com" || u.Name != "Ani" {
		t.Errorf("user = %+v", u)
	}
	if len(tt.Related) != 1 || tt.Related[0].Field != "company" || tt.Related[0].Values.Get("name").Value != "Acme" {
		t.Errorf("related = %+v", tt.Related)
	}
	if len(tt.Counts) != 1 || tt.Counts[0].Entity != "activity" || tt.Counts[0].Value != 2 {
		t.Errorf("counts = %+v", tt.Counts)
	}
	e := tt.Expect
	if !e.Matched || len(e.Actions) != 1 || e.Actions[0].Kind != "notify" {
		t.Fatalf("expect = %+v", e)
	}
	if a := e.Actions[0].Args; len(a) != 2 || a[0].Name != "message" || a[0].Value != "hi" || a[1].Name != "to" {
		t.Errorf("expected args = %+v (source order)", a)
	}
	if at := tt.At("rule"); at.Start.Line != 12 {
		t.Errorf("At(rule) is on line %d, want 12", at.Start.Line)
	}

	d := cfg.Tests[1]
	if !d.Now.Equal(DefaultTestNow) || d.Event != "" || d.Old != nil || d.User != nil || d.Expect.Matched {
		t.Errorf("defaults: now %v, event %q, old %v, user %v, matched %v", d.Now, d.Event, d.Old, d.User, d.Expect.Matched)
	}
	if at := d.At("event"); at != d.Range {
		t.Errorf("At of an absent attribute = %v, want the block header %v", at, d.Range)
	}
}

// FuzzLoadTests is FuzzLoad seeded with test blocks.
func FuzzLoadTests(f *testing.F) {
	for _, c := range testErrorCases {
		f.Add([]byte(testBase + c.src))
	}
	if b, err := os.ReadFile("../examples/rules/dealer.hcl"); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		cfg, diags := LoadSources(map[string][]byte{"fuzz.hcl": src})
		if cfg == nil {
			t.Fatal("nil config")
		}
		WriteDiagnostics(io.Discard, cfg.Files, diags)
	})
}
