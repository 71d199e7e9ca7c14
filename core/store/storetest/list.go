package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"

	"github.com/crmkit/crm/core/store"
)

// filterTable is filters over every field type of item, missing values,
// unicode and system fields; {c0} {c1} {ua} {ub} {file} {mid} are
// replaced with the dataset's ids.
var filterTable = []string{
	// string, unicode
	"name == 'Anna'",
	"name != 'Anna'",
	"name == 'Արմեն'",
	`name == "O'Brien"`,
	"name == '😀 smile'",
	"name startsWith 'A'",
	"name startsWith 'Ա'",
	"hasPrefix(name, 'Ё')",
	"name contains 'nn'",
	"name endsWith 'b'",
	"name > 'Zed'",
	"name >= 'anna' && name < 'bob'",
	"name in ['Bob', 'Zoë', 'علي']",
	"name matches '^[A-Z]'",
	"lower(name) == 'anna'",
	"name == 'Updated'",
	// unique string
	"code == 'C0007'",
	"code == nil",
	"code != nil && code < 'C0020'",
	"code startsWith 'C00'",
	"code startsWith ''",
	"code >= 'C0050' && code <= 'C0100'",
	"code < 'C'",
	"name startsWith 'Anna'",
	"name startsWith ''",
	"name startsWith 'Anna ' || name startsWith 'bob'",
	"'A' <= name && name < 'B'",
	// text
	"note contains 'line'",
	"note == nil",
	"note != nil",
	"note == 'ünïcödé note'",
	// int, indexed and not
	"qty == 3",
	"qty > 5",
	"qty >= -2 && qty < 4",
	"qty < 0",
	"qty == nil",
	"qty != nil",
	"qty in [1, 2, 3]",
	"qty % 2 == 0",
	"-3 < qty",
	"not (qty > 5)",
	"score > 0",
	"score == nil",
	"score > 1000000 || score < -1000000",
	// decimal
	"ratio > 1",
	"ratio == 1.25",
	"ratio < 0",
	"ratio == nil",
	"ratio >= 0.001 && ratio <= 2.5",
	// money
	"price == nil",
	"price != nil",
	"price.currency == 'USD'",
	"price.minor > 1000",
	"price.amount >= 2.5",
	"price.currency == 'AMD' && price.minor >= 150000",
	"price != nil && price.minor <= 0",
	// bool
	"active",
	"!active",
	"active == true",
	"active == false",
	"active == nil",
	"active != true",
	// date
	"due >= date('2026-01-01')",
	"due < date('2025-09-01')",
	"due == nil",
	"due != nil && due <= date('2025-12-31')",
	// datetime
	"at > date('2026-01-05T00:00:00Z')",
	"at == nil",
	"at != nil && at < date('2026-01-03T12:00:00Z')",
	"at >= date('2026-01-02T00:00:00+04:00')",
	// enum
	"kind == 'a'",
	"kind in ['b', 'c']",
	"kind != 'a'",
	"kind == nil",
	// email, phone, url
	"email == 'anna@example.com'",
	"email endsWith '.am'",
	"email startsWith 'bob'",
	"phone == '+37491123456'",
	"phone startsWith '+374'",
	"phone == nil",
	"site contains 'example'",
	"site == nil",
	// ref, user, file
	"contact == '{c0}'",
	"contact == nil",
	"contact in ['{c0}', '{c1}']",
	"contact != nil && other == nil",
	"contact == other",
	"assignee == '{ua}'",
	"assignee == nil",
	"doc == '{file}'",
	"doc != nil",
	// system fields
	"owner == '{ua}'",
	"owner == '{ub}'",
	"owner == ''",
	"owner in ['', '{ub}']",
	"'' == owner && kind == 'a'",
	"owner != '{ua}'",
	"created_by == 'rule:seed'",
	"created_by == ''",
	"created_by == nil",
	"version == 1",
	"version > 1",
	"id > '{mid}'",
	"id == '{mid}'",
	"updated_at > created_at",
	"created_at > now() - duration('1h')",
	// combined
	"kind == 'a' && qty > 3",
	"kind == 'a' || active",
	"(qty > 5 || price.currency == 'EUR') && name startsWith 'A'",
	"contact == '{c0}' && kind == 'b'",
	"name == 'Anna' && code == nil",
	"kind == 'c' && owner == '{ub}'",
	"qty == 3 && kind in ['a', 'b'] && active == false",
}

