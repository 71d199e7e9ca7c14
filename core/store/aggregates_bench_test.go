package store_test

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
)

// BenchmarkCountsAndTotals measures counts and kanban totals from the
// counters over 20k deals, a count the counters cannot answer (bounded
// scan), and the backfill of the counters at open.
func BenchmarkCountsAndTotals(b *testing.B) {
	const n = 20000
	dir := b.TempDir()
	st, deal := openAggStore(&testing.T{}, dir)
	ctx := context.Background()
	_, err := testkit.RunConcurrent(n, 50, func(i int) error {
		r := rand.New(rand.NewPCG(uint64(i), 3))
		_, err := st.Create(ctx, store.CreateRequest{Entity: "deal", Values: randomDeal(r, nil), By: testUser})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, group, sum, filter string }{
		{"count_all", "", "", ""},
		{"count_stage_eq", "", "", "stage == 'won'"},
		{"count_pipeline_and_stage", "", "", "pipeline == 'sales' && stage == 'won'"},
		{"count_scan_bounded", "", "", "amount.currency == 'USD'"},
		{"totals_by_stage", "stage", "amount", ""},
		{"totals_by_stage_in_pipeline", "stage", "amount", "pipeline == 'sales'"},
	} {
		b.Run(c.name, func(b *testing.B) {
			var f *store.Filter
			if c.filter != "" {
				f, err = store.CompileFilter(deal, c.filter)
				if err != nil {
					b.Fatal(err)
				}
			}
			for b.Loop() {
				if c.sum == "" {
					_, _, err = st.Count(ctx, "deal", f)
				} else {
					_, err = st.Totals(ctx, "deal", c.group, c.sum, f)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	// The backfill at open, once (not per b.N): the counters of n deals
	// are removed and the store reopened.
	if err := st.DB().DropPrefix([]byte("c/"), []byte("t/"), []byte("s/aggregates/")); err != nil {
		b.Fatal(err)
	}
	st.Close()
	start := time.Now()
	st, _ = openAggStore(&testing.T{}, dir)
	b.Logf("backfill of %d deals at open: %s, %.0f records/s", n, time.Since(start), float64(n)/time.Since(start).Seconds())
	st.Close()
}
