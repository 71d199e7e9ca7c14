package storetest

import (
	"fmt"
	"slices"

	"github.com/crmkit/crm/core/store"
)

func (e *env) search(q store.SearchQuery) []store.SearchHit {
	e.t.Helper()
	hits, err := e.st.Search(e.ctx, q)
	if err != nil {
		e.t.Fatalf("search %+v: %v", q, err)
	}
	return hits
}

func hitNames(hits []store.SearchHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Title + "/" + h.Match
	}
	return out
}

func testSearchRanking(e *env) {
	t := e.t
	byName := map[string]string{}
	for _, name := range []string{"Joanna Smith", "Ann Lee", "Anna Brown", "Annabel Green", "Bob Annandale", "Carl Zed"} {
		byName[name] = e.create("contact", map[string]any{"name": name}).ID
	}
	hits := e.search(store.SearchQuery{Text: "ann", Entities: []string{"contact"}, Limit: 50})
	want := []string{"Ann Lee/exact", "Bob Annandale/prefix", "Annabel Green/prefix", "Anna Brown/prefix", "Joanna Smith/infix"}
	if got := hitNames(hits); !slices.Equal(got, want) {
		t.Fatalf("ranking:\n got %q\nwant %q", got, want)
	}
	for _, h := range hits {
		if h.Entity != "contact" || h.ID != byName[h.Title] || h.Record == nil || h.Record.ID != h.ID || h.Record.Values["name"] != h.Title {
			t.Fatalf("hit %+v does not carry its record", h)
		}
	}
	// The limit cuts the ranked list; case does not matter; every word must match.
	top := e.search(store.SearchQuery{Text: "ANN", Limit: 2})
	if got := hitNames(top); !slices.Equal(got, want[:2]) {
		t.Fatalf("limit 2: %q", got)
	}
	if got := hitNames(e.search(store.SearchQuery{Text: "anna brown"})); !slices.Equal(got, []string{"Anna Brown/prefix"}) && !slices.Equal(got, []string{"Anna Brown/exact"}) {
		t.Fatalf("two words: %q", got)
	}
	if hits := e.search(store.SearchQuery{Text: "anna zzz"}); len(hits) != 0 {
		t.Fatalf("a word that matches nothing: %q", hitNames(hits))
	}
	// Case and diacritics fold, in any script.
	for _, name := range []string{"Արմեն Սարգսյան", "Дмитрий Ёлкин", "Žydrūnė Šimkūnaitė"} {
		e.create("contact", map[string]any{"name": name})
	}
	for q, want := range map[string]string{"ԱՐՄ": "Արմեն Սարգսյան", "սարգ": "Արմեն Սարգսյան", "дмит": "Дмитрий Ёлкин", "ЁЛК": "Дмитрий Ёлкин", "zydrune": "Žydrūnė Šimkūnaitė"} {
		if got := e.search(store.SearchQuery{Text: q}); len(got) != 1 || got[0].Title != want {
			t.Fatalf("search %q: %q, want %s", q, hitNames(got), want)
		}
	}
	// Other entities' searched fields; restriction by entity.
	e.create("item", map[string]any{"name": "Annex widget"})
	e.create("company", map[string]any{"name": "Annapurna Ltd"})
	if got := e.search(store.SearchQuery{Text: "annex"}); len(got) != 1 || got[0].Entity != "item" {
		t.Fatalf("search of an item: %q", hitNames(got))
	}
	if got := e.search(store.SearchQuery{Text: "ann", Entities: []string{"company"}}); len(got) != 1 || got[0].Entity != "company" || got[0].Match != store.MatchPrefix {
		t.Fatalf("restricted to companies: %q", hitNames(got))
	}
	if got := e.search(store.SearchQuery{Text: "ann", Limit: 50}); len(got) != 7 {
		t.Fatalf("every entity: %q", hitNames(got))
	}
	// The default limit is 20; more than 100 are never given.
	for i := range 25 {
		e.create("company", map[string]any{"name": fmt.Sprint("Limitless ", i)})
	}
	if got := e.search(store.SearchQuery{Text: "limitless"}); len(got) != 20 {
		t.Fatalf("default limit: %d hits, want 20", len(got))
	}
	if got := e.search(store.SearchQuery{Text: "limitless", Limit: 1000}); len(got) != 25 {
		t.Fatalf("limit 1000: %d hits, want all 25", len(got))
	}
	// Bad queries are query errors.
	for _, c := range []struct {
		q     store.SearchQuery
		param string
	}{
		{store.SearchQuery{Text: "  ,. "}, "q"},
		{store.SearchQuery{Text: "ann", Entities: []string{"nosuch"}}, "entity"},
		{store.SearchQuery{Text: "ann", Entities: []string{"deal"}}, "entity"}, // no searched fields
		{store.SearchQuery{Text: "ann", Limit: -1}, "limit"},
	} {
		if _, err := e.st.Search(e.ctx, c.q); !asQueryError(err, c.param) {
			t.Errorf("search %+v: %v, want a QueryError on %s", c.q, err, c.param)
		}
	}
}

