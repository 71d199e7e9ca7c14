package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/crmkit/crm/core/store"
)

func stringsReader(s string) *strings.Reader { return strings.NewReader(s) }

const missingID = "01JXXXXXXXXXXXXXXXXXXXXXXX"

func testRefsMissing(e *env) {
	t := e.t
	for field, v := range map[string]string{"contact": missingID, "assignee": "01JNOSUCHUSER0000000000000", "doc": missingID} {
		_, err := e.st.Create(e.ctx, store.CreateRequest{Entity: "item", Values: e.canon("item", map[string]any{"name": "x", field: v})})
		if !asInvalid(err, field) {
			t.Fatalf("create with %s naming nothing: %v, want an InvalidError on %s", field, err, field)
		}
	}
	c := e.create("contact", map[string]any{"name": "c"})
	rec := e.create("item", map[string]any{"name": "x", "contact": c.ID})
	_, err := e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: rec.ID, Set: e.canon("item", map[string]any{"other": missingID})})
	if !asInvalid(err, "other") {
		t.Fatalf("update to a missing ref: %v", err)
	}
	// A ref to a deleted record is refused too.
	gone := e.create("contact", map[string]any{"name": "gone"})
	if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "contact", ID: gone.ID}); err != nil {
		t.Fatal(err)
	}
	_, err = e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: rec.ID, Set: e.canon("item", map[string]any{"other": gone.ID})})
	if !asInvalid(err, "other") {
		t.Fatalf("update to a deleted ref: %v", err)
	}
	if got := e.get("item", rec.ID); got.Version != 1 || got.Values["other"] != nil {
		t.Fatalf("refused ref writes changed the record: %+v", got)
	}
	if e.st.Counts()["item"] != 1 {
		t.Fatalf("items: %d", e.st.Counts()["item"])
	}
}

func testRefsDeleteRefused(e *env) {
	t := e.t
	c := e.create("contact", map[string]any{"name": "Aram"})
	var want []store.Ref
	d := e.create("deal", map[string]any{"title": "Car", "contact": c.ID})
	want = append(want, store.Ref{Entity: "deal", ID: d.ID, Field: "contact"})
	for range 3 {
		it := e.create("item", map[string]any{"name": "both", "contact": c.ID, "other": c.ID})
		want = append(want, store.Ref{Entity: "item", ID: it.ID, Field: "contact"}, store.Ref{Entity: "item", ID: it.ID, Field: "other"})
	}
	seq := e.st.LastSeq()
	_, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "contact", ID: c.ID})
	ce, ok := asConflict(err, store.CodeReferenced)
	if !ok {
		t.Fatalf("delete of a referenced record: %v", err)
	}
	if ce.Count != len(want) || len(ce.Refs) == 0 || len(ce.Refs) > ce.Count {
		t.Fatalf("referenced: count %d, %d refs; want count %d and some refs", ce.Count, len(ce.Refs), len(want))
	}
	for _, r := range ce.Refs {
		if !slices.Contains(want, r) {
			t.Fatalf("ref %+v is not one of %+v", r, want)
		}
	}
	if _, err := e.st.Get(e.ctx, "contact", c.ID); err != nil || e.st.LastSeq() != seq {
		t.Fatalf("a refused delete changed something: %v, seq %d -> %d", err, seq, e.st.LastSeq())
	}
	// Once the references go, the delete goes through.
	for _, r := range want {
		if r.Field == "other" {
			continue
		}
		clear := []string{"contact"}
		if r.Entity == "item" {
			clear = append(clear, "other")
		}
		e.update(store.UpdateRequest{Entity: r.Entity, ID: r.ID, Clear: clear})
	}
	if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "contact", ID: c.ID}); err != nil {
		t.Fatalf("delete after the refs were cleared: %v", err)
	}
}

func testRefsForce(e *env) {
	t := e.t
	c := e.create("contact", map[string]any{"name": "Aram"})
	d := e.create("deal", map[string]any{"title": "Car", "contact": c.ID})
	v := e.create("item", map[string]any{"name": "V1", "contact": c.ID, "other": c.ID, "qty": int64(3)})
	keep := e.create("item", map[string]any{"name": "unrelated"})
	before := e.st.LastSeq()
	if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "contact", ID: c.ID, Force: true, By: UserB}); err != nil {
		t.Fatal(err)
	}
	gotD, gotV := e.get("deal", d.ID), e.get("item", v.ID)
	if gotD.Values["contact"] != nil || gotD.Version != 2 || gotV.Values["contact"] != nil || gotV.Values["other"] != nil || gotV.Version != 2 || gotV.Values["qty"] != int64(3) {
		t.Fatalf("refs not cleared: deal %+v item %+v", gotD, gotV)
	}
	if e.get("item", keep.ID).Version != 1 {
		t.Fatal("an unrelated record changed")
	}
	hist, _ := e.st.History(e.ctx, "item", v.ID)
	if len(hist) != 2 || hist[1].Action != store.OpUpdated || hist[1].Changes["contact"].Old != c.ID || hist[1].Changes["other"].Old != c.ID || hist[1].By != UserB {
		t.Fatalf("item history = %+v", hist)
	}
	if _, err := e.st.Get(e.ctx, "contact", c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get force-deleted: %v", err)
	}
	// One event per record written: the deal, the item, the contact.
	evs := e.events(before)
	ops := map[string]string{}
	for _, ev := range evs {
		ops[ev.Entity+" "+ev.ID] = ev.Op
	}
	if len(evs) != 3 || ops["deal "+d.ID] != store.OpUpdated || ops["item "+v.ID] != store.OpUpdated || ops["contact "+c.ID] != store.OpDeleted {
		t.Fatalf("events of a forced delete: %+v", evs)
	}
	// The lists and indexes forget the reference.
	n, _, err := e.st.Count(e.ctx, "item", e.filter("item", "contact == '"+c.ID+"'"))
	if err != nil || n != 0 {
		t.Fatalf("items still counted with the contact: %d, %v", n, err)
	}
	p, err := e.st.List(e.ctx, store.Query{Entity: "deal", Filter: e.filter("deal", "contact == '"+c.ID+"'")})
	if err != nil || len(p.Items) != 0 {
		t.Fatalf("deals still listed with the contact: %v, %v", p, err)
	}
	if e.st.Counts()["contact"] != 0 {
		t.Fatalf("contacts: %d", e.st.Counts()["contact"])
	}
}

