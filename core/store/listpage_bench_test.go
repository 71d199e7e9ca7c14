package store_test

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
	badger "github.com/dgraph-io/badger/v4"
)

// BenchmarkListPage measures the store's share of a list request (List
// with Query.Stored, then AppendAPIForm of each item, as the API writes a
// page) for the indexed queries of issue 15's comparison, over
// CRM_LIST_BENCH_N contacts (default 20,000) written like
// core/api's BenchmarkListHTTP and then reopened, so that they are read
// from tables rather than the memtable. Each case reports its time and
// allocations per page as multiples of raw Badger reading the same page's
// records by key in one transaction (x-raw-ns, x-raw-allocs).
func BenchmarkListPage(b *testing.B) {
	n := 20_000
	if v := os.Getenv("CRM_LIST_BENCH_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	dir := b.TempDir()
	st, sch := openWith(b, dir, testHCL, store.Options{NoSync: true}, testUser)
	ctx := context.Background()
	first := []string{"Anna", "Aram", "Ani", "Armen", "Lilit", "Davit", "Mariam", "Narek", "Sona", "Tigran"}
	last := []string{"Petrosyan", "Hakobyan", "Sargsyan", "Kazlauskas", "Ahmadi", "Ivanov", "Beridze", "Yilmaz"}
	_, err := testkit.RunConcurrent(n, writers, func(i int) error {
		source := "web"
		if k := (i + i/2000) % 100; k < 10 {
			source = "ref" + strconv.Itoa(k)
		}
		_, err := st.Create(ctx, store.CreateRequest{Entity: "contact", By: testUser, Values: map[string]any{
			"name": first[i%len(first)] + " " + last[(i/len(first))%len(last)], "email": fmt.Sprintf("c%07d@example.com", i),
			"source": source, "notes": fmt.Sprintf("n%08d", (uint32(i)*2654435761)%100_000_000),
		}})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	st, sch = openWith(b, dir, testHCL, store.Options{NoSync: true}, testUser)
	ent := sch.Entity("contact")
	cases := []struct{ name, filter string }{
		{"indexed_1pct", "source == 'ref3'"},
		{"indexed_90pct", "source == 'web'"},
		{"two_predicates", "source == 'web' && name == 'Anna Petrosyan'"},
	}
	for _, c := range cases {
		f, err := store.CompileFilter(ent, c.filter)
		if err != nil {
			b.Fatal(err)
		}
		q := store.Query{Entity: "contact", Filter: f, Limit: 20, Stored: true}
		var buf []byte
		page := func() *store.Page {
			p, err := st.List(ctx, q)
			if err != nil || len(p.Items) == 0 {
				b.Fatalf("%s: %v (%d items)", c.name, err, len(p.Items))
			}
			buf = buf[:0]
			for _, r := range p.Items {
				var ok bool
				if buf, ok = store.AppendAPIForm(buf, ent, r); !ok {
					b.Fatalf("%s: AppendAPIForm could not write %s", c.name, r.ID)
				}
			}
			return p
		}
		b.Logf("%s: plan %s", c.name, page().Plan)
		ids := []string{}
		for _, r := range page().Items {
			ids = append(ids, r.ID)
		}
		// The baseline: the page's records (and one more) read by key.
		ids = append(ids, ids[len(ids)-1])
		var rawNs, rawAllocs float64
		b.Run(c.name+"/raw_badger", func(b *testing.B) {
			var val []byte
			rawNs, rawAllocs = perOp(b, func() {
				err := st.DB().View(func(txn *badger.Txn) error {
					for _, id := range ids {
						item, err := txn.Get([]byte("r/contact/" + id))
						if err != nil {
							return err
						}
						if val, err = item.ValueCopy(val[:0]); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					b.Fatal(err)
				}
			})
		})
		b.Run(c.name, func(b *testing.B) {
			ns, allocs := perOp(b, func() { page() })
			b.ReportMetric(ns/rawNs, "x-raw-ns")
			b.ReportMetric(allocs/rawAllocs, "x-raw-allocs")
		})
	}
}

// perOp runs op in the benchmark's loop and returns its time and
// allocations per run, reporting the allocations.
func perOp(b *testing.B, op func()) (ns, allocs float64) {
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	n := 0
	for b.Loop() {
		op()
		n++
	}
	elapsed := time.Since(start)
	runtime.ReadMemStats(&m1)
	ns, allocs = float64(elapsed.Nanoseconds())/float64(n), float64(m1.Mallocs-m0.Mallocs)/float64(n)
	b.ReportMetric(allocs, "allocs/page")
	return ns, allocs
}