// sortTable is every sortable field, both directions, and a few sorts of
// several keys.
func sortTable(e *env) []string {
	var out []string
	for _, f := range e.ent("item").Fields {
		out = append(out, f.Name, "-"+f.Name)
	}
	for _, f := range []string{"id", "created_at", "updated_at", "version", "owner", "created_by"} {
		out = append(out, f, "-"+f)
	}
	return append(out, "kind,-qty", "-kind,qty", "active,due", "-price,name", "owner,-at,ratio", "contact,-id")
}

func (ds *dataset) expand(src string) string {
	return strings.NewReplacer("{c0}", ds.contacts[0], "{c1}", ds.contacts[1], "{ua}", UserA, "{ub}", UserB,
		"{file}", ds.file, "{mid}", ds.items[len(ds.items)/2].ID).Replace(src)
}

// checkOrder fails unless recs are in strictly increasing order of keys.
func checkOrder(e *env, what string, keys []store.SortKey, recs []*store.Record) {
	e.t.Helper()
	for i := 1; i < len(recs); i++ {
		if c := compareRecords(keys, recs[i-1], recs[i]); c >= 0 {
			a, b := recs[i-1], recs[i]
			e.t.Fatalf("%s: items %d and %d out of order:\n %s %v\n %s %v", what, i-1, i, a.ID, sortKeysOf(keys, a), b.ID, sortKeysOf(keys, b))
		}
	}
}

func sortKeysOf(keys []store.SortKey, r *store.Record) []any {
	var out []any
	for _, k := range fullSort(keys) {
		out = append(out, sortValue(r, k.Field))
	}
	return out
}

func testListFilters(e *env) {
	t := e.t
	ds := e.seed(160, 1)
	sorts := sortTable(e)
	for i, raw := range filterTable {
		src := ds.expand(raw)
		f := e.filter("item", src)
		var want []*store.Record
		for _, r := range ds.items {
			ok, err := f.Eval(r)
			if err != nil {
				t.Fatalf("%s: eval: %v", src, err)
			}
			if ok {
				want = append(want, r)
			}
		}
		wantIDs := sorted(recordIDs(want))
		// One page, in the default order (by id).
		p, err := e.st.List(e.ctx, store.Query{Entity: "item", Filter: f, Limit: store.MaxLimit})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if got := recordIDs(p.Items); !slices.Equal(got, wantIDs) || p.NextCursor != "" {
			t.Errorf("filter %s:\n got  %d: %s\n want %d: %s (next cursor %q)", src, len(got), short(got), len(wantIDs), short(wantIDs), p.NextCursor)
			continue
		}
		for _, r := range p.Items {
			if !sameValues(r.Values, ds.items[slices.IndexFunc(ds.items, func(x *store.Record) bool { return x.ID == r.ID })].Values) {
				t.Fatalf("filter %s: %s listed with other values than Get reads", src, r.ID)
			}
		}
		// Paged in other orders: any field, and an indexed one.
		indexed := []string{"qty", "-at", "kind,-qty", "-name", "code", "-contact"}
		for j, s := range []string{sorts[i%len(sorts)], sorts[(i*7+3)%len(sorts)], indexed[i%len(indexed)]} {
			keys := store.ParseSort(s)
			limit := []int{7, 19, 11}[j]
			got := e.listAll(store.Query{Entity: "item", Filter: f, Sort: keys, Limit: limit})
			if !slices.Equal(sorted(recordIDs(got)), wantIDs) {
				t.Errorf("filter %s sorted %q in pages of %d: %d records, want %d", src, s, limit, len(got), len(wantIDs))
				continue
			}
			checkOrder(e, fmt.Sprintf("filter %s sorted %q", src, s), keys, got)
		}
		// Counted.
		n, exact, err := e.st.Count(e.ctx, "item", f)
		if err != nil || n != int64(len(want)) || !exact {
			t.Errorf("Count(%s) = %d, exact %v, %v; want %d, exact", src, n, exact, err, len(want))
		}
	}
}

