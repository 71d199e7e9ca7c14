package benchmarks_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/crmkit/crm/core/testkit"
	"github.com/crmkit/crm/core/testkit/pgtest"
)

// TestMain stops the PostgreSQL server that BenchmarkScaleOut starts.
func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// The knobs of BenchmarkScaleOut, from the environment:
//
//	CRM_BENCH_SCALE_N    contacts created in each set-up (default 5000)
//	CRM_BENCH_DURATION   how long each list is measured (default 3s)
const (
	defaultScaleN = 5000
	listClients   = 16
)

// BenchmarkScaleOut is issue 20's figures: creates/s and the list's p50
// and p99 over HTTP on the embedded Badger store, on PostgreSQL with one
// node, and on PostgreSQL with two nodes sharing the database (the load
// split over both), all measured in the same run and reported as ratios:
// PostgreSQL ÷ Badger and two nodes ÷ one. Run it with -benchtime=1x.
//
// The PostgreSQL server is the test one (core/testkit/pgtest: fsync and
// synchronous_commit off), so its write figures are an upper bound of
// what a durable server does; Badger fsyncs every commit. Without
// PostgreSQL installed it is skipped, saying why.
func BenchmarkScaleOut(b *testing.B) {
	if _, err := pgtest.Binaries(); err != nil {
		fmt.Printf("BenchmarkScaleOut skipped: %v\n", err)
		b.Skipf("PostgreSQL is not installed: %v", err)
	}
	n := envInt(b, "CRM_BENCH_SCALE_N", defaultScaleN)
	dur := envDuration(b, "CRM_BENCH_DURATION", defaultDuration)
	list := crmList("source == 'ref3'", "-created_at")
	out := os.Stdout

	type figures struct {
		name          string
		create, list1 result // creates; the filtered list
		page          result // the first page in the default order
	}
	run := func(name string, nodes ...*service) figures {
		var next atomic.Uint64
		pick := func() *service { return nodes[next.Add(1)%uint64(len(nodes))] }
		fmt.Fprintf(out, "%s: %d creates over HTTP, %d concurrent...\n", name, n, createClients)
		cr := measureN(n, createClients, func(k int) error {
			s := nodes[k%len(nodes)]
			st, body, err := s.do("POST", "/api/v1/records/contact", contact(k))
			if err != nil {
				return err
			}
			if st != 201 {
				return fmt.Errorf("%s create: status %d: %.300s", s.name, st, body)
			}
			return nil
		})
		if cr.failed != "" {
			b.Fatalf("%s creates: %s", name, cr.failed)
		}
		fmt.Fprintf(out, "%s: measuring lists, %d clients...\n", name, listClients)
		l := measure(listClients, dur, func() error { return pick().get(list) })
		p := measure(listClients, dur, func() error { return pick().get(crmList("", "")) })
		if l.failed != "" || p.failed != "" {
			b.Fatalf("%s lists: %s %s", name, l.failed, p.failed)
		}
		return figures{name: name, create: cr, list1: l, page: p}
	}

	bdg := run("badger", startCRM(b))
	pg1 := run("postgres, 1 node", startPostgresNodes(b, 1)...)
	pg2 := run("postgres, 2 nodes", startPostgresNodes(b, 2)...)

	ratio := func(x, y float64) float64 { return x / y }
	b.ReportMetric(bdg.create.rps(), "badger_creates/s")
	b.ReportMetric(pg1.create.rps(), "pg_creates/s")
	b.ReportMetric(pg2.create.rps(), "pg2_creates/s")
	b.ReportMetric(ratio(pg1.create.rps(), bdg.create.rps()), "pg/badger_creates")
	b.ReportMetric(ratio(pg2.create.rps(), pg1.create.rps()), "2node/1node_creates")
	b.ReportMetric(ratio(float64(pg1.list1.p50), float64(bdg.list1.p50)), "pg/badger_list_p50")
	b.ReportMetric(ratio(float64(pg1.list1.p99), float64(bdg.list1.p99)), "pg/badger_list_p99")
	b.ReportMetric(ratio(pg2.list1.rps(), pg1.list1.rps()), "2node/1node_list_req/s")

	fmt.Fprintf(out, "\n%d contacts created per set-up (%d concurrent); lists measured %s each from %d clients; "+
		"two nodes: requests alternate between them; PostgreSQL is the test server (fsync off)\n\n", n, createClients, dur, listClients)
	fmt.Fprintln(out, "| | creates | list, filter source == 'ref3' (1%), newest first | list, first page |")
	fmt.Fprintln(out, "|---|---|---|---|")
	for _, f := range []figures{bdg, pg1, pg2} {
		fmt.Fprintf(out, "| %s | %s | %s | %s |\n", f.name, f.create, f.list1, f.page)
	}
	rel := func(x, y figures) string {
		return fmt.Sprintf("| %s ÷ %s | %.2fx creates/s (p50 %.2fx) | %.2fx req/s, p50 %.2fx, p99 %.2fx | %.2fx req/s, p50 %.2fx, p99 %.2fx |",
			x.name, y.name, ratio(x.create.rps(), y.create.rps()), ratio(float64(x.create.p50), float64(y.create.p50)),
			ratio(x.list1.rps(), y.list1.rps()), ratio(float64(x.list1.p50), float64(y.list1.p50)), ratio(float64(x.list1.p99), float64(y.list1.p99)),
			ratio(x.page.rps(), y.page.rps()), ratio(float64(x.page.p50), float64(y.page.p50)), ratio(float64(x.page.p99), float64(y.page.p99)))
	}
	fmt.Fprintln(out, rel(pg1, bdg))
	fmt.Fprintln(out, rel(pg2, pg1))
	fmt.Fprintln(out)
}

// measureN calls fn(0..n-1) from `clients` goroutines and returns the
// throughput and latency percentiles; failed is set by the first error.
func measureN(n, clients int, fn func(i int) error) result {
	lat := make([]time.Duration, n)
	d, err := testkit.RunConcurrent(n, clients, func(i int) error {
		t := time.Now()
		if err := fn(i); err != nil {
			return err
		}
		lat[i] = time.Since(t)
		return nil
	})
	if err != nil {
		return result{failed: err.Error()}
	}
	return summarize(lat, d)
}

// startPostgresNodes starts `nodes` crm serve processes on one fresh
// PostgreSQL database, each logged in as the first admin.
func startPostgresNodes(b *testing.B, nodes int) []*service {
	url := pgtest.DB(b)
	var out []*service
	for k := range nodes {
		dir, addr := b.TempDir(), freePort(b)
		cfg := fmt.Sprintf("server {\n  listen = %q\n  data_dir = \"data\"\n  store = \"postgres\"\n  node_id = \"node-%d\"\n}\n"+
			"locale {\n  currency = \"AMD\"\n  region = \"AM\"\n}\n", addr, k)
		if err := os.WriteFile(filepath.Join(dir, "crm.hcl"), []byte(cfg), 0o600); err != nil {
			b.Fatal(err)
		}
		s := startCRMIn(b, dir, addr, "CRM_POSTGRES_URL="+url)
		s.name = fmt.Sprintf("crm node-%d", k)
		out = append(out, s)
	}
	return out
}
