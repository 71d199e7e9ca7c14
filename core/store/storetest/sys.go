package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"

	"github.com/crmkit/crm/core/store"
)

type doc struct {
	Name string `json:"name"`
	N    int    `json:"n"`
}

func (e *env) sysGet(kind, key string) (doc, error) {
	var d doc
	err := e.st.SysView(e.ctx, func(tx store.SysTx) error { return tx.Get(kind, key, &d) })
	return d, err
}

func testSys(e *env) {
	t := e.t
	if _, err := e.sysGet(store.KindView, "v1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get of an absent document: %v", err)
	}
	err := e.st.SysUpdate(e.ctx, func(tx store.SysTx) error {
		if err := tx.Put(store.KindView, "v1", doc{Name: "Ա view", N: 1}); err != nil {
			return err
		}
		// A transaction reads its own writes.
		var d doc
		if err := tx.Get(store.KindView, "v1", &d); err != nil || d.N != 1 {
			return fmt.Errorf("read own write: %+v, %v", d, err)
		}
		if err := tx.Put(store.KindView, "v2", doc{Name: "two"}); err != nil {
			return err
		}
		if err := tx.Delete(store.KindView, "v2"); err != nil {
			return err
		}
		if err := tx.Get(store.KindView, "v2", &d); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("read own delete: %v", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if d, err := e.sysGet(store.KindView, "v1"); err != nil || d != (doc{Name: "Ա view", N: 1}) {
		t.Fatalf("get = %+v, %v", d, err)
	}
	if _, err := e.sysGet(store.KindView, "v2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted in its transaction: %v", err)
	}
	// The same key of another kind is another document.
	if _, err := e.sysGet(store.KindRuleStats, "v1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another kind: %v", err)
	}
	// A failing update writes nothing and returns its error.
	boom := errors.New("boom")
	err = e.st.SysUpdate(e.ctx, func(tx store.SysTx) error {
		if err := tx.Put(store.KindView, "v1", doc{Name: "changed"}); err != nil {
			return err
		}
		if err := tx.Put(store.KindView, "v3", doc{Name: "new"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing update: %v", err)
	}
	if d, _ := e.sysGet(store.KindView, "v1"); d.Name != "Ա view" {
		t.Fatalf("a failed update changed v1: %+v", d)
	}
	if _, err := e.sysGet(store.KindView, "v3"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a failed update created v3: %v", err)
	}
	// A view's error comes back as is.
	if err := e.st.SysView(e.ctx, func(store.SysTx) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("failing view: %v", err)
	}
	// Delete.
	if err := e.st.SysUpdate(e.ctx, func(tx store.SysTx) error { return tx.Delete(store.KindView, "v1") }); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sysGet(store.KindView, "v1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
	// Deleting an absent document is no error.
	if err := e.st.SysUpdate(e.ctx, func(tx store.SysTx) error { return tx.Delete(store.KindView, "never") }); err != nil {
		t.Fatalf("delete of an absent document: %v", err)
	}
}

func testSysList(e *env) {
	t := e.t
	put := map[string]doc{
		UserA + "/k1": {Name: "a1", N: 1}, UserA + "/k2": {Name: "a2", N: 2}, UserA + "/k3": {Name: "a3", N: 3},
		UserB + "/k1": {Name: "b1"}, UserA + "x": {Name: "not under the prefix"},
	}
	err := e.st.SysUpdate(e.ctx, func(tx store.SysTx) error {
		for k, d := range put {
			if err := tx.Put(store.KindNotification, k, d); err != nil {
				return err
			}
		}
		return tx.Put(store.KindUserEmail, "anna@example.com", UserA)
	})
	if err != nil {
		t.Fatal(err)
	}
	list := func(kind, prefix string) map[string]doc {
		out := map[string]doc{}
		err := e.st.SysList(e.ctx, kind, prefix, func(key string, data []byte) error {
			var d doc
			if err := json.Unmarshal(data, &d); err != nil {
				return fmt.Errorf("%s %s: %w", kind, key, err)
			}
			if _, dup := out[key]; dup {
				return fmt.Errorf("%s %s listed twice", kind, key)
			}
			out[key] = d
			return nil
		})
		if err != nil {
			t.Fatalf("SysList(%s, %q): %v", kind, prefix, err)
		}
		return out
	}
	got := list(store.KindNotification, UserA+"/")
	if len(got) != 3 || got[UserA+"/k2"] != put[UserA+"/k2"] {
		t.Fatalf("by prefix: %+v", got)
	}
	if got := list(store.KindNotification, ""); len(got) != len(put) {
		t.Fatalf("whole kind: %d documents, want %d", len(got), len(put))
	}
	// A kind whose name begins another's lists only its own documents.
	var users []string
	if err := e.st.SysList(e.ctx, store.KindUser, "", func(key string, _ []byte) error { users = append(users, key); return nil }); err != nil {
		t.Fatal(err)
	}
	slices.Sort(users)
	if !slices.Equal(users, []string{UserA, UserB}) {
		t.Fatalf("users: %v", users)
	}
	// In key order (bytes): callers take the last keys as the newest
	// (a rule's runs, keyed by a time-ordered id).
	keys := []string{"r/01J0", "r/01J1", "r/01JA", "r/01Ja", "r/01J0/x", "r/Z", "r/a", "r/ա", "r/😀", "r/01J00"}
	err = e.st.SysUpdate(e.ctx, func(tx store.SysTx) error {
		for _, k := range keys {
			if err := tx.Put(store.KindRuleRun, k, doc{Name: k}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	if err := e.st.SysList(e.ctx, store.KindRuleRun, "r/", func(key string, _ []byte) error { order = append(order, key); return nil }); err != nil {
		t.Fatal(err)
	}
	if want := sorted(keys); !slices.Equal(order, want) {
		t.Fatalf("SysList order %q, want key order %q", order, want)
	}
	if got := list(store.KindNotification, "zzz"); len(got) != 0 {
		t.Fatalf("prefix matching nothing: %+v", got)
	}
	// fn's error stops the walk and comes back.
	stop := errors.New("stop")
	calls := 0
	err = e.st.SysList(e.ctx, store.KindNotification, "", func(string, []byte) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("a failing fn: %v after %d calls", err, calls)
	}
}

func testSysUpdateConcurrent(e *env) {
	t := e.t
	const workers, each = 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				err := e.st.SysUpdate(e.ctx, func(tx store.SysTx) error {
					var d doc
					if err := tx.Get(store.KindRuleStats, "counter", &d); err != nil && !errors.Is(err, store.ErrNotFound) {
						return err
					}
					d.N++
					return tx.Put(store.KindRuleStats, "counter", d)
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if d, err := e.sysGet(store.KindRuleStats, "counter"); err != nil || d.N != workers*each {
		t.Fatalf("counter = %d, %v; want %d", d.N, err, workers*each)
	}
}

func testFiles(e *env) {
	t := e.t
	small := []byte("hello, Ֆայլ")
	f, err := e.st.PutFile(e.ctx, "Ֆայլ.txt", "text/plain; charset=utf-8", UserA, bytes.NewReader(small), int64(len(small)))
	if err != nil {
		t.Fatalf("a file of exactly max bytes: %v", err)
	}
	sum := sha256.Sum256(small)
	if !store.ValidID(f.ID) || f.Name != "Ֆայլ.txt" || f.Size != int64(len(small)) || f.ContentType != "text/plain; charset=utf-8" ||
		f.SHA256 != hex.EncodeToString(sum[:]) || f.CreatedBy != UserA || f.CreatedAt.IsZero() {
		t.Fatalf("PutFile = %+v", f)
	}
	info, err := e.st.FileInfo(e.ctx, f.ID)
	if err != nil || info.ID != f.ID || info.Name != f.Name || info.Size != f.Size || info.SHA256 != f.SHA256 || info.ContentType != f.ContentType || info.CreatedBy != UserA || !info.CreatedAt.Equal(f.CreatedAt) {
		t.Fatalf("FileInfo = %+v, %v; want %+v", info, err, f)
	}
	var buf bytes.Buffer
	if err := e.st.WriteFile(e.ctx, f.ID, &buf); err != nil || !bytes.Equal(buf.Bytes(), small) {
		t.Fatalf("WriteFile: %q, %v", buf.Bytes(), err)
	}
	// Larger than max: refused, nothing stored.
	_, err = e.st.PutFile(e.ctx, "big.bin", "application/octet-stream", UserA, bytes.NewReader(make([]byte, 1001)), 1000)
	if !asInvalid(err, "file") {
		t.Fatalf("a file over max: %v, want an InvalidError on file", err)
	}
	// An upload cut off is refused.
	_, err = e.st.PutFile(e.ctx, "cut.bin", "application/octet-stream", UserA, io.MultiReader(bytes.NewReader(make([]byte, 100)), errReader{}), 1000)
	if err == nil {
		t.Fatal("a cut-off upload was stored")
	}
	// A large file in many pieces, byte for byte.
	large := make([]byte, 3_000_000+17)
	for i := range large {
		large[i] = byte(i * 7 % 251)
	}
	lf, err := e.st.PutFile(e.ctx, "large.bin", "application/octet-stream", UserB, bytes.NewReader(large), 4<<20)
	if err != nil || lf.Size != int64(len(large)) {
		t.Fatalf("large file: %+v, %v", lf, err)
	}
	buf.Reset()
	if err := e.st.WriteFile(e.ctx, lf.ID, &buf); err != nil || !bytes.Equal(buf.Bytes(), large) {
		t.Fatalf("large file read back: %d bytes, %v", buf.Len(), err)
	}
	// An empty file.
	ef, err := e.st.PutFile(e.ctx, "empty", "text/plain", UserA, bytes.NewReader(nil), 10)
	if err != nil || ef.Size != 0 {
		t.Fatalf("empty file: %+v, %v", ef, err)
	}
	buf.Reset()
	if err := e.st.WriteFile(e.ctx, ef.ID, &buf); err != nil || buf.Len() != 0 {
		t.Fatalf("empty file read back: %d bytes, %v", buf.Len(), err)
	}
	if _, err := e.st.FileInfo(e.ctx, missingID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("FileInfo of no file: %v", err)
	}
	// Holders: the records whose file fields hold it, among the entities asked.
	rec := e.create("item", map[string]any{"name": "holder", "doc": f.ID})
	other := e.create("item", map[string]any{"name": "holder 2", "doc": lf.ID})
	refs, err := e.st.FileHolders(e.ctx, f.ID, []string{"item", "contact"})
	if err != nil || !slices.Equal(refs, []store.Ref{{Entity: "item", ID: rec.ID, Field: "doc"}}) {
		t.Fatalf("FileHolders = %+v, %v", refs, err)
	}
	if refs, err := e.st.FileHolders(e.ctx, f.ID, []string{"contact"}); err != nil || len(refs) != 0 {
		t.Fatalf("FileHolders among contacts = %+v, %v", refs, err)
	}
	e.update(store.UpdateRequest{Entity: "item", ID: rec.ID, Clear: []string{"doc"}})
	if refs, err := e.st.FileHolders(e.ctx, f.ID, []string{"item"}); err != nil || len(refs) != 0 {
		t.Fatalf("FileHolders after the record let go = %+v, %v", refs, err)
	}
	if refs, err := e.st.FileHolders(e.ctx, lf.ID, []string{"item"}); err != nil || len(refs) != 1 || refs[0].ID != other.ID {
		t.Fatalf("FileHolders of the other file = %+v, %v", refs, err)
	}
}

// errReader fails as a connection cut mid-body does.
type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
