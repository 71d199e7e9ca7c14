package rules

import (
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
)

// baseHCL is the configuration every test's rules are added to.
const baseHCL = `
locale {
  languages = ["en", "fa"]
  currency  = "AMD"
  timezone  = "Asia/Yerevan"
}

entity "vehicle" {
  field "vin" {
    type     = "string"
    required = true
  }
  field "mileage" { type = "int" }
  field "status" {
    type   = "enum"
    values = ["in_stock", "sold", "service"]
  }
  field "buyer" {
    type = "ref"
    to   = "contact"
  }
  field "seller" {
    type = "ref"
    to   = "contact"
  }
  field "price"   { type = "money" }
  field "weight"  { type = "decimal" }
  field "checked" { type = "date" }
}

plugin "doctemplates" {}
plugin "calltracking" {}
`

// load loads the base configuration and rules.hcl holding rules; it fails
// the test if the configuration itself has errors.
func load(t testing.TB, rules string) (*config.Config, *schema.Schema) {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"base.hcl": []byte(baseHCL), "rules.hcl": []byte(rules)})
	if diags.HasErrors() {
		t.Fatalf("config: %s", formatDiags(diags))
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, sch
}

// compileRules compiles rules on top of the base configuration.
func compileRules(t testing.TB, rules string) (*Set, hcl.Diagnostics) {
	t.Helper()
	cfg, sch := load(t, rules)
	return Compile(cfg, sch)
}

// mustCompile compiles rules that must have no errors.
func mustCompile(t testing.TB, rules string) *Set {
	t.Helper()
	set, diags := compileRules(t, rules)
	if diags.HasErrors() {
		t.Fatalf("compile: %s", formatDiags(diags))
	}
	return set
}

func formatDiags(diags hcl.Diagnostics) string {
	lines := make([]string, len(diags))
	for i, d := range diags {
		lines[i] = config.FormatDiagnostic(d)
	}
	return strings.Join(lines, "\n")
}

// hclQuote writes s as an HCL quoted string.
func hclQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "\t", `\t`, "${", "$${", "%{", "%%{")
	return `"` + r.Replace(s) + `"`
}

// exprRule is a rule about entity whose webhook body is src, so that src
// may have any type.
func exprRule(entity, src string) string {
	return `
rule "e" {
  on = ["` + entity + `.updated"]
  action "webhook" {
    url  = "'http://localhost/hook'"
    body = ` + hclQuote(src) + `
  }
}
`
}

// compileExpr compiles src as an expression about entity.
func compileExpr(t testing.TB, entity, src string) *Program {
	t.Helper()
	set := mustCompile(t, exprRule(entity, src))
	return set.Rules[0].Actions[0].Args["body"]
}
