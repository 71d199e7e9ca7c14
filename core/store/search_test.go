package store_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/store"
)

const searchHCL = `
entity "supplier" {
  field "name"   {
    type   = "string"
    search = true
  }
  field "secret" { type = "string" }
}
`

func openSearchStore(t testing.TB, dir, hcl string) *store.Badger {
	st, _ := openWith(t, dir, hcl, store.Options{NoSync: true}, testUser)
	<-st.SearchReady()
	return st
}

func search(t testing.TB, st store.Store, q string, entities ...string) []store.SearchHit {
	t.Helper()
	hits, err := st.Search(context.Background(), store.SearchQuery{Text: q, Entities: entities, Limit: 50})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	return hits
}

func titles(hits []store.SearchHit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Title
	}
	return out
}

func TestSearchScripts(t *testing.T) {
	st := openSearchStore(t, t.TempDir(), searchHCL)
	for _, c := range []struct {
		entity string
		values map[string]any
	}{
		{"contact", map[string]any{"name": "Anna Petrosyan", "email": "anna.petrosyan@example.am", "phone": "+37491123456"}},
		{"contact", map[string]any{"name": "Արմեն Սարգսյան", "phone": "+37477001122"}},
		{"contact", map[string]any{"name": "Дмитрий Ёлкин", "email": "dima@mail.ru"}},
		{"contact", map[string]any{"name": "علي كريمي"}},            // Arabic yeh and kaf
		{"contact", map[string]any{"name": "محمد\u200cحسین رضایی"}}, // with ZWNJ
		{"contact", map[string]any{"name": "فاطمة زهرا"}},           // teh marbuta
		{"contact", map[string]any{"name": "Žydrūnė Šimkūnaitė"}},
		{"contact", map[string]any{"name": "Gülnarə Məmmədova", "phone": "+994501234567"}},
		{"contact", map[string]any{"name": "İlkin Ağayev"}},
		{"company", map[string]any{"name": "Acme Trading LLC", "phone": "+14155550123", "email": "sales@acme.io"}},
		{"supplier", map[string]any{"name": "Ōkubo Shōten", "secret": "hiddenword"}},
	} {
		create(t, st, c.entity, c.values)
	}
	for _, c := range []struct {
		q        string
		entities []string
		want     []string
	}{
		// Latin, case, prefixes and infixes of any word.
		{"anna", nil, []string{"Anna Petrosyan"}},
		{"ANN", nil, []string{"Anna Petrosyan"}},
		{"petro", nil, []string{"Anna Petrosyan"}},
		{"rosyan", nil, []string{"Anna Petrosyan"}},
		{"anna pet", nil, []string{"Anna Petrosyan"}},
		{"pet anna", nil, []string{"Anna Petrosyan"}},
		{"anna zzz", nil, nil},
		// E-mail: local part and domain tokens.
		{"example.am", nil, []string{"Anna Petrosyan"}},
		{"anna.petrosyan@exa", nil, []string{"Anna Petrosyan"}},
		{"mail.ru", nil, []string{"Дмитрий Ёлкин"}},
		{"acme", nil, []string{"Acme Trading LLC"}},
		// Armenian.
		{"արմեն", nil, []string{"Արմեն Սարգսյան"}},
		{"ԱՐՄ", nil, []string{"Արմեն Սարգսյան"}},
		{"սարգ", nil, []string{"Արմեն Սարգսյան"}},
		{"գսյան", nil, []string{"Արմեն Սարգսյան"}},
		// Russian, ё as е.
		{"дмит", nil, []string{"Дмитрий Ёлкин"}},
		{"елкин", nil, []string{"Дмитрий Ёлкин"}},
		{"ЁЛК", nil, []string{"Дмитрий Ёлкин"}},
		// Persian and Arabic letter variants, with and without ZWNJ.
		{"علی", nil, []string{"علي كريمي"}},
		{"کریمی", nil, []string{"علي كريمي"}},
		{"كريم", nil, []string{"علي كريمي"}},
		{"محمدحسین", nil, []string{"محمد\u200cحسین رضایی"}},
		{"محمد\u200cحسین", nil, []string{"محمد\u200cحسین رضایی"}},
		{"محمد حسين", nil, []string{"محمد\u200cحسین رضایی"}},
		{"فاطمه", nil, []string{"فاطمة زهرا"}},
		// Lithuanian and Azerbaijani with or without diacritics.
		{"zydrune", nil, []string{"Žydrūnė Šimkūnaitė"}},
		{"ŽYDRŪ", nil, []string{"Žydrūnė Šimkūnaitė"}},
		{"simkunaite", nil, []string{"Žydrūnė Šimkūnaitė"}},
		{"kūnait", nil, []string{"Žydrūnė Šimkūnaitė"}},
		{"gulnare", nil, []string{"Gülnarə Məmmədova"}},
		{"məmməd", nil, []string{"Gülnarə Məmmədova"}},
		{"memmedova", nil, []string{"Gülnarə Məmmədova"}},
		{"ilkin agayev", nil, []string{"İlkin Ağayev"}},
		{"ILKIN", nil, []string{"İlkin Ağayev"}},
		// Phones in any format and digit set.
		{"+37491123456", nil, []string{"Anna Petrosyan"}},
		{"091 12 34", nil, []string{"Anna Petrosyan"}},
		{"(091) 123-456", nil, []string{"Anna Petrosyan"}},
		{"۰۹۱۱۲۳۴", nil, []string{"Anna Petrosyan"}},
		{"٠٩١١٢٣٤", nil, []string{"Anna Petrosyan"}},
		{"1123456", nil, []string{"Anna Petrosyan"}},
		{"234", nil, []string{"Gülnarə Məmmədova", "Anna Petrosyan"}}, // infix of both numbers, newest first
		{"0037477", nil, []string{"Արմեն Սարգսյան"}},
		{"077 00 11 22", nil, []string{"Արմեն Սարգսյան"}},
		{"(415) 555-0123", nil, []string{"Acme Trading LLC"}},
		{"5550123", nil, []string{"Acme Trading LLC"}},
		{"050 123 45 67", nil, []string{"Gülnarə Məmmədova"}},
		// Entities: restricted, a partner's field, a field not searched.
		{"acme", []string{"contact"}, nil},
		{"anna", []string{"company"}, nil},
		{"okubo", nil, []string{"Ōkubo Shōten"}},
		{"shoten", []string{"supplier"}, []string{"Ōkubo Shōten"}},
		{"hiddenword", nil, nil},
	} {
		got := titles(search(t, st, c.q, c.entities...))
		if !slices.Equal(got, c.want) {
			t.Errorf("search %q in %v = %q, want %q", c.q, c.entities, got, c.want)
		}
	}
}

