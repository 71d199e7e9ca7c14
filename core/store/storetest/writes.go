package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// everyType is a value of every field of item, unicode included, as
// client input would give it.
func (e *env) everyType(contact, file string) map[string]any {
	return map[string]any{
		"name":     "Արմեն Дмитрий Zoë 😀 O'Brien",
		"code":     "ՔՈԴ-1",
		"note":     "line one\nline two\twith a tab — ünïcödé",
		"qty":      int64(-42),
		"score":    int64(9_007_199_254_740_993), // above 2^53: no float on the way
		"ratio":    "-1234567890.0123456789",
		"price":    map[string]any{"amount": "1500.25", "currency": "USD"},
		"active":   false,
		"due":      "2026-02-28",
		"at":       "2026-03-21T14:30:00.123456789+04:00",
		"kind":     "b",
		"email":    "Anna.Petrosyan@Example.AM",
		"phone":    "+37491123456",
		"site":     "https://example.com/path?q=ա",
		"contact":  contact,
		"assignee": UserB,
		"doc":      file,
	}
}

func testCreateGetRoundTrip(e *env) {
	t := e.t
	c := e.create("contact", map[string]any{"name": "Anahit"})
	f, err := e.st.PutFile(e.ctx, "a.txt", "text/plain", UserA, stringsReader("hello"), 100)
	if err != nil {
		t.Fatal(err)
	}
	vals := e.canon("item", e.everyType(c.ID, f.ID))
	before := e.st.LastSeq()
	rec, err := e.st.Create(e.ctx, store.CreateRequest{Entity: "item", Values: vals, By: UserA})
	if err != nil {
		t.Fatal(err)
	}
	if !store.ValidID(rec.ID) || rec.Entity != "item" || rec.Version != 1 || rec.Owner != UserA || rec.CreatedBy != UserA {
		t.Fatalf("created record = %+v", rec)
	}
	if rec.CreatedAt.IsZero() || !rec.CreatedAt.Equal(rec.UpdatedAt) {
		t.Fatalf("created_at %v, updated_at %v: want equal and set", rec.CreatedAt, rec.UpdatedAt)
	}
	if !sameValues(rec.Values, vals) {
		t.Fatalf("Create answered values\n%v\nwant\n%v", rec.Values, vals)
	}
	got := e.get("item", rec.ID)
	if !sameValues(got.Values, vals) {
		t.Fatalf("Get read values\n%#v\nwant\n%#v", got.Values, vals)
	}
	if got.Version != 1 || got.Owner != UserA || got.CreatedBy != UserA || !got.CreatedAt.Equal(rec.CreatedAt) || !got.UpdatedAt.Equal(rec.UpdatedAt) || got.Entity != "item" || got.ID != rec.ID {
		t.Fatalf("Get = %+v, want the created record %+v", got, rec)
	}
	if e.st.LastSeq() <= before {
		t.Fatalf("LastSeq %d did not move past %d", e.st.LastSeq(), before)
	}
	// The list reads the same values.
	p, err := e.st.List(e.ctx, store.Query{Entity: "item"})
	if err != nil || len(p.Items) != 1 || !sameValues(p.Items[0].Values, vals) {
		t.Fatalf("List = %+v, %v", p, err)
	}
	// Owner defaults to the writer when it is a user; a rule or the system owns nothing.
	r := e.createReq(store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "by rule"}, By: "rule:welcome"})
	if r.Owner != "" || r.CreatedBy != "rule:welcome" {
		t.Fatalf("record of a rule: owner %q created_by %q", r.Owner, r.CreatedBy)
	}
	r = e.createReq(store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "given"}, By: UserA, Owner: UserB})
	if r.Owner != UserB || e.get("contact", r.ID).Owner != UserB {
		t.Fatalf("owner given: %q", r.Owner)
	}
	// A missing owner is refused.
	_, err = e.st.Create(e.ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "x"}, Owner: "01JNOSUCHUSER0000000000000"})
	if !asInvalid(err, "owner") {
		t.Fatalf("create owned by no user: %v", err)
	}
}

