package rules_test

import (
	"fmt"
	"os"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// A rule with a typo: the diagnostic points at the field, inside the HCL
// string, and suggests the near name.
func ExampleCompile() {
	cfg, _ := config.LoadSources(map[string][]byte{"crm.hcl": []byte(`
rule "big_deal" {
  on   = ["deal.updated"]
  when = "record.amout.amount > 1000000"
  action "notify" {
    to      = "record.owner"
    message = "'Big deal: ' + record.title"
  }
}
`)})
	sch, err := schema.New(cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, diags := rules.Compile(cfg, sch)
	config.WriteDiagnostics(os.Stdout, cfg.Files, diags)
	// Output:
	// crm.hcl:4:18: error: unknown field "amout" of deal; did you mean "amount"?
	//     4 |   when = "record.amout.amount > 1000000"
	//       |                  ^
}

// A compiled rule evaluated on a record, at a fixed time.
func ExampleProgram_Eval() {
	cfg, _ := config.LoadSources(map[string][]byte{"crm.hcl": []byte(`
locale {
  currency = "AMD"
  timezone = "Asia/Tehran"
}

rule "stale_deal" {
  every    = "1h"
  for_each = "deal"
  when     = "record.stage not in ['won', 'lost'] && since(record.updated_at) > duration('3d')"
  action "notify" {
    to      = "record.owner"
    message = "'Deal ' + record.title + ' (' + format_money(record.amount) + ') is idle since ' + format_date(record.updated_at, 'jalali', 'd MMMM yyyy')"
  }
}
`)})
	sch, _ := schema.New(cfg)
	set, diags := rules.Compile(cfg, sch)
	if diags.HasErrors() {
		fmt.Println(diags)
		return
	}
	rule := set.Rule("stale_deal")
	in := &rules.Input{
		Record: &store.Record{ID: "d1", Owner: "u1", UpdatedAt: time.Date(2026, 3, 17, 12, 0, 0, 0, time.UTC), Values: map[string]any{
			"title": "Roof", "stage": "proposal", "amount": schema.Money{Minor: 150000, Currency: "AMD"},
		}},
		Event: "schedule",
		Now:   time.Date(2026, 3, 21, 12, 0, 0, 0, time.UTC),
	}
	idle, _ := rule.When.EvalBool(in)
	msg, _ := rule.Actions[0].Args["message"].Eval(in)
	fmt.Println(idle)
	fmt.Println(msg)
	// Output:
	// true
	// Deal Roof (1,500.00 AMD) is idle since 26 Esfand 1404
}
