package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/plugins/sdk/exprbudget"
)

// FuzzCompileFilter feeds random filter sources to the compiler and runs
// whatever compiles on a record: neither may panic, a run must stay within
// its budgets (an exceeded budget is an error, not a dead process or a
// long hang), and an index plan must never change the answer (checked by
// the store tests on real data). The seeds include the hostile shapes of
// budget_test.go, so that mutations of them are tried.
func FuzzCompileFilter(f *testing.F) {
	for _, s := range []string{
		"vin == 'A'", "mileage > 5 && mileage <= 10", "status in ['sold']", "price.amount > 1.5",
		"vin startsWith 'W'", "hasPrefix(vin, 'x') || mileage == -1", "now() > created_at", "(", "vin ==",
		"1..1000000 | len() > 0", "{'a': 1}.a == 1", "mileage / 0 == 1", "buyer?.x == nil",
	} {
		f.Add(s)
	}
	for _, h := range hostileFilters {
		f.Add(h.src)
	}
	_, sch := openStore(f, f.TempDir())
	ent := sch.Entity("vehicle")
	rec := &store.Record{ID: store.NewID(), Entity: "vehicle", Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now(),
		Values: map[string]any{"vin": "WVW", "mileage": int64(7), "status": "sold", "price": schema.Money{Minor: 150000, Currency: "AMD"}}}
	f.Fuzz(func(t *testing.T, src string) {
		flt, err := store.CompileFilter(ent, src)
		if err != nil {
			return
		}
		for _, r := range []*store.Record{rec, {ID: "x", Entity: "vehicle"}} {
			start := time.Now()
			_, err := flt.Eval(r)
			if took := time.Since(start); took > 5*exprbudget.MaxTime {
				t.Fatalf("%q ran %s (err %v)", src, took, err)
			}
			var fe *store.FilterError
			if err != nil && (!errors.As(err, &fe) || fe.Budget == "") {
				t.Fatalf("%q: Eval err = %v; want only budget errors", src, err)
			}
			// A scan of the stored form answers as Eval does.
			if raw, encErr := store.EncodeRecord(ent, r); encErr == nil && err == nil {
				want, _ := flt.Eval(r)
				if got, gerr := flt.MatchRaw(r.ID, raw); got != want || gerr != nil {
					t.Fatalf("%q: MatchRaw = %v, %v; Eval = %v", src, got, gerr, want)
				}
			}
		}
	})
}