func testUpdateVersions(e *env) {
	t := e.t
	rec := e.create("item", map[string]any{"name": "Anahit", "qty": int64(1), "kind": "a"})
	time.Sleep(2 * time.Millisecond) // so that updated_at can differ from created_at
	up := e.update(store.UpdateRequest{Entity: "item", ID: rec.ID, Set: map[string]any{"name": "Ani", "ratio": "2.5"}, Clear: []string{"qty"}, By: UserB})
	if up.Version != 2 || up.Values["name"] != "Ani" || up.Values["qty"] != nil || up.Values["kind"] != "a" || up.Values["ratio"] != schema.Decimal("2.5") {
		t.Fatalf("update = %+v", up)
	}
	if !up.CreatedAt.Equal(rec.CreatedAt) || up.UpdatedAt.Before(rec.UpdatedAt) || up.CreatedBy != UserA || up.Owner != UserA {
		t.Fatalf("update changed system fields: %+v (was %+v)", up, rec)
	}
	got := e.get("item", rec.ID)
	if got.Version != 2 || !sameValues(got.Values, up.Values) {
		t.Fatalf("get after update = %+v", got)
	}
	// A write that changes nothing writes nothing.
	seq := e.st.LastSeq()
	same := e.update(store.UpdateRequest{Entity: "item", ID: rec.ID, Set: map[string]any{"name": "Ani"}, Clear: []string{"qty"}})
	if same.Version != 2 || e.st.LastSeq() != seq {
		t.Fatalf("no-op update: version %d, seq %d -> %d", same.Version, seq, e.st.LastSeq())
	}
	// A new owner.
	own := e.update(store.UpdateRequest{Entity: "item", ID: rec.ID, Owner: UserB})
	if own.Owner != UserB || own.Version != 3 || e.get("item", rec.ID).Owner != UserB {
		t.Fatalf("owner change: %+v", own)
	}
	_, err := e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: rec.ID, Owner: "01JNOSUCHUSER0000000000000"})
	if !asInvalid(err, "owner") {
		t.Fatalf("owner that is no user: %v", err)
	}
}

func testDelete(e *env) {
	t := e.t
	rec := e.create("item", map[string]any{"name": "gone", "code": "G1"})
	keep := e.create("item", map[string]any{"name": "kept"})
	seq := e.st.LastSeq()
	del, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: rec.ID, By: UserB})
	if err != nil || del.ID != rec.ID || del.Values["name"] != "gone" {
		t.Fatalf("delete = %+v, %v", del, err)
	}
	if e.st.LastSeq() <= seq {
		t.Fatal("a delete did not move the feed")
	}
	if _, err := e.st.Get(e.ctx, "item", rec.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: rec.ID}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: rec.ID, Set: e.canon("item", map[string]any{"name": "x"})}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of deleted: %v", err)
	}
	p, err := e.st.List(e.ctx, store.Query{Entity: "item"})
	if err != nil || !slices.Equal(recordIDs(p.Items), []string{keep.ID}) {
		t.Fatalf("list after delete: %v, %v", p, err)
	}
	// The unique value is free again.
	e.create("item", map[string]any{"name": "again", "code": "G1"})
}

func testIfVersion(e *env) {
	t := e.t
	rec := e.create("item", map[string]any{"name": "v1"})
	e.update(store.UpdateRequest{Entity: "item", ID: rec.ID, Set: map[string]any{"name": "v2"}, IfVersion: 1})
	seq := e.st.LastSeq()
	_, err := e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: rec.ID, Set: e.canon("item", map[string]any{"name": "stale"}), IfVersion: 1})
	if _, ok := asConflict(err, store.CodeVersion); !ok {
		t.Fatalf("stale update: %v", err)
	}
	_, err = e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: rec.ID, IfVersion: 1})
	if _, ok := asConflict(err, store.CodeVersion); !ok {
		t.Fatalf("stale delete: %v", err)
	}
	if got := e.get("item", rec.ID); got.Version != 2 || got.Values["name"] != "v2" || e.st.LastSeq() != seq {
		t.Fatalf("refused writes changed something: %+v, seq %d -> %d", got, seq, e.st.LastSeq())
	}
	// Writers racing from one version: exactly one wins.
	const writers = 16
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: rec.ID, Set: map[string]any{"score": int64(i)}, IfVersion: 2})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
		} else if _, ok := asConflict(err, store.CodeVersion); !ok {
			t.Fatalf("a losing writer: %v", err)
		}
	}
	if got := e.get("item", rec.ID); won != 1 || got.Version != 3 {
		t.Fatalf("%d writers won from version 2, record at %d; want 1 and 3", won, got.Version)
	}
	if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: rec.ID, IfVersion: 3}); err != nil {
		t.Fatalf("delete at the current version: %v", err)
	}
	// Read-modify-write with IfVersion, retried on conflict, loses no
	// increment; so does one whose check refuses a version it did not read.
	ctr := e.create("item", map[string]any{"name": "counter", "score": int64(0), "qty": int64(0)})
	const incs = 12
	errc := make(chan error, writers)
	for range writers / 2 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			errc <- e.increment(ctr.ID, "score", incs, true)
		}()
		go func() {
			defer wg.Done()
			errc <- e.increment(ctr.ID, "qty", incs, false)
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := e.get("item", ctr.ID)
	if got.Values["score"] != int64(writers/2*incs) || got.Values["qty"] != int64(writers/2*incs) || got.Version != 1+writers*incs {
		t.Fatalf("after %d increments of each: %+v", writers/2*incs, got)
	}
}

