package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

const testHCL = `
entity "vehicle" {
  field "vin"     {
    type = "string"
    required = true
    unique = true
  }
  field "mileage" {
    type = "int"
    index = true
  }
  field "status"  {
    type = "enum"
    values = ["in_stock", "sold", "service"]
  }
  field "buyer"   {
    type = "ref"
    to = "contact"
  }
  field "second"  {
    type = "ref"
    to = "contact"
  }
  field "price"   { type = "money" }
}
locale { currency = "AMD" }
`

const testUser = "01JTESTUSER000000000000000X"

func openStore(t testing.TB, dir string) (*store.Badger, *schema.Schema) {
	return openWith(t, dir, testHCL, store.Options{}, testUser)
}

// openWith opens a real Badger store in dir over the schema of hcl, closed
// (and its Close checked) when the test ends, with users for records to
// be owned by.
func openWith(t testing.TB, dir, hcl string, opts store.Options, users ...string) (*store.Badger, *schema.Schema) {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"test.hcl": []byte(hcl)})
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.OpenBadger(dir, sch, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	err = st.SysUpdate(context.Background(), func(tx store.SysTx) error {
		for _, u := range users {
			if err := tx.Put("user", u, map[string]string{"id": u}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, sch
}

func create(t testing.TB, st store.Store, entity string, values map[string]any) *store.Record {
	t.Helper()
	rec, err := st.Create(context.Background(), store.CreateRequest{Entity: entity, Values: values, By: testUser})
	if err != nil {
		t.Fatalf("create %s %v: %v", entity, values, err)
	}
	return rec
}

func TestCreateWritesRecordHistoryAndEvent(t *testing.T) {
	st, _ := openStore(t, t.TempDir())
	ctx := context.Background()
	rec := create(t, st, "contact", map[string]any{"name": "Anahit"})
	if rec.Version != 1 || rec.Owner != testUser || !store.ValidID(rec.ID) {
		t.Fatalf("record = %+v", rec)
	}
	got, err := st.Get(ctx, "contact", rec.ID)
	if err != nil || got.Values["name"] != "Anahit" {
		t.Fatalf("get = %+v, %v", got, err)
	}
	hist, err := st.History(ctx, "contact", rec.ID)
	if err != nil || len(hist) != 1 || hist[0].Action != store.OpCreated || hist[0].Changes["name"].New != "Anahit" {
		t.Fatalf("history = %+v, %v", hist, err)
	}
	evs, err := st.Events(ctx, 0, 10)
	if err != nil || len(evs) != 1 || evs[0].Seq != 1 || evs[0].ID != rec.ID || evs[0].Op != store.OpCreated {
		t.Fatalf("events = %+v, %v", evs, err)
	}
	if st.LastSeq() != 1 || st.Counts()["contact"] != 1 {
		t.Fatalf("seq %d counts %v", st.LastSeq(), st.Counts())
	}
}

func TestUpdate(t *testing.T) {
	st, _ := openStore(t, t.TempDir())
	ctx := context.Background()
	rec := create(t, st, "contact", map[string]any{"name": "Anahit", "source": "web"})
	up, err := st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: rec.ID, Set: map[string]any{"name": "Ani"}, Clear: []string{"source"}, IfVersion: 1, By: testUser})
	if err != nil || up.Version != 2 || up.Values["name"] != "Ani" || up.Values["source"] != nil {
		t.Fatalf("update = %+v, %v", up, err)
	}
	// A stale version is refused and changes nothing.
	_, err = st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: rec.ID, Set: map[string]any{"name": "X"}, IfVersion: 1})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Code != store.CodeVersion {
		t.Fatalf("stale update err = %v", err)
	}
	// A write that changes nothing writes nothing.
	same, err := st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: rec.ID, Set: map[string]any{"name": "Ani"}})
	if err != nil || same.Version != 2 || st.LastSeq() != 2 {
		t.Fatalf("no-op update = %+v, %v, seq %d", same, err, st.LastSeq())
	}
	hist, _ := st.History(ctx, "contact", rec.ID)
	if len(hist) != 2 {
		t.Fatalf("history has %d entries, want 2", len(hist))
	}
	c := hist[1].Changes
	if c["name"].Old != "Anahit" || c["name"].New != "Ani" || c["source"].Old != "web" || c["source"].New != nil {
		t.Fatalf("changes = %+v", c)
	}
	// The check runs against the current version inside the write.
	denied := errors.New("denied")
	_, err = st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: rec.ID, Set: map[string]any{"name": "Y"}, Check: func(*store.Record) error { return denied }})
	if !errors.Is(err, denied) {
		t.Fatalf("check err = %v", err)
	}
	if _, err := st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: "01JXXXXXXXXXXXXXXXXXXXXXXX", Set: map[string]any{"name": "Y"}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of missing record err = %v", err)
	}
}

