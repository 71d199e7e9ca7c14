package store_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/store"
)

const searchPlanHCL = `
entity "person" {
  field "name" {
    type   = "string"
    search = true
  }
  field "bio" {
    type   = "text"
    search = true
  }
  field "tag" {
    type  = "string"
    index = true
  }
}
`

// TestContainsOnTheSearchIndexAgreesWithBruteForce lists `contains` and
// `startsWith` filters on searched fields over records of random text in
// every script textnorm folds, through every page and its cursor (every
// other page read as the API reads it, Query.Stored), and with records
// created between pages, and compares with a brute-force evaluation of
// the filter: the search index is a candidate source whenever the needle
// is one token, and the filter decides.
func TestContainsOnTheSearchIndexAgreesWithBruteForce(t *testing.T) {
	st, sch := openWith(t, t.TempDir(), searchPlanHCL, store.Options{NoSync: true}, testUser)
	<-st.SearchReady()
	ent := sch.Entity("person")
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(11, 12))
	text := func() string { return strings.ReplaceAll(store.RandomSearchText(rng), "\t", " ") }
	newPerson := func() map[string]any {
		v := map[string]any{"name": text(), "tag": fmt.Sprint("t", rng.IntN(3))}
		if rng.IntN(3) == 0 {
			v["bio"] = store.RandomSearchText(rng)
		}
		return v
	}
	var recs []*store.Record
	for range 1500 {
		rec, err := st.Create(ctx, store.CreateRequest{Entity: "person", Values: newPerson(), By: testUser})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	// Needles: pieces of stored names and bios, and a few of none.
	var filters []string
	for len(filters) < 240 {
		r := recs[rng.IntN(len(recs))]
		field := "name"
		if _, ok := r.Values["bio"]; ok && rng.IntN(3) == 0 {
			field = "bio"
		}
		v, _ := r.Values[field].(string)
		runes := []rune(v)
		if len(runes) < 3 {
			continue
		}
		i := rng.IntN(len(runes) - 2)
		s := string(runes[i : i+3+rng.IntN(min(len(runes)-i-3, 12)+1)])
		op := "contains"
		if rng.IntN(4) == 0 {
			op, s = "startsWith", string(runes[:1+rng.IntN(min(len(runes), 10))])
		}
		f := field + " " + op + " " + strconv.Quote(s)
		switch rng.IntN(4) {
		case 0:
			f += ` && tag == "t1"`
		case 1:
			f = `tag != "t2" && ` + f
		}
		filters = append(filters, f)
	}
	filters = append(filters, `name contains "zzzqqq"`, `name contains "ани"`, `bio contains "ռյğ"`, `name startsWith "a"`)
	sorts := []string{"", "-id", "-created_at", "name", "-tag"}
	onIndex := 0
	for n, src := range filters {
		f, err := store.CompileFilter(ent, src)
		if err != nil {
			continue // a piece that is no expr string literal
		}
		sort := sorts[n%len(sorts)]
		want := bruteForce(t, recs, f, sort)
		var got []string
		plans := map[string]bool{}
		cursor := ""
		for pages := 0; ; pages++ {
			p, err := st.List(ctx, store.Query{Entity: "person", Filter: f, Sort: store.ParseSort(sort), Limit: 7, Cursor: cursor, Stored: pages%2 == 1})
			if err != nil {
				t.Fatalf("%s sort %q: %v", src, sort, err)
			}
			plans[p.Plan] = true
			for _, r := range p.Items {
				got = append(got, r.ID)
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s sort %q (plans %v): %d ids, brute force %d; first difference at %d", src, sort, plans, len(got), len(want), firstDiff(got, want))
		}
		for p := range plans {
			if strings.Contains(p, "search ") {
				onIndex++
				break
			}
		}
	}
	if onIndex < len(filters)/4 {
		t.Errorf("only %d of %d filters ran on the search index", onIndex, len(filters))
	}
	t.Logf("%d of %d filters ran on the search index", onIndex, len(filters))

	// Pages stay whole under writes: with records created (matching)
	// between pages, every record that was there throughout and
	// matches comes once.
	for _, src := range []string{`name contains "ani"`, `name startsWith "A"`, `bio contains "աբգ"`} {
		f, _ := store.CompileFilter(ent, src)
		before := bruteForce(t, recs, f, "")
		seen := map[string]int{}
		cursor := ""
		for pages := 0; ; pages++ {
			p, err := st.List(ctx, store.Query{Entity: "person", Filter: f, Limit: 5, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range p.Items {
				seen[r.ID]++
			}
			v := newPerson()
			v["name"], v["bio"] = "Ani "+text(), "աբգ"
			if _, err := st.Create(ctx, store.CreateRequest{Entity: "person", Values: v, By: testUser}); err != nil {
				t.Fatal(err)
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		for _, id := range before {
			if seen[id] != 1 {
				t.Errorf("%s: %s listed %d times", src, id, seen[id])
			}
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("%s: %s listed %d times", src, id, n)
			}
		}
	}
}

// TestScanFiltersWithASearchedField runs the filters of
// TestMatchRawAgreesWithEval, and more contains and startsWith, with the
// vehicles' vin searched, so that those on vin can run on the search
// index: each list finds what Eval finds.
func TestScanFiltersWithASearchedField(t *testing.T) {
	hcl := strings.Replace(testHCL, "unique = true", "unique = true\n    search = true", 1)
	st, sch := openWith(t, t.TempDir(), hcl, store.Options{NoSync: true}, testUser)
	<-st.SearchReady()
	ent := sch.Entity("vehicle")
	recs := scanRecords(t, st)
	for _, vin := range []string{"WVWZZZ1JZXW000001", "wvw-zzz 1jz", "Vé12-ABC", "V1V1V1"} {
		recs = append(recs, create(t, st, "vehicle", map[string]any{"vin": vin}))
	}
	filters := append(slices.Clone(scanFilters), "vin contains 'ZZZ'", "vin contains 'zzz'", "vin contains 'e12'",
		"vin contains 'é12'", "vin startsWith 'WVW'", "vin contains 'V1V' && mileage == nil", "vin contains '000001'")
	onIndex := 0
	for _, src := range filters {
		f, err := store.CompileFilter(ent, src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		var want []string
		for _, r := range recs {
			if ok, err := f.Eval(r); err == nil && ok {
				want = append(want, r.ID)
			}
		}
		slices.Sort(want)
		var got []string
		cursor := ""
		for {
			p, err := st.List(context.Background(), store.Query{Entity: "vehicle", Filter: f, Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatalf("%s: %v", src, err)
			}
			if strings.Contains(p.Plan, "search ") {
				onIndex++
			}
			for _, r := range p.Items {
				got = append(got, r.ID)
			}
			if cursor = p.NextCursor; cursor == "" {
				break
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: listed %v, Eval matches %v", src, got, want)
		}
	}
	if onIndex == 0 {
		t.Error("no filter ran on the search index")
	}
}

// TestPlannerUsesTheSearchIndex: the plans of contains and startsWith on
// a searched field, over 2,000 people, 2 of them "... Ohanjanyan", every
// name with "an" or "Ani".
func TestPlannerUsesTheSearchIndex(t *testing.T) {
	st, sch := openWith(t, t.TempDir(), searchPlanHCL, store.Options{NoSync: true}, testUser)
	<-st.SearchReady()
	ent := sch.Entity("person")
	first := []string{"Anna", "Ani", "Armen", "Sona"}
	var vals []map[string]any
	for i := range 2000 {
		name := fmt.Sprintf("%s Petrosyan%d", first[i%4], i)
		if i%1000 == 999 {
			name = "Ani Ohanjanyan"
		}
		vals = append(vals, map[string]any{"name": name, "tag": fmt.Sprint("t", i%10)})
	}
	for _, v := range vals {
		create(t, st, "person", v)
	}
	union := func(g string) string {
		return `union(search person "` + g + `", search person partial)`
	}
	cases := []struct{ filter, sort, plan string }{
		{`name contains "anjan"`, "", union("anjan")},
		{`name contains "Anjan"`, "-id", union("anjan")}, // folded; the filter decides
		{`name contains "ohanjanyan"`, "name", union("ohanjanyan") + "; sort in memory"},
		{`name contains "Ohanjanyan-x"`, "", "scan"}, // two tokens
		{`name contains "an"`, "", "scan"},           // shorter than an infix gram
		{`name contains "Petros"`, "", "scan"},       // past the count cap: a scan stops sooner
		{`name startsWith "Ohanj"`, "", union("ohanj")},
		{`name startsWith "O"`, "", "scan"}, // "o" starts an infix of every Petrosyan: past the cap
		{`tag == "t9" && name contains "anjan"`, "", union("anjan")},
		{`name contains "anjan" || tag == "t1"`, "", "scan"},
		{`bio contains "anjan"`, "", union("anjan")},
		{`tag contains "t12"`, "", "scan"}, // not searched
	}
	for _, c := range cases {
		p, err := st.List(context.Background(), store.Query{Entity: "person", Filter: compile(t, ent, c.filter), Sort: store.ParseSort(c.sort), Limit: 20})
		if err != nil {
			t.Fatalf("%q sort %q: %v", c.filter, c.sort, err)
		}
		if p.Plan != c.plan {
			t.Errorf("%q sort %q: plan %q, want %q", c.filter, c.sort, p.Plan, c.plan)
		}
	}
}
