package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/storetest"
	"github.com/crmkit/crm/core/testkit/pgtest"
)

// TestDatetimeSortToTheNanosecond: datetimes within one microsecond (one
// value of the rounded SQL timestamptz) sort by their exact instants, as
// the Badger store sorts them, not by id; pages (this store's cursors and
// Badger-form ones from store.CursorAfter) go on between them.
func TestDatetimeSortToTheNanosecond(t *testing.T) {
	sch := storetest.Schema(t)
	st := openURL(t, pgtest.DB(t), sch)
	addUsers(t, st)
	ctx := context.Background()
	base := time.Date(2026, 3, 21, 23, 59, 59, 999_999_000, time.UTC)
	offsets := []time.Duration{600, 400, -300, 100, 0, 1000, 499, 501, 1}
	var recs []*store.Record
	for i, d := range offsets {
		rec, err := st.Create(ctx, store.CreateRequest{Entity: "item", By: testUser,
			Values: map[string]any{"name": "n" + string(rune('a'+i)), "at": base.Add(d * time.Nanosecond)}})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	for _, desc := range []bool{false, true} {
		want := slices.Clone(recs)
		slices.SortFunc(want, func(a, b *store.Record) int {
			c := a.Values["at"].(time.Time).Compare(b.Values["at"].(time.Time))
			if desc {
				c = -c
			}
			return c
		})
		sort := "at"
		if desc {
			sort = "-at"
		}
		for _, limit := range []int{100, 1, 2} {
			var got []*store.Record
			q := store.Query{Entity: "item", Sort: store.ParseSort(sort), Limit: limit}
			for {
				p, err := st.List(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, p.Items...)
				if p.NextCursor == "" {
					break
				}
				q.Cursor = p.NextCursor
				if len(got)%2 == 1 {
					q.Cursor = store.CursorAfter(sort, got[len(got)-1]) // the Badger form
				}
			}
			if !slices.Equal(idsOf(got), idsOf(want)) {
				t.Errorf("sort %s, limit %d:\n got  %v\n want %v", sort, limit, atsOf(got), atsOf(want))
			}
		}
	}
}

func idsOf(recs []*store.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.ID
	}
	return out
}

func atsOf(recs []*store.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Values["at"].(time.Time).Format(time.RFC3339Nano)
	}
	return out
}