func TestUniqueUnderConcurrentWriters(t *testing.T) {
	st, _ := openStore(t, t.TempDir())
	ctx := context.Background()
	const writers = 32
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = st.Create(ctx, store.CreateRequest{Entity: "vehicle", Values: map[string]any{"vin": "WVW123"}, By: testUser})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		var ce *store.ConflictError
		switch {
		case err == nil:
			ok++
		case errors.As(err, &ce) && ce.Code == store.CodeDuplicate && ce.Field == "vin":
		default:
			t.Fatalf("unexpected error: %v", err)
		}
	}
	if ok != 1 || st.Counts()["vehicle"] != 1 {
		t.Fatalf("%d writers won, count %d; want exactly 1", ok, st.Counts()["vehicle"])
	}
	// The value is free again once its holder changes it.
	page, _ := st.List(ctx, store.Query{Entity: "vehicle"})
	if _, err := st.Update(ctx, store.UpdateRequest{Entity: "vehicle", ID: page.Items[0].ID, Set: map[string]any{"vin": "OTHER"}}); err != nil {
		t.Fatal(err)
	}
	create(t, st, "vehicle", map[string]any{"vin": "WVW123"})
}

func TestReferences(t *testing.T) {
	st, _ := openStore(t, t.TempDir())
	ctx := context.Background()
	_, err := st.Create(ctx, store.CreateRequest{Entity: "deal", Values: map[string]any{"title": "X", "contact": "01JXXXXXXXXXXXXXXXXXXXXXXX"}})
	var ie *store.InvalidError
	if !errors.As(err, &ie) || ie.Field != "contact" {
		t.Fatalf("dangling ref err = %v", err)
	}
	c := create(t, st, "contact", map[string]any{"name": "Aram"})
	d := create(t, st, "deal", map[string]any{"title": "Car", "contact": c.ID})
	v := create(t, st, "vehicle", map[string]any{"vin": "V1", "buyer": c.ID, "second": c.ID})
	_, err = st.Delete(ctx, store.DeleteRequest{Entity: "contact", ID: c.ID})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Code != store.CodeReferenced || ce.Count != 3 || len(ce.Refs) != 3 {
		t.Fatalf("delete of referenced err = %#v", err)
	}
	if _, err := st.Get(ctx, "contact", c.ID); err != nil {
		t.Fatalf("refused delete removed the record: %v", err)
	}
	if _, err := st.Delete(ctx, store.DeleteRequest{Entity: "contact", ID: c.ID, Force: true, By: testUser}); err != nil {
		t.Fatal(err)
	}
	gotD, _ := st.Get(ctx, "deal", d.ID)
	gotV, _ := st.Get(ctx, "vehicle", v.ID)
	if gotD.Values["contact"] != nil || gotV.Values["buyer"] != nil || gotV.Values["second"] != nil || gotV.Version != 2 {
		t.Fatalf("refs not cleared: deal %+v vehicle %+v", gotD, gotV)
	}
	hist, _ := st.History(ctx, "vehicle", v.ID)
	if len(hist) != 2 || hist[1].Changes["buyer"].Old != c.ID {
		t.Fatalf("vehicle history = %+v", hist)
	}
	hist, _ = st.History(ctx, "contact", c.ID)
	if len(hist) != 2 || hist[1].Action != store.OpDeleted || hist[1].Changes["name"].Old != "Aram" {
		t.Fatalf("deleted contact history = %+v", hist)
	}
	if _, err := st.Get(ctx, "contact", c.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get deleted = %v", err)
	}
	if n := st.Counts()["contact"]; n != 0 {
		t.Fatalf("contact count %d", n)
	}
}

