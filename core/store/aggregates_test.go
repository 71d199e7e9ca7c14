package store_test

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	badger "github.com/dgraph-io/badger/v4"
)

const aggHCL = testHCL + `
pipeline "sales" {
  entity = "deal"
  stages = ["new", "won", "lost"]
}
pipeline "partners" {
  entity = "deal"
  stages = ["new", "signed", "won"]
}
`

const otherUser = "01JTESTUSER000000000000000Y"

var aggStages = map[string][]string{"sales": {"new", "won", "lost"}, "partners": {"new", "signed", "won"}}

func openAggStore(t *testing.T, dir string) (*store.Badger, *schema.Entity) {
	st, sch := openWith(t, dir, aggHCL, store.Options{NoSync: true}, testUser, otherUser)
	return st, sch.Entity("deal")
}

// randomDeal gives a deal's values: a pipeline and one of its stages, an
// amount in one of three currencies or none, a contact or none.
func randomDeal(r *rand.Rand, contacts []string) map[string]any {
	p := []string{"sales", "partners"}[r.IntN(2)]
	v := map[string]any{"title": fmt.Sprintf("deal %d", r.IntN(1000)), "pipeline": p, "stage": aggStages[p][r.IntN(3)]}
	if r.IntN(5) > 0 {
		v["amount"] = schema.Money{Minor: r.Int64N(2_000_000) - 100_000, Currency: []string{"AMD", "USD", "EUR"}[r.IntN(3)]}
	}
	if len(contacts) > 0 && r.IntN(3) > 0 {
		v["contact"] = contacts[r.IntN(len(contacts))]
	}
	return v
}

