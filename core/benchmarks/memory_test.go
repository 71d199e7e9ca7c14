package benchmarks_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/crmkit/crm/core/app"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/testkit"
)

// BenchmarkMemory seeds CRM_BENCH_N contacts into a real `crm serve` with
// its default settings (over HTTP, 50 concurrent creates) and prints its
// resident memory after the seeding and after each list query of the
// side-by-side table has run at one client for CRM_BENCH_DURATION (1s by
// default): the figure of issue 15's point 5 (under 300 MB at 1M
// contacts). Run it with -benchtime=1x.
//
// With CRM_BENCH_SEED=store the contacts are written first straight
// through the store API (50 concurrent creates, without fsync: a fixture
// load, some times faster than HTTP), into the data directory that `crm
// serve` then opens; the figures are then those of a server started on 1M
// contacts, after startup and after the queries. The records are indexed
// and counted in their write transactions, so no backfill runs at startup.
func BenchmarkMemory(b *testing.B) {
	n := envInt(b, "CRM_BENCH_N", defaultN)
	dur := envDuration(b, "CRM_BENCH_DURATION", time.Second)
	out := os.Stdout
	var crm *service
	if os.Getenv("CRM_BENCH_SEED") == "store" {
		dir, addr := b.TempDir(), freePort(b)
		writeCRMConfig(b, dir, addr)
		fmt.Fprintf(out, "seeding %d contacts through the store API (%d concurrent creates, no fsync)...\n", n, createClients)
		d := seedStore(b, dir, n)
		fmt.Fprintf(out, "%d contacts: %.0f creates/s\n", n, float64(n)/d.Seconds())
		crm = startCRMIn(b, dir, addr)
		fmt.Fprintf(out, "memory after startup: %s\n", readMemory(crm.pid))
	} else {
		crm = startCRM(b)
		fmt.Fprintf(out, "seeding %d contacts into crm over HTTP (%d concurrent creates)...\n", n, createClients)
		create, err := crm.seed("/api/v1/records/contact", 0, n, createClients)
		if err != nil {
			b.Fatal(err)
		}
		fmt.Fprintf(out, "%d contacts: creates %s\nmemory after seeding: %s\n", n, create, readMemory(crm.pid))
	}
	for _, q := range queries() {
		r := measure(1, dur, func() error { return crm.get(q.crm) })
		fmt.Fprintf(out, "after %s: %s; memory %s\n", q.name, r, readMemory(crm.pid))
	}
}

// seedStore writes n contacts (contact(i)) into dir/data through the store
// API with dir/crm.hcl's schema, without fsync, and closes the store.
func seedStore(b *testing.B, dir string, n int) time.Duration {
	_, sch, _, diags := app.Check(filepath.Join(dir, "crm.hcl"))
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	st, err := store.OpenBadger(filepath.Join(dir, "data"), sch, store.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	d, err := testkit.RunConcurrent(n, createClients, func(i int) error {
		values := map[string]any{}
		for k, v := range contact(i) {
			values[k] = v
		}
		_, err := st.Create(ctx, store.CreateRequest{Entity: "contact", Values: values})
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkMemoryProfile runs the same seeding and queries as
// BenchmarkMemory against a server in this process (testkit.Start: the same
// app.Open and app.Serve as `crm serve`), so that the Go heap can be
// profiled. It prints the Go runtime's figures after the seeding and after
// the queries and, when CRM_BENCH_PROFILE names a directory, writes heap
// profiles there (heap-seeded.pprof, heap-listed.pprof; `go tool pprof
// -sample_index=inuse_space` or `alloc_space`). The process's RSS includes
// the benchmark's HTTP clients, so BenchmarkMemory's figure is the one that
// counts; this one says where the server's heap goes.
func BenchmarkMemoryProfile(b *testing.B) {
	n := envInt(b, "CRM_BENCH_N", defaultN)
	dur := envDuration(b, "CRM_BENCH_DURATION", time.Second)
	dir := os.Getenv("CRM_BENCH_PROFILE")
	out := os.Stdout
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	app.SetMemoryLimit() // as crm serve does
	srv := testkit.Start(b, map[string]string{"crm.hcl": "locale {\n  currency = \"AMD\"\n  region = \"AM\"\n}\n"})
	crm := &service{name: "crm", base: srv.URL, auth: "Bearer " + srv.AdminToken, client: newClient(), pid: os.Getpid()}
	create, err := crm.seed("/api/v1/records/contact", 0, n, createClients)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(out, "%d contacts: creates %s\nafter seeding: %s; %s\n", n, create, goMemory(), readMemory(crm.pid))
	writeHeapProfile(b, dir, "heap-seeded.pprof")
	for _, q := range queries() {
		r := measure(1, dur, func() error { return crm.get(q.crm) })
		fmt.Fprintf(out, "after %s: %s; %s\n", q.name, r, goMemory())
	}
	fmt.Fprintf(out, "after the queries: %s; %s\n", goMemory(), readMemory(crm.pid))
	writeHeapProfile(b, dir, "heap-listed.pprof")
}

// goMemory is the Go runtime's account of its memory.
func goMemory() string {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return fmt.Sprintf("go heap in use %d MB (sys %d MB, released %d MB), total sys %d MB, %d goroutines, GC %d",
		m.HeapInuse>>20, m.HeapSys>>20, m.HeapReleased>>20, m.Sys>>20, runtime.NumGoroutine(), m.NumGC)
}

func writeHeapProfile(b *testing.B, dir, name string) {
	if dir == "" {
		return
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		b.Fatal(err)
	}
}