func testSearchWrites(e *env) {
	t := e.t
	a := e.createReq(store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "Maria Petrosyan", "email": "maria@old.am", "phone": "+37491123456"}, By: UserA})
	b := e.createReq(store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "Karen Petrosyan"}, By: UserA, Owner: UserB})
	c := e.createReq(store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "Armen Petrosyan"}, By: UserB})
	ids := func(hits []store.SearchHit) []string {
		var out []string
		for _, h := range hits {
			out = append(out, h.ID)
		}
		return out
	}
	// Newest first among equal matches.
	if got := ids(e.search(store.SearchQuery{Text: "petrosyan"})); !slices.Equal(got, []string{c.ID, b.ID, a.ID}) {
		t.Fatalf("newest first: %v, want %v", got, []string{c.ID, b.ID, a.ID})
	}
	// Bound to one owner.
	if got := ids(e.search(store.SearchQuery{Text: "petrosyan", Owners: map[string]string{"contact": UserB}})); !slices.Equal(got, []string{c.ID, b.ID}) {
		t.Fatalf("bound to %s: %v, want %v", UserB, got, []string{c.ID, b.ID})
	}
	if got := ids(e.search(store.SearchQuery{Text: "maria", Owners: map[string]string{"contact": UserB}})); len(got) != 0 {
		t.Fatalf("another owner's record found: %v", got)
	}
	// Phones and e-mails are searched.
	if got := ids(e.search(store.SearchQuery{Text: "091 12 34 56"})); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("by phone: %v", got)
	}
	if got := ids(e.search(store.SearchQuery{Text: "old.am"})); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("by e-mail: %v", got)
	}
	// Updates and owner changes are followed.
	e.update(store.UpdateRequest{Entity: "contact", ID: a.ID, Set: map[string]any{"name": "Anahit Petrosyan"}, Clear: []string{"email"}, Owner: UserB})
	if got := ids(e.search(store.SearchQuery{Text: "maria"})); len(got) != 0 {
		t.Fatalf("the old name still found: %v", got)
	}
	if got := ids(e.search(store.SearchQuery{Text: "old.am"})); len(got) != 0 {
		t.Fatalf("a cleared e-mail still found: %v", got)
	}
	if got := ids(e.search(store.SearchQuery{Text: "anahit", Owners: map[string]string{"contact": UserB}})); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("the new name under the new owner: %v", got)
	}
	// Deletes too.
	if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "contact", ID: c.ID}); err != nil {
		t.Fatal(err)
	}
	if got := ids(e.search(store.SearchQuery{Text: "petrosyan"})); !slices.Equal(got, []string{b.ID, a.ID}) {
		t.Fatalf("after a delete: %v", got)
	}
}