// TestCountersStayExactUnderConcurrentWrites runs 50 writers that create,
// update (stage, pipeline, amount, currency, owner, contact), delete deals
// and force-delete contacts the deals refer to, then compares every count
// and total with a brute-force pass over the records: as written, after a
// restart, and after a backfill of a store whose counters were removed.
func TestCountersStayExactUnderConcurrentWrites(t *testing.T) {
	dir := t.TempDir()
	st, deal := openAggStore(t, dir)
	ctx := context.Background()
	var contacts []string
	for i := range 8 {
		contacts = append(contacts, create(t, st, "contact", map[string]any{"name": fmt.Sprintf("c%d", i)}).ID)
	}
	var mu sync.Mutex // guards contacts and deals
	var deals []string
	for i := range 100 {
		r := rand.New(rand.NewPCG(uint64(i), 1))
		deals = append(deals, create(t, st, "deal", randomDeal(r, contacts)).ID)
	}
	const writers, opsEach = 50, 30
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 2))
			for range opsEach {
				mu.Lock()
				cs := slices.Clone(contacts)
				id := deals[r.IntN(len(deals))]
				mu.Unlock()
				var err error
				switch op := r.IntN(20); {
				case op < 6:
					var rec *store.Record
					rec, err = st.Create(ctx, store.CreateRequest{Entity: "deal", Values: randomDeal(r, cs), By: testUser})
					if err == nil {
						mu.Lock()
						deals = append(deals, rec.ID)
						mu.Unlock()
					}
				case op < 16:
					set := randomDeal(r, cs)
					delete(set, "title")
					req := store.UpdateRequest{Entity: "deal", ID: id, Set: set, By: testUser}
					if r.IntN(4) == 0 {
						req.Owner = []string{testUser, otherUser}[r.IntN(2)]
					}
					if _, ok := set["amount"]; !ok {
						req.Clear = append(req.Clear, "amount")
					}
					if _, ok := set["contact"]; !ok {
						req.Clear = append(req.Clear, "contact")
					}
					_, err = st.Update(ctx, req)
				case op < 19:
					_, err = st.Delete(ctx, store.DeleteRequest{Entity: "deal", ID: id, By: testUser})
				default: // a contact goes, and the deals that name it lose it
					c := cs[r.IntN(len(cs))]
					_, err = st.Delete(ctx, store.DeleteRequest{Entity: "contact", ID: c, Force: true, By: testUser})
					if err == nil {
						var rec *store.Record
						rec, err = st.Create(ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "new"}, By: testUser})
						mu.Lock()
						if i := slices.Index(contacts, c); i >= 0 {
							contacts = slices.Delete(contacts, i, i+1)
						}
						if rec != nil {
							contacts = append(contacts, rec.ID)
						}
						mu.Unlock()
					}
				}
				var ie *store.InvalidError
				if errors.Is(err, store.ErrNotFound) || errors.As(err, &ie) && ie.Field == "contact" {
					err = nil // another writer deleted it (or the contact it names) first
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	checkAggregates(t, st, deal)

	// A restart keeps the counters.
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, deal = openAggStore(t, dir)
	checkAggregates(t, st, deal)

	// A store written without counters (or with counters of another spec)
	// is counted at open.
	err := st.DB().Update(func(txn *badger.Txn) error {
		for _, p := range []string{"c/", "t/", "s/aggregates/"} {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(p)})
			var keys [][]byte
			for it.Rewind(); it.Valid(); it.Next() {
				keys = append(keys, it.Item().KeyCopy(nil))
			}
			it.Close()
			for _, k := range keys {
				if err := txn.Delete(k); err != nil {
					return err
				}
			}
		}
		// A stale counter of an older spec, which the backfill must drop.
		stale := append([]byte("c/deal/stage/\x01won\x00\x01"), []byte{}...)
		if err := txn.Set(stale, []byte{0, 0, 0, 0, 0, 0, 3, 0xe7}); err != nil {
			return err
		}
		return txn.Set([]byte("s/aggregates/deal"), []byte(`{"spec":"v0","done":true}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st, deal = openAggStore(t, dir)
	checkAggregates(t, st, deal)
}

// allDeals reads every deal by paging through List.
func allDeals(t *testing.T, st *store.Badger) []*store.Record {
	t.Helper()
	var out []*store.Record
	cur := ""
	for {
		page, err := st.List(context.Background(), store.Query{Entity: "deal", Limit: store.MaxLimit, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, page.Items...)
		if page.NextCursor == "" {
			return out
		}
		cur = page.NextCursor
	}
}

type bruteTotal struct {
	n   int64
	sum big.Int
}

// bruteTotals groups records by group (nil: one group) and, with money,
// by currency, as "group|currency|sum|count" lines.
func bruteTotals(recs []*store.Record, keep func(*store.Record) bool, group, money string) []string {
	acc := map[string]*bruteTotal{}
	for _, r := range recs {
		if !keep(r) {
			continue
		}
		g := "<nil>"
		if group != "" {
			if v := groupValue(r, group); v != "" {
				g = v
			}
		}
		k := g + "|"
		var minor int64
		if money != "" {
			m, ok := r.Values[money].(schema.Money)
			if !ok {
				continue
			}
			k += m.Currency
			minor = m.Minor
		}
		if acc[k] == nil {
			acc[k] = &bruteTotal{}
		}
		acc[k].n++
		acc[k].sum.Add(&acc[k].sum, big.NewInt(minor))
	}
	var out []string
	for k, v := range acc {
		sum := ""
		if money != "" {
			sum = v.sum.String()
		}
		out = append(out, fmt.Sprintf("%s|%s|%d", k, sum, v.n))
	}
	sort.Strings(out)
	return out
}

func groupValue(r *store.Record, field string) string {
	if field == "owner" {
		return r.Owner
	}
	s, _ := r.Values[field].(string)
	return s
}

func totalLines(ts []store.Total) []string {
	var out []string
	for _, t := range ts {
		g := "<nil>"
		if t.Group != nil {
			g = fmt.Sprint(t.Group)
		}
		sum := ""
		if t.Minor != nil {
			sum = t.Minor.String()
		}
		out = append(out, fmt.Sprintf("%s|%s|%s|%d", g, t.Currency, sum, t.Count))
	}
	sort.Strings(out)
	return out
}

// checkAggregates compares every count and total the counters answer (and
// a few the fallback answers) with a brute-force pass over the records.
func checkAggregates(t *testing.T, st *store.Badger, deal *schema.Entity) {
	t.Helper()
	ctx := context.Background()
	recs := allDeals(t, st)
	if len(recs) < 100 {
		t.Fatalf("only %d deals: the test wrote too little to mean anything", len(recs))
	}
	var someContact string
	for _, r := range recs {
		if c, ok := r.Values["contact"].(string); ok {
			someContact = c
		}
	}
	if someContact == "" {
		t.Fatal("no deal has a contact: the test wrote too little to mean anything")
	}
	eq := func(field, v string) func(*store.Record) bool {
		return func(r *store.Record) bool { return groupValue(r, field) == v }
	}
	all := func(*store.Record) bool { return true }
	counts := []struct {
		filter string
		keep   func(*store.Record) bool
		exact  bool
	}{
		{"", all, true},
		{"stage == 'won'", eq("stage", "won"), true},
		{"'signed' == stage", eq("stage", "signed"), true},
		{"stage == 'nowhere'", eq("stage", "nowhere"), true},
		{"stage in ['won', 'lost']", func(r *store.Record) bool { return groupValue(r, "stage") == "won" || groupValue(r, "stage") == "lost" }, true},
		{"stage == 'won' || stage == 'new'", func(r *store.Record) bool { return groupValue(r, "stage") == "won" || groupValue(r, "stage") == "new" }, true},
		{"pipeline == 'partners' && stage == 'won'", func(r *store.Record) bool {
			return groupValue(r, "pipeline") == "partners" && groupValue(r, "stage") == "won"
		}, true},
		{"owner == '" + otherUser + "'", eq("owner", otherUser), true},
		{"contact == nil", eq("contact", ""), true},
		{"contact == '" + someContact + "'", eq("contact", someContact), true},
		// Not from counters: read through the stage index, or scanned.
		{"stage == 'won' && amount.minor > 500000", func(r *store.Record) bool {
			m, ok := r.Values["amount"].(schema.Money)
			return groupValue(r, "stage") == "won" && ok && m.Minor > 500000
		}, true},
		{"amount.currency == 'USD'", func(r *store.Record) bool {
			m, ok := r.Values["amount"].(schema.Money)
			return ok && m.Currency == "USD"
		}, true},
	}
	for _, c := range counts {
		var want int64
		for _, r := range recs {
			if c.keep(r) {
				want++
			}
		}
		n, exact, err := st.Count(ctx, "deal", compile(t, deal, c.filter))
		if err != nil || n != want || exact != c.exact {
			t.Errorf("Count(%q) = %d, %v, %v; brute force %d", c.filter, n, exact, err, want)
		}
	}
	totals := []struct {
		group, money, filter string
		keep                 func(*store.Record) bool
	}{
		{"stage", "amount", "", all},
		{"", "amount", "", all},
		{"stage", "amount", "pipeline == 'sales'", eq("pipeline", "sales")},
		{"stage", "amount", "stage in ['won', 'signed']", func(r *store.Record) bool {
			return groupValue(r, "stage") == "won" || groupValue(r, "stage") == "signed"
		}},
		{"pipeline", "amount", "", all},
		{"contact", "amount", "", all},
		{"owner", "amount", "", all},
		{"", "amount", "owner == '" + testUser + "'", eq("owner", testUser)},
		{"stage", "", "", all},
		{"stage", "", "pipeline == 'partners'", eq("pipeline", "partners")},
		// Not from counters: read.
		{"stage", "amount", "title == 'deal 7' || amount.currency == 'EUR'", func(r *store.Record) bool {
			m, _ := r.Values["amount"].(schema.Money)
			return groupValue(r, "title") == "deal 7" || m.Currency == "EUR"
		}},
	}
	for _, c := range totals {
		want := bruteTotals(recs, c.keep, c.group, c.money)
		got, err := st.Totals(ctx, "deal", c.group, c.money, compile(t, deal, c.filter))
		if err != nil || !slices.Equal(totalLines(got), want) {
			t.Errorf("Totals(by %q, sum %q, %q) = %v, %v\nbrute force %v", c.group, c.money, c.filter, totalLines(got), err, want)
		}
	}
}

func TestTotalsFormatsExactSumsPerCurrency(t *testing.T) {
	st, _ := openAggStore(t, t.TempDir())
	ctx := context.Background()
	big := int64(9_000_000_000_000_000_000) // two of these overflow an int64
	for _, v := range []map[string]any{
		{"title": "a", "stage": "won", "amount": schema.Money{Minor: big, Currency: "USD"}},
		{"title": "b", "stage": "won", "amount": schema.Money{Minor: big, Currency: "USD"}},
		{"title": "c", "stage": "won", "amount": schema.Money{Minor: 150000, Currency: "AMD"}},
		{"title": "d", "stage": "won", "amount": schema.Money{Minor: 5, Currency: "JPY"}},
		{"title": "e", "stage": "new", "amount": schema.Money{Minor: -7, Currency: "USD"}},
		{"title": "f", "stage": "new"},
	} {
		create(t, st, "deal", v)
	}
	got, err := st.Totals(ctx, "deal", "stage", "amount", nil)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, tt := range got {
		lines = append(lines, fmt.Sprintf("%v %s %s %d", tt.Group, tt.Currency, tt.Sum, tt.Count))
	}
	want := []string{"new USD -0.07 1", "won AMD 1500.00 1", "won JPY 5 1", "won USD 180000000000000000.00 2"}
	if strings.Join(lines, "; ") != strings.Join(want, "; ") {
		t.Fatalf("totals = %q, want %q", lines, want)
	}
	_, err = st.Totals(ctx, "deal", "title", "amount", nil)
	var qe *store.QueryError
	if !errors.As(err, &qe) || qe.Param != "group" || !strings.Contains(qe.Message, "stage") {
		t.Fatalf("group by a title: %v", err)
	}
	_, err = st.Totals(ctx, "deal", "stage", "title", nil)
	if !errors.As(err, &qe) || qe.Param != "totals" || !strings.Contains(qe.Message, "amount") {
		t.Fatalf("sum of a title: %v", err)
	}
}

// TestCountsPastTheScanLimitAreEstimates: a filter the counters cannot
// answer reads at most the scan limit of records; through a selective
// index it stays exact, else the count is an estimate and totals refuse.
func TestCountsPastTheScanLimitAreEstimates(t *testing.T) {
	st, deal := openAggStore(t, t.TempDir())
	ctx := context.Background()
	defer store.SetCountScanLimit(10)()
	for i := range 40 {
		stage := "new"
		if i%8 == 0 {
			stage = "won" // 5 of 40
		}
		cur := []string{"USD", "AMD"}[i%2] // 20 of 40 in USD
		create(t, st, "deal", map[string]any{"title": "d", "pipeline": "sales", "stage": stage, "amount": schema.Money{Minor: int64(i), Currency: cur}})
	}
	n, exact, err := st.Count(ctx, "deal", compile(t, deal, "stage == 'won' && amount.minor >= 8"))
	if err != nil || n != 4 || !exact {
		t.Fatalf("through the stage index (5 records): %d, %v, %v; want 4, exact", n, exact, err)
	}
	// Through the stage index (35 new), past the limit: 4 USD in the first
	// 10 new (i = 1..7, 9..11), extrapolated over the index's 35, not over
	// all 40 deals.
	n, exact, err = st.Count(ctx, "deal", compile(t, deal, "stage == 'new' && amount.currency == 'USD'"))
	if err != nil || exact || n != 14 {
		t.Fatalf("through the stage index past the limit: %d, %v, %v; want the estimate 14, not exact", n, exact, err)
	}
	n, exact, err = st.Count(ctx, "deal", compile(t, deal, "amount.currency == 'USD'"))
	if err != nil || exact || n != 20 {
		// The first 10 records alternate USD and AMD: 5 of 10, so 20 of 40.
		t.Fatalf("scan past the limit: %d, %v, %v; want the estimate 20, not exact", n, exact, err)
	}
	_, err = st.Totals(ctx, "deal", "stage", "amount", compile(t, deal, "amount.currency == 'USD'"))
	var qe *store.QueryError
	if !errors.As(err, &qe) || qe.Param != "filter" || !strings.Contains(qe.Message, "more than 10") {
		t.Fatalf("totals past the limit: %v", err)
	}
	// From the counters, the limit does not matter.
	got, err := st.Totals(ctx, "deal", "stage", "amount", compile(t, deal, "pipeline == 'sales'"))
	if err != nil || len(got) != 3 { // new AMD, new USD, won USD
		t.Fatalf("totals from counters: %+v, %v", got, err)
	}
}
