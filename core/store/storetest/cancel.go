package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/crmkit/crm/core/store"
)

// testCancelled: a call with a cancelled context fails with the context's
// error, and a write made with one writes nothing. (Every read has
// something to read: a call that finds nothing to do may answer first.)
func testCancelled(e *env) {
	t := e.t
	rec := e.create("contact", map[string]any{"name": "Anna"})
	e.update(store.UpdateRequest{Entity: "contact", ID: rec.ID, Set: map[string]any{"name": "Anna B"}})
	e.create("deal", map[string]any{"title": "d", "stage": "won", "amount": map[string]any{"amount": "10", "currency": "USD"}})
	f, err := e.st.PutFile(e.ctx, "a", "text/plain", UserA, strings.NewReader("x"), 10)
	if err != nil {
		t.Fatal(err)
	}
	seq, counts := e.st.LastSeq(), e.st.Counts()
	ctx, cancel := context.WithCancel(e.ctx)
	cancel()
	vals := e.canon("contact", map[string]any{"name": "after"})
	calls := []struct {
		name string
		fn   func() error
	}{
		{"Create", func() error {
			_, err := e.st.Create(ctx, store.CreateRequest{Entity: "contact", Values: vals})
			return err
		}},
		{"Update", func() error {
			_, err := e.st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: rec.ID, Set: vals})
			return err
		}},
		{"Delete", func() error {
			_, err := e.st.Delete(ctx, store.DeleteRequest{Entity: "contact", ID: rec.ID})
			return err
		}},
		{"Emit", func() error { _, err := e.st.Emit(ctx, store.EmitRequest{Name: "call.missed"}); return err }},
		{"SysUpdate", func() error {
			return e.st.SysUpdate(ctx, func(tx store.SysTx) error { return tx.Put(store.KindView, "x", doc{}) })
		}},
		{"PutFile", func() error {
			_, err := e.st.PutFile(ctx, "b", "text/plain", UserA, strings.NewReader("y"), 10)
			return err
		}},
		{"Get", func() error { _, err := e.st.Get(ctx, "contact", rec.ID); return err }},
		{"List", func() error { _, err := e.st.List(ctx, store.Query{Entity: "contact"}); return err }},
		{"History", func() error { _, err := e.st.History(ctx, "contact", rec.ID); return err }},
		{"HistoryBefore", func() error { _, err := e.st.HistoryBefore(ctx, "contact", rec.ID, 0, 10); return err }},
		{"Search", func() error { _, err := e.st.Search(ctx, store.SearchQuery{Text: "anna"}); return err }},
		{"Events", func() error { _, err := e.st.Events(ctx, 0, 10); return err }},
		{"Count", func() error {
			_, _, err := e.st.Count(ctx, "contact", e.filter("contact", "name startsWith 'A'"))
			return err
		}},
		{"Totals", func() error {
			_, err := e.st.Totals(ctx, "deal", "stage", "amount", e.filter("deal", "title != 'x'"))
			return err
		}},
		{"SysView", func() error {
			return e.st.SysView(ctx, func(tx store.SysTx) error { var d doc; return tx.Get(store.KindView, "x", &d) })
		}},
		{"SysList", func() error { return e.st.SysList(ctx, store.KindUser, "", func(string, []byte) error { return nil }) }},
		{"FileInfo", func() error { _, err := e.st.FileInfo(ctx, f.ID); return err }},
		{"WriteFile", func() error { return e.st.WriteFile(ctx, f.ID, io.Discard) }},
		{"FileHolders", func() error { _, err := e.st.FileHolders(ctx, f.ID, []string{"item"}); return err }},
	}
	var bad []string
	for _, c := range calls {
		if err := noPanic(c.fn); !errors.Is(err, context.Canceled) {
			bad = append(bad, fmt.Sprintf("%s: %v", c.name, err))
		}
	}
	if len(bad) > 0 {
		t.Errorf("with a cancelled context, want context.Canceled:\n%s", strings.Join(bad, "\n"))
	}
	if e.st.LastSeq() != seq || !mapsEqual(e.st.Counts(), counts) {
		t.Fatalf("writes with a cancelled context wrote: seq %d -> %d, counts %v -> %v", seq, e.st.LastSeq(), counts, e.st.Counts())
	}
	if got := e.get("contact", rec.ID); got.Values["name"] != "Anna B" {
		t.Fatalf("an update with a cancelled context changed the record: %+v", got)
	}
	if _, err := e.sysGet(store.KindView, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a SysUpdate with a cancelled context wrote: %v", err)
	}
}
