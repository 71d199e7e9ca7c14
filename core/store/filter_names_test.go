package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/crmkit/crm/core/store"
)

// TestFieldNamedLikeAFunction: a field called date (or duration) is the
// field where a filter names it, and date() (duration()) is still the
// function where a filter calls it, also through the field's index.
func TestFieldNamedLikeAFunction(t *testing.T) {
	st, sch := openWith(t, t.TempDir(), `
entity "visit" {
  field "date" {
    type  = "date"
    index = true
  }
  field "duration" { type = "int" }
  field "note"     { type = "string" }
}
`, store.Options{}, testUser)
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	early := create(t, st, "visit", map[string]any{"date": day("2026-02-10"), "duration": int64(30), "note": "early"})
	late := create(t, st, "visit", map[string]any{"date": day("2026-03-15"), "duration": int64(90), "note": "late"})
	none := create(t, st, "visit", map[string]any{"note": "undated"})
	ent := sch.Entity("visit")
	for src, want := range map[string][]string{
		"date >= date('2026-03-01')":                            {late.ID},
		"date < date('2026-03-01')":                             {early.ID},
		"date == nil":                                           {none.ID},
		"date != nil && date > date('2026-01-01')":              {early.ID, late.ID},
		"duration > 60":                                         {late.ID},
		"created_at > now() - duration('1h') && note == 'late'": {late.ID},
	} {
		f, err := store.CompileFilter(ent, src)
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		page, err := st.List(context.Background(), store.Query{Entity: "visit", Filter: f, Limit: 10})
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		var got []string
		for _, r := range page.Items {
			got = append(got, r.ID)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", src, got, want)
		}
	}
	// A field is not a function: calling one is still refused.
	if _, err := store.CompileFilter(ent, "note('x')"); err == nil {
		t.Error("note('x') compiled")
	}
}
