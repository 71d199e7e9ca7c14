package main_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
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

// testPlugin builds the host's test plugin (which declares the typed event
// testplugin.serviced: payload mileage and kind, subject a contact) and
// returns its plugin block.
func testPlugin(t *testing.T) string {
	t.Helper()
	bin, sum := testkit.BuildPlugin(t, "./core/plugins/internal/testplugin/cmd")
	return `plugin "testplugin" {
  path   = "` + bin + `"
  sha256 = "` + sum + `"
  read   = ["contact"]
}
`
}

// TestCheckThirdPartyEvents: crm check starts a third-party plugin when a
// rule is on one of its events, and type-checks the rule against the
// event's declared payload (event) and subject (record); an event no
// plugin declares is an error with a did-you-mean.
func TestCheckThirdPartyEvents(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "plugins.hcl"), []byte(testPlugin(t)), 0o600)
	rules := filepath.Join(dir, "rules.hcl")
	write := func(on, when string) {
		os.WriteFile(rules, []byte(`rule "serviced" {
  on   = ["`+on+`"]
  when = "`+when+`"
  action "notify" {
    to      = "record.owner"
    message = "'serviced at ' + string(event.mileage)"
  }
}
`), 0o600)
	}
	write("testplugin.serviced", "event.mileage > 10000 && event.kind == 'oil' && record.name != ''")
	out, stderr, code := crm(t, "", "check", "--config", dir)
	if code != 0 || !strings.Contains(out, ": ok (") {
		t.Fatalf("a rule that uses the payload and subject as declared: exit %d\n%s%s", code, out, stderr)
	}
	for _, c := range []struct{ on, when, want string }{
		{"testplugin.serviced", "record.mkae == 'BMW'", rules + `:3:18: error: unknown field "mkae" of contact`},
		{"testplugin.serviced", "event.milage > 1", rules + `:3:17: error: unknown field "milage" of event testplugin.serviced; did you mean "mileage"?`},
		{"testplugin.servcied", "true", rules + `:2:11: error: unknown event "testplugin.servcied"; did you mean "testplugin.serviced"?`},
		{"dael.created", "true", rules + `:2:11: error: unknown event "dael.created"; did you mean "deal.created"?`},
	} {
		write(c.on, c.when)
		_, stderr, code := crm(t, "", "check", "--config", dir)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("on %s when %s: exit %d, want %q in\n%s", c.on, c.when, code, c.want, stderr)
		}
	}
	// crm serve checks the same before it opens the store or listens.
	write("testplugin.serviced", "record.mkae == 'BMW'")
	// (Killed after a minute, so that a server that starts fails the test.)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	serve := exec.CommandContext(ctx, testkit.Binary(t), "serve", "--config", dir, "--data", filepath.Join(t.TempDir(), "data"), "--listen", "127.0.0.1:0")
	var errb bytes.Buffer
	serve.Stderr = &errb
	err := serve.Run()
	var exit *exec.ExitError
	if want := rules + `:3:18: error: unknown field "mkae" of contact`; !errors.As(err, &exit) || exit.ExitCode() != 1 || !strings.Contains(errb.String(), want) {
		t.Errorf("crm serve: %v, want exit 1 and %q in\n%s", err, want, errb.String())
	}
}

// TestCheckPluginActionEntity: crm check refuses, at the action block, a
// rule that calls a plugin action on a record of an entity the action does
// not work on (testplugin.award takes contacts only): a rule on deal
// events, or on a plugin event that carries no record. A rule on contact
// events, or on a typed plugin event whose subject is a contact, passes.
func TestCheckPluginActionEntity(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "plugins.hcl"), []byte(testPlugin(t)), 0o600)
	rules := filepath.Join(dir, "rules.hcl")
	write := func(on string) {
		os.WriteFile(rules, []byte(`rule "award" {
  on = ["`+on+`"]
  action "testplugin.award" {
    points = "10"
  }
}
`), 0o600)
	}
	for _, on := range []string{"contact.created", "testplugin.serviced"} {
		write(on)
		out, stderr, code := crm(t, "", "check", "--config", dir)
		if code != 0 || !strings.Contains(out, ": ok (") {
			t.Errorf("award on %s: exit %d\n%s%s", on, code, out, stderr)
		}
	}
	for _, c := range []struct{ on, want string }{
		{"deal.created", rules + `:3:3: error: testplugin.award works on a record of contact, not of deal (rule "award" is about deal records)`},
		{"testplugin.pinged", rules + `:3:3: error: testplugin.award works on a record of contact, but rule "award" is on testplugin.pinged, which carries no record`},
		{"testplugin.noted", rules + `:3:3: error: testplugin.award works on a record of contact, but rule "award" is on testplugin.noted, which carries no record`},
	} {
		write(c.on)
		_, stderr, code := crm(t, "", "check", "--config", dir)
		if code != 1 || strings.Count(stderr, c.want) != 1 {
			t.Errorf("award on %s: exit %d, want once %q in\n%s", c.on, code, c.want, stderr)
		}
	}
}