// increment adds 1 to an int field n times, each a read and a write that
// fails unless the record is still at the version read (by IfVersion, or
// by a check), retried until it goes through.
func (e *env) increment(id, field string, n int, ifVersion bool) error {
	for range n {
		for tries := 0; ; tries++ {
			if tries > 1000 {
				return fmt.Errorf("increment of %s: no write went through in 1000 tries", field)
			}
			cur, err := e.st.Get(e.ctx, "item", id)
			if err != nil {
				return err
			}
			req := store.UpdateRequest{Entity: "item", ID: id, Set: map[string]any{field: cur.Values[field].(int64) + 1}}
			stale := errors.New("stale")
			if ifVersion {
				req.IfVersion = cur.Version
			} else {
				req.Check = func(now *store.Record) error {
					if now.Version != cur.Version {
						return stale
					}
					return nil
				}
			}
			_, err = e.st.Update(e.ctx, req)
			if _, ok := asConflict(err, store.CodeVersion); ok || errors.Is(err, stale) {
				continue
			}
			if err != nil {
				return err
			}
			break
		}
	}
	return nil
}

func testChecks(e *env) {
	t := e.t
	c := e.create("contact", map[string]any{"name": "c"})
	rec := e.create("item", map[string]any{"name": "v1", "code": "K1", "contact": c.ID})
	e.update(store.UpdateRequest{Entity: "item", ID: rec.ID, Set: map[string]any{"name": "v2"}})
	var seen *store.Record
	denied := errors.New("denied by the check")
	check := func(cur *store.Record) error {
		seen = cur
		return denied
	}
	seq, counts := e.st.LastSeq(), e.st.Counts()
	_, err := e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: rec.ID, Set: e.canon("item", map[string]any{"name": "v3", "code": "K2"}), Check: check})
	if !errors.Is(err, denied) {
		t.Fatalf("update with a failing check: %v", err)
	}
	if seen == nil || seen.Version != 2 || seen.Values["name"] != "v2" || seen.ID != rec.ID {
		t.Fatalf("the check saw %+v, want the current version 2", seen)
	}
	seen = nil
	_, err = e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: rec.ID, Check: check})
	if !errors.Is(err, denied) || seen == nil || seen.Version != 2 {
		t.Fatalf("delete with a failing check: %v, saw %+v", err, seen)
	}
	// A check on the delete of a referenced record aborts it too, force or not.
	_, err = e.st.Delete(e.ctx, store.DeleteRequest{Entity: "contact", ID: c.ID, Force: true, Check: check})
	if !errors.Is(err, denied) {
		t.Fatalf("forced delete with a failing check: %v", err)
	}
	got := e.get("item", rec.ID)
	if got.Version != 2 || got.Values["code"] != "K1" || got.Values["contact"] != c.ID || e.st.LastSeq() != seq || !mapsEqual(e.st.Counts(), counts) {
		t.Fatalf("a refused write changed something: %+v, seq %d -> %d", got, seq, e.st.LastSeq())
	}
	// K2 was not taken by the refused write.
	e.create("item", map[string]any{"name": "other", "code": "K2"})
	// A passing check lets the write through.
	up := e.update(store.UpdateRequest{Entity: "item", ID: rec.ID, Set: map[string]any{"name": "v3"}, Check: func(cur *store.Record) error {
		if cur.Version != 2 {
			return fmt.Errorf("version %d", cur.Version)
		}
		return nil
	}})
	if up.Version != 3 {
		t.Fatalf("update with a passing check: %+v", up)
	}
}

