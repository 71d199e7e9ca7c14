package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/store"
)

func TestHistoryBeforePagesNewestFirst(t *testing.T) {
	st, _ := openStore(t, t.TempDir())
	ctx := context.Background()
	rec := create(t, st, "contact", map[string]any{"name": "v0"})
	other := create(t, st, "contact", map[string]any{"name": "other"})
	for i := 1; i <= 9; i++ {
		for _, id := range []string{rec.ID, other.ID} {
			if _, err := st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: id, Set: map[string]any{"name": fmt.Sprintf("v%d", i)}, By: testUser}); err != nil {
				t.Fatal(err)
			}
		}
	}
	all, err := st.History(ctx, "contact", rec.ID)
	if err != nil || len(all) != 10 {
		t.Fatalf("history: %d %v", len(all), err)
	}
	slices.Reverse(all)
	var paged []store.HistoryEntry
	before := uint64(0)
	for range 10 {
		page, err := st.HistoryBefore(ctx, "contact", rec.ID, before, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		before = page[len(page)-1].Seq
	}
	if len(paged) != len(all) {
		t.Fatalf("paged %d entries, want %d", len(paged), len(all))
	}
	for i := range all {
		if paged[i].Seq != all[i].Seq || paged[i].Version != all[i].Version {
			t.Fatalf("entry %d: %+v, want %+v", i, paged[i], all[i])
		}
	}
	if page, err := st.HistoryBefore(ctx, "contact", rec.ID, 1, 5); err != nil || len(page) != 0 {
		t.Fatalf("before position 1: %v %v", page, err)
	}
}

func TestCursorAfterResumesAList(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	ctx := context.Background()
	buyer := create(t, st, "contact", map[string]any{"name": "buyer"})
	var ids []string
	for i := range 12 {
		ids = append(ids, create(t, st, "vehicle", map[string]any{"vin": fmt.Sprintf("V%d", i), "buyer": buyer.ID}).ID)
		create(t, st, "vehicle", map[string]any{"vin": fmt.Sprintf("W%d", i)})
	}
	slices.Reverse(ids)
	f, err := store.CompileFilter(sch.Entity("vehicle"), fmt.Sprintf("buyer == %q", buyer.ID))
	if err != nil {
		t.Fatal(err)
	}
	// Resume after each id in turn, as a timeline does after the last
	// record of a source it used.
	for i, after := range ids {
		page, err := st.List(ctx, store.Query{Entity: "vehicle", Filter: f, Sort: store.ParseSort("-id"), Limit: 2,
			Cursor: store.CursorAfter("-id", &store.Record{ID: after})})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range page.Items {
			got = append(got, r.ID)
		}
		if want := ids[i+1 : min(i+3, len(ids))]; !slices.Equal(got, want) {
			t.Fatalf("after %s: %v, want %v", after, got, want)
		}
		// The ref field's index, walked in the list's order: a page costs a page.
		if !strings.HasPrefix(page.Plan, "index vehicle.buyer") || strings.Contains(page.Plan, "sort") {
			t.Fatalf("plan %q: want the buyer index in order", page.Plan)
		}
	}
}
