package storetest

import (
	"fmt"
	"math/big"
	"slices"
	"sort"
	"sync"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

func testCounts(e *env) {
	t := e.t
	if n := e.st.Counts()["contact"]; n != 0 {
		t.Fatalf("contacts in an empty store: %d", n)
	}
	var contacts []string
	for i := range 7 {
		contacts = append(contacts, e.create("contact", map[string]any{"name": fmt.Sprint("c", i)}).ID)
	}
	for range 3 {
		e.create("company", map[string]any{"name": "co"})
	}
	e.update(store.UpdateRequest{Entity: "contact", ID: contacts[0], Set: map[string]any{"name": "x"}})
	for _, id := range contacts[:2] {
		if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "contact", ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	c := e.st.Counts()
	if c["contact"] != 5 || c["company"] != 3 || c["deal"] != 0 {
		t.Fatalf("counts = %v, want 5 contacts, 3 companies", c)
	}
	n, exact, err := e.st.Count(e.ctx, "contact", nil)
	if err != nil || n != 5 || !exact {
		t.Fatalf("Count(contact, nil) = %d, %v, %v", n, exact, err)
	}
	// Concurrent creates and deletes keep the counts exact.
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 25 {
				rec, err := e.st.Create(e.ctx, store.CreateRequest{Entity: "company", Values: map[string]any{"name": fmt.Sprint(w, "-", i)}})
				if err == nil && i%3 == 0 {
					_, err = e.st.Delete(e.ctx, store.DeleteRequest{Entity: "company", ID: rec.ID})
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
	listed := len(e.listAll(store.Query{Entity: "company", Limit: store.MaxLimit}))
	if c := e.st.Counts()["company"]; c != int64(listed) || listed != 3+8*(25-9) {
		t.Fatalf("after concurrent writes: Counts %d, listed %d, want %d", c, listed, 3+8*(25-9))
	}
	if n, exact, err := e.st.Count(e.ctx, "company", nil); n != int64(listed) || !exact || err != nil {
		t.Fatalf("Count(company, nil) = %d, %v, %v; listed %d", n, exact, err, listed)
	}
}

func testCount(e *env) {
	t := e.t
	ds := e.seed(120, 4)
	n, exact, err := e.st.Count(e.ctx, "item", nil)
	if err != nil || n != 120 || !exact {
		t.Fatalf("Count(item, nil) = %d, %v, %v", n, exact, err)
	}
	// Deletes and updates move the counts of every filter.
	for _, r := range ds.items[:30] {
		if r.Values["kind"] == "a" {
			if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: r.ID}); err != nil {
				t.Fatal(err)
			}
		} else {
			e.update(store.UpdateRequest{Entity: "item", ID: r.ID, Set: map[string]any{"kind": "b", "active": true}, Owner: UserB})
		}
	}
	recs := e.listAll(store.Query{Entity: "item", Limit: store.MaxLimit})
	for _, src := range []string{"kind == 'a'", "kind == 'b'", "kind == nil", "kind in ['a', 'c']", "active == true", "active == nil",
		"owner == '" + UserB + "'", "owner == '" + UserB + "' && kind == 'b'", "contact == '" + ds.contacts[1] + "'", "qty > 3", "name == 'Anna'"} {
		f := e.filter("item", src)
		var want int64
		for _, r := range recs {
			if ok, _ := f.Eval(r); ok {
				want++
			}
		}
		n, exact, err := e.st.Count(e.ctx, "item", f)
		if err != nil || n != want || !exact {
			t.Errorf("Count(%s) = %d, exact %v, %v; want %d", src, n, exact, err, want)
		}
	}
	if _, _, err := e.st.Count(e.ctx, "nosuch", nil); err == nil {
		t.Error("count of an unknown entity: no error")
	}
}

// groupOf is a record's value of a group field as Totals gives it
// (fmt.Sprint of the value; "<nil>" for none).
func groupOf(r *store.Record, field string) string {
	if field == "" {
		return "<nil>"
	}
	v := sortValue(r, field)
	if v == nil {
		return "<nil>"
	}
	return fmt.Sprint(v)
}

// bruteTotals are "group|currency|minor|count" lines of records.
func bruteTotals(recs []*store.Record, f *store.Filter, group, money string) []string {
	type acc struct {
		n   int64
		sum big.Int
	}
	m := map[string]*acc{}
	for _, r := range recs {
		if ok, _ := f.Eval(r); !ok {
			continue
		}
		k := groupOf(r, group) + "|"
		var minor int64
		if money != "" {
			v, ok := r.Values[money].(schema.Money)
			if !ok {
				continue
			}
			k += v.Currency
			minor = v.Minor
		}
		if m[k] == nil {
			m[k] = &acc{}
		}
		m[k].n++
		m[k].sum.Add(&m[k].sum, big.NewInt(minor))
	}
	var out []string
	for k, a := range m {
		sum := ""
		if money != "" {
			sum = a.sum.String()
		}
		out = append(out, fmt.Sprintf("%s|%s|%d", k, sum, a.n))
	}
	sort.Strings(out)
	return out
}

func totalLines(t testingT, ts []store.Total, money bool) []string {
	var out []string
	for _, tt := range ts {
		g := "<nil>"
		if tt.Group != nil {
			g = fmt.Sprint(tt.Group)
		}
		sum := ""
		if money {
			if tt.Minor == nil {
				t.Errorf("total %+v has no Minor", tt)
				continue
			}
			sum = tt.Minor.String()
			if tt.Minor.IsInt64() {
				if want := schema.FormatMoney(schema.Money{Minor: tt.Minor.Int64(), Currency: tt.Currency}); tt.Sum != want {
					t.Errorf("total %+v: Sum %q, want %q", tt, tt.Sum, want)
				}
			}
		}
		out = append(out, fmt.Sprintf("%s|%s|%s|%d", g, tt.Currency, sum, tt.Count))
	}
	sort.Strings(out)
	return out
}

// testingT is the part of testing.T totalLines uses.
type testingT interface{ Errorf(string, ...any) }

func testTotals(e *env) {
	t := e.t
	ds := e.seed(140, 5)
	recs := ds.items
	cases := []struct{ group, money, filter string }{
		{"kind", "price", ""},
		{"", "price", ""},
		{"active", "price", ""},
		{"contact", "price", ""},
		{"assignee", "price", ""},
		{"owner", "price", ""},
		{"kind", "", ""},
		{"owner", "", ""},
		{"kind", "price", "active == true"},
		{"kind", "price", "kind in ['a', 'b']"},
		{"kind", "price", "owner == '" + UserB + "'"},
		{"kind", "price", "owner == ''"},
		{"owner", "", "owner in ['', '" + UserA + "']"},
		{"", "price", "kind == 'c'"},
		{"active", "", "contact == '" + ds.contacts[2] + "'"},
		{"kind", "price", "qty > 3"},                       // not an equality
		{"owner", "price", "price.currency == 'USD'"},      // on the summed field
		{"", "price", "name startsWith 'A' || qty == nil"}, // a disjunction of two fields
	}
	for _, c := range cases {
		var f *store.Filter
		if c.filter != "" {
			f = e.filter("item", c.filter)
		}
		want := bruteTotals(recs, f, c.group, c.money)
		got, err := e.st.Totals(e.ctx, "item", c.group, c.money, f)
		if err != nil {
			t.Errorf("Totals(by %q, sum %q, %q): %v", c.group, c.money, c.filter, err)
			continue
		}
		if lines := totalLines(t, got, c.money != ""); !slices.Equal(lines, want) {
			t.Errorf("Totals(by %q, sum %q, %q) =\n %v\nbrute force\n %v", c.group, c.money, c.filter, lines, want)
		}
		// In order (the API answers in it): no value first, then by the
		// group's value, then by currency.
		for i := 1; i < len(got); i++ {
			a, b := got[i-1], got[i]
			order := 0
			switch {
			case a.Group == nil && b.Group == nil:
			case a.Group == nil:
				order = -1
			case b.Group == nil:
				order = 1
			default:
				order = compareValues(a.Group, b.Group)
			}
			if order > 0 || order == 0 && a.Currency >= b.Currency {
				t.Errorf("Totals(by %q, sum %q, %q): %v|%s before %v|%s", c.group, c.money, c.filter, a.Group, a.Currency, b.Group, b.Currency)
				break
			}
		}
	}
	// Exact sums past int64, per currency, on a pipeline's stages.
	huge := int64(9_000_000_000_000_000_000)
	for _, v := range []map[string]any{
		{"title": "a", "stage": "won", "amount": schema.Money{Minor: huge, Currency: "USD"}},
		{"title": "b", "stage": "won", "amount": schema.Money{Minor: huge, Currency: "USD"}},
		{"title": "c", "stage": "won", "amount": schema.Money{Minor: 150000, Currency: "AMD"}},
		{"title": "d", "stage": "won", "amount": schema.Money{Minor: 5, Currency: "JPY"}},
		{"title": "e", "stage": "new", "amount": schema.Money{Minor: -7, Currency: "USD"}},
		{"title": "f", "stage": "new"},
	} {
		v["pipeline"] = "sales"
		e.create("deal", v)
	}
	got, err := e.st.Totals(e.ctx, "deal", "stage", "amount", nil)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, tt := range got {
		lines = append(lines, fmt.Sprintf("%v %s %s %d", tt.Group, tt.Currency, tt.Sum, tt.Count))
	}
	sort.Strings(lines)
	want := []string{"new USD -0.07 1", "won AMD 1500.00 1", "won JPY 5 1", "won USD 180000000000000000.00 2"}
	if !slices.Equal(lines, want) {
		t.Errorf("deal totals = %q, want %q", lines, want)
	}
	got, err = e.st.Totals(e.ctx, "deal", "stage", "", e.filter("deal", "pipeline == 'sales'"))
	if err != nil || len(got) != 2 {
		t.Errorf("deal counts by stage: %+v, %v", got, err)
	}
	// Bad requests are query errors.
	if _, err := e.st.Totals(e.ctx, "item", "name", "price", nil); !asQueryError(err, "group") {
		t.Errorf("group by a free text field: %v, want a QueryError on group", err)
	}
	if _, err := e.st.Totals(e.ctx, "item", "kind", "qty", nil); !asQueryError(err, "totals") {
		t.Errorf("sum of an int: %v, want a QueryError on totals", err)
	}
}
