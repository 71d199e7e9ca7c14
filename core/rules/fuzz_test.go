package rules

import (
	"context"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// fuzzTemplate has a rule of every kind; the fuzz target puts its inputs
// in place of every when, filter and argument.
const fuzzTemplate = `
rule "on_deal" {
  on   = ["deal.updated", "deal.stage_changed"]
  when = "true"
  action "set" {
    stage = "'won'"
    amount = "money(1, 'AMD')"
  }
  action "create_record" {
    entity  = "'activity'"
    kind    = "'note'"
    subject = "'x'"
  }
  action "create_task" {
    title = "'x'"
    due   = "now()"
  }
  action "notify" {
    to      = "record.owner"
    message = "'x'"
    channel = "'app'"
  }
  action "webhook" {
    url     = "'http://localhost/hook'"
    body    = "record"
    timeout = "duration('10s')"
  }
  action "doctemplates.generate_document" {
    template = "'quote'"
  }
}

rule "scheduled" {
  every    = "1h"
  for_each = "contact"
  filter   = "name != ''"
  when     = "true"
  action "notify" {
    to      = "record.owner"
    message = "'x'"
  }
}

rule "plugin_event" {
  on   = ["call.missed"]
  when = "true"
  action "create_task" {
    title = "'x'"
  }
}
`

// fakeLookup answers from memory.
type fakeLookup struct{}

func (fakeLookup) Get(_ context.Context, entity, id string) (*store.Record, error) {
	if id == "gone" {
		return nil, store.ErrNotFound
	}
	return &store.Record{ID: id, Entity: entity, Values: map[string]any{"name": "Ani", "title": "T"}}, nil
}

func (fakeLookup) CountRefs(_ context.Context, _, _, _ string, match func(*store.Record) (bool, error)) (int, error) {
	if match == nil {
		return 1, nil
	}
	ok, err := match(&store.Record{Values: map[string]any{"stage": "won", "kind": "call"}})
	if err != nil || !ok {
		return 0, err
	}
	return 1, nil
}

// withSources is a copy of the template's rules with every expression's
// source replaced: when by when, everything else by arg.
func withSources(rules []*config.Rule, when, arg string) []*config.Rule {
	out := make([]*config.Rule, len(rules))
	for i, r := range rules {
		nr := *r
		if r.When != nil {
			nr.When = &config.Expr{Source: when, Range: r.When.Range}
		}
		if r.Filter != nil {
			nr.Filter = &config.Expr{Source: arg, Range: r.Filter.Range}
		}
		nr.Actions = nil
		for _, a := range r.Actions {
			na := *a
			na.Args = map[string]*config.Expr{}
			for name, x := range a.Args {
				na.Args[name] = &config.Expr{Source: arg, Range: x.Range}
			}
			nr.Actions = append(nr.Actions, &na)
		}
		out[i] = &nr
	}
	return out
}

// checkDiagnostics fails on a diagnostic without a sensible place.
func checkDiagnostics(t *testing.T, cfg *config.Config, diags hcl.Diagnostics) {
	for _, d := range diags {
		s := d.Subject
		if s == nil || d.Summary == "" || s.Start.Line < 1 || s.Start.Column < 1 || s.Start.Byte > s.End.Byte {
			t.Fatalf("bad diagnostic %s (%+v)", config.FormatDiagnostic(d), s)
		}
		if f := cfg.Files[s.Filename]; f == nil || s.End.Byte > len(f.Bytes) {
			t.Fatalf("diagnostic outside its file: %s (%+v)", config.FormatDiagnostic(d), s)
		}
	}
}

// runAll evaluates every program of a set, which must not panic.
func runAll(set *Set) {
	now := time.Date(2026, 3, 21, 10, 0, 0, 0, time.UTC)
	rec := &store.Record{ID: "r1", Entity: "deal", Owner: "u1", Version: 2, UpdatedAt: now.Add(-time.Hour), Values: map[string]any{
		"title": "Roof", "stage": "won", "contact": "c1", "company": "gone", "name": "Ani", "birthday": utcDate(1990, 3, 21),
		"amount": schema.Money{Minor: 1500, Currency: "AMD"},
	}}
	in := &Input{Ctx: context.Background(), Record: rec, Old: rec, User: &UserInfo{ID: "u1", Role: "sales"}, Event: "updated", Now: now, Lookup: fakeLookup{}}
	for _, r := range set.Rules {
		_, _ = r.Filter.EvalBool(in)
		_, _ = r.When.EvalBool(in)
		for _, a := range r.Actions {
			_, _ = a.Eval(in)
			_, _ = a.FieldValues(in)
		}
	}
}

func FuzzCompileRule(f *testing.F) {
	for _, seed := range [][2]string{
		{"record.amount.amount > 1000 && record.stage == 'won'", "'Deal ' + record.title"},
		{"since(record.updated_at) > duration('3d')", "now() + days(2)"},
		{"related('contact').name startsWith 'A'", "count_related('activity', \"kind == 'call'\")"},
		{"format_date(now(), 'jalali', 'd MMMM yyyy') != ''", "format_money(record.amount)"},
		{"is_anniversary(record.birthday)", "money('1.5', 'USD')"},
		{"record.amout >", "{a: [1, 2, 3]}"},
		{"let x = 1; x > 0", "user?.role ?? 'system'"},
		{"__rt != nil", "$env.__related"},
		{"related(related('contact'))", "count_related('deal', \"stge == 1\", 'x')"},
		{"\"\\u00e9\" == 'é'\n&& true", "'${x}' + \"\\\"\""},
		// Hostile shapes: each must stop at a budget of package exprbudget.
		{"len(repeat(repeat('a', 100000), 1000000)) > 0", "reduce(1..64, #acc + #acc, 'ab')"},
		{"!all(1..999990, {# > 0})", "let r = 1..1000; all(r, {all(r, {all(r, {# > 0})})})"},
		{"all(1..1000, {count_related('activity') >= 0})", "toJSON(map(1..1000, {map(1..1000, {#})}))"},
		{"len(replace(repeat('a', 4000), 'a', repeat('a', 4000))) > 0", "join(map(1..1000, {repeat('a', 1000000)}), ',')"},
		{"len(reduce(1..1000, [#acc], [])) > 0", "split(repeat('a', 4000000), '')"},
	} {
		f.Add(seed[0], seed[1])
	}
	cfg, diags := config.LoadSources(map[string][]byte{"base.hcl": []byte(baseHCL), "rules.hcl": []byte(fuzzTemplate)})
	if diags.HasErrors() {
		f.Fatal(formatDiags(diags))
	}
	sch, err := schema.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	rules := cfg.Rules
	f.Fuzz(func(t *testing.T, when, arg string) {
		c := *cfg
		c.Rules = withSources(rules, when, arg)
		set, diags := Compile(&c, sch)
		checkDiagnostics(t, &c, diags)
		if !diags.HasErrors() {
			runAll(set)
		}

		// The same through HCL, where quoting and escapes move positions.
		hc, diags := config.LoadSources(map[string][]byte{"base.hcl": []byte(baseHCL), "rules.hcl": []byte(
			onRule(`"deal.updated"`, "true", "\n  action \"webhook\" {\n    url  = "+hclQuote(arg)+"\n    body = "+hclQuote(when)+"\n  }"))})
		if diags.HasErrors() {
			return
		}
		hsch, err := schema.New(hc)
		if err != nil {
			t.Fatal(err)
		}
		set, diags = Compile(hc, hsch)
		checkDiagnostics(t, hc, diags)
		if !diags.HasErrors() {
			runAll(set)
		}
	})
}
