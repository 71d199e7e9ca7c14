package store_test

import (
	"testing"
	"time"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// FuzzCompileFilter feeds random filter sources to the compiler and runs
// whatever compiles on a record: neither may panic, and an index plan must
// never change the answer (checked by the store tests on real data).
func FuzzCompileFilter(f *testing.F) {
	for _, s := range []string{
		"vin == 'A'", "mileage > 5 && mileage <= 10", "status in ['sold']", "price.amount > 1.5",
		"vin startsWith 'W'", "hasPrefix(vin, 'x') || mileage == -1", "now() > created_at", "(", "vin ==",
		"1..1000000 | len() > 0", "{'a': 1}.a == 1", "mileage / 0 == 1", "buyer?.x == nil",
	} {
		f.Add(s)
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
		flt.Match(rec)
		flt.Match(&store.Record{ID: "x", Entity: "vehicle"})
	})
}