// testRefsSelf: refs between records of one entity hold like any other,
// but a record's ref to itself does not keep it from being deleted.
func testRefsSelf(e *env) {
	t := e.t
	parent := e.create("item", map[string]any{"name": "parent"})
	child := e.create("item", map[string]any{"name": "child", "parent": parent.ID})
	e.update(store.UpdateRequest{Entity: "item", ID: parent.ID, Set: map[string]any{"parent": parent.ID}})
	_, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: parent.ID})
	ce, ok := asConflict(err, store.CodeReferenced)
	if !ok || ce.Count != 1 || len(ce.Refs) != 1 || ce.Refs[0] != (store.Ref{Entity: "item", ID: child.ID, Field: "parent"}) {
		t.Fatalf("delete of a parent: %#v", err)
	}
	if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: parent.ID, Force: true}); err != nil {
		t.Fatal(err)
	}
	if got := e.get("item", child.ID); got.Values["parent"] != nil || got.Version != 2 {
		t.Fatalf("child after a forced delete: %+v", got)
	}
	self := e.create("item", map[string]any{"name": "self"})
	e.update(store.UpdateRequest{Entity: "item", ID: self.ID, Set: map[string]any{"parent": self.ID}})
	if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: self.ID}); err != nil {
		t.Fatalf("delete of a record that only refers to itself: %v", err)
	}
	if _, err := e.st.Get(e.ctx, "item", self.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("self-referencing record after delete: %v", err)
	}
}

// testRefsConcurrent force-deletes contacts while other writers create and
// update items that refer to them: afterwards no item refers to a contact
// that does not exist, and each write either went through or was refused
// with an InvalidError on the ref (or ErrNotFound for the deleted).
func testRefsConcurrent(e *env) {
	t := e.t
	var contacts []string
	for i := range 20 {
		contacts = append(contacts, e.create("contact", map[string]any{"name": fmt.Sprint("c", i)}).ID)
	}
	var items []string
	for i := range 20 {
		items = append(items, e.create("item", map[string]any{"name": fmt.Sprint("i", i), "contact": contacts[i]}).ID)
	}
	var wg sync.WaitGroup
	errc := make(chan error, 64)
	wg.Add(1)
	go func() { // the deleter
		defer wg.Done()
		for i := 0; i < len(contacts); i += 2 {
			if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "contact", ID: contacts[i], Force: true}); err != nil {
				errc <- fmt.Errorf("force delete: %w", err)
			}
		}
	}()
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				c := contacts[(w*7+i)%len(contacts)]
				var err error
				if i%2 == 0 {
					_, err = e.st.Create(e.ctx, store.CreateRequest{Entity: "item", Values: map[string]any{"name": "new", "contact": c, "other": c}})
				} else {
					_, err = e.st.Update(e.ctx, store.UpdateRequest{Entity: "item", ID: items[(w+i)%len(items)], Set: map[string]any{"other": c}})
				}
				var ie *store.InvalidError
				if err != nil && !errors.As(err, &ie) {
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
	exists := map[string]bool{}
	for _, r := range e.listAll(store.Query{Entity: "contact", Limit: store.MaxLimit}) {
		exists[r.ID] = true
	}
	if len(exists) != 10 {
		t.Fatalf("%d contacts left, want 10", len(exists))
	}
	for _, r := range e.listAll(store.Query{Entity: "item", Limit: store.MaxLimit}) {
		for _, f := range []string{"contact", "other"} {
			if id, ok := r.Values[f].(string); ok && !exists[id] {
				t.Fatalf("item %s refers (%s) to contact %s, which is gone", r.ID, f, id)
			}
		}
	}
	// And the deleted contacts are held by nothing the indexes know of.
	for i := 0; i < len(contacts); i += 2 {
		n, _, err := e.st.Count(e.ctx, "item", e.filter("item", fmt.Sprintf("contact == '%s' || other == '%s'", contacts[i], contacts[i])))
		if err != nil || n != 0 {
			t.Fatalf("items counted with deleted contact %s: %d, %v", contacts[i], n, err)
		}
	}
}