func TestSearchRanking(t *testing.T) {
	st := openSearchStore(t, t.TempDir(), searchHCL)
	for _, name := range []string{"Joanna Smith", "Ann Lee", "Anna Brown", "Annabel Green", "Bob Annandale"} {
		create(t, st, "contact", map[string]any{"name": name})
	}
	hits := search(t, st, "ann")
	var got []string
	for _, h := range hits {
		got = append(got, h.Title+"/"+h.Match)
	}
	want := []string{"Ann Lee/exact", "Bob Annandale/prefix", "Annabel Green/prefix", "Anna Brown/prefix", "Joanna Smith/infix"}
	if !slices.Equal(got, want) {
		t.Errorf("ranking:\n got %q\nwant %q", got, want)
	}
	// The limit cuts the ranked list.
	top, err := st.Search(context.Background(), store.SearchQuery{Text: "ann", Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if g := titles(top); !slices.Equal(g, []string{"Ann Lee", "Bob Annandale"}) {
		t.Errorf("limit 2 = %q", g)
	}
}

func TestSearchFollowsWrites(t *testing.T) {
	st := openSearchStore(t, t.TempDir(), searchHCL)
	ctx := context.Background()
	rec := create(t, st, "contact", map[string]any{"name": "Anna Petrosyan", "phone": "+37491123456", "email": "anna@old.am"})
	other := create(t, st, "contact", map[string]any{"name": "Karen Petrosyan"})
	keys := st.SearchKeys("contact", rec.ID)
	if keys == 0 {
		t.Fatal("no search entries after a create")
	}
	if _, err := st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: rec.ID, By: testUser,
		Set: map[string]any{"name": "Maria Petrosyan", "phone": "+37477000000"}, Clear: []string{"email"}}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]string{
		"anna":        nil,
		"091123456":   nil,
		"old.am":      nil,
		"maria":       {"Maria Petrosyan"},
		"077000000":   {"Maria Petrosyan"},
		"petrosyan":   {"Maria Petrosyan", "Karen Petrosyan"},
		"karen petro": {"Karen Petrosyan"},
	} {
		if got := titles(search(t, st, q)); !sameSet(got, want) {
			t.Errorf("after update, search %q = %q, want %q", q, got, want)
		}
	}
	if _, err := st.Delete(ctx, store.DeleteRequest{Entity: "contact", ID: rec.ID, By: testUser}); err != nil {
		t.Fatal(err)
	}
	if got := titles(search(t, st, "petrosyan")); !slices.Equal(got, []string{"Karen Petrosyan"}) {
		t.Errorf("after delete, search = %q", got)
	}
	if n := st.SearchKeys("contact", rec.ID); n != 0 {
		t.Errorf("%d search entries left after the delete", n)
	}
	if n := st.SearchKeys("contact", other.ID); n == 0 {
		t.Error("the other record lost its entries")
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func TestSearchBadQueries(t *testing.T) {
	st := openSearchStore(t, t.TempDir(), searchHCL)
	var qe *store.QueryError
	for _, c := range []struct {
		q        string
		entities []string
		limit    int
		param    string
	}{
		{"  ,. ", nil, 10, "q"},
		{"anna", []string{"nope"}, 10, "entity"},
		{"anna", []string{"deal"}, 10, "entity"}, // deal has no searched fields
		{"anna", nil, -1, "limit"},
	} {
		_, err := st.Search(context.Background(), store.SearchQuery{Text: c.q, Entities: c.entities, Limit: c.limit})
		if !errors.As(err, &qe) || qe.Param != c.param {
			t.Errorf("search %q %v %d: err %v, want a query error on %s", c.q, c.entities, c.limit, err, c.param)
		}
	}
}

func TestSearchBackfill(t *testing.T) {
	dir := t.TempDir()
	st := openSearchStore(t, dir, searchHCL)
	var ids []string
	for _, name := range []string{"Anna One", "Anna Two", "Anna Three", "Anna Four"} {
		ids = append(ids, create(t, st, "contact", map[string]any{"name": name}).ID)
	}
	// A store from before search: no entries, no mark.
	if err := st.ForgetSearch("contact"); err != nil {
		t.Fatal(err)
	}
	if got := search(t, st, "anna"); len(got) != 0 {
		t.Fatalf("forgotten index still finds %q", titles(got))
	}
	st.Close()
	st = openSearchStore(t, dir, searchHCL)
	if got := titles(search(t, st, "anna")); !sameSet(got, []string{"Anna One", "Anna Two", "Anna Three", "Anna Four"}) {
		t.Errorf("after the backfill, search = %q", got)
	}
	// A backfill cut short resumes after its mark: the records before it
	// are not indexed again (they were, before the crash).
	if err := st.SetSearchMark("contact", ids[1]); err != nil {
		t.Fatal(err)
	}
	st.Close()
	st = openSearchStore(t, dir, searchHCL)
	if got := titles(search(t, st, "anna")); !sameSet(got, []string{"Anna Three", "Anna Four"}) {
		t.Errorf("resumed backfill, search = %q", got)
	}
	st.Close()

	// New searched fields rebuild the index: the old field's tokens go.
	st = openSearchStore(t, dir, searchHCL+`
entity "contact" {
  field "notes" {
    type   = "text"
    search = true
  }
}
`)
	if _, err := st.Update(context.Background(), store.UpdateRequest{Entity: "contact", ID: ids[0], By: testUser,
		Set: map[string]any{"notes": "met at the Yerevan fair"}}); err != nil {
		t.Fatal(err)
	}
	if got := titles(search(t, st, "yerevan")); !slices.Equal(got, []string{"Anna One"}) {
		t.Errorf("search a new searched field = %q", got)
	}
	if got := titles(search(t, st, "anna")); len(got) != 4 {
		t.Errorf("after the rebuild, search = %q", got)
	}
}

// TestSearchAgreesWithBruteForce runs queries of one to three words over
// names made of a few syllables (so that words are prefixes and infixes of
// each other) and compares with a brute-force evaluation: every word
// matches a word of the name as a prefix, or (from 3 letters) anywhere
// inside; hits rank by how the longest word matches, then newest first.
//
// Each query runs again bound to one owner's records (the owner index as
// one more list of the intersection), against the brute force's hits of
// that owner.
func TestSearchAgreesWithBruteForce(t *testing.T) {
	st, _ := openWith(t, t.TempDir(), searchHCL, store.Options{NoSync: true}, testUser, otherUser)
	<-st.SearchReady()
	rng := rand.New(rand.NewPCG(7, 8))
	syll := []string{"an", "na", "ar", "ra", "ka", "ma", "ta"}
	word := func(most int) string {
		var b strings.Builder
		for range 1 + rng.IntN(most) {
			b.WriteString(syll[rng.IntN(len(syll))])
		}
		return b.String()
	}
	type rec struct {
		id    string
		words []string
		owner string
	}
	var recs []rec
	for i := range 600 {
		var ws []string
		for range 1 + rng.IntN(3) {
			ws = append(ws, word(4))
		}
		owner := testUser
		if i%3 == 0 {
			owner = otherUser
		}
		r, err := st.Create(context.Background(), store.CreateRequest{Entity: "supplier", By: testUser, Owner: owner, Values: map[string]any{"name": strings.Join(ws, " ")}})
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec{r.ID, ws, owner})
	}
	kindOf := func(ws []string, q string) int { // 0 exact, 1 prefix, 2 infix, 3 none
		best := 3
		for _, w := range ws {
			switch {
			case w == q:
				best = min(best, 0)
			case strings.HasPrefix(w, q):
				best = min(best, 1)
			case len(q) >= 3 && strings.Contains(w, q):
				best = min(best, 2)
			}
		}
		return best
	}
	for i := range 300 {
		var qs []string
		for range 1 + rng.IntN(3) {
			w := word(3)
			if rng.IntN(3) == 0 {
				w = w[rng.IntN(len(w)):] // an infix or a single letter
			}
			qs = append(qs, w)
		}
		driver := qs[0]
		for _, q := range qs[1:] {
			if len(q) > len(driver) {
				driver = q
			}
		}
		type hit struct {
			id   string
			kind int
		}
		for _, owner := range []string{"", otherUser} {
			var want []hit
			for _, r := range recs {
				all := owner == "" || r.owner == owner
				for _, q := range qs {
					all = all && kindOf(r.words, q) < 3
				}
				if all {
					want = append(want, hit{r.id, kindOf(r.words, driver)})
				}
			}
			slices.SortFunc(want, func(a, b hit) int {
				if a.kind != b.kind {
					return a.kind - b.kind
				}
				return strings.Compare(b.id, a.id)
			})
			limit := 1 + i%20
			want = want[:min(len(want), limit)]
			q := strings.Join(qs, " ")
			sq := store.SearchQuery{Text: q, Entities: []string{"supplier"}, Limit: limit}
			if owner != "" {
				sq.Owners = map[string]string{"supplier": owner}
			}
			hits, err := st.Search(context.Background(), sq)
			if err != nil {
				t.Fatal(err)
			}
			names := []string{store.MatchExact, store.MatchPrefix, store.MatchInfix}
			if len(hits) != len(want) {
				t.Errorf("%q limit %d owner %q: %d hits, brute force %d", q, limit, owner, len(hits), len(want))
				continue
			}
			for j, h := range hits {
				if h.ID != want[j].id || h.Match != names[want[j].kind] {
					t.Errorf("%q limit %d owner %q: hit %d is %s (%s), brute force %s (%s)", q, limit, owner, j, h.ID, h.Match, want[j].id, names[want[j].kind])
					break
				}
			}
		}
	}
}
