package storetest

import (
	"fmt"
	"math"
	"slices"

	"github.com/crmkit/crm/core/store"
)

// testExtremes stores the ends of the ordered types' ranges (the largest
// and smallest ints, money and decimals far from 1, the empty text).
func testExtremes(e *env) {
	e.checkExtremes([]map[string]any{
		{"name": "int max", "qty": int64(math.MaxInt64), "score": int64(math.MaxInt64)},
		{"name": "int min", "qty": int64(math.MinInt64), "score": int64(math.MinInt64)},
		{"name": "zero", "qty": int64(0), "score": int64(0), "ratio": "0", "active": false},
		{"name": "empty note", "note": ""},
		{"name": "big decimals", "ratio": "123456789012345678901234567890.5"},
		{"name": "tiny decimals", "ratio": "-0.000000000000000000000000000001"},
		{"name": "big money", "price": map[string]any{"amount": "92233720368547758.07", "currency": "USD"}},
		{"name": "small money", "price": map[string]any{"amount": "-92233720368547758.08", "currency": "EUR"}},
		{"name": "a date", "due": "2026-03-21", "at": "2026-03-21T10:30:00Z"},
	})
}

// testExtremeDates stores dates and times from year 1 to 9999, the range
// package schema accepts, before 1970 and past 2262 (where nanoseconds
// since 1970 no longer fit an int64).
func testExtremeDates(e *env) {
	e.checkExtremes([]map[string]any{
		{"name": "year 1", "due": "0001-01-01", "at": "0001-01-01T00:00:00Z"},
		{"name": "year 1600", "due": "1600-02-29", "at": "1600-02-29T12:00:00Z"},
		{"name": "before 1970", "due": "1969-12-31", "at": "1969-12-31T23:59:59.999999999Z"},
		{"name": "epoch", "due": "1970-01-01", "at": "1970-01-01T00:00:00Z"},
		{"name": "now", "due": "2026-03-21", "at": "2026-03-21T10:30:00Z"},
		{"name": "year 2300", "due": "2300-01-01", "at": "2300-01-01T00:00:00Z"},
		{"name": "year 9999", "due": "9999-12-31", "at": "9999-12-31T23:59:59.999999999Z"},
		{"name": "no date", "qty": int64(1)},
	})
}

// checkExtremes creates items of rows and checks that Get, List's
// filters and sorts, and Count agree with their values.
func (e *env) checkExtremes(rows []map[string]any) {
	t := e.t
	var recs []*store.Record
	for _, v := range rows {
		rec := e.create("item", v)
		got := e.get("item", rec.ID)
		if want := e.canon("item", v); !sameValues(got.Values, want) {
			t.Fatalf("%s: Get reads %#v, want %#v", v["name"], got.Values, want)
		}
		recs = append(recs, got)
	}
	for _, s := range []string{"qty", "-qty", "score", "-score", "due", "-due", "at", "-at", "ratio", "-ratio", "price", "-price", "note", "-note"} {
		keys := store.ParseSort(s)
		got := e.listAll(store.Query{Entity: "item", Sort: keys, Limit: 4})
		want := slices.Clone(recs)
		slices.SortFunc(want, func(a, b *store.Record) int { return compareRecords(keys, a, b) })
		if !slices.Equal(recordIDs(got), recordIDs(want)) {
			t.Errorf("sort %s:\n got  %v\n want %v", s, names(got), names(want))
		}
	}
	for _, src := range []string{
		"qty > 0", "qty < 0", "qty == 0", "qty >= 9223372036854775807", "qty <= -9223372036854775807 - 1",
		"score > 0", "score < 0",
		"due < date('1970-01-01')", "due > date('2200-01-01')", "due >= date('0001-01-01')", "due == date('9999-12-31')",
		"at < date('1970-01-01T00:00:00Z')", "at > date('2200-01-01T00:00:00Z')", "at >= date('1600-01-01T00:00:00Z') && at < date('2000-01-01T00:00:00Z')",
		"note == ''", "note == nil", "note != nil",
		"ratio > 1000000", "ratio < 0", "ratio == 0",
		"price.minor > 0", "price.minor < 0",
	} {
		f := e.filter("item", src)
		var want []string
		for _, r := range recs {
			if ok, _ := f.Eval(r); ok {
				want = append(want, r.ID)
			}
		}
		for _, s := range []string{"", "at", "-due", "qty"} {
			got := e.listAll(store.Query{Entity: "item", Filter: f, Sort: store.ParseSort(s), Limit: 3})
			if !slices.Equal(sorted(recordIDs(got)), sorted(want)) {
				t.Errorf("filter %s sorted %q: %v, want %v", src, s, names(got), namesOf(recs, want))
			}
		}
		if n, exact, err := e.st.Count(e.ctx, "item", f); err != nil || n != int64(len(want)) || !exact {
			t.Errorf("Count(%s) = %d, %v, %v; want %d", src, n, exact, err, len(want))
		}
	}
}

func names(recs []*store.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = fmt.Sprint(r.Values["name"])
	}
	return out
}

func namesOf(recs []*store.Record, ids []string) []string {
	var out []string
	for _, r := range recs {
		if slices.Contains(ids, r.ID) {
			out = append(out, fmt.Sprint(r.Values["name"]))
		}
	}
	return out
}
