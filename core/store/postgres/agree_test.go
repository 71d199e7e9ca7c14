package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/postgres"
	"github.com/crmkit/crm/core/testkit/pgtest"
)

// key names a record the same way in both stores (their ids differ).
func key(r *store.Record) string {
	for _, f := range []string{"vin", "name", "title"} {
		if v, ok := r.Values[f].(string); ok {
			return v
		}
	}
	return r.ID
}

// TestAgreesWithBadger writes the same records to a Badger store and to
// a PostgreSQL store and compares what lists, counts, totals and search
// answer.
func TestAgreesWithBadger(t *testing.T) {
	sch := testSchema(t)
	ctx := context.Background()
	bs, err := store.OpenBadger(t.TempDir(), sch, store.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	pg := openURL(t, pgtest.DB(t), sch)
	addUsers(t, bs)
	addUsers(t, pg)
	<-bs.SearchReady()
	both := []store.Store{bs, pg}
	r := rand.New(rand.NewPCG(1, 2))
	words := []string{"anna", "annabel", "joanna", "petrosyan", "karen", "ann", "lee", "bob", "annandale", "maria"}
	put := func(entity string, v map[string]any, by string) {
		for _, st := range both {
			if _, err := st.Create(ctx, store.CreateRequest{Entity: entity, Values: v, By: by}); err != nil {
				t.Fatalf("create %s %v: %v", entity, v, err)
			}
		}
	}
	for i := range 150 {
		v := map[string]any{"vin": fmt.Sprintf("V%04d", i)}
		if r.IntN(4) > 0 {
			v["mileage"] = int64(r.IntN(20) * 1000)
		}
		if r.IntN(3) > 0 {
			v["status"] = []string{"in_stock", "sold", "service"}[r.IntN(3)]
		}
		if r.IntN(3) > 0 {
			v["price"] = schema.Money{Minor: r.Int64N(1_000_000), Currency: []string{"AMD", "USD"}[r.IntN(2)]}
		}
		put("vehicle", v, []string{testUser, otherUser}[r.IntN(2)])
	}
	for i := range 80 {
		v := map[string]any{"title": fmt.Sprintf("D%03d", i), "pipeline": "sales", "stage": []string{"new", "won", "lost"}[r.IntN(3)]}
		if r.IntN(4) > 0 {
			v["amount"] = schema.Money{Minor: r.Int64N(5_000_000) - 500_000, Currency: []string{"AMD", "USD", "EUR"}[r.IntN(3)]}
		}
		put("deal", v, []string{testUser, otherUser}[r.IntN(2)])
	}
	for i := range 60 {
		name := fmt.Sprintf("%s %s %d", words[r.IntN(len(words))], words[r.IntN(len(words))], i)
		put("contact", map[string]any{"name": name}, testUser)
	}

	vehicle, deal := sch.Entity("vehicle"), sch.Entity("deal")
	listAll := func(st store.Store, q store.Query) ([]string, error) {
		var out []string
		for range 1000 {
			p, err := st.List(ctx, q)
			if err != nil {
				return nil, err
			}
			for _, r := range p.Items {
				out = append(out, key(r))
				// The API form written from the stored form is the store's.
				ent := sch.Entity(r.Entity)
				if b, ok := store.AppendAPIForm(nil, ent, r); ok {
					want, _ := json.Marshal(store.APIForm(ctx, st, ent, r))
					if !jsonEqual(b, want) {
						return nil, fmt.Errorf("AppendAPIForm %s\nAPIForm       %s", b, want)
					}
				} else if st == pg && r.Values["price"] == nil {
					return nil, fmt.Errorf("AppendAPIForm could not write %s %v", r.ID, r.Values)
				}
			}
			if p.NextCursor == "" {
				return out, nil
			}
			q.Cursor = p.NextCursor
		}
		return nil, fmt.Errorf("too many pages")
	}
	for _, src := range []string{"", "mileage >= 5000 && mileage < 12000", "status == 'sold'", "status in ['sold', 'service'] || mileage > 15000",
		"vin startsWith 'V01'", "owner == '" + otherUser + "'", "mileage == nil", "price.amount > 3000"} {
		var f *store.Filter
		if src != "" {
			if f, err = store.CompileFilter(vehicle, src); err != nil {
				t.Fatal(err)
			}
		}
		for _, sort := range []string{"", "-id", "mileage", "-mileage,vin", "status,-mileage", "-owner,updated_at", "-version"} {
			for _, limit := range []int{1000, 13} {
				q := store.Query{Entity: "vehicle", Filter: f, Sort: store.ParseSort(sort), Limit: limit}
				want, err := listAll(bs, q)
				if err != nil {
					t.Fatal(err)
				}
				got, err := listAll(pg, q)
				if err != nil {
					t.Fatalf("%q sorted %q: %v", src, sort, err)
				}
				if src == "" && len(want) != 150 {
					t.Fatalf("badger lists %d vehicles", len(want))
				}
				if !slices.Equal(got, want) {
					t.Fatalf("%q sorted %q by %d:\n postgres %v\n badger   %v", src, sort, limit, got, want)
				}
			}
		}
		nb, _, err := bs.Count(ctx, "vehicle", f)
		if err != nil {
			t.Fatal(err)
		}
		np, exact, err := pg.Count(ctx, "vehicle", f)
		if err != nil || np != nb || !exact {
			t.Fatalf("count %q: postgres %d %v %v, badger %d", src, np, exact, err, nb)
		}
	}
	totals := func(st store.Store, entity, group, sum string, f *store.Filter) string {
		ts, err := st.Totals(ctx, entity, group, sum, f)
		if err != nil {
			t.Fatalf("totals %s by %q of %q: %v", entity, group, sum, err)
		}
		var lines []string
		for _, x := range ts {
			lines = append(lines, fmt.Sprintf("%v/%s/%s/%d", x.Group, x.Currency, x.Sum, x.Count))
		}
		return strings.Join(lines, " ")
	}
	for _, c := range []struct {
		entity, group, sum, filter string
	}{
		{"deal", "stage", "amount", ""},
		{"deal", "", "amount", ""},
		{"deal", "owner", "amount", "stage == 'won'"},
		{"deal", "stage", "", "amount.amount > 0"},
		{"vehicle", "status", "price", ""},
		{"vehicle", "status", "", "mileage > 3000"},
	} {
		var f *store.Filter
		if c.filter != "" {
			ent := map[string]*schema.Entity{"deal": deal, "vehicle": vehicle}[c.entity]
			if f, err = store.CompileFilter(ent, c.filter); err != nil {
				t.Fatal(err)
			}
		}
		if want, got := totals(bs, c.entity, c.group, c.sum, f), totals(pg, c.entity, c.group, c.sum, f); got != want {
			t.Fatalf("totals %+v:\n postgres %s\n badger   %s", c, got, want)
		}
	}
	for _, q := range []string{"ann", "an", "anna petro", "yan", "karen 1", "oan", "zzz", "lee bob"} {
		hits := func(st store.Store) string {
			hs, err := st.Search(ctx, store.SearchQuery{Text: q, Limit: 100})
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			var out []string
			for _, h := range hs {
				out = append(out, h.Title+"/"+h.Match)
			}
			return strings.Join(out, ", ")
		}
		if want, got := hits(bs), hits(pg); got != want {
			t.Fatalf("search %q:\n postgres %s\n badger   %s", q, got, want)
		}
	}
}

// TestCountsStayExactUnderConcurrentWrites: writers on two nodes create,
// update and delete deals and force-delete the contacts they name; the
// counts and totals then agree with a pass over the records.
func TestCountsStayExactUnderConcurrentWrites(t *testing.T) {
	sch := testSchema(t)
	url := pgtest.DB(t)
	a, b := openURL(t, url, sch), openURL(t, url, sch)
	addUsers(t, a)
	ctx := context.Background()
	var contacts []string
	for i := range 10 {
		contacts = append(contacts, create(t, a, "contact", map[string]any{"name": fmt.Sprint("c", i)}).ID)
	}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		st := []*postgres.Store{a, b}[w%2]
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []string
			for range 40 {
				switch op := r.IntN(10); {
				case op < 5 || len(mine) == 0:
					v := map[string]any{"title": "d", "pipeline": "sales", "stage": []string{"new", "won", "lost"}[r.IntN(3)],
						"amount": schema.Money{Minor: r.Int64N(100000), Currency: "USD"}, "contact": contacts[r.IntN(len(contacts))]}
					rec, err := st.Create(ctx, store.CreateRequest{Entity: "deal", Values: v, By: testUser})
					var ie *store.InvalidError
					if err != nil && !(errors.As(err, &ie) && ie.Field == "contact") {
						t.Error(err)
						return
					}
					if err == nil {
						mine = append(mine, rec.ID)
					}
				case op < 8:
					id := mine[r.IntN(len(mine))]
					_, err := st.Update(ctx, store.UpdateRequest{Entity: "deal", ID: id, By: testUser,
						Set: map[string]any{"stage": []string{"new", "won", "lost"}[r.IntN(3)], "amount": schema.Money{Minor: r.Int64N(100000), Currency: "EUR"}}})
					if err != nil {
						t.Error(err)
						return
					}
				case op < 9:
					i := r.IntN(len(mine))
					if _, err := st.Delete(ctx, store.DeleteRequest{Entity: "deal", ID: mine[i], By: testUser}); err != nil {
						t.Error(err)
						return
					}
					mine = slices.Delete(mine, i, i+1)
				default:
					_, err := st.Delete(ctx, store.DeleteRequest{Entity: "contact", ID: contacts[r.IntN(len(contacts))], Force: true, By: testUser})
					if err != nil && !errors.Is(err, store.ErrNotFound) {
						t.Error(err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	p, err := a.List(ctx, store.Query{Entity: "deal", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if n := a.Counts()["deal"]; n != int64(len(p.Items)) {
		t.Fatalf("count %d, %d deals", n, len(p.Items))
	}
	perStage := map[any]int64{}
	for _, r := range p.Items {
		perStage[r.Values["stage"]]++
		if c, ok := r.Values["contact"].(string); ok {
			if _, err := a.Get(ctx, "contact", c); err != nil {
				t.Fatalf("deal %s names contact %s: %v", r.ID, c, err)
			}
		}
	}
	ts, err := b.Totals(ctx, "deal", "stage", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		if perStage[x.Group] != x.Count {
			t.Fatalf("stage %v: total %d, %d deals", x.Group, x.Count, perStage[x.Group])
		}
	}
	evs, err := b.Events(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d at position %d", i, e.Seq)
		}
	}
}

// jsonEqual compares two JSON documents by value.
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}