func testListSort(e *env) {
	t := e.t
	ds := e.seed(150, 2)
	all := sorted(recordIDs(ds.items))
	for i, s := range sortTable(e) {
		keys := store.ParseSort(s)
		limit := []int{7, 13, 50}[i%3]
		got := e.listAll(store.Query{Entity: "item", Sort: keys, Limit: limit})
		if ids := sorted(recordIDs(got)); !slices.Equal(ids, all) {
			t.Fatalf("sort %q in pages of %d: %d records (%d distinct), want %d", s, limit, len(got), len(slices.Compact(ids)), len(all))
		}
		checkOrder(e, fmt.Sprintf("sort %q in pages of %d", s, limit), keys, got)
	}
}

func testListSortInserts(e *env) {
	t := e.t
	ds := e.seed(90, 3)
	r := rand.New(rand.NewPCG(3, 3))
	sorts := []string{"", "-id", "qty,-name", "-created_at", "name", "-price", "due", "-active,at", "owner", "-updated_at", "ratio", "-kind,code"}
	n := len(ds.items)
	gone := map[string]bool{} // deleted by an earlier sort's walk, or this one's
	for _, s := range sorts {
		keys := store.ParseSort(s)
		q := store.Query{Entity: "item", Sort: keys, Limit: 8}
		seen := map[string]int{}
		var got []*store.Record
		for pages := 0; ; pages++ {
			if pages > 500 {
				t.Fatalf("sort %q: no end", s)
			}
			p, err := e.st.List(e.ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			for _, rec := range p.Items {
				seen[rec.ID]++
			}
			got = append(got, p.Items...)
			// Writes between pages: new records must not make others
			// repeat or vanish. (On the first pages only: records that
			// sort after the cursor would otherwise keep the list going.)
			for range min(2, max(0, 10-pages)) {
				if _, err := e.st.Create(e.ctx, randomReq(e, r, n, ds)); err != nil {
					t.Fatal(err)
				}
				n++
			}
			// The record a cursor was taken after may go: the list goes on after where it was.
			if len(p.Items) > 0 && pages%3 == 1 {
				last := p.Items[len(p.Items)-1]
				if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: last.ID}); err != nil {
					t.Fatal(err)
				}
				gone[last.ID] = true
			}
			if p.NextCursor == "" {
				break
			}
			q.Cursor = p.NextCursor
		}
		for _, rec := range ds.items {
			if seen[rec.ID] != 1 && !(gone[rec.ID] && seen[rec.ID] == 0) {
				t.Fatalf("sort %q: record %s seen %d times", s, rec.ID, seen[rec.ID])
			}
		}
		for id, c := range seen {
			if c != 1 {
				t.Fatalf("sort %q: record %s seen %d times", s, id, c)
			}
		}
		checkOrder(e, fmt.Sprintf("sort %q with inserts between pages", s), keys, got)
	}
}