func mapsEqual(a, b map[string]int64) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	for k, v := range b {
		if a[k] != v {
			return false
		}
	}
	return true
}

func testMissing(e *env) {
	t := e.t
	const nobody = "01JXXXXXXXXXXXXXXXXXXXXXXX"
	if _, err := e.st.Get(e.ctx, "item", nobody); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get missing: %v", err)
	}
	if _, err := e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: nobody, Set: e.canon("item", map[string]any{"name": "x"})}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update missing: %v", err)
	}
	if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: nobody}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("delete missing: %v", err)
	}
	if _, err := e.st.Get(e.ctx, "nosuch", nobody); err == nil {
		t.Fatal("get of an unknown entity: no error")
	}
	var ie *store.InvalidError
	if _, err := e.st.Create(e.ctx, store.CreateRequest{Entity: "nosuch", Values: map[string]any{}}); !errors.As(err, &ie) {
		t.Fatalf("create of an unknown entity: %v", err)
	}
	if _, err := e.st.List(e.ctx, store.Query{Entity: "nosuch"}); err == nil {
		t.Fatal("list of an unknown entity: no error")
	}
	if e.st.LastSeq() != 0 {
		t.Fatalf("failed writes moved the feed to %d", e.st.LastSeq())
	}
}

func testUnique(e *env) {
	t := e.t
	a := e.create("item", map[string]any{"name": "a", "code": "U1"})
	b := e.create("item", map[string]any{"name": "b", "code": "U2"})
	seq := e.st.LastSeq()
	_, err := e.st.Create(e.ctx, store.CreateRequest{Entity: "item", Values: e.canon("item", map[string]any{"name": "c", "code": "U1"})})
	if ce, ok := asConflict(err, store.CodeDuplicate); !ok || ce.Field != "code" {
		t.Fatalf("duplicate create: %v", err)
	}
	_, err = e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: b.ID, Set: e.canon("item", map[string]any{"code": "U1"})})
	if ce, ok := asConflict(err, store.CodeDuplicate); !ok || ce.Field != "code" {
		t.Fatalf("duplicate update: %v", err)
	}
	if e.st.LastSeq() != seq || e.get("item", b.ID).Values["code"] != "U2" {
		t.Fatal("a refused duplicate wrote something")
	}
	// Keeping one's own value is no duplicate.
	e.update(store.UpdateRequest{Entity: "item", ID: a.ID, Set: map[string]any{"code": "U1", "name": "a2"}})
	// Unique values are exact: case and other text differ.
	e.create("item", map[string]any{"name": "d", "code": "u1"})
	// A value let go (changed, cleared) is free again.
	e.update(store.UpdateRequest{Entity: "item", ID: a.ID, Set: map[string]any{"code": "U3"}})
	e.update(store.UpdateRequest{Entity: "item", ID: b.ID, Clear: []string{"code"}})
	e.create("item", map[string]any{"name": "e", "code": "U1"})
	e.create("item", map[string]any{"name": "f", "code": "U2"})
	// Records without a value do not collide.
	e.create("item", map[string]any{"name": "g"})
	e.create("item", map[string]any{"name": "h"})
}

func testUniqueConcurrent(e *env) {
	t := e.t
	const writers = 32
	vals := e.canon("item", map[string]any{"name": "race", "code": "SAME"})
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.st.Create(e.ctx, store.CreateRequest{Entity: "item", Values: vals, By: UserA})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		if err == nil {
			won++
			continue
		}
		if ce, ok := asConflict(err, store.CodeDuplicate); !ok || ce.Field != "code" {
			t.Fatalf("a losing writer got %v, want a duplicate on code", err)
		}
	}
	if won != 1 || e.st.Counts()["item"] != 1 {
		t.Fatalf("%d writers won, %d items; want exactly 1", won, e.st.Counts()["item"])
	}
	if evs := e.events(0); len(evs) != 1 {
		t.Fatalf("%d events, want 1", len(evs))
	}
	// Updates racing to one value: one wins.
	var ids []string
	for i := range writers {
		ids = append(ids, e.create("item", map[string]any{"name": "u", "code": fmt.Sprint("OWN", i)}).ID)
	}
	set := e.canon("item", map[string]any{"code": "TAKEN"})
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: ids[i], Set: set})
		}()
	}
	wg.Wait()
	won = 0
	for _, err := range errs {
		if err == nil {
			won++
		} else if _, ok := asConflict(err, store.CodeDuplicate); !ok {
			t.Fatalf("a losing update got %v", err)
		}
	}
	n, _, err := e.st.Count(e.ctx, "item", e.filter("item", "code == 'TAKEN'"))
	if won != 1 || n != 1 || err != nil {
		t.Fatalf("%d updates won, %d records hold the value (%v); want exactly 1", won, n, err)
	}
}

