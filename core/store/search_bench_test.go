package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
)

// BenchmarkSearch100k fills a store with 100k contacts (name, e-mail,
// phone; Latin, Armenian and Persian names) and reports the median
// latency of typical searches, the creates/s with the index on, and the
// search index's keys and key bytes per record. It takes a minute or two:
// run it alone (-run '^$' -bench Search100k -benchtime 1x).
func BenchmarkSearch100k(b *testing.B) {
	const n = 100_000
	st := openSearchStore(b, b.TempDir(), searchHCL)
	ctx := context.Background()
	first := []string{"Anna", "Armen", "Karen", "Mariam", "Davit", "Lilit", "Ani", "Tigran", "Narek", "Gohar",
		"Արմեն", "Անի", "Տիգրան", "علی", "محمد\u200cحسین", "فاطمه", "Žydrūnė", "Gülnarə", "Дмитрий", "Ольга"}
	last := []string{"Petrosyan", "Sargsyan", "Hakobyan", "Grigoryan", "Harutyunyan", "Khachatryan", "Karapetyan",
		"Gevorgyan", "Vardanyan", "Avetisyan", "Սարգսյան", "Պետրոսյան", "کریمی", "رضایی", "Šimkūnaitė", "Məmmədova",
		"Иванов", "Смирнова", "Smith", "Brown"}
	start := time.Now()
	d, err := testkit.RunConcurrent(n, 64, func(i int) error {
		r := rand.New(rand.NewPCG(uint64(i), 7))
		f, l := first[r.IntN(len(first))], last[r.IntN(len(last))]
		_, err := st.Create(ctx, store.CreateRequest{Entity: "contact", By: testUser, Values: map[string]any{
			"name":  f + " " + l,
			"email": fmt.Sprintf("user%d@example%d.am", i, i%50),
			"phone": fmt.Sprintf("+374%s%06d", []string{"91", "77", "93", "55"}[i%4], r.IntN(1_000_000)),
		}})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("filled %d contacts in %s", n, time.Since(start).Round(time.Second))

	queries := map[string]string{
		"exact":     "petrosyan",
		"prefix":    "petro",
		"prefix1":   "a",
		"infix":     "rosya",
		"armenian":  "սարգ",
		"persian":   "کريم",
		"two_words": "anna petro",
		"phone":     "091 12 34",
		"none":      "zzzzqq",
	}
	b.ResetTimer()
	for range b.N {
		for name, q := range queries {
			var lat []time.Duration
			for range 200 {
				t0 := time.Now()
				hits, err := st.Search(ctx, store.SearchQuery{Text: q, Entities: []string{"contact"}, Limit: 20})
				lat = append(lat, time.Since(t0))
				if err != nil {
					b.Fatal(err)
				}
				if name != "none" && len(hits) == 0 {
					b.Fatalf("%s %q: no hits", name, q)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50_µs_"+name)
		}
	}
	b.ReportMetric(float64(n)/d.Seconds(), "creates/s")
	b.ReportMetric(float64(st.SearchKeys("contact", ""))/n, "index_keys/record")
	b.ReportMetric(float64(st.SearchIndexBytes("contact"))/n, "index_key_bytes/record")
}
