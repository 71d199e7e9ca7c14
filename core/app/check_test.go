package app

import (
	"slices"
	"strings"
	"testing"

	"github.com/crmkit/crm/config"
)

// TestCheckShowsEveryProblemInOneRun: a configuration whose entity block has
// errors still has its rules compiled, against the fields that did load, so
// that an entity's mistake and a rule's show in the same run, each once.
func TestCheckShowsEveryProblemInOneRun(t *testing.T) {
	_, sch, set, diags := CheckSources(map[string][]byte{
		"entities.hcl": []byte(`entity "vehicle" {
  field "vin" { type = "strng" }
  field "make" { type = "string" }
  field "buyer" {
    type = "ref"
    to   = "contcat"
  }
}
pipeline "sales" {
  entity = "vehicle"
  stages = ["new", "sold"]
}
`),
		"rules.hcl": []byte(`rule "made" {
  on   = ["vehicle.created"]
  when = "record.mkae == 'BMW' && record.stage == 'new'"
  action "notify" {
    to      = "'owner'"
    message = "'x'"
  }
}
rule "bad_event" {
  on = ["vehicle.craeted", "vehicle"]
  action "notify" {
    to      = "'owner'"
    message = "'x'"
  }
}
`),
	})
	if sch != nil || set != nil {
		t.Fatalf("a configuration with errors gave a schema or rules")
	}
	var got []string
	for _, d := range diags {
		got = append(got, config.FormatDiagnostic(d))
	}
	for _, want := range []string{
		`entities.hcl:2:24: error: unknown field type "strng"`,
		`entities.hcl:6:12: error:`,
		`rules.hcl:3:18: error: unknown field "mkae" of vehicle; did you mean "make"?`, // against the fields that did load
		`rules.hcl:10:9: error: unknown event "vehicle.craeted"`,
		`rules.hcl:10:28: error: invalid event "vehicle"`, // found by the loader and the compiler
	} {
		if !slices.ContainsFunc(got, func(g string) bool { return strings.HasPrefix(g, want) }) {
			t.Errorf("lacks %q in\n\t%s", want, strings.Join(got, "\n\t"))
		}
	}
	for i, g := range got {
		if slices.Contains(got[i+1:], g) {
			t.Errorf("shown twice: %s", g)
		}
	}
}
