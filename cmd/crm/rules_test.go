package main_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/app"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
)

// dealerDir is a configuration directory holding the default crm.hcl and
// the example rules of the car dealer.
func dealerDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"crm.hcl", "examples/rules/dealer.hcl"} {
		b, err := os.ReadFile(filepath.Join(testkit.RepoRoot(), f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRulesTestExample(t *testing.T) {
	dir := dealerDir(t)
	if out, errOut, code := crm(t, "", "check", "--config", dir); code != 0 {
		t.Fatalf("crm check: exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code := crm(t, "", "rules", "test", "--config", dir)
	if code != 0 {
		t.Fatalf("crm rules test: exit %d\n%s%s", code, out, errOut)
	}
	runs := strings.Count(out, "=== RUN   ")
	if runs < 7 || strings.Count(out, "--- PASS: ") != runs || !strings.HasSuffix(out, "PASS\n"+strconv.Itoa(runs)+" passed, 0 failed\n") {
		t.Errorf("report:\n%s", out)
	}
	for _, name := range []string{"website_lead_gets_a_task", "deal_idle_for_four_days_is_reminded", "birthday_today_is_greeted",
		"stage_change_is_logged", "missed_call_gets_a_call_back_task", "big_deal_won_notifies_managers", "sold_vehicle_is_posted"} {
		if !strings.Contains(out, "--- PASS: "+name+" (") {
			t.Errorf("no passing test %s:\n%s", name, out)
		}
	}

	out, _, code = crm(t, "", "rules", "test", "--config", dir, "--run", "^birthday_")
	if code != 0 || strings.Count(out, "=== RUN   ") != 2 || !strings.HasSuffix(out, "2 passed, 0 failed\n") {
		t.Errorf("--run: exit %d\n%s", code, out)
	}
}

func TestRulesTestFailure(t *testing.T) {
	dir := dealerDir(t)
	os.WriteFile(filepath.Join(dir, "more.hcl"), []byte(`
test "lead_title" {
  rule  = "website_lead_follow_up"
  given = { name = "ani", source = "website", owner = "u1" }
  expect {
    action "create_task" { title = "Follow up Ani" }
  }
}
test "walk_in_matches" {
  rule  = "website_lead_follow_up"
  given = { name = "Aram", source = "walk_in" }
  expect { matched = true }
}
`), 0o600)
	out, errOut, code := crm(t, "", "rules", "test", "--config", dir, "--run", "lead_title|walk_in")
	want := regexp.MustCompile(`^=== RUN   walk_in_contact_gets_no_task
--- PASS: walk_in_contact_gets_no_task \(\d+\.\d\ds\)
=== RUN   lead_title
--- FAIL: lead_title \(\d+\.\d\ds\)
    action 1 create_task: title = "Follow up ani", want "Follow up Ani"
=== RUN   walk_in_matches
--- FAIL: walk_in_matches \(\d+\.\d\ds\)
    matched = false, want true
FAIL
1 passed, 2 failed
$`)
	if code != 1 || !want.MatchString(out) {
		t.Errorf("exit %d, want 1; report:\n%s%s", code, out, errOut)
	}
}

func TestRulesTestConfigErrors(t *testing.T) {
	dir := dealerDir(t)
	more := filepath.Join(dir, "more.hcl")
	os.WriteFile(more, []byte(`test "typo" {
  rule  = "website_lead_follow_up"
  given = { nmae = "Ani", source = "website" }
  expect {}
}
`), 0o600)
	out, errOut, code := crm(t, "", "rules", "test", "--config", dir)
	if code != 1 || out != "" || !strings.Contains(errOut, more+`:3:13: error: unknown field "nmae" of contact in given; did you mean "name"?`) {
		t.Errorf("a wrong field: exit %d\n%s%s", code, out, errOut)
	}
	if !regexp.MustCompile(`(?m)^\s+\|\s+\^`).MatchString(errOut) {
		t.Errorf("no caret line:\n%s", errOut)
	}
	os.WriteFile(more, []byte(`test "typo" {
  rule  = "website_lead_folow_up"
  given = {}
  expect {}
}
`), 0o600)
	_, errOut, code = crm(t, "", "rules", "test", "--config", dir)
	if code != 1 || !strings.Contains(errOut, more+`:2:11: error: test "typo" is of unknown rule "website_lead_folow_up"; did you mean "website_lead_follow_up"?`) {
		t.Errorf("an unknown rule: exit %d\n%s", code, errOut)
	}
}

func TestRulesTestFlags(t *testing.T) {
	dir := dealerDir(t)
	for _, args := range [][]string{
		{"rules"},
		{"rules", "frob"},
		{"rules", "test", "--nope"},
		{"rules", "test", "--config", dir, "extra"},
		{"rules", "test", "--config", dir, "--run", "("},
		{"rules", "test", "--limit", "x"},
	} {
		if out, errOut, code := crm(t, "", args...); code != 2 {
			t.Errorf("%v: exit %d, want 2\n%s%s", args, code, out, errOut)
		}
	}
	_, errOut, code := crm(t, "", "rules", "test", "--help")
	if code != 0 || !strings.Contains(errOut, "-dry-run") || !strings.Contains(errOut, "-run") {
		t.Errorf("--help: exit %d\n%s", code, errOut)
	}
	if out, _, _ := crm(t, "", "help"); !strings.Contains(out, "crm rules test") {
		t.Errorf("help lacks crm rules test:\n%s", out)
	}
	if out, errOut, code := crm(t, "", "rules", "test", "--config", filepath.Join(dir, "missing.hcl")); code != 1 {
		t.Errorf("a missing config: exit %d\n%s%s", code, out, errOut)
	}
}

func TestRulesDryRun(t *testing.T) {
	dir := dealerDir(t)
	data := filepath.Join(dir, "data")
	a := openDealer(t, dir, data)
	ctx := context.Background()
	u, err := a.Auth.CreateUser(ctx, "sona@example.com", "Sona", "sales", "a long sales password")
	if err != nil {
		t.Fatal(err)
	}
	create := func(entity string, values map[string]any) {
		t.Helper()
		if err := a.Schema.Entity(entity).CheckRecord(values); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Store.Create(ctx, store.CreateRequest{Entity: entity, Values: values, Owner: u.ID, By: u.ID}); err != nil {
			t.Fatal(err)
		}
	}
	create("contact", map[string]any{"name": "Ani", "source": "website"})
	create("contact", map[string]any{"name": "Aram", "source": "walk_in"})
	create("contact", map[string]any{"name": "Lilit", "source": "website"})
	create("vehicle", map[string]any{"vin": "XTA1", "make": "Lada", "model": "Niva", "status": "sold"})

	// While another process holds the store, the dry run says so.
	_, errOut, code := crm(t, "", "rules", "test", "--dry-run", "--config", dir, "--data", data)
	if code != 1 || !strings.Contains(errOut, "in use by another crm process") {
		t.Errorf("a store in use: exit %d\n%s", code, errOut)
	}
	seq := a.Store.LastSeq()
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}

	out, errOut, code := crm(t, "", "rules", "test", "--dry-run", "--config", dir, "--data", data, "--limit", "1")
	if code != 0 {
		t.Fatalf("dry run: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"rule website_lead_follow_up (as contact.created): 2 of 3 records match\n",
		`"Ani": create_task title="Follow up Ani" assignee="` + u.ID + `" due="`,
		"  ... and 1 more\n",
		"rule idle_deal_reminder (every 1h over deal where stage != 'won' && stage != 'lost'): 0 of 0 records match\n",
		`rule birthday_greeting (cron "0 9 * * *" over contact): 0 of 3 records match` + "\n",
		"rule vehicle_status_webhook (as vehicle.updated with old = nil): 0 of 1 record match, 1 failed\n",
		"cannot fetch status from <nil>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	a = openDealer(t, dir, data)
	defer a.Close()
	if got := a.Store.LastSeq(); got != seq {
		t.Errorf("the dry run wrote: LastSeq %d, was %d", got, seq)
	}

	_, errOut, code = crm(t, "", "rules", "test", "--dry-run", "--config", dir, "--data", filepath.Join(dir, "nothing"))
	if code != 1 || !strings.Contains(errOut, "no store in") {
		t.Errorf("no store: exit %d\n%s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "nothing")); err == nil {
		t.Error("the dry run created a store")
	}
}

// openDealer opens the store of the dealer configuration in data.
func openDealer(t *testing.T, dir, data string) *app.App {
	t.Helper()
	cfg, sch, set, diags := app.Check(dir)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	a, err := app.Open(cfg, sch, set, data, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestRulesDocExample runs the worked example of docs/rules.md, so that
// the documentation stays true.
func TestRulesDocExample(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join(testkit.RepoRoot(), "docs", "rules.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "<!-- worked-example")
	if !ok {
		t.Fatal("docs/rules.md has no worked example")
	}
	_, rest, _ = strings.Cut(rest, "```hcl\n")
	example, _, ok := strings.Cut(rest, "```\n")
	if !ok {
		t.Fatal("the worked example's code block does not end")
	}
	dir := t.TempDir()
	crmHCL, err := os.ReadFile(filepath.Join(testkit.RepoRoot(), "crm.hcl"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "crm.hcl"), crmHCL, 0o600)
	os.WriteFile(filepath.Join(dir, "showroom.hcl"), []byte(example), 0o600)
	out, errOut, code := crm(t, "", "rules", "test", "--config", dir)
	if code != 0 || !strings.HasSuffix(out, "PASS\n3 passed, 0 failed\n") {
		t.Errorf("worked example: exit %d\n%s%s", code, out, errOut)
	}
}
