package storetest

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/crmkit/crm/core/store"
)

func testFeedEvents(e *env) {
	t := e.t
	if e.st.LastSeq() != 0 {
		// Seeding the users is a system write, not an event.
		t.Fatalf("LastSeq of a store with only system documents: %d", e.st.LastSeq())
	}
	if evs := e.events(0); len(evs) != 0 {
		t.Fatalf("events of an empty store: %+v", evs)
	}
	c := e.createReq(store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "A"}, By: UserA, Cause: "rule_a>rule_b"})
	e.update(store.UpdateRequest{Entity: "contact", ID: c.ID, Set: map[string]any{"name": "B"}, By: UserB, Cause: "rule_c"})
	if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "contact", ID: c.ID, By: UserA}); err != nil {
		t.Fatal(err)
	}
	evs := e.events(0)
	if len(evs) != 3 {
		t.Fatalf("%d events, want 3", len(evs))
	}
	want := []struct {
		op, by, cause string
		version       int64
	}{{store.OpCreated, UserA, "rule_a>rule_b", 1}, {store.OpUpdated, UserB, "rule_c", 2}, {store.OpDeleted, UserA, "", 0}}
	for i, ev := range evs {
		w := want[i]
		if ev.Entity != "contact" || ev.ID != c.ID || ev.Op != w.op || ev.By != w.by || ev.Cause != w.cause || ev.At.IsZero() {
			t.Fatalf("event %d = %+v, want %s by %s cause %q", i, ev, w.op, w.by, w.cause)
		}
		if w.version > 0 && ev.Version != w.version {
			t.Fatalf("event %d version %d, want %d", i, ev.Version, w.version)
		}
		if i > 0 && ev.Seq <= evs[i-1].Seq {
			t.Fatalf("positions %d then %d", evs[i-1].Seq, ev.Seq)
		}
	}
	if evs[1].Changes["name"].Old != "A" || evs[1].Changes["name"].New != "B" || evs[0].Changes["name"].New != "A" || evs[2].Changes["name"].Old != "B" {
		t.Fatalf("changes: %+v / %+v / %+v", evs[0].Changes, evs[1].Changes, evs[2].Changes)
	}
	if e.st.LastSeq() != evs[2].Seq {
		t.Fatalf("LastSeq %d, last event %d", e.st.LastSeq(), evs[2].Seq)
	}
	// A refused write, a no-op update and system documents are no events.
	e.create("item", map[string]any{"name": "u", "code": "C"})
	seq := e.st.LastSeq()
	if _, err := e.st.Create(e.ctx, store.CreateRequest{Entity: "item", Values: e.canon("item", map[string]any{"name": "u", "code": "C"})}); err == nil {
		t.Fatal("duplicate accepted")
	}
	if err := e.st.SysUpdate(e.ctx, func(tx store.SysTx) error { return tx.Put(store.KindView, "v1", map[string]string{"a": "b"}) }); err != nil {
		t.Fatal(err)
	}
	if e.st.LastSeq() != seq || len(e.events(seq)) != 0 {
		t.Fatalf("refused or system writes made events: seq %d -> %d", seq, e.st.LastSeq())
	}
}

func testFeedPaging(e *env) {
	t := e.t
	for i := range 57 {
		e.create("contact", map[string]any{"name": fmt.Sprint("c", i)})
	}
	all := e.events(0)
	if len(all) != 57 {
		t.Fatalf("%d events, want 57", len(all))
	}
	for _, limit := range []int{1, 10, 56, 57, 100} {
		var got []store.Event
		after := uint64(0)
		for range 100 {
			evs, err := e.st.Events(e.ctx, after, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) > limit {
				t.Fatalf("limit %d: %d events", limit, len(evs))
			}
			if len(evs) == 0 {
				break
			}
			got = append(got, evs...)
			after = evs[len(evs)-1].Seq
		}
		if len(got) != len(all) {
			t.Fatalf("limit %d: paged %d events, want %d", limit, len(got), len(all))
		}
		for i := range got {
			if got[i].Seq != all[i].Seq || got[i].ID != all[i].ID {
				t.Fatalf("limit %d: event %d differs", limit, i)
			}
		}
	}
	// after a position in the middle: the rest, from the next one on.
	mid := all[20].Seq
	evs, err := e.st.Events(e.ctx, mid, 5)
	if err != nil || len(evs) != 5 || evs[0].Seq != all[21].Seq {
		t.Fatalf("events after %d: %+v, %v", mid, evs, err)
	}
	if evs, err := e.st.Events(e.ctx, e.st.LastSeq(), 10); err != nil || len(evs) != 0 {
		t.Fatalf("events after the last: %+v, %v", evs, err)
	}
}

