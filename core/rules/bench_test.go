package rules_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/rules"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/vm"
)

// whenFor is the condition of the i-th benchmark rule: a realistic mix of
// a field comparison, a money comparison and a string test.
func whenFor(i int) string {
	return fmt.Sprintf("record.stage == 'won' && record.amount != nil && record.amount.amount > %d && record.title != 'x%d'", i*1000, i)
}

// BenchmarkMatchAndEvaluate matches one deal.updated event against N rules
// and evaluates each matching rule's `when`, as a ratio to running the same
// conditions as bare compiled expr programs on a prepared environment.
func BenchmarkMatchAndEvaluate(b *testing.B) {
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			var src strings.Builder
			for i := range n {
				fmt.Fprintf(&src, "rule \"r%d\" {\n  on = [\"deal.updated\"]\n  when = %q\n  action \"set\" {\n    notes = \"'x'\"\n  }\n}\n", i, whenFor(i))
			}
			cfg, diags := config.LoadSources(map[string][]byte{"bench.hcl": []byte(src.String())})
			if diags.HasErrors() {
				b.Fatal(diags)
			}
			sch, _ := schema.New(cfg)
			set, diags := rules.Compile(cfg, sch)
			if diags.HasErrors() {
				b.Fatal(diags)
			}
			rec := &store.Record{ID: store.NewID(), Entity: "deal", Version: 2, Values: map[string]any{
				"title": "Fleet", "stage": "won", "amount": schema.Money{Minor: 600000000, Currency: "AMD"},
			}}
			matched := 0
			start := time.Now()
			for b.Loop() {
				in := &rules.Input{Record: rec, Event: "updated", Now: time.Now()}
				for _, r := range set.Matching("deal", "updated") {
					ok, err := r.When.EvalBool(in)
					if err != nil {
						b.Fatal(err)
					}
					if ok {
						matched++
					}
				}
			}
			ours := time.Since(start) / time.Duration(b.N)
			raw := rawExpr(b, n)
			b.ReportMetric(float64(ours.Nanoseconds()), "ns/event")
			b.ReportMetric(float64(ours)/float64(raw), "x_raw_expr")
		})
	}
}

// rawExpr times the same n conditions compiled with expr directly against a
// plain map environment and run with one reused VM.
func rawExpr(b *testing.B, n int) time.Duration {
	env := map[string]any{"record": map[string]any{
		"title": "Fleet", "stage": "won", "amount": map[string]any{"amount": 6000000.0, "currency": "AMD"},
	}}
	progs := make([]*vm.Program, n)
	for i := range n {
		p, err := expr.Compile(whenFor(i), expr.Env(env), expr.AsBool())
		if err != nil {
			b.Fatal(err)
		}
		progs[i] = p
	}
	var m vm.VM
	const rounds = 2000
	start := time.Now()
	for range rounds {
		for _, p := range progs {
			if _, err := m.Run(p, env); err != nil {
				b.Fatal(err)
			}
		}
	}
	return time.Since(start) / rounds
}

// BenchmarkEndToEnd measures events processed per second from write to
// effect: a contact created from the website, the change feed, the rule,
// and its follow-up task written; as a ratio to the same writes without
// rules, measured in the same run.
func BenchmarkEndToEnd(b *testing.B) {
	const events = 2000
	const hcl = `
rule "follow_up" {
  on   = ["contact.created"]
  when = "record.source == 'website'"
  action "create_task" {
    title = "'Follow up ' + record.name"
  }
}`
	cfg, _ := config.LoadSources(map[string][]byte{"r.hcl": []byte(hcl)})
	sch, _ := schema.New(cfg)
	set, diags := rules.Compile(cfg, sch)
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	for b.Loop() {
		// Baseline: the writes alone.
		plain, err := store.OpenBadger(b.TempDir(), sch, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		write := func(st store.Store) func(i int) error {
			return func(i int) error {
				_, err := st.Create(context.Background(), store.CreateRequest{Entity: "contact", Values: map[string]any{"name": fmt.Sprint("lead", i), "source": "website"}})
				return err
			}
		}
		base, err := testkit.RunConcurrent(events, 16, write(plain))
		if err != nil {
			b.Fatal(err)
		}
		plain.Close()

		st, err := store.OpenBadger(b.TempDir(), sch, store.Options{})
		if err != nil {
			b.Fatal(err)
		}
		eng := rules.NewEngine(st, sch, set, rules.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- eng.Run(ctx) }()
		start := time.Now()
		if _, err := testkit.RunConcurrent(events, 16, write(st)); err != nil {
			b.Fatal(err)
		}
		for st.Counts()["task"] < events {
			time.Sleep(time.Millisecond)
		}
		e2e := time.Since(start)
		cancel()
		<-done
		st.Close()
		b.ReportMetric(events/e2e.Seconds(), "events/s")
		b.ReportMetric(events/base.Seconds(), "writes_only/s")
		b.ReportMetric(base.Seconds()/e2e.Seconds(), "x_writes_only_speed")
	}
}
