package benchmarks_test

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchmarkMemory seeds CRM_BENCH_N contacts into a real `crm serve` with
// its default settings (over HTTP, 50 concurrent creates) and prints its
// resident memory after the seeding and after each list query of the
// side-by-side table has run at one client for CRM_BENCH_DURATION (1s by
// default): the figure of issue 15's point 5 (under 300 MB at 1M
// contacts). Run it with -benchtime=1x.
func BenchmarkMemory(b *testing.B) {
	n := envInt(b, "CRM_BENCH_N", defaultN)
	dur := envDuration(b, "CRM_BENCH_DURATION", time.Second)
	out := os.Stdout
	crm := startCRM(b)
	fmt.Fprintf(out, "seeding %d contacts into crm over HTTP (%d concurrent creates)...\n", n, createClients)
	create, err := crm.seed("/api/v1/records/contact", 0, n, createClients)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(out, "%d contacts: creates %s\nmemory after seeding: %s\n", n, create, readMemory(crm.pid))
	for _, q := range queries() {
		r := measure(1, dur, func() error { return crm.get(q.crm) })
		fmt.Fprintf(out, "after %s: %s; memory %s\n", q.name, r, readMemory(crm.pid))
	}
}