func testIdempotency(e *env) {
	t := e.t
	req := store.CreateRequest{Entity: "task", Values: e.canon("task", map[string]any{"title": "call back"}), IdempotencyKey: "rule:1:0", Cause: "r1", By: "rule:r1"}
	a, err := e.st.Create(e.ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	req.Values = e.canon("task", map[string]any{"title": "another title"})
	b, err := e.st.Create(e.ctx, req)
	if err != nil || b == nil || b.ID != a.ID || b.Values["title"] != "call back" {
		t.Fatalf("second create with the key = %+v, %v; want the first record", b, err)
	}
	if e.st.Counts()["task"] != 1 || len(e.events(0)) != 1 {
		t.Fatalf("the repeated create wrote: %d tasks, %d events", e.st.Counts()["task"], len(e.events(0)))
	}
	up := store.UpdateRequest{Entity: "task", ID: a.ID, Set: e.canon("task", map[string]any{"title": "x"}), IdempotencyKey: "rule:2:0"}
	if _, err := e.st.Update(e.ctx, up); err != nil {
		t.Fatal(err)
	}
	up.Set = e.canon("task", map[string]any{"title": "y"})
	u, err := e.st.Update(e.ctx, up)
	if err != nil || u.Values["title"] != "x" || u.Version != 2 {
		t.Fatalf("repeated update = %+v, %v; want the first update's record", u, err)
	}
	if evs := e.events(0); len(evs) != 2 || evs[0].Cause != "r1" {
		t.Fatalf("events = %+v, want 2, the first with cause r1", evs)
	}
	// Concurrent writes with one key: one record.
	var wg sync.WaitGroup
	got := make([]*store.Record, 16)
	errs := make([]error, 16)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], errs[i] = e.st.Create(e.ctx, store.CreateRequest{Entity: "task", Values: e.canonNoT("task", map[string]any{"title": fmt.Sprint("t", i)}), IdempotencyKey: "race"})
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || got[i] == nil || got[i].ID != got[0].ID {
			t.Fatalf("concurrent create %d with one key: %+v, %v (first %+v)", i, got[i], errs[i], got[0])
		}
	}
	if e.st.Counts()["task"] != 2 {
		t.Fatalf("%d tasks after 16 creates with one key, want 2", e.st.Counts()["task"])
	}
}

// canonNoT is canon for other goroutines: a failure is a panic-free nil map.
func (e *env) canonNoT(entity string, vals map[string]any) map[string]any {
	ent := e.sch.Entity(entity)
	out := map[string]any{}
	for k, v := range vals {
		if c, err := ent.Field(k).NormalizeValue(v); err == nil && c != nil {
			out[k] = c
		}
	}
	return out
}