func ids(p *store.Page) []string {
	out := make([]string, len(p.Items))
	for i, r := range p.Items {
		out[i] = r.ID
	}
	return out
}

func TestListUsesIndexesAndAgreesWithScan(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	ctx := context.Background()
	for i := range 60 {
		create(t, st, "vehicle", map[string]any{"vin": fmt.Sprintf("VIN%03d", i), "mileage": int64(i * 1000), "status": []string{"in_stock", "sold", "service"}[i%3]})
	}
	ent := sch.Entity("vehicle")
	cases := []struct {
		filter, scanEquivalent, plan string
		want                         int
	}{
		{"vin == 'VIN007'", "vin + '' == 'VIN007'", "index vehicle.vin =", 1},
		{"mileage >= 10000 && mileage < 20000", "mileage + 0 >= 10000 && mileage + 0 < 20000", "index vehicle.mileage range", 10},
		{"mileage > 58000", "mileage + 0 > 58000", "index vehicle.mileage range", 1},
		{"-5 < mileage && status == 'sold'", "status + '' == 'sold'", "index vehicle.mileage range", 20},
		{"vin startsWith 'VIN05'", "hasPrefix(vin + '', 'VIN05')", "index vehicle.vin prefix", 10},
		{"owner == '" + testUser + "'", "owner + '' == '" + testUser + "'", "index vehicle.owner =", 60},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			f, err := store.CompileFilter(ent, c.filter)
			if err != nil {
				t.Fatal(err)
			}
			g, err := store.CompileFilter(ent, c.scanEquivalent)
			if err != nil {
				t.Fatal(err)
			}
			for _, sort := range []string{"", "-mileage", "status,-vin"} {
				a, err := st.List(ctx, store.Query{Entity: "vehicle", Filter: f, Limit: 1000, Sort: store.ParseSort(sort)})
				if err != nil {
					t.Fatal(err)
				}
				b, err := st.List(ctx, store.Query{Entity: "vehicle", Filter: g, Limit: 1000, Sort: store.ParseSort(sort)})
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(a.Plan, c.plan) || sort == "" && b.Plan != "scan" {
					t.Fatalf("sort %q: plans %q and %q, want %q and scan", sort, a.Plan, b.Plan, c.plan)
				}
				if len(a.Items) != c.want || !slices.Equal(ids(a), ids(b)) {
					t.Fatalf("sort %q: index gave %d items, scan %d, want %d", sort, len(a.Items), len(b.Items), c.want)
				}
			}
		})
	}
}

func TestFilterErrorsHavePositions(t *testing.T) {
	_, sch := openStore(t, t.TempDir())
	ent := sch.Entity("vehicle")
	cases := []struct {
		src     string
		line    int
		col     int
		message string
	}{
		{"milage > 5", 1, 1, "unknown name milage"},
		{"mileage > 'x'", 1, 9, "invalid operation"},
		{"vin", 1, 1, "expected bool"},
		{"vin == ", 1, 7, "unexpected token"},
	}
	for _, c := range cases {
		_, err := store.CompileFilter(ent, c.src)
		var fe *store.FilterError
		if !errors.As(err, &fe) {
			t.Fatalf("%q: err = %v", c.src, err)
		}
		if fe.Line != c.line || fe.Column != c.col || !strings.Contains(fe.Message, c.message) {
			t.Errorf("%q: got %d:%d %q, want %d:%d containing %q", c.src, fe.Line, fe.Column, fe.Message, c.line, c.col, c.message)
		}
	}
}

