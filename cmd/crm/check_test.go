package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckEveryProblemInOneRun: crm check on a configuration directory
// with an entity error in one file and a rule error in another prints
// both, with their positions, in one run, and exits 1.
func TestCheckEveryProblemInOneRun(t *testing.T) {
	dir := t.TempDir()
	ents := filepath.Join(dir, "entities.hcl")
	rules := filepath.Join(dir, "rules.hcl")
	os.WriteFile(ents, []byte(`entity "vehicle" {
  field "vin" { type = "strng" }
  field "make" { type = "string" }
}
`), 0o600)
	os.WriteFile(rules, []byte(`rule "bmw" {
  on   = ["vehicle.created"]
  when = "record.mkae == 'BMW'"
  action "notify" {
    to      = "'owner'"
    message = "'a BMW'"
  }
}
`), 0o600)
	_, stderr, code := crm(t, "", "check", "--config", dir)
	if code != 1 {
		t.Fatalf("exit %d:\n%s", code, stderr)
	}
	for _, want := range []string{
		ents + `:2:24: error: unknown field type "strng"; did you mean "string"?`,
		rules + `:3:18: error: unknown field "mkae" of vehicle; did you mean "make"?`,
	} {
		if strings.Count(stderr, want) != 1 {
			t.Errorf("crm check should print once %q:\n%s", want, stderr)
		}
	}
}