func testListLimits(e *env) {
	t := e.t
	for i := range 120 {
		e.create("contact", map[string]any{"name": fmt.Sprint("c", i)})
	}
	p, err := e.st.List(e.ctx, store.Query{Entity: "contact"})
	if err != nil || len(p.Items) != store.DefaultLimit || p.NextCursor == "" {
		t.Fatalf("default limit: %d items, cursor %q, %v; want %d and a cursor", len(p.Items), p.NextCursor, err, store.DefaultLimit)
	}
	p, err = e.st.List(e.ctx, store.Query{Entity: "contact", Limit: store.MaxLimit})
	if err != nil || len(p.Items) != 120 || p.NextCursor != "" {
		t.Fatalf("limit %d: %d items, cursor %q, %v", store.MaxLimit, len(p.Items), p.NextCursor, err)
	}
	p, err = e.st.List(e.ctx, store.Query{Entity: "contact", Limit: 120})
	if err != nil || len(p.Items) != 120 {
		t.Fatalf("limit = count: %d items, %v", len(p.Items), err)
	}
	if p.NextCursor != "" {
		// A last page may carry a cursor; the page after it is then empty.
		q, err := e.st.List(e.ctx, store.Query{Entity: "contact", Limit: 120, Cursor: p.NextCursor})
		if err != nil || len(q.Items) != 0 || q.NextCursor != "" {
			t.Fatalf("after a full last page: %d items, cursor %q, %v", len(q.Items), q.NextCursor, err)
		}
	}
	p, err = e.st.List(e.ctx, store.Query{Entity: "contact", Limit: 1})
	if err != nil || len(p.Items) != 1 || p.NextCursor == "" {
		t.Fatalf("limit 1: %d items, %v", len(p.Items), err)
	}
	// A cursor read twice gives the same page.
	sortName := store.ParseSort("-name")
	first, err := e.st.List(e.ctx, store.Query{Entity: "contact", Sort: sortName, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	a, err1 := e.st.List(e.ctx, store.Query{Entity: "contact", Sort: sortName, Limit: 10, Cursor: first.NextCursor})
	b, err2 := e.st.List(e.ctx, store.Query{Entity: "contact", Sort: sortName, Limit: 10, Cursor: first.NextCursor})
	if err1 != nil || err2 != nil || len(a.Items) != 10 || !slices.Equal(recordIDs(a.Items), recordIDs(b.Items)) || a.NextCursor != b.NextCursor {
		t.Fatalf("one cursor twice: %v / %v, %v %v", recordIDs(a.Items), recordIDs(b.Items), err1, err2)
	}
	if _, err := e.st.List(e.ctx, store.Query{Entity: "contact", Limit: store.MaxLimit + 1}); !asQueryError(err, "limit") {
		t.Fatalf("limit %d: %v, want a QueryError on limit", store.MaxLimit+1, err)
	}
	if _, err := e.st.List(e.ctx, store.Query{Entity: "contact", Sort: store.ParseSort("nosuch")}); !asQueryError(err, "sort") {
		t.Fatalf("sort by an unknown field: %v, want a QueryError on sort", err)
	}
	if _, err := e.st.List(e.ctx, store.Query{Entity: "contact", Cursor: "garbage!"}); !asQueryError(err, "cursor") {
		t.Fatalf("a garbage cursor: %v, want a QueryError on cursor", err)
	}
	if _, err := e.st.List(e.ctx, store.Query{Entity: "contact", Sort: store.ParseSort("name"), Cursor: p.NextCursor}); !asQueryError(err, "cursor") {
		t.Fatalf("a cursor of another sort: %v, want a QueryError on cursor", err)
	}
	// An empty entity lists nothing.
	p, err = e.st.List(e.ctx, store.Query{Entity: "deal", Sort: store.ParseSort("-amount")})
	if err != nil || len(p.Items) != 0 || p.NextCursor != "" {
		t.Fatalf("empty entity: %+v, %v", p, err)
	}
}

// testPageSeq reads pages while writers write: each page holds exactly
// the records whose creation is at or below its Seq.
func testPageSeq(e *env) {
	t := e.t
	p, err := e.st.List(e.ctx, store.Query{Entity: "contact"})
	if err != nil || p.Seq != e.st.LastSeq() {
		t.Fatalf("empty store: page seq %d, LastSeq %d, %v", p.Seq, e.st.LastSeq(), err)
	}
	const writers, each = 6, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := e.st.Create(context.Background(), store.CreateRequest{Entity: "contact", Values: map[string]any{"name": fmt.Sprint(w, "-", i)}}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	type read struct {
		seq uint64
		ids []string
	}
	var reads []read
	for finished := false; !finished; {
		select {
		case <-done:
			finished = true
		default:
		}
		p, err := e.st.List(e.ctx, store.Query{Entity: "contact", Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		reads = append(reads, read{p.Seq, sorted(recordIDs(p.Items))})
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	evs := e.events(0)
	for _, rd := range reads {
		var want []string
		for _, ev := range evs {
			if ev.Seq <= rd.seq && ev.Op == store.OpCreated {
				want = append(want, ev.ID)
			}
		}
		if !slices.Equal(rd.ids, sorted(want)) {
			t.Fatalf("page at seq %d holds %d records; the feed up to it created %d", rd.seq, len(rd.ids), len(want))
		}
	}
	if last := reads[len(reads)-1]; last.seq != e.st.LastSeq() || len(last.ids) != writers*each {
		t.Fatalf("last read at %d with %d records; LastSeq %d, %d written", last.seq, len(last.ids), e.st.LastSeq(), writers*each)
	}
}

// testListStored lists with Query.Stored: an item may come back
// undecoded, and then AppendAPIForm writes it as APIForm does, and
// DecodeStored gives the values Get reads.
func testListStored(e *env) {
	ds := e.seed(60, 6)
	var contacts []*store.Record
	for i, name := range []string{"Anna", "Արմեն \"quoted\"", "back\\slash", "Zoë <b>&amp;</b>", "\u2028line sep", "emoji 😀"} {
		for j := range 5 {
			vals := map[string]any{"name": fmt.Sprint(name, " ", j), "source": "web"}
			if j%2 == 0 {
				vals["email"] = fmt.Sprintf("c%d.%d@example.com", i, j)
			}
			rec := e.create("contact", vals)
			contacts = append(contacts, e.get("contact", rec.ID))
		}
	}
	for _, id := range ds.contacts {
		contacts = append(contacts, e.get("contact", id))
	}
	e.checkStored("item", ds.items, []string{"", "-name", "qty", "-at"})
	if n := e.checkStored("contact", contacts, []string{"", "-name", "email"}); n == 0 {
		e.t.Log("AppendAPIForm wrote no contact: the backend decodes every listed record")
	}
}

// checkStored lists an entity's records with Query.Stored in each sort
// and compares them with want; it returns how many AppendAPIForm wrote.
func (e *env) checkStored(entity string, want []*store.Record, sorts []string) int {
	t := e.t
	ent := e.ent(entity)
	byID := map[string]*store.Record{}
	for _, r := range want {
		byID[r.ID] = r
	}
	appended := 0
	for _, s := range sorts {
		got := e.listAll(store.Query{Entity: entity, Sort: store.ParseSort(s), Limit: 9, Stored: true})
		if len(got) != len(want) {
			t.Fatalf("%s sorted %q, stored: %d items, want %d", entity, s, len(got), len(want))
		}
		for _, r := range got {
			w := byID[r.ID]
			if w == nil || r.Entity != entity {
				t.Fatalf("%s sorted %q, stored: item %s of %q is none of the records", entity, s, r.ID, r.Entity)
			}
			if b, ok := store.AppendAPIForm(nil, ent, r); ok {
				appended++
				var gotForm, wantForm map[string]any
				wb, err := json.Marshal(store.APIForm(e.ctx, nil, ent, w))
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(b, &gotForm); err != nil {
					t.Fatalf("AppendAPIForm of %s wrote no JSON object: %v\n%s", r.ID, err, b)
				}
				if err := json.Unmarshal(wb, &wantForm); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(gotForm, wantForm) {
					t.Fatalf("AppendAPIForm of %s:\n%s\nAPIForm:\n%s", r.ID, b, wb)
				}
			}
			if err := store.DecodeStored(ent, r); err != nil {
				t.Fatalf("DecodeStored %s: %v", r.ID, err)
			}
			if !sameValues(r.Values, w.Values) || r.Version != w.Version || r.Owner != w.Owner || r.CreatedBy != w.CreatedBy || !r.CreatedAt.Equal(w.CreatedAt) || !r.UpdatedAt.Equal(w.UpdatedAt) {
				t.Fatalf("%s sorted %q, stored: %s decoded as %+v, Get reads %+v", entity, s, r.ID, r, w)
			}
		}
		checkOrder(e, fmt.Sprintf("%s sorted %q, stored", entity, s), store.ParseSort(s), got)
	}
	return appended
}