func testUnless(e *env) {
	t := e.t
	first := e.create("item", map[string]any{"name": "Anna", "code": "X1", "score": int64(7)})
	seq := e.st.LastSeq()
	for _, src := range []string{"code == 'X1'", "score == 7 && name == 'Anna'", "name startsWith 'An'"} {
		_, err := e.st.Create(e.ctx, store.CreateRequest{Entity: "item", Values: e.canon("item", map[string]any{"name": "dup"}), Unless: e.filter("item", src)})
		var ee *store.ExistsError
		if !errors.As(err, &ee) || ee.Record == nil || ee.Record.ID != first.ID {
			t.Fatalf("Unless %q: %v, want an ExistsError with %s", src, err, first.ID)
		}
	}
	if e.st.LastSeq() != seq || e.st.Counts()["item"] != 1 {
		t.Fatal("a create refused by Unless wrote something")
	}
	rec, err := e.st.Create(e.ctx, store.CreateRequest{Entity: "item", Values: e.canon("item", map[string]any{"name": "new"}), Unless: e.filter("item", "code == 'X2'")})
	if err != nil || rec == nil {
		t.Fatalf("Unless matching nothing: %v", err)
	}
	// Concurrent conditional creates of one key: one record, whether the
	// condition is on an indexed field or not.
	for _, field := range []string{"score", "qty"} {
		var wg sync.WaitGroup
		errs := make([]error, 16)
		f := e.filter("item", field+" == 99")
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = e.st.Create(e.ctx, store.CreateRequest{Entity: "item", Values: map[string]any{"name": "racer", field: int64(99)}, Unless: f})
			}()
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			var ee *store.ExistsError
			switch {
			case err == nil:
				won++
			case !errors.As(err, &ee):
				t.Fatalf("concurrent Unless on %s: %v", field, err)
			}
		}
		if won != 1 {
			t.Fatalf("%d conditional creates on %s won, want 1", won, field)
		}
	}
}

func testHistory(e *env) {
	t := e.t
	rec := e.create("item", map[string]any{"name": "Anahit", "note": "web", "price": map[string]any{"amount": "10.50", "currency": "USD"}, "due": "2026-01-31"})
	e.update(store.UpdateRequest{Entity: "item", ID: rec.ID, Set: map[string]any{"name": "Ani"}, Clear: []string{"note"}, By: UserB})
	e.update(store.UpdateRequest{Entity: "item", ID: rec.ID, Owner: UserB, By: UserB})
	if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: rec.ID, By: UserA}); err != nil {
		t.Fatal(err)
	}
	hist, err := e.st.History(e.ctx, "item", rec.ID)
	if err != nil || len(hist) != 4 {
		t.Fatalf("history = %+v, %v; want 4 entries", hist, err)
	}
	actions := []string{store.OpCreated, store.OpUpdated, store.OpUpdated, store.OpDeleted}
	bys := []string{UserA, UserB, UserB, UserA}
	for i, h := range hist {
		if h.Action != actions[i] || h.By != bys[i] || h.At.IsZero() {
			t.Fatalf("entry %d = %+v, want %s by %s", i, h, actions[i], bys[i])
		}
		if i > 0 && (h.Seq <= hist[i-1].Seq || h.Version <= hist[i-1].Version) {
			t.Fatalf("entries %d and %d out of order: %+v, %+v", i-1, i, hist[i-1], h)
		}
	}
	if hist[0].Version != 1 || hist[1].Version != 2 || hist[2].Version != 3 {
		t.Fatalf("versions %d %d %d, want 1 2 3", hist[0].Version, hist[1].Version, hist[2].Version)
	}
	c := hist[0].Changes
	price, _ := c["price"].New.(map[string]any)
	if c["name"].New != "Anahit" || c["name"].Old != nil || c["due"].New != "2026-01-31" || price["amount"] != "10.50" || price["currency"] != "USD" || c["owner"].New != UserA {
		t.Fatalf("created changes = %#v", c)
	}
	c = hist[1].Changes
	if len(c) != 2 || c["name"].Old != "Anahit" || c["name"].New != "Ani" || c["note"].Old != "web" || c["note"].New != nil {
		t.Fatalf("updated changes = %#v", c)
	}
	c = hist[2].Changes
	if len(c) != 1 || c["owner"].Old != UserA || c["owner"].New != UserB {
		t.Fatalf("owner changes = %#v", c)
	}
	c = hist[3].Changes
	if c["name"].Old != "Ani" || c["name"].New != nil || c["due"].Old != "2026-01-31" {
		t.Fatalf("deleted changes = %#v", c)
	}
	// History entries are the feed's positions.
	evs := e.events(0)
	var mine []store.Event
	for _, ev := range evs {
		if ev.ID == rec.ID {
			mine = append(mine, ev)
		}
	}
	if len(mine) != 4 {
		t.Fatalf("%d events of the record, want 4", len(mine))
	}
	for i := range mine {
		if mine[i].Seq != hist[i].Seq || mine[i].Op != hist[i].Action || mine[i].Version != hist[i].Version {
			t.Fatalf("event %+v and history entry %+v differ", mine[i], hist[i])
		}
	}
	if h, err := e.st.History(e.ctx, "item", "01JXXXXXXXXXXXXXXXXXXXXXXX"); err != nil || len(h) != 0 {
		t.Fatalf("history of no record: %v, %v", h, err)
	}
}

