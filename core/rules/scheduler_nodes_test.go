package rules

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/core/store"
)

// TestScheduledTickOncePerPeriodWithTwoNodes: two nodes' engines over one
// store try a scheduled rule's tick at the same moments; each period's
// tick is claimed, and run, by exactly one of them.
func TestScheduledTickOncePerPeriodWithTwoNodes(t *testing.T) {
	cfg, sch := load(t, `
rule "stale_vehicle" {
  every    = "1h"
  for_each = "vehicle"
  action "notify" {
    to      = "'01JADMIN000000000000000000'"
    message = "'idle'"
  }
}`)
	set, diags := Compile(cfg, sch)
	if diags.HasErrors() {
		t.Fatalf("compile: %s", formatDiags(diags))
	}
	st, err := store.OpenBadger(t.TempDir(), sch, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var mu sync.Mutex
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	nodes := []*Engine{
		NewEngine(st, sch, set, Options{Now: clock, Logger: log}),
		NewEngine(st, sch, set, Options{Now: clock, Logger: log}),
	}
	rule := set.Rule("stale_vehicle")
	ctx := context.Background()

	// try has every node try the tick at once, as often as it likes, and
	// returns how many ticks ran.
	try := func() int {
		var wg sync.WaitGroup
		var ran sync.Map
		for i, e := range nodes {
			for j := range 3 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ok, err := e.maybeTick(ctx, rule)
					if err != nil {
						t.Error(err)
					}
					if ok {
						ran.Store([2]int{i, j}, true)
					}
				}()
			}
		}
		wg.Wait()
		n := 0
		ran.Range(func(_, _ any) bool { n++; return true })
		return n
	}
	for period := range 4 {
		if n := try(); n != 1 {
			t.Fatalf("period %d: %d ticks, want 1", period, n)
		}
		mu.Lock()
		now = now.Add(30 * time.Minute)
		mu.Unlock()
		if n := try(); n != 0 {
			t.Fatalf("period %d, half an hour in: %d ticks, want 0", period, n)
		}
		mu.Lock()
		now = now.Add(30 * time.Minute)
		mu.Unlock()
	}
}
