package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
	badger "github.com/dgraph-io/badger/v4"
)

// writers is the number of concurrent clients in the write benchmarks.
const writers = 16

// BenchmarkCreate reports records created per second through the store API
// (record, history, outbox, indexes, one fsynced group commit per batch) and
// the ratio to raw Badger transactions writing the same bytes.
func BenchmarkCreate(b *testing.B) {
	st, sch := openStore(b, b.TempDir())
	ctx := context.Background()
	values := func(i int) map[string]any {
		return map[string]any{"vin": fmt.Sprintf("VIN%09d", i), "mileage": int64(i), "status": "in_stock",
			"price": schema.Money{Minor: 1500000, Currency: "AMD"}}
	}
	first, err := st.Create(ctx, store.CreateRequest{Entity: "vehicle", Values: values(-1), By: testUser})
	if err != nil {
		b.Fatal(err)
	}
	sizes := recordSizes(b, st, sch, first)
	n := max(b.N, 2000)
	b.ResetTimer()
	d, err := testkit.RunConcurrent(n, writers, func(i int) error {
		_, err := st.Create(ctx, store.CreateRequest{Entity: "vehicle", Values: values(i), By: testUser})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	raw := testkit.RawBadgerWrites(b, n, writers, sizes[:])
	b.ReportMetric(float64(n)/d.Seconds(), "creates/s")
	b.ReportMetric(float64(n)/raw.Seconds(), "raw_badger_txns/s")
	b.ReportMetric(raw.Seconds()/d.Seconds(), "x_raw_badger_speed")
}

// recordSizes measures the encoded sizes of a record, its history entry and
// its outbox event.
func recordSizes(b *testing.B, st *store.Badger, sch *schema.Schema, rec *store.Record) [3]int {
	ctx := context.Background()
	h, err := st.History(ctx, rec.Entity, rec.ID)
	if err != nil {
		b.Fatal(err)
	}
	e, err := st.Events(ctx, 0, 1)
	if err != nil {
		b.Fatal(err)
	}
	vals, _ := sch.Entity(rec.Entity).MarshalValues(rec.Values)
	hj, _ := json.Marshal(h[0])
	ej, _ := json.Marshal(e[0])
	return [3]int{len(vals) + 120, len(hj), len(ej)} // +120: the record's system fields
}

// populated is a store with 100k vehicles, shared by the query benchmarks.
var (
	popOnce sync.Once
	popSt   *store.Badger
	popSch  *schema.Schema
	popDir  string
)

const popSize = 100_000

func populated(b *testing.B) (*store.Badger, *schema.Schema) {
	popOnce.Do(func() {
		cfg, diags := config.LoadSources(map[string][]byte{"test.hcl": []byte(testHCL)})
		if diags.HasErrors() {
			b.Fatal(diags)
		}
		popSch, _ = schema.New(cfg)
		popDir = b.TempDir()
		var err error
		// Setup only: the data is written without fsync to save time; reads do not depend on it.
		popSt, err = store.OpenBadger(popDir, popSch, store.Options{NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		statuses := []string{"in_stock", "sold", "service"}
		_, err = testkit.RunConcurrent(popSize, writers, func(i int) error {
			_, err := popSt.Create(ctx, store.CreateRequest{Entity: "vehicle", Values: map[string]any{
				"vin": fmt.Sprintf("VIN%09d", i), "mileage": int64(i % 5000), "status": statuses[i%3],
			}})
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	})
	return popSt, popSch
}

func percentiles(ds []time.Duration) (p50, p99 time.Duration) {
	slices.Sort(ds)
	return ds[len(ds)/2], ds[len(ds)*99/100]
}

// BenchmarkQuery100k measures an indexed equality query, a filtered scan
// and a substring scan (a page of the few records whose vin contains six
// given digits: every record is read) over 100k records (p50 and p99 latency), each as a ratio to its raw
// Badger baseline: a point Get of one record for the indexed query, an
// iteration over every record value for the scan.
func BenchmarkQuery100k(b *testing.B) {
	st, sch := populated(b)
	ent := sch.Entity("vehicle")
	ctx := context.Background()
	cases := []struct {
		name, filter string
		limit        int
	}{
		{"indexed_equality", "vin == 'VIN%09d'", 10},
		{"filtered_scan", "status == 'sold' && mileage %% 1000 == %d", 1000},
		{"contains_scan", "vin contains '%06d'", 20},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var lat []time.Duration
			for i := 0; b.Loop(); i++ {
				f, err := store.CompileFilter(ent, fmt.Sprintf(c.filter, (i*7919)%popSize))
				if err != nil {
					b.Fatal(err)
				}
				start := time.Now()
				page, err := st.List(ctx, store.Query{Entity: "vehicle", Filter: f, Limit: c.limit})
				if err != nil || len(page.Items) == 0 && c.name == "indexed_equality" {
					b.Fatalf("query: %v (%d items)", err, len(page.Items))
				}
				lat = append(lat, time.Since(start))
			}
			p50, p99 := percentiles(lat)
			base := rawBaseline(b, st, c.name, len(lat))
			b.ReportMetric(float64(p50.Microseconds()), "p50_µs")
			b.ReportMetric(float64(p99.Microseconds()), "p99_µs")
			b.ReportMetric(float64(p50)/float64(base), "x_raw_badger_p50")
		})
	}
}

// rawBaseline times the raw Badger work a query cannot do without: reading
// one record by key, or iterating all record values.
func rawBaseline(b *testing.B, st *store.Badger, name string, n int) time.Duration {
	b.StopTimer()
	defer b.StartTimer()
	db := st.DB()
	var lat []time.Duration
	ids := st.SampleIDs("vehicle", 100)
	for i := range min(n, 200) {
		start := time.Now()
		err := db.View(func(txn *badger.Txn) error {
			if name == "indexed_equality" {
				item, err := txn.Get([]byte("r/vehicle/" + ids[i%len(ids)]))
				if err != nil {
					return err
				}
				_, err = item.ValueCopy(nil)
				return err
			}
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte("r/vehicle/"), PrefetchValues: true, PrefetchSize: 100})
			defer it.Close()
			for it.Rewind(); it.Valid(); it.Next() {
				if err := it.Item().Value(func([]byte) error { return nil }); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	p50, _ := percentiles(lat)
	return p50
}