func testHistoryBefore(e *env) {
	t := e.t
	rec := e.create("contact", map[string]any{"name": "v0"})
	other := e.create("contact", map[string]any{"name": "other"})
	for i := 1; i <= 11; i++ {
		for _, id := range []string{rec.ID, other.ID} {
			e.update(store.UpdateRequest{Entity: "contact", ID: id, Set: map[string]any{"name": fmt.Sprintf("v%d", i)}})
		}
	}
	all, err := e.st.History(e.ctx, "contact", rec.ID)
	if err != nil || len(all) != 12 {
		t.Fatalf("history: %d, %v", len(all), err)
	}
	slices.Reverse(all)
	for _, limit := range []int{1, 3, 5, 12, 50} {
		var paged []store.HistoryEntry
		before := uint64(0)
		for range 20 {
			page, err := e.st.HistoryBefore(e.ctx, "contact", rec.ID, before, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) > limit {
				t.Fatalf("limit %d: a page of %d", limit, len(page))
			}
			if len(page) == 0 {
				break
			}
			paged = append(paged, page...)
			before = page[len(page)-1].Seq
		}
		if len(paged) != len(all) {
			t.Fatalf("limit %d: paged %d entries, want %d", limit, len(paged), len(all))
		}
		for i := range all {
			if paged[i].Seq != all[i].Seq || paged[i].Version != all[i].Version || paged[i].Changes["name"].New != all[i].Changes["name"].New {
				t.Fatalf("limit %d: entry %d is %+v, want %+v", limit, i, paged[i], all[i])
			}
		}
	}
	// below the first entry: nothing; a position between entries: the older ones.
	if page, err := e.st.HistoryBefore(e.ctx, "contact", rec.ID, all[len(all)-1].Seq, 5); err != nil || len(page) != 0 {
		t.Fatalf("before the first entry: %v %v", page, err)
	}
	mid := all[5].Seq
	page, err := e.st.HistoryBefore(e.ctx, "contact", rec.ID, mid+1, 2)
	if err != nil || len(page) != 2 || page[0].Seq != mid || page[1].Seq != all[6].Seq {
		t.Fatalf("before %d: %+v, %v", mid+1, page, err)
	}
}

// testUniqueSwaps moves unique values between records from many writers
// at once: afterwards no two records share a value, a held value is
// refused to another record and a free one is given.
func testUniqueSwaps(e *env) {
	t := e.t
	const n = 24
	var ids []string
	for i := range n {
		ids = append(ids, e.create("item", map[string]any{"name": "s", "code": fmt.Sprint("S", i)}).ID)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 256)
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				k := (w*5 + i) % n
				var err error
				switch i % 3 {
				case 0: // take the next record's value
					_, err = e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: ids[k], Set: map[string]any{"code": fmt.Sprint("S", (k+1)%n)}})
				case 1: // let the value go
					_, err = e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: ids[k], Set: map[string]any{"code": fmt.Sprint("T", k, "-", w)}})
				default: // a new record wants it
					_, err = e.st.Create(e.ctx, store.CreateRequest{Entity: "item", Values: map[string]any{"name": "new", "code": fmt.Sprint("S", k)}})
				}
				if _, dup := asConflict(err, store.CodeDuplicate); err != nil && !dup {
					errc <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	holder := map[string]string{}
	for _, r := range e.listAll(store.Query{Entity: "item", Limit: store.MaxLimit}) {
		code, _ := r.Values["code"].(string)
		if code == "" {
			continue
		}
		if other, ok := holder[code]; ok {
			t.Fatalf("records %s and %s both hold %s", other, r.ID, code)
		}
		holder[code] = r.ID
	}
	for i := range n {
		code := fmt.Sprint("S", i)
		_, err := e.st.Create(e.ctx, store.CreateRequest{Entity: "item", Values: map[string]any{"name": "probe", "code": code}})
		_, held := holder[code]
		_, dup := asConflict(err, store.CodeDuplicate)
		if held && !dup || !held && err != nil {
			t.Fatalf("create with %s (held: %v): %v", code, held, err)
		}
	}
}