func TestCursorPagingIsStableWhileWriting(t *testing.T) {
	st, _ := openStore(t, t.TempDir())
	ctx := context.Background()
	var want []string
	for i := range 95 {
		want = append(want, create(t, st, "vehicle", map[string]any{"vin": fmt.Sprintf("A%03d", i), "mileage": int64(i % 7)}).ID)
	}
	for _, sort := range []string{"", "-id", "mileage,-vin", "-created_at"} {
		t.Run(sort, func(t *testing.T) {
			seen := map[string]int{}
			cursor := ""
			n := 0
			for pages := 0; pages < 100; pages++ {
				p, err := st.List(ctx, store.Query{Entity: "vehicle", Sort: store.ParseSort(sort), Limit: 10, Cursor: cursor})
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range p.Items {
					seen[r.ID]++
				}
				// Writes between pages: new records must not make old ones repeat or vanish.
				n++
				create(t, st, "vehicle", map[string]any{"vin": fmt.Sprintf("%s-B%03d", sort, n), "mileage": int64(n % 7)})
				if p.NextCursor == "" {
					break
				}
				cursor = p.NextCursor
			}
			for _, id := range want {
				if seen[id] != 1 {
					t.Fatalf("record %s seen %d times", id, seen[id])
				}
			}
			for id, c := range seen {
				if c != 1 {
					t.Fatalf("record %s seen %d times", id, c)
				}
			}
		})
	}
	if _, err := st.List(ctx, store.Query{Entity: "vehicle", Sort: store.ParseSort("vin"), Cursor: "garbage!"}); err == nil {
		t.Fatal("a bad cursor was accepted")
	}
	p, _ := st.List(ctx, store.Query{Entity: "vehicle", Limit: 1})
	if _, err := st.List(ctx, store.Query{Entity: "vehicle", Sort: store.ParseSort("vin"), Cursor: p.NextCursor}); err == nil {
		t.Fatal("a cursor of another sort was accepted")
	}
}

func TestReopenKeepsPositionAndCounts(t *testing.T) {
	dir := t.TempDir()
	st, _ := openStore(t, dir)
	for i := range 5 {
		create(t, st, "contact", map[string]any{"name": fmt.Sprint("c", i)})
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	st2, _ := openStore(t, dir)
	if st2.LastSeq() != 5 || st2.Counts()["contact"] != 5 {
		t.Fatalf("after reopen: seq %d counts %v", st2.LastSeq(), st2.Counts())
	}
	rec := create(t, st2, "contact", map[string]any{"name": "after"})
	evs, _ := st2.Events(context.Background(), 5, 10)
	if len(evs) != 1 || evs[0].Seq != 6 || evs[0].ID != rec.ID {
		t.Fatalf("events after reopen = %+v", evs)
	}
}

func TestFeedPositionsFollowCommitOrder(t *testing.T) {
	st, _ := openStore(t, t.TempDir())
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				if _, err := st.Create(ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{"name": fmt.Sprint(w, "-", i)}}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	evs, err := st.Events(ctx, 0, 1000)
	if err != nil || len(evs) != 400 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has position %d", i, e.Seq)
		}
	}
}

func TestIdempotencyKeyMakesAWriteHappenOnce(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	ctx := context.Background()
	req := store.CreateRequest{Entity: "task", Values: map[string]any{"title": "call back"}, IdempotencyKey: "rule:1:0", Cause: "r1"}
	a, err := st.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.Create(ctx, req)
	if err != nil || b.ID != a.ID || st.Counts()["task"] != 1 || st.LastSeq() != 1 {
		t.Fatalf("second create = %v, %v; count %d seq %d", b, err, st.Counts()["task"], st.LastSeq())
	}
	up := store.UpdateRequest{Entity: "task", ID: a.ID, Set: map[string]any{"title": "x"}, IdempotencyKey: "rule:2:0"}
	if _, err := st.Update(ctx, up); err != nil {
		t.Fatal(err)
	}
	up.Set = map[string]any{"title": "y"}
	if u, err := st.Update(ctx, up); err != nil || u.Values["title"] != "x" || st.LastSeq() != 2 {
		t.Fatalf("repeated update = %+v, %v", u, err)
	}
	evs, _ := st.Events(ctx, 0, 10)
	after, before, err := store.DecodeEvent(sch, &evs[1])
	if err != nil || after.Values["title"] != "x" || before.Values["title"] != "call back" || evs[0].Cause != "r1" {
		t.Fatalf("decode event: %+v %+v %v", after, before, err)
	}
}

func TestCommittedSignalsEachCommit(t *testing.T) {
	st, _ := openStore(t, t.TempDir())
	ch := st.Committed()
	select {
	case <-ch:
		t.Fatal("signalled before any commit")
	default:
	}
	create(t, st, "contact", map[string]any{"name": "x"})
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatal("no signal after a commit")
	}
}