// testFeedConcurrentTail tails the feed while writers write: every write
// is seen exactly once, positions only grow, and nothing is committed
// behind a position the reader already passed.
func testFeedConcurrentTail(e *env) {
	t := e.t
	const writers, each = 8, 40
	ctx, cancel := context.WithCancel(e.ctx)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	written := map[string]bool{}
	errs := make(chan error, writers)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				vals := map[string]any{"name": fmt.Sprint(w, "-", i)}
				rec, err := e.st.Create(e.ctx, store.CreateRequest{Entity: "contact", Values: vals})
				if err != nil {
					errs <- err
					return
				}
				mu.Lock()
				written[rec.ID] = true
				mu.Unlock()
				if i%4 == 0 {
					if _, err := e.st.Update(e.ctx, store.UpdateRequest{Entity: "contact", ID: rec.ID, Set: map[string]any{"name": fmt.Sprint(w, "-", i, "u")}}); err != nil {
						errs <- err
						return
					}
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]int{} // "id op" -> times
	var last uint64
	var n int
	tail := func() {
		for {
			evs, err := e.st.Events(ctx, last, 17)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) == 0 {
				return
			}
			for _, ev := range evs {
				if ev.Seq <= last {
					t.Fatalf("event at %d after position %d", ev.Seq, last)
				}
				last = ev.Seq
				seen[ev.ID+" "+ev.Op]++
				n++
			}
		}
	}
	for finished := false; !finished; {
		ch := e.st.Committed()
		tail()
		select {
		case <-done:
			finished = true
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Fatal("no commit and no end of the writers within 10 s")
		}
	}
	tail()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	want := writers*each + writers*each/4
	if n != want || len(written) != writers*each {
		t.Fatalf("tailed %d events, want %d (%d records)", n, want, len(written))
	}
	for id := range written {
		if seen[id+" "+store.OpCreated] != 1 {
			t.Fatalf("record %s: created seen %d times", id, seen[id+" "+store.OpCreated])
		}
	}
	if last != e.st.LastSeq() {
		t.Fatalf("last event %d, LastSeq %d", last, e.st.LastSeq())
	}
}

func testEmit(e *env) {
	t := e.t
	c := e.create("contact", map[string]any{"name": "c"})
	ev, err := e.st.Emit(e.ctx, store.EmitRequest{Name: "call.missed", ID: "call-1", Payload: map[string]any{"from": "+37491123456", "n": 3}, By: "plugin:calls", Cause: "r"})
	if err != nil {
		t.Fatal(err)
	}
	if ev.Seq == 0 || ev.Entity != "call" || ev.Op != "missed" || ev.ID != "call-1" {
		t.Fatalf("Emit answered %+v", ev)
	}
	// An emit without id gets one; a prefix that is an entity is fine with a non-record event.
	ev2, err := e.st.Emit(e.ctx, store.EmitRequest{Name: "contact.called", Payload: map[string]any{"id": c.ID}, By: UserA})
	if err != nil || ev2.ID == "" || ev2.Seq <= ev.Seq {
		t.Fatalf("second emit: %+v, %v", ev2, err)
	}
	evs := e.events(ev.Seq - 1)
	if len(evs) != 2 || evs[0].Seq != ev.Seq || evs[0].Entity != "call" || evs[0].Op != "missed" || evs[0].By != "plugin:calls" || evs[0].Cause != "r" || evs[1].ID != ev2.ID {
		t.Fatalf("emitted events in the feed: %+v", evs)
	}
	if evs[0].RecordEntity(e.sch) != nil || evs[1].RecordEntity(e.sch) != nil {
		t.Fatal("an emitted event reads as a record write")
	}
	after, before, err := store.DecodeEvent(e.sch, &evs[0])
	if err != nil || before != nil || after == nil || after.ID != "call-1" || after.Values["from"] != "+37491123456" || fmt.Sprint(after.Values["n"]) != "3" {
		t.Fatalf("decode emitted event: %+v %+v %v", after, before, err)
	}
	if e.st.LastSeq() != ev2.Seq {
		t.Fatalf("LastSeq %d after emits, want %d", e.st.LastSeq(), ev2.Seq)
	}
	// Names that are not prefix.event, or that are a record event of an entity, are refused.
	seq := e.st.LastSeq()
	for _, name := range []string{"nodot", ".x", "x.", "contact.created", "item.updated", "deal.deleted", "deal.stage_changed"} {
		_, err := e.st.Emit(e.ctx, store.EmitRequest{Name: name})
		if !asInvalid(err, "name") {
			t.Fatalf("emit %q: %v, want an InvalidError on name", name, err)
		}
	}
	// An idempotency key makes it once.
	for range 3 {
		if _, err := e.st.Emit(e.ctx, store.EmitRequest{Name: "call.missed", ID: "call-2", IdempotencyKey: "k1"}); err != nil {
			t.Fatal(err)
		}
	}
	if evs := e.events(seq); len(evs) != 1 || evs[0].ID != "call-2" {
		t.Fatalf("emits with one key: %+v", evs)
	}
}

