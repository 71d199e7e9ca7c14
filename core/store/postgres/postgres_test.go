package postgres_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/postgres"
	"github.com/crmkit/crm/core/testkit/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

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
entity "contract" {
  field "title" { type = "string" }
  field "doc"   { type = "file" }
}
entity "supplier" {
  field "name"   {
    type   = "string"
    search = true
  }
  field "secret" { type = "string" }
}
pipeline "sales" {
  entity = "deal"
  stages = ["new", "won", "lost"]
}
locale { currency = "AMD" }
`

const (
	testUser  = "01JTESTUSER000000000000000X"
	otherUser = "01JTESTUSER000000000000000Y"
)

func testSchema(t testing.TB) *schema.Schema {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"test.hcl": []byte(testHCL)})
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// openURL opens a store on the database at url, closed when the test ends.
func openURL(t testing.TB, url string, sch *schema.Schema) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), url, sch, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st
}

// openStore opens a store on a fresh database, with users for records to
// be owned by.
func openStore(t testing.TB) (*postgres.Store, *schema.Schema) {
	t.Helper()
	sch := testSchema(t)
	st := openURL(t, pgtest.DB(t), sch)
	addUsers(t, st)
	return st, sch
}

func addUsers(t testing.TB, st store.Store) {
	t.Helper()
	err := st.SysUpdate(context.Background(), func(tx store.SysTx) error {
		for _, u := range []string{testUser, otherUser} {
			if err := tx.Put(store.KindUser, u, map[string]string{"id": u}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func create(t testing.TB, st store.Store, entity string, values map[string]any) *store.Record {
	t.Helper()
	rec, err := st.Create(context.Background(), store.CreateRequest{Entity: entity, Values: values, By: testUser})
	if err != nil {
		t.Fatalf("create %s %v: %v", entity, values, err)
	}
	return rec
}

func ids(p *store.Page) []string {
	out := make([]string, len(p.Items))
	for i, r := range p.Items {
		out[i] = r.ID
	}
	return out
}

func TestCreateWritesRecordHistoryAndEvent(t *testing.T) {
	st, sch := openStore(t)
	ctx := context.Background()
	rec := create(t, st, "contact", map[string]any{"name": "Anahit"})
	if rec.Version != 1 || rec.Owner != testUser || !store.ValidID(rec.ID) {
		t.Fatalf("record = %+v", rec)
	}
	got, err := st.Get(ctx, "contact", rec.ID)
	if err != nil || got.Values["name"] != "Anahit" || !got.CreatedAt.Equal(rec.CreatedAt) {
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
	after, _, err := store.DecodeEvent(sch, &evs[0])
	if err != nil || after.Values["name"] != "Anahit" || after.Owner != testUser {
		t.Fatalf("decode event = %+v, %v", after, err)
	}
	if st.LastSeq() != 1 || st.Counts()["contact"] != 1 {
		t.Fatalf("seq %d counts %v", st.LastSeq(), st.Counts())
	}
	if _, err := st.Get(ctx, "nope", rec.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get of an unknown entity: %v", err)
	}
	var ie *store.InvalidError
	if _, err := st.Create(ctx, store.CreateRequest{Entity: "nope"}); !errors.As(err, &ie) {
		t.Fatalf("create of an unknown entity: %v", err)
	}
	if _, err := st.Create(ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "x"}, Owner: "01JNOBODY0000000000000000X"}); !errors.As(err, &ie) || ie.Field != "owner" {
		t.Fatalf("create with an unknown owner: %v", err)
	}
}

func TestUpdate(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	rec := create(t, st, "contact", map[string]any{"name": "Anahit", "source": "web"})
	up, err := st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: rec.ID, Set: map[string]any{"name": "Ani"}, Clear: []string{"source"}, IfVersion: 1, By: testUser})
	if err != nil || up.Version != 2 || up.Values["name"] != "Ani" || up.Values["source"] != nil {
		t.Fatalf("update = %+v, %v", up, err)
	}
	_, err = st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: rec.ID, Set: map[string]any{"name": "X"}, IfVersion: 1})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Code != store.CodeVersion {
		t.Fatalf("stale update err = %v", err)
	}
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
	denied := errors.New("denied")
	_, err = st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: rec.ID, Set: map[string]any{"name": "Y"}, Check: func(*store.Record) error { return denied }})
	if !errors.Is(err, denied) {
		t.Fatalf("check err = %v", err)
	}
	if _, err := st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: "01JXXXXXXXXXXXXXXXXXXXXXXX", Set: map[string]any{"name": "Y"}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("update of missing record err = %v", err)
	}
}

// uniqueRace runs writers concurrent creates of one vin, spread over the
// stores, and checks that exactly one won and the others got a duplicate.
func uniqueRace(t *testing.T, stores []*postgres.Store, writers int) {
	t.Helper()
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, writers)
	start := make(chan struct{})
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, errs[i] = stores[i%len(stores)].Create(ctx, store.CreateRequest{Entity: "vehicle", Values: map[string]any{"vin": "WVW123"}, By: testUser})
		}()
	}
	close(start)
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
	if ok != 1 || stores[0].Counts()["vehicle"] != 1 {
		t.Fatalf("%d writers won, count %d; want exactly 1", ok, stores[0].Counts()["vehicle"])
	}
}

func TestUniqueUnderConcurrentWriters(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	uniqueRace(t, []*postgres.Store{st}, 16)
	page, _ := st.List(ctx, store.Query{Entity: "vehicle"})
	if _, err := st.Update(ctx, store.UpdateRequest{Entity: "vehicle", ID: page.Items[0].ID, Set: map[string]any{"vin": "OTHER"}}); err != nil {
		t.Fatal(err)
	}
	create(t, st, "vehicle", map[string]any{"vin": "WVW123"})
	// A deleted record lets its value go.
	if _, err := st.Delete(ctx, store.DeleteRequest{Entity: "vehicle", ID: page.Items[0].ID}); err != nil {
		t.Fatal(err)
	}
	create(t, st, "vehicle", map[string]any{"vin": "OTHER"})
}

func TestReferences(t *testing.T) {
	st, _ := openStore(t)
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
	// The forced delete is one transaction: its events are consecutive.
	evs, _ := st.Events(ctx, 0, 100)
	if len(evs) != 6 || evs[3].Op != store.OpUpdated || evs[5].Op != store.OpDeleted || evs[5].Seq != 6 {
		t.Fatalf("events = %+v", evs)
	}
}

func TestListFiltersSortsAndPages(t *testing.T) {
	st, sch := openStore(t)
	ctx := context.Background()
	var all []*store.Record
	for i := range 60 {
		v := map[string]any{"vin": fmt.Sprintf("VIN%03d", i), "status": []string{"in_stock", "sold", "service"}[i%3]}
		if i%5 != 0 {
			v["mileage"] = int64((i * 7919) % 50 * 1000)
		}
		all = append(all, create(t, st, "vehicle", v))
	}
	ent := sch.Entity("vehicle")
	for _, src := range []string{"", "mileage >= 10000 && mileage < 30000", "status == 'sold'", "vin startsWith 'VIN05'", "mileage + 0 > 20000 || status == 'service'"} {
		var f *store.Filter
		if src != "" {
			var err error
			if f, err = store.CompileFilter(ent, src); err != nil {
				t.Fatal(err)
			}
		}
		var want []*store.Record
		for _, r := range all {
			if ok, _ := f.Eval(r); f == nil || ok {
				want = append(want, r)
			}
		}
		for _, sort := range []string{"", "-id", "mileage", "-mileage", "status,-vin", "-created_at", "owner,mileage"} {
			keys := store.ParseSort(sort)
			exp := slices.Clone(want)
			slices.SortStableFunc(exp, func(a, b *store.Record) int { return compareBy(keys, a, b) })
			var got []string
			cursor := ""
			for pages := 0; pages < 100; pages++ {
				p, err := st.List(ctx, store.Query{Entity: "vehicle", Filter: f, Sort: keys, Limit: 7, Cursor: cursor})
				if err != nil {
					t.Fatalf("filter %q sort %q: %v", src, sort, err)
				}
				if p.Seq != 60 || p.Plan == "" {
					t.Fatalf("page seq %d plan %q", p.Seq, p.Plan)
				}
				got = append(got, ids(p)...)
				if p.NextCursor == "" {
					break
				}
				cursor = p.NextCursor
			}
			var wantIDs []string
			for _, r := range exp {
				wantIDs = append(wantIDs, r.ID)
			}
			if !slices.Equal(got, wantIDs) {
				t.Fatalf("filter %q sort %q:\n got %v\nwant %v", src, sort, got, wantIDs)
			}
		}
	}
	// A Badger-form cursor (store.CursorAfter) resumes a list too.
	p, err := st.List(ctx, store.Query{Entity: "vehicle", Sort: store.ParseSort("-id"), Cursor: store.CursorAfter("-id", all[10])})
	if err != nil || len(p.Items) != 10 || p.Items[0].ID != all[9].ID {
		t.Fatalf("CursorAfter: %v %v", ids(p), err)
	}
	var qe *store.QueryError
	if _, err := st.List(ctx, store.Query{Entity: "vehicle", Cursor: "garbage!"}); !errors.As(err, &qe) {
		t.Fatalf("bad cursor: %v", err)
	}
	p, _ = st.List(ctx, store.Query{Entity: "vehicle", Limit: 1})
	if _, err := st.List(ctx, store.Query{Entity: "vehicle", Sort: store.ParseSort("vin"), Cursor: p.NextCursor}); !errors.As(err, &qe) {
		t.Fatalf("cursor of another sort: %v", err)
	}
	// Values not of the sort's types (here money's minor units) are a bad
	// cursor too, not a failure of the store.
	made := base64.RawURLEncoding.EncodeToString([]byte(`{"s":"price,id","v":["2.50","x"]}`))
	if _, err := st.List(ctx, store.Query{Entity: "vehicle", Sort: store.ParseSort("price"), Cursor: made}); !errors.As(err, &qe) || qe.Param != "cursor" {
		t.Fatalf("cursor of values of other types: %v", err)
	}
	if _, err := st.List(ctx, store.Query{Entity: "vehicle", Sort: store.ParseSort("nope")}); !errors.As(err, &qe) || qe.Param != "sort" {
		t.Fatalf("unknown sort field: %v", err)
	}
	if _, err := st.List(ctx, store.Query{Entity: "vehicle", Limit: 5000}); !errors.As(err, &qe) || qe.Param != "limit" {
		t.Fatalf("limit: %v", err)
	}
}

// compareBy orders records as List does: by the keys, missing values last,
// then by id in the direction of the last key.
func compareBy(keys []store.SortKey, a, b *store.Record) int {
	if len(keys) == 0 || keys[len(keys)-1].Field != "id" {
		desc := len(keys) > 0 && keys[len(keys)-1].Desc
		keys = append(slices.Clone(keys), store.SortKey{Field: "id", Desc: desc})
	}
	for _, k := range keys {
		va, vb := store.FieldValue(a, k.Field), store.FieldValue(b, k.Field)
		za, zb := va == nil || va == "", vb == nil || vb == ""
		switch {
		case za && zb:
			continue
		case za:
			return 1
		case zb:
			return -1
		}
		c := 0
		switch x := va.(type) {
		case string:
			c = strings.Compare(x, vb.(string))
		case int64:
			c = cmpInt(x, vb.(int64))
		case time.Time:
			c = x.Compare(vb.(time.Time))
		}
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestCursorPagingIsStableWhileWriting(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	var want []string
	for i := range 45 {
		want = append(want, create(t, st, "vehicle", map[string]any{"vin": fmt.Sprintf("A%03d", i), "mileage": int64(i % 7)}).ID)
	}
	for _, sort := range []string{"", "-id", "mileage,-vin", "-created_at"} {
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
			n++
			create(t, st, "vehicle", map[string]any{"vin": fmt.Sprintf("%s-B%03d", sort, n), "mileage": int64(n % 7)})
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		for _, id := range want {
			if seen[id] != 1 {
				t.Fatalf("sort %q: record %s seen %d times", sort, id, seen[id])
			}
		}
		for id, c := range seen {
			if c != 1 {
				t.Fatalf("sort %q: record %s seen %d times", sort, id, c)
			}
		}
	}
}

func TestReopenKeepsPositionAndCounts(t *testing.T) {
	sch := testSchema(t)
	url := pgtest.DB(t)
	st, err := postgres.Open(context.Background(), url, sch, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	addUsers(t, st)
	for i := range 5 {
		create(t, st, "contact", map[string]any{"name": fmt.Sprint("c", i)})
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Get(context.Background(), "contact", "x"); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("get after close: %v", err)
	}
	st2 := openURL(t, url, sch)
	if st2.LastSeq() != 5 || st2.Counts()["contact"] != 5 {
		t.Fatalf("after reopen: seq %d counts %v", st2.LastSeq(), st2.Counts())
	}
	rec := create(t, st2, "contact", map[string]any{"name": "after"})
	evs, _ := st2.Events(context.Background(), 5, 10)
	if len(evs) != 1 || evs[0].Seq != 6 || evs[0].ID != rec.ID {
		t.Fatalf("events after reopen = %+v", evs)
	}
}

func TestFeedPositionsAreDense(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				if _, err := st.Create(ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{"name": fmt.Sprint(w, "-", i)}}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	evs, err := st.Events(ctx, 0, 1000)
	if err != nil || len(evs) != 180 {
		t.Fatalf("%d events, %v", len(evs), err)
	}
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has position %d", i, e.Seq)
		}
	}
}

func TestIdempotencyKeyMakesAWriteHappenOnce(t *testing.T) {
	st, sch := openStore(t)
	ctx := context.Background()
	base := st.LastSeq()
	req := store.CreateRequest{Entity: "task", Values: map[string]any{"title": "call back"}, IdempotencyKey: "rule:1:0", Cause: "r1"}
	// Concurrent writers with one key: one write.
	var wg sync.WaitGroup
	got := make([]*store.Record, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := st.Create(ctx, req)
			if err != nil {
				t.Error(err)
			}
			got[i] = r
		}()
	}
	wg.Wait()
	a := got[0]
	for _, b := range got {
		if b == nil || b.ID != a.ID {
			t.Fatalf("creates with one key gave %v and %v", a, b)
		}
	}
	if st.Counts()["task"] != 1 || st.LastSeq() != base+1 {
		t.Fatalf("count %d seq %d", st.Counts()["task"], st.LastSeq())
	}
	up := store.UpdateRequest{Entity: "task", ID: a.ID, Set: map[string]any{"title": "x"}, IdempotencyKey: "rule:2:0"}
	if _, err := st.Update(ctx, up); err != nil {
		t.Fatal(err)
	}
	up.Set = map[string]any{"title": "y"}
	if u, err := st.Update(ctx, up); err != nil || u.Values["title"] != "x" || st.LastSeq() != base+2 {
		t.Fatalf("repeated update = %+v, %v", u, err)
	}
	evs, _ := st.Events(ctx, base, 10)
	after, before, err := store.DecodeEvent(sch, &evs[1])
	if err != nil || after.Values["title"] != "x" || before.Values["title"] != "call back" || evs[0].Cause != "r1" {
		t.Fatalf("decode event: %+v %+v %v", after, before, err)
	}
	// Emit: once per key, with its payload.
	e1, err := st.Emit(ctx, store.EmitRequest{Name: "call.missed", Payload: map[string]any{"from": "+374"}, By: "plugin:x", IdempotencyKey: "emit:1"})
	if err != nil || e1.Seq != base+3 {
		t.Fatalf("emit = %+v, %v", e1, err)
	}
	if e2, err := st.Emit(ctx, store.EmitRequest{Name: "call.missed", IdempotencyKey: "emit:1"}); err != nil || e2.Seq != 0 || st.LastSeq() != base+3 {
		t.Fatalf("repeated emit = %+v, %v", e2, err)
	}
	evs, _ = st.Events(ctx, base+2, 10)
	rec, _, err := store.DecodeEvent(sch, &evs[0])
	if err != nil || len(evs) != 1 || evs[0].Entity != "call" || evs[0].Op != "missed" || rec.Values["from"] != "+374" {
		t.Fatalf("emitted event %+v %+v %v", evs, rec, err)
	}
	var ie *store.InvalidError
	if _, err := st.Emit(ctx, store.EmitRequest{Name: "contact.created"}); !errors.As(err, &ie) {
		t.Fatalf("emit of a record event name: %v", err)
	}
}

func TestUnlessCreatesOnce(t *testing.T) {
	st, sch := openStore(t)
	ctx := context.Background()
	f, err := store.CompileFilter(sch.Entity("task"), "title == 'follow up'")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	made, exists := 0, 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := st.Create(ctx, store.CreateRequest{Entity: "task", Values: map[string]any{"title": "follow up"}, Unless: f})
			var ee *store.ExistsError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				made++
			case errors.As(err, &ee) && ee.Record.Values["title"] == "follow up":
				exists++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if made != 1 || exists != 7 {
		t.Fatalf("made %d, refused %d", made, exists)
	}
}

func TestHistoryBeforePagesNewestFirst(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	rec := create(t, st, "contact", map[string]any{"name": "v0"})
	other := create(t, st, "contact", map[string]any{"name": "other"})
	for i := 1; i <= 9; i++ {
		for _, id := range []string{rec.ID, other.ID} {
			if _, err := st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: id, Set: map[string]any{"name": fmt.Sprintf("v%d", i)}, By: testUser}); err != nil {
				t.Fatal(err)
			}
		}
	}
	all, err := st.History(ctx, "contact", rec.ID)
	if err != nil || len(all) != 10 {
		t.Fatalf("history: %d %v", len(all), err)
	}
	slices.Reverse(all)
	var paged []store.HistoryEntry
	before := uint64(0)
	for range 10 {
		page, err := st.HistoryBefore(ctx, "contact", rec.ID, before, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, page...)
		before = page[len(page)-1].Seq
	}
	if len(paged) != len(all) {
		t.Fatalf("paged %d entries, want %d", len(paged), len(all))
	}
	for i := range all {
		if paged[i].Seq != all[i].Seq || paged[i].Version != all[i].Version {
			t.Fatalf("entry %d: %+v, want %+v", i, paged[i], all[i])
		}
	}
	if page, err := st.HistoryBefore(ctx, "contact", rec.ID, 1, 5); err != nil || len(page) != 0 {
		t.Fatalf("before position 1: %v %v", page, err)
	}
}

func TestSysUpdateIsSafeReadModifyWrite(t *testing.T) {
	sch := testSchema(t)
	url := pgtest.DB(t)
	a, b := openURL(t, url, sch), openURL(t, url, sch)
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		st := []*postgres.Store{a, b}[i%2]
		go func() {
			defer wg.Done()
			err := st.SysUpdate(ctx, func(tx store.SysTx) error {
				var n int
				if err := tx.Get("counter", "c", &n); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				return tx.Put("counter", "c", n+1)
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var n int
	if err := a.SysView(ctx, func(tx store.SysTx) error { return tx.Get("counter", "c", &n) }); err != nil || n != 20 {
		t.Fatalf("counter = %d, %v; want 20", n, err)
	}
	var keys []string
	err := a.SysUpdate(ctx, func(tx store.SysTx) error {
		for _, k := range []string{"a_1", "a%2", "ab", "b"} {
			if err := tx.Put("doc", k, k); err != nil {
				return err
			}
		}
		return tx.Delete("doc", "ab")
	})
	if err != nil {
		t.Fatal(err)
	}
	err = b.SysList(ctx, "doc", "a", func(key string, data []byte) error {
		keys = append(keys, key+"="+string(data))
		return nil
	})
	if err != nil || strings.Join(keys, " ") != `a%2="a%2" a_1="a_1"` {
		t.Fatalf("list = %q, %v", keys, err)
	}
}

// TestTwoNodes runs two stores on one database, as two crm nodes.
func TestTwoNodes(t *testing.T) {
	sch := testSchema(t)
	url := pgtest.DB(t)
	// Both start at once on an empty database: the migration lock makes
	// them take turns.
	nodes := make([]*postgres.Store, 2)
	errs := make([]error, 2)
	var wg0 sync.WaitGroup
	for i := range nodes {
		wg0.Add(1)
		go func() {
			defer wg0.Done()
			nodes[i], errs[i] = postgres.Open(context.Background(), url, sch, postgres.Options{})
		}()
	}
	wg0.Wait()
	for i, st := range nodes {
		if st != nil {
			t.Cleanup(func() { st.Close() })
		}
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
	}
	a, b := nodes[0], nodes[1]
	addUsers(t, a)
	ctx := context.Background()

	// A commit on one node wakes the other's waiters and moves its LastSeq.
	ch := b.Committed()
	rec := create(t, a, "contact", map[string]any{"name": "from a"})
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("a commit on node a did not close node b's Committed channel")
	}
	if b.LastSeq() != a.LastSeq() || b.LastSeq() == 0 {
		t.Fatalf("node b's LastSeq = %d after node a's commit at %d", b.LastSeq(), a.LastSeq())
	}
	if got, err := b.Get(ctx, "contact", rec.ID); err != nil || got.Values["name"] != "from a" {
		t.Fatalf("node b reads %+v, %v", got, err)
	}

	// Unique values hold across nodes.
	uniqueRace(t, []*postgres.Store{a, b}, 16)

	// A reader polling the feed while both nodes write never sees a
	// position go back, nor a gap that fills later.
	stop := make(chan struct{})
	readerErr := make(chan error, 1)
	go func() {
		var last uint64
		var seen []uint64
		for {
			select {
			case <-stop:
				readerErr <- nil
				return
			default:
			}
			evs, err := b.Events(ctx, last, 1000)
			if err != nil {
				readerErr <- err
				return
			}
			for _, e := range evs {
				if e.Seq != last+1 {
					readerErr <- fmt.Errorf("after position %d the feed gave %d", last, e.Seq)
					return
				}
				last = e.Seq
				seen = append(seen, e.Seq)
			}
			p, err := a.List(ctx, store.Query{Entity: "contact", Limit: 1})
			if err != nil {
				readerErr <- err
				return
			}
			if p.Seq < last {
				// A page is read at a position: it can be older than what
				// the feed showed before it only if the feed went back.
				readerErr <- fmt.Errorf("page read at %d after the feed showed %d", p.Seq, last)
				return
			}
		}
	}()
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		st := []*postgres.Store{a, b}[w%2]
		go func() {
			defer wg.Done()
			for i := range 25 {
				if _, err := st.Create(ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{"name": fmt.Sprint(w, "-", i)}}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	if err := <-readerErr; err != nil {
		t.Fatal(err)
	}
	evs, err := a.Events(ctx, 0, 10000)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range evs {
		if e.Seq != uint64(i+1) {
			t.Fatalf("event %d has position %d", i, e.Seq)
		}
	}
	last := evs[len(evs)-1].Seq
	deadline := time.Now().Add(10 * time.Second)
	for a.LastSeq() != last || b.LastSeq() != last {
		if time.Now().After(deadline) {
			t.Fatalf("LastSeq a %d b %d, want %d", a.LastSeq(), b.LastSeq(), last)
		}
		select {
		case <-a.Committed():
		case <-b.Committed():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestSearch(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	for _, name := range []string{"Joanna Smith", "Ann Lee", "Anna Brown", "Annabel Green", "Bob Annandale"} {
		create(t, st, "contact", map[string]any{"name": name})
	}
	var got []string
	for _, h := range search(t, st, "ann") {
		got = append(got, h.Title+"/"+h.Match)
	}
	want := []string{"Ann Lee/exact", "Bob Annandale/prefix", "Annabel Green/prefix", "Anna Brown/prefix", "Joanna Smith/infix"}
	if !slices.Equal(got, want) {
		t.Errorf("ranking:\n got %q\nwant %q", got, want)
	}
	top, err := st.Search(ctx, store.SearchQuery{Text: "ann", Limit: 2})
	if err != nil || len(top) != 2 || top[0].Title != "Ann Lee" || top[1].Title != "Bob Annandale" {
		t.Errorf("limit 2 = %v, %v", top, err)
	}
	rec := create(t, st, "contact", map[string]any{"name": "Anna Petrosyan", "phone": "+37491123456", "email": "anna@old.am"})
	create(t, st, "contact", map[string]any{"name": "Karen Petrosyan"})
	if _, err := st.Update(ctx, store.UpdateRequest{Entity: "contact", ID: rec.ID, By: testUser,
		Set: map[string]any{"name": "Maria Petrosyan", "phone": "+37477000000"}, Clear: []string{"email"}}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]string{
		"091123456":   nil,
		"old.am":      nil,
		"maria":       {"Maria Petrosyan"},
		"077000000":   {"Maria Petrosyan"},
		"petrosyan":   {"Karen Petrosyan", "Maria Petrosyan"},
		"karen petro": {"Karen Petrosyan"},
		"an":          {"Ann Lee", "Anna Brown", "Annabel Green", "Bob Annandale"},
	} {
		var got []string
		for _, h := range search(t, st, q) {
			got = append(got, h.Title)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("search %q = %q, want %q", q, got, want)
		}
	}
	// Bound to one owner.
	if _, err := st.Create(ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "Karen Other"}, By: otherUser}); err != nil {
		t.Fatal(err)
	}
	hits, err := st.Search(ctx, store.SearchQuery{Text: "karen", Owners: map[string]string{"contact": otherUser}})
	if err != nil || len(hits) != 1 || hits[0].Title != "Karen Other" {
		t.Fatalf("owner-bound search = %v, %v", hits, err)
	}
	var qe *store.QueryError
	for _, c := range []struct {
		q        string
		entities []string
		limit    int
		param    string
	}{
		{"  ,. ", nil, 10, "q"},
		{"anna", []string{"nope"}, 10, "entity"},
		{"anna", []string{"deal"}, 10, "entity"},
		{"anna", nil, -1, "limit"},
	} {
		_, err := st.Search(ctx, store.SearchQuery{Text: c.q, Entities: c.entities, Limit: c.limit})
		if !errors.As(err, &qe) || qe.Param != c.param {
			t.Errorf("search %q %v %d: err %v, want a query error on %s", c.q, c.entities, c.limit, err, c.param)
		}
	}
}

func search(t testing.TB, st store.Store, q string) []store.SearchHit {
	t.Helper()
	hits, err := st.Search(context.Background(), store.SearchQuery{Text: q, Limit: 50})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	return hits
}

func TestCountsAndTotals(t *testing.T) {
	st, sch := openStore(t)
	ctx := context.Background()
	deal := sch.Entity("deal")
	big := int64(9_000_000_000_000_000_000) // two of these overflow an int64
	for _, v := range []map[string]any{
		{"title": "a", "stage": "won", "amount": schema.Money{Minor: big, Currency: "USD"}},
		{"title": "b", "stage": "won", "amount": schema.Money{Minor: big, Currency: "USD"}},
		{"title": "c", "stage": "won", "amount": schema.Money{Minor: 150000, Currency: "AMD"}},
		{"title": "d", "stage": "won", "amount": schema.Money{Minor: 5, Currency: "JPY"}},
		{"title": "e", "stage": "new", "amount": schema.Money{Minor: -7, Currency: "USD"}},
		{"title": "f", "stage": "new"},
	} {
		create(t, st, "deal", v)
	}
	for _, src := range []string{"", "title != 'zzz'", "title + '' != 'zzz'"} {
		var f *store.Filter
		if src != "" {
			var err error
			if f, err = store.CompileFilter(deal, src); err != nil {
				t.Fatal(err)
			}
		}
		got, err := st.Totals(ctx, "deal", "stage", "amount", f)
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		for _, tt := range got {
			lines = append(lines, fmt.Sprintf("%v %s %s %d", tt.Group, tt.Currency, tt.Sum, tt.Count))
		}
		want := []string{"new USD -0.07 1", "won AMD 1500.00 1", "won JPY 5 1", "won USD 180000000000000000.00 2"}
		if strings.Join(lines, "; ") != strings.Join(want, "; ") {
			t.Fatalf("filter %q: totals = %q, want %q", src, lines, want)
		}
		counts, err := st.Totals(ctx, "deal", "stage", "", f)
		if err != nil || len(counts) != 2 || counts[0].Group != "new" || counts[0].Count != 2 || counts[1].Count != 4 {
			t.Fatalf("filter %q: counts per stage = %+v, %v", src, counts, err)
		}
		n, exact, err := st.Count(ctx, "deal", f)
		if err != nil || n != 6 || !exact {
			t.Fatalf("filter %q: count = %d %v %v", src, n, exact, err)
		}
	}
	won, _ := store.CompileFilter(deal, "stage == 'won' && amount.amount > 100")
	if n, _, err := st.Count(ctx, "deal", won); err != nil || n != 3 {
		t.Fatalf("count of won over 100 = %d, %v", n, err)
	}
	var qe *store.QueryError
	if _, err := st.Totals(ctx, "deal", "title", "amount", nil); !errors.As(err, &qe) || qe.Param != "group" || !strings.Contains(qe.Message, "stage") {
		t.Fatalf("group by a title: %v", err)
	}
	if _, err := st.Totals(ctx, "deal", "stage", "title", nil); !errors.As(err, &qe) || qe.Param != "totals" || !strings.Contains(qe.Message, "amount") {
		t.Fatalf("sum of a title: %v", err)
	}
	if n, exact, err := st.Count(ctx, "deal", nil); err != nil || n != 6 || !exact {
		t.Fatalf("count of all = %d %v %v", n, exact, err)
	}
}

func TestFiles(t *testing.T) {
	st, _ := openStore(t)
	ctx := context.Background()
	data := strings.Repeat("0123456789", 120_000) // three chunks
	f, err := st.PutFile(ctx, "a.txt", "text/plain", testUser, strings.NewReader(data), 10<<20)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.FileInfo(ctx, f.ID)
	if err != nil || info.Size != int64(len(data)) || info.SHA256 != f.SHA256 {
		t.Fatalf("info = %+v, %v", info, err)
	}
	var out strings.Builder
	if err := st.WriteFile(ctx, f.ID, &out); err != nil || out.String() != data {
		t.Fatalf("read back %d bytes, %v", out.Len(), err)
	}
	var ie *store.InvalidError
	if _, err := st.PutFile(ctx, "big", "", testUser, strings.NewReader(data), 1000); !errors.As(err, &ie) {
		t.Fatalf("too large: %v", err)
	}
	u, err := st.FileUsage(ctx)
	if err != nil || u.Files != 1 || u.Chunks != 3 || u.Bytes != int64(len(data)) {
		t.Fatalf("usage = %+v, %v", u, err)
	}
	// An unheld file past the grace is collected; a held one stays until
	// its record lets it go.
	g, err := st.PutFile(ctx, "b.txt", "text/plain", testUser, strings.NewReader("held"), 100)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Create(ctx, store.CreateRequest{Entity: "contract", Values: map[string]any{"doc": "01JNOFILE00000000000000000"}}); !errors.As(err, &ie) || ie.Field != "doc" {
		t.Fatalf("a record naming no file: %v", err)
	}
	c := create(t, st, "contract", map[string]any{"title": "c", "doc": g.ID})
	if refs, err := st.FileHolders(ctx, g.ID, []string{"contact", "contract"}); err != nil || len(refs) != 1 || refs[0].ID != c.ID || refs[0].Field != "doc" {
		t.Fatalf("holders = %v, %v", refs, err)
	}
	if n, err := st.CollectFiles(ctx, 0); err != nil || n != 1 {
		t.Fatalf("collected %d, %v", n, err)
	}
	if _, err := st.FileInfo(ctx, f.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("collected file info: %v", err)
	}
	if _, err := st.FileInfo(ctx, g.ID); err != nil {
		t.Fatalf("held file: %v", err)
	}
	if _, err := st.Delete(ctx, store.DeleteRequest{Entity: "contract", ID: c.ID}); err != nil {
		t.Fatal(err)
	}
	if n, err := st.CollectFiles(ctx, 0); err != nil || n != 1 {
		t.Fatalf("collected %d after the record went, %v", n, err)
	}
	if u, err := st.FileUsage(ctx); err != nil || u != (store.FileUsage{}) {
		t.Fatalf("usage at the end = %+v, %v", u, err)
	}
	// Failed uploads leave no chunk.
	_, err = st.PutFile(ctx, "cut.bin", "", testUser, io.MultiReader(strings.NewReader(data), iotest.ErrReader(io.ErrUnexpectedEOF)), 10<<20)
	if !errors.As(err, &ie) || !errors.Is(err, io.ErrUnexpectedEOF) || !strings.Contains(ie.Message, "cut off") {
		t.Fatalf("cut off: %v", err)
	}
	if u, err := st.FileUsage(ctx); err != nil || u != (store.FileUsage{}) {
		t.Fatalf("usage after failed uploads = %+v, %v", u, err)
	}
}

// TestHostileFilterIsAFilterError: a filter that exceeds its budget on the
// rows is a *store.FilterError from every read that evaluates it, as from
// the Badger store.
func TestHostileFilterIsAFilterError(t *testing.T) {
	st, sch := openStore(t)
	ctx := context.Background()
	create(t, st, "vehicle", map[string]any{"vin": "WVW1", "mileage": int64(7)})
	f, err := store.CompileFilter(sch.Entity("vehicle"), `!all(1..999990, {# > 0})`)
	if err != nil {
		t.Fatal(err)
	}
	var fe *store.FilterError
	if _, err := st.List(ctx, store.Query{Entity: "vehicle", Filter: f}); !errors.As(err, &fe) || fe.Budget == "" {
		t.Fatalf("list: %v", err)
	}
	if _, _, err := st.Count(ctx, "vehicle", f); !errors.As(err, &fe) || fe.Budget == "" {
		t.Fatalf("count: %v", err)
	}
	if _, err := st.Totals(ctx, "vehicle", "status", "", f); !errors.As(err, &fe) || fe.Budget == "" {
		t.Fatalf("totals: %v", err)
	}
	_, err = st.Create(ctx, store.CreateRequest{Entity: "vehicle", Values: map[string]any{"vin": "WVW2"}, Unless: f})
	if !errors.As(err, &fe) || fe.Budget == "" {
		t.Fatalf("create unless: %v", err)
	}
}
