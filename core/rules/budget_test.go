package rules_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// hostileRules are rules whose when or argument, without budgets, runs
// the process out of memory or holds the engine; "fine" shows the engine
// goes on.
const hostileRules = `
rule "oom_when" {
  on   = ["contact.created"]
  when = "len(repeat(repeat('a', 100000), 1000000)) > 0"
  action "notify" {
    to      = "'u1'"
    message = "'x'"
  }
}

rule "slow_when" {
  on   = ["contact.created"]
  when = "!all(1..999990, {# > 0})"
  action "notify" {
    to      = "'u1'"
    message = "'x'"
  }
}

rule "oom_arg" {
  on = ["contact.created"]
  action "set" {
    notes = "reduce(1..64, #acc + #acc, 'ab')"
  }
}

rule "counts_in_a_loop" {
  on   = ["contact.created"]
  when = "all(1..1000, {count_related('activity') >= 0})"
  action "notify" {
    to      = "'u1'"
    message = "'x'"
  }
}

rule "fine" {
  on = ["contact.created"]
  action "create_task" {
    title = "'ok ' + record.name"
  }
}
`

func TestHostileRulesFailTheirRuns(t *testing.T) {
	st, eng := engineFor(t, hostileRules)
	create(t, st, "contact", map[string]any{"name": "Ani"})
	want := map[string]string{
		"oom_when":         "when: rules.hcl:4:11: memory budget exceeded",
		"slow_when":        "when: rules.hcl:13:11: steps budget exceeded",
		"oom_arg":          "memory budget exceeded",
		"counts_in_a_loop": "steps budget exceeded",
	}
	deadline := time.Now().Add(20 * time.Second)
	for name, msg := range want {
		for {
			runs, err := eng.Runs(context.Background(), name, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) > 0 && runs[0].Status == rules.StatusFailed {
				if !strings.Contains(runs[0].Error, msg) {
					t.Errorf("%s: error %q; want it to contain %q", name, runs[0].Error, msg)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: runs = %+v; want a failed run", name, runs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	settle(t, st, eng)
	if tasks := list(t, st, "task", "title == 'ok Ani'"); len(tasks) != 1 {
		t.Fatalf("the fine rule did not run: tasks %v", tasks)
	}
}

// TestHostileRuleTestsFail runs rule tests of hostile rules: each test
// fails with the budget, and the report goes on.
func TestHostileRuleTestsFail(t *testing.T) {
	tests := `
test "oom" {
  rule  = "oom_when"
  given = { name = "Ani" }
  expect { matched = true }
}
test "slow" {
  rule  = "slow_when"
  given = { name = "Ani" }
  expect { matched = true }
}
test "oom_arg" {
  rule  = "oom_arg"
  given = { name = "Ani" }
  expect {
    action "set" {}
  }
}
test "fine" {
  rule  = "fine"
  given = { name = "Ani" }
  expect {
    action "create_task" { title = "ok Ani" }
  }
}
`
	cfg, diags := config.LoadSources(map[string][]byte{"rules.hcl": []byte(hostileRules + tests)})
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	set, diags := rules.Compile(cfg, sch)
	if diags.HasErrors() {
		t.Fatalf("rules: %v", diags)
	}
	var b bytes.Buffer
	start := time.Now()
	passed, failed := rules.RunTests(context.Background(), cfg, sch, set, &b, nil)
	if passed != 1 || failed != 3 {
		t.Errorf("passed, failed = %d, %d; want 1, 3", passed, failed)
	}
	report := b.String()
	for _, s := range []string{
		"--- FAIL: oom ", "error: rule oom_when: when: rules.hcl:4:11: memory budget exceeded",
		"--- FAIL: slow ",
		"--- FAIL: oom_arg ", "rule oom_arg: action 1 (set): notes: rules.hcl:23:14: memory budget exceeded",
		"--- PASS: fine ",
	} {
		if !strings.Contains(report, s) {
			t.Errorf("report lacks %q:\n%s", s, report)
		}
	}
	// The slow test stops on its steps budget, or, on a machine so loaded
	// that the steps run out later than the time, on its time budget.
	if !strings.Contains(report, "steps budget exceeded") && !strings.Contains(report, "time budget exceeded") {
		t.Errorf("report lacks the slow test's budget error:\n%s", report)
	}
	t.Logf("tests took %s", time.Since(start))
}

// TestHostileDryRun dry-runs hostile rules over stored records: each
// record's evaluation fails with its budget, a hostile scheduled filter
// fails the dry run with an error, and nothing crashes.
func TestHostileDryRun(t *testing.T) {
	hcl := hostileRules + `
rule "slow_filter" {
  every    = "1h"
  for_each = "contact"
  filter   = "!all(1..999990, {# > 0})"
  action "notify" {
    to      = "'u1'"
    message = "'x'"
  }
}
`
	cfg, diags := config.LoadSources(map[string][]byte{"rules.hcl": []byte(hcl)})
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	set, diags := rules.Compile(cfg, sch)
	if diags.HasErrors() {
		t.Fatalf("rules: %v", diags)
	}
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i := range 3 {
		if _, err := st.Create(context.Background(), store.CreateRequest{Entity: "contact", Values: map[string]any{"name": fmt.Sprintf("C%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	var b bytes.Buffer
	err = rules.DryRun(context.Background(), st, sch, set, &b, 10)
	if err == nil || !strings.Contains(err.Error(), "dry run of slow_filter") || !strings.Contains(err.Error(), "steps budget exceeded") {
		t.Errorf("err = %v; want the scheduled filter's steps budget", err)
	}
	for _, s := range []string{
		"rule oom_when (as contact.created): 0 of 3 records match, 3 failed",
		"rule slow_when (as contact.created): 0 of 3 records match, 3 failed",
		"memory budget exceeded", "steps budget exceeded",
	} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("dry run lacks %q:\n%s", s, b.String())
		}
	}
}

// hostileCountRules count related records with a filter over its budget:
// were the budget error taken for "no match", the count would be 0 and
// each rule would create its task; "honest_count" shows an honest filter
// still counts.
const hostileCountRules = `
rule "count_oom" {
  on   = ["contact.updated"]
  when = "count_related('deal', \"len(repeat(repeat('a', 100000), 1000000)) > 0\") == 0"
  action "create_task" {
    title = "'oom counted nothing'"
  }
}

rule "count_slow" {
  on   = ["contact.updated"]
  when = "count_related('deal', \"!all(1..999990, {# > 0})\") == 0"
  action "create_task" {
    title = "'slow counted nothing'"
  }
}

rule "honest_count" {
  on   = ["contact.updated"]
  when = "count_related('deal', \"stage == 'won'\") == 1"
  action "create_task" {
    title = "'one won deal'"
  }
}
`

// TestHostileCountRelatedFilterFailsTheRun: a count_related filter that
// exceeds a budget on a related record fails the rule's run with the
// budget named, rather than counting the record as no match.
func TestHostileCountRelatedFilterFailsTheRun(t *testing.T) {
	st, eng := engineFor(t, hostileCountRules)
	ani := create(t, st, "contact", map[string]any{"name": "Ani"})
	create(t, st, "deal", map[string]any{"title": "Roof", "stage": "won", "contact": ani.ID})
	if _, err := st.Update(context.Background(), store.UpdateRequest{Entity: "contact", ID: ani.ID, Set: map[string]any{"name": "Ani B"}, By: admin}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"count_oom": "memory budget exceeded", "count_slow": "steps budget exceeded"}
	deadline := time.Now().Add(20 * time.Second)
	for name, msg := range want {
		for {
			runs, err := eng.Runs(context.Background(), name, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) > 0 && runs[0].Status != rules.StatusRetrying {
				r := runs[0]
				if r.Status != rules.StatusFailed || !strings.Contains(r.Error, msg) || !strings.Contains(r.Error, "count_related") {
					t.Errorf("%s: run %s %q; want a failed run naming count_related and %q", name, r.Status, r.Error, msg)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: runs = %+v; want a finished run on contact.updated", name, runs)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	settle(t, st, eng)
	for title, n := range map[string]int{"oom counted nothing": 0, "slow counted nothing": 0, "one won deal": 1} {
		if tasks := list(t, st, "task", fmt.Sprintf("title == %q", title)); len(tasks) != n {
			t.Errorf("tasks %q: %d, want %d", title, len(tasks), n)
		}
	}
}