func testCommitted(e *env) {
	t := e.t
	ch := e.st.Committed()
	select {
	case <-ch:
		t.Fatal("closed before any commit")
	default:
	}
	e.create("contact", map[string]any{"name": "x"})
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("not closed within 5 s of a commit")
	}
	// The next channel waits for the next commit, an emit included.
	ch = e.st.Committed()
	select {
	case <-ch:
		t.Fatal("the next channel is closed before the next commit")
	default:
	}
	if _, err := e.st.Emit(e.ctx, store.EmitRequest{Name: "call.missed"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("not closed within 5 s of an emit")
	}
	// A write from another goroutine wakes a waiter.
	ch = e.st.Committed()
	go func() {
		_, _ = e.st.Create(e.ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "y"}})
	}()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("a waiter was not woken by another goroutine's commit")
	}
}

func testDecodeEvent(e *env) {
	t := e.t
	c := e.create("contact", map[string]any{"name": "c"})
	vals := e.everyType(c.ID, "")
	delete(vals, "doc")
	rec := e.create("item", vals)
	e.update(store.UpdateRequest{Entity: "item", ID: rec.ID, Set: map[string]any{"name": "renamed", "qty": int64(7)}, Clear: []string{"note"}})
	if _, err := e.st.Delete(e.ctx, store.DeleteRequest{Entity: "item", ID: rec.ID}); err != nil {
		t.Fatal(err)
	}
	evs := e.events(0)
	var mine []store.Event
	for _, ev := range evs {
		if ev.ID == rec.ID {
			mine = append(mine, ev)
		}
	}
	if len(mine) != 3 {
		t.Fatalf("%d events of the item, want 3", len(mine))
	}
	orig := e.canon("item", vals)
	after, before, err := store.DecodeEvent(e.sch, &mine[0])
	if err != nil || before != nil || after == nil || !sameValues(after.Values, orig) || after.Version != 1 || after.Owner != UserA || after.ID != rec.ID {
		t.Fatalf("created: after %+v before %+v, %v", after, before, err)
	}
	after, before, err = store.DecodeEvent(e.sch, &mine[1])
	if err != nil || after == nil || before == nil || after.Version != 2 || before.Version != 1 || after.Values["name"] != "renamed" || after.Values["note"] != nil ||
		after.Values["qty"] != int64(7) || !sameValues(before.Values, orig) {
		t.Fatalf("updated: after %+v before %+v, %v", after, before, err)
	}
	after, _, err = store.DecodeEvent(e.sch, &mine[2])
	if err != nil || after == nil || after.Values["name"] != "renamed" || after.ID != rec.ID {
		t.Fatalf("deleted: after %+v, %v; want the last version", after, err)
	}
	if mine[0].RecordEntity(e.sch) == nil || mine[0].RecordEntity(e.sch).Name != "item" {
		t.Fatal("a record event has no record entity")
	}
}
