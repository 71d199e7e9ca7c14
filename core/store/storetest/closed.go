package storetest

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/crmkit/crm/core/store"
)

// testClosed: after Close, every call that can fail fails with ErrClosed
// (and none panics); the others answer without panicking.
func testClosed(e *env) {
	t := e.t
	rec := e.create("contact", map[string]any{"name": "before"})
	f, err := e.st.PutFile(e.ctx, "a", "text/plain", UserA, strings.NewReader("x"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	ctx, st := e.ctx, e.st
	vals := e.canon("contact", map[string]any{"name": "after"})
	filter := e.filter("contact", "name == 'x'")
	calls := []struct {
		name string
		fn   func() error
	}{
		{"Create", func() error {
			_, err := st.Create(ctx, store.CreateRequest{Entity: "contact", Values: vals})
			return err
		}},
		{"Update", func() error {
			_, err := st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: rec.ID, Set: vals})
			return err
		}},
		{"Delete", func() error { _, err := st.Delete(ctx, store.DeleteRequest{Entity: "contact", ID: rec.ID}); return err }},
		{"Get", func() error { _, err := st.Get(ctx, "contact", rec.ID); return err }},
		{"List", func() error { _, err := st.List(ctx, store.Query{Entity: "contact"}); return err }},
		{"History", func() error { _, err := st.History(ctx, "contact", rec.ID); return err }},
		{"HistoryBefore", func() error { _, err := st.HistoryBefore(ctx, "contact", rec.ID, 0, 10); return err }},
		{"Search", func() error { _, err := st.Search(ctx, store.SearchQuery{Text: "before"}); return err }},
		{"Events", func() error { _, err := st.Events(ctx, 0, 10); return err }},
		{"Emit", func() error { _, err := st.Emit(ctx, store.EmitRequest{Name: "call.missed"}); return err }},
		{"Count", func() error { _, _, err := st.Count(ctx, "contact", filter); return err }},
		{"Totals", func() error { _, err := st.Totals(ctx, "deal", "stage", "amount", nil); return err }},
		{"SysView", func() error {
			return st.SysView(ctx, func(tx store.SysTx) error { var d doc; return tx.Get(store.KindView, "x", &d) })
		}},
		{"SysUpdate", func() error {
			return st.SysUpdate(ctx, func(tx store.SysTx) error { return tx.Put(store.KindView, "x", doc{}) })
		}},
		{"SysList", func() error { return st.SysList(ctx, store.KindUser, "", func(string, []byte) error { return nil }) }},
		{"PutFile", func() error {
			_, err := st.PutFile(ctx, "b", "text/plain", UserA, strings.NewReader("y"), 10)
			return err
		}},
		{"FileInfo", func() error { _, err := st.FileInfo(ctx, f.ID); return err }},
		{"WriteFile", func() error { return st.WriteFile(ctx, f.ID, io.Discard) }},
		{"FileHolders", func() error { _, err := st.FileHolders(ctx, f.ID, []string{"item"}); return err }},
	}
	var bad []string
	for _, c := range calls {
		if err := noPanic(c.fn); !errors.Is(err, store.ErrClosed) {
			bad = append(bad, fmt.Sprintf("%s: %v", c.name, err))
		}
	}
	for name, fn := range map[string]func(){
		"LastSeq":   func() { st.LastSeq() },
		"Committed": func() { st.Committed() },
		"Counts":    func() { st.Counts() },
		"Size":      func() { st.Size() },
	} {
		if err := noPanic(func() error { fn(); return nil }); err != nil {
			bad = append(bad, fmt.Sprintf("%s: %v", name, err))
		}
	}
	if err := noPanic(st.Close); err != nil && !errors.Is(err, store.ErrClosed) {
		bad = append(bad, fmt.Sprintf("second Close: %v", err))
	}
	if len(bad) > 0 {
		t.Fatalf("after Close, want ErrClosed:\n%s", strings.Join(bad, "\n"))
	}
}

// noPanic runs fn, turning a panic into an error, and a call that does
// not return within 5 s into one (its goroutine is left behind).
func noPanic(fn func() error) error {
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panic: %v", p)
			}
		}()
		done <- fn()
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(5 * time.Second):
		return errors.New("no answer within 5 s")
	}
}
