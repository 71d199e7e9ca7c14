package api_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
)

// BenchmarkListHTTP measures the list queries of issue 15's comparison
// through the whole request path (HTTP, authentication, filter, store,
// JSON) in one process, one client at a time, over CRM_LIST_BENCH_N
// contacts (default 20,000) written straight into the store. It is the
// benchmark to profile (-cpuprofile, -memprofile) the per-request cost with.
// Each case reports its time and allocations per request as multiples of a
// bare net/http handler writing a fixed page of 20 records over the same
// loopback (x-bare-ns, x-bare-allocs).
func BenchmarkListHTTP(b *testing.B) {
	n := 20_000
	if v := os.Getenv("CRM_LIST_BENCH_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			b.Fatal(err)
		}
	}
	s := testkit.Start(b, map[string]string{"crm.hcl": testConfig})
	ctx := context.Background()
	sources := func(i int) string {
		if k := (i + i/2000) % 100; k < 10 {
			return "ref" + strconv.Itoa(k)
		}
		return "web"
	}
	first := []string{"Anna", "Aram", "Ani", "Armen", "Lilit", "Davit", "Mariam", "Narek", "Sona", "Tigran"}
	last := []string{"Petrosyan", "Hakobyan", "Sargsyan", "Kazlauskas", "Ahmadi", "Ivanov", "Beridze", "Yilmaz"}
	_, err := testkit.RunConcurrent(n, 50, func(i int) error {
		name := first[i%len(first)] + " " + last[(i/len(first))%len(last)]
		if i%1000 == 999 {
			name = first[i%len(first)] + " Ohanjanyan"
		}
		_, err := s.App.Store.Create(ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{
			"name": name, "email": fmt.Sprintf("c%07d@example.com", i), "source": sources(i),
			"notes": fmt.Sprintf("n%08d", (uint32(i)*2654435761)%100_000_000),
		}})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	list := func(filter, sort string) string {
		v := url.Values{"limit": {"20"}}
		if filter != "" {
			v.Set("filter", filter)
		}
		if sort != "" {
			v.Set("sort", sort)
		}
		return s.URL + "/api/v1/records/contact?" + v.Encode()
	}
	cases := []struct{ name, url string }{
		{"indexed_1pct", list("source == 'ref3'", "")},
		{"indexed_90pct", list("source == 'web'", "")},
		{"two_predicates", list("source == 'web' && name == 'Anna Petrosyan'", "")},
		{"sort_indexed", list("", "name")},
		{"contains_scan", list("name contains 'anjan'", "")},
		{"sort_unindexed", list("", "notes")},
	}
	get := func(b *testing.B, url string, auth bool) []byte {
		req, _ := http.NewRequest("GET", url, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+s.AdminToken)
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d %s", url, res.StatusCode, body)
		}
		return body
	}
	// The baseline: a bare net/http handler on the same loopback that
	// writes a fixed page of 20 records (the first case's answer), asked by
	// the same client. Every case reports its time and allocations per
	// request (client and server, as runtime.MemStats counts them) as
	// multiples of the baseline's.
	fixed := get(b, cases[0].url, true)
	bare := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(fixed)
	}))
	defer bare.Close()
	var bareNs, bareAllocs float64
	measure := func(b *testing.B, url string, auth bool) (ns, allocs float64) {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		start := time.Now()
		n := 0
		for b.Loop() {
			get(b, url, auth)
			n++
		}
		elapsed := time.Since(start)
		runtime.ReadMemStats(&m1)
		ns, allocs = float64(elapsed.Nanoseconds())/float64(n), float64(m1.Mallocs-m0.Mallocs)/float64(n)
		b.ReportMetric(allocs, "allocs/req")
		return ns, allocs
	}
	b.Run("baseline_bare_http", func(b *testing.B) {
		bareNs, bareAllocs = measure(b, bare.URL, false)
	})
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			ns, allocs := measure(b, c.url, true)
			if bareNs > 0 {
				b.ReportMetric(ns/bareNs, "x-bare-ns")
				b.ReportMetric(allocs/bareAllocs, "x-bare-allocs")
			}
		})
	}
}
