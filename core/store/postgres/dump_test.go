package postgres_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/postgres"
	"github.com/crmkit/crm/core/testkit/pgtest"
)

const dumpHCL = `
entity "supplier" {
  field "name" {
    type   = "string"
    search = true
    unique = true
  }
  field "rating"   {
    type  = "int"
    index = true
  }
  field "contract" { type = "file" }
}
entity "vehicle" {
  field "vin"     {
    type = "string"
    required = true
    unique = true
    search = true
  }
  field "mileage" {
    type = "int"
    index = true
  }
  field "status"  {
    type = "enum"
    values = ["in_stock", "sold", "service"]
  }
  field "buyer"    {
    type = "ref"
    to = "contact"
  }
  field "supplier" {
    type = "ref"
    to = "supplier"
  }
  field "price"   { type = "money" }
}
locale { currency = "AMD" }
`

// dumpKinds are the system document kinds compared between stores: every
// kind but the derived state a loader rebuilds (store.DumpSkipsKind).
var dumpKinds = []string{
	store.KindUser, store.KindUserEmail, store.KindToken, store.KindTokenHash, store.KindFile,
	store.KindIdempotency, store.KindConsumer, store.KindEffect, store.KindNotification,
	store.KindRuleRun, store.KindRuleRetry, store.KindRuleStats, store.KindRuleTick, store.KindView,
}

func dumpSchema(t testing.TB) *schema.Schema {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"test.hcl": []byte(dumpHCL)})
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sch
}

// openBadger opens a Badger store in dir, closed when the test ends.
func openBadger(t testing.TB, dir string, sch *schema.Schema) *store.Badger {
	t.Helper()
	st, err := store.OpenBadger(dir, sch, store.Options{NoSync: true, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	<-st.SearchReady()
	return st
}

func fastAuth(st store.Store) *auth.Service {
	return auth.New(st, nil, auth.Options{ArgonMemoryKiB: 64, ArgonTime: 1, ArgonThreads: 1, Logger: slog.New(slog.DiscardHandler)})
}

type dumpSource struct {
	st       *store.Badger
	sch      *schema.Schema
	email    string
	password string
	token    string
	session  string
	file     *store.File
}

// populate fills a Badger store with every kind of thing a store holds:
// records of several entities with unique fields and references,
// histories of several versions, deleted records (one with force, which
// clears references), an emitted event, a user with a session and a
// token, a file of two chunks and system documents of other kinds.
func populate(t testing.TB, vehicles int) *dumpSource {
	t.Helper()
	ctx := context.Background()
	sch := dumpSchema(t)
	st := openBadger(t, t.TempDir(), sch)
	p := &dumpSource{st: st, sch: sch, email: "ann@example.com", password: "correct horse battery"}
	a := fastAuth(st)
	u, err := a.CreateUser(ctx, p.email, "Ann", "admin", p.password)
	if err != nil {
		t.Fatal(err)
	}
	if p.token, _, err = a.CreateToken(ctx, u.ID, "migrate test", 0); err != nil {
		t.Fatal(err)
	}
	if p.session, _, err = a.Login(ctx, p.email, p.password, "192.0.2.1:1234"); err != nil {
		t.Fatal(err)
	}
	data := bytes.Repeat([]byte("contract text <&> "), 40000) // 720 KB: two chunks
	if p.file, err = st.PutFile(ctx, "contract.txt", "text/plain", u.ID, bytes.NewReader(data), 1<<30); err != nil {
		t.Fatal(err)
	}
	mk := func(entity string, vals map[string]any) *store.Record {
		t.Helper()
		r, err := st.Create(ctx, store.CreateRequest{Entity: entity, Values: vals, By: u.ID})
		if err != nil {
			t.Fatalf("create %s: %v", entity, err)
		}
		return r
	}
	var contacts, suppliers []*store.Record
	for i := range 20 {
		contacts = append(contacts, mk("contact", map[string]any{"name": fmt.Sprintf("Contact %02d Petrosyan", i), "email": fmt.Sprintf("c%d@example.com", i)}))
	}
	for i := range 5 {
		vals := map[string]any{"name": fmt.Sprintf("Supplier %d", i), "rating": int64(i)}
		if i == 0 {
			vals["contract"] = p.file.ID
		}
		suppliers = append(suppliers, mk("supplier", vals))
	}
	statuses := []string{"in_stock", "sold", "service"}
	for i := range vehicles {
		v := mk("vehicle", map[string]any{
			"vin": fmt.Sprintf("VIN%05d", i), "mileage": int64(i * 100), "status": statuses[i%3],
			"buyer": contacts[i%len(contacts)].ID, "supplier": suppliers[i%len(suppliers)].ID,
			"price": schema.Money{Minor: int64(1000 + i), Currency: "AMD"},
		})
		for j := range i % 3 {
			if _, err := st.Update(ctx, store.UpdateRequest{Entity: "vehicle", ID: v.ID, By: u.ID,
				Set: map[string]any{"mileage": int64(i*100 + j + 1), "status": statuses[(i+j+1)%3]}}); err != nil {
				t.Fatal(err)
			}
		}
		if i%17 == 5 {
			if _, err := st.Delete(ctx, store.DeleteRequest{Entity: "vehicle", ID: v.ID, By: u.ID}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := st.Delete(ctx, store.DeleteRequest{Entity: "contact", ID: contacts[3].ID, By: u.ID, Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Emit(ctx, store.EmitRequest{Name: "call.missed", Payload: map[string]any{"from": "+37410000000"}, By: "plugin:phone"}); err != nil {
		t.Fatal(err)
	}
	err = st.SysUpdate(ctx, func(tx store.SysTx) error {
		for kind, key := range map[string]string{store.KindConsumer: "rules", store.KindRuleRun: store.NewID(),
			store.KindNotification: u.ID + "/n1", store.KindRuleStats: "welcome", store.KindEffect: "k1"} {
			if err := tx.Put(kind, key, map[string]any{"at": st.LastSeq(), "kind": kind, "note": "<a & b>"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// jsonSame reports whether two JSON texts hold the same value (PostgreSQL
// keeps system documents as jsonb, which orders keys its own way).
func jsonSame(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// sameAnswers checks that b answers every read as a does.
func sameAnswers(t *testing.T, a, b store.Store, sch *schema.Schema) {
	t.Helper()
	ctx := context.Background()
	if a.LastSeq() == 0 || a.LastSeq() != b.LastSeq() {
		t.Errorf("LastSeq %d, copy %d", a.LastSeq(), b.LastSeq())
	}
	if !reflect.DeepEqual(a.Counts(), b.Counts()) {
		t.Errorf("Counts %v, copy %v", a.Counts(), b.Counts())
	}
	ea, err := a.Events(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	eb, err := b.Events(ctx, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	if len(ea) == 0 || !reflect.DeepEqual(ea, eb) {
		t.Errorf("events differ: %d vs %d", len(ea), len(eb))
		for i := range min(len(ea), len(eb)) {
			if !reflect.DeepEqual(ea[i], eb[i]) {
				t.Errorf("first difference:\n %+v\n %+v", ea[i], eb[i])
				break
			}
		}
	}
	seen := map[string]bool{}
	for _, e := range ea {
		if e.RecordEntity(sch) == nil || seen[e.Entity+"/"+e.ID] {
			continue
		}
		seen[e.Entity+"/"+e.ID] = true
		ha, err := a.History(ctx, e.Entity, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		hb, err := b.History(ctx, e.Entity, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ha) == 0 || !reflect.DeepEqual(ha, hb) {
			t.Errorf("history of %s %s differs: %d vs %d entries", e.Entity, e.ID, len(ha), len(hb))
		}
	}
	list := func(st store.Store, entity string, f *store.Filter, sort string) []string {
		t.Helper()
		var out []string
		q := store.Query{Entity: entity, Filter: f, Sort: store.ParseSort(sort), Limit: 37} // pages through cursors
		for {
			page, err := st.List(ctx, q)
			if err != nil {
				t.Fatalf("list %s: %v", entity, err)
			}
			for _, r := range page.Items {
				out = append(out, fmt.Sprintf("%s v%d %s %s %s %s %v", r.ID, r.Version, r.CreatedAt, r.UpdatedAt, r.Owner, r.CreatedBy, r.Values))
			}
			if page.NextCursor == "" {
				return out
			}
			q.Cursor = page.NextCursor
		}
	}
	for _, c := range []struct{ entity, filter, sort string }{
		{"vehicle", "", ""}, {"vehicle", "", "-mileage"}, {"vehicle", `vin == "VIN00007"`, ""},
		{"vehicle", "mileage >= 500 && mileage < 2000", "mileage"}, {"vehicle", `status == "sold"`, "-updated_at"},
		{"contact", "", "name"}, {"supplier", "rating > 1", ""}, {"supplier", `contract != ""`, ""},
	} {
		var f *store.Filter
		if c.filter != "" {
			if f, err = store.CompileFilter(sch.Entity(c.entity), c.filter); err != nil {
				t.Fatal(err)
			}
		}
		la, lb := list(a, c.entity, f, c.sort), list(b, c.entity, f, c.sort)
		if len(la) == 0 || !reflect.DeepEqual(la, lb) {
			t.Errorf("list %s %q sorted %q: %d items, copy %d", c.entity, c.filter, c.sort, len(la), len(lb))
		}
		na, _, err := a.Count(ctx, c.entity, f)
		if err != nil {
			t.Fatal(err)
		}
		nb, _, err := b.Count(ctx, c.entity, f)
		if err != nil {
			t.Fatal(err)
		}
		if na != nb || na == 0 {
			t.Errorf("count %s %q: %d, copy %d", c.entity, c.filter, na, nb)
		}
	}
	ta, err := a.Totals(ctx, "vehicle", "status", "price", nil)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.Totals(ctx, "vehicle", "status", "price", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ta) == 0 || fmt.Sprint(ta) != fmt.Sprint(tb) {
		t.Errorf("totals %v, copy %v", ta, tb)
	}
	for _, q := range []string{"petros", "VIN0001", "supplier 3", "tact 1"} {
		hits := func(st store.Store) []string {
			hs, err := st.Search(ctx, store.SearchQuery{Text: q, Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, h := range hs {
				out = append(out, h.Entity+"/"+h.ID+"/"+h.Match+"/"+h.Title)
			}
			return out
		}
		if sa, sb := hits(a), hits(b); len(sa) == 0 || !reflect.DeepEqual(sa, sb) {
			t.Errorf("search %q: %v, copy %v", q, sa, sb)
		}
	}
	for _, kind := range dumpKinds {
		docs := func(st store.Store) map[string][]byte {
			m := map[string][]byte{}
			if err := st.SysList(ctx, kind, "", func(k string, d []byte) error { m[k] = bytes.Clone(d); return nil }); err != nil {
				t.Fatal(err)
			}
			return m
		}
		da, db := docs(a), docs(b)
		if len(da) != len(db) {
			t.Errorf("system documents %s: %d, copy %d", kind, len(da), len(db))
		}
		for k, v := range da {
			if !jsonSame(v, db[k]) {
				t.Errorf("system document %s %s: %s, copy %s", kind, k, v, db[k])
			}
		}
	}
	var files []string
	if err := a.SysList(ctx, store.KindFile, "", func(k string, _ []byte) error { files = append(files, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Error("no files to compare")
	}
	for _, id := range files {
		fa, err := a.FileInfo(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		fb, err := b.FileInfo(ctx, id)
		if err != nil || !fa.CreatedAt.Equal(fb.CreatedAt) {
			t.Errorf("file %s: %v %v", id, fb, err)
		} else if fb.CreatedAt = fa.CreatedAt; !reflect.DeepEqual(fa, fb) {
			t.Errorf("file %s: %+v, copy %+v", id, fa, fb)
		}
		var ba, bb bytes.Buffer
		if err := a.WriteFile(ctx, id, &ba); err != nil {
			t.Fatal(err)
		}
		if err := b.WriteFile(ctx, id, &bb); err != nil || !bytes.Equal(ba.Bytes(), bb.Bytes()) || ba.Len() == 0 {
			t.Errorf("file %s bytes: %d, copy %d (%v)", id, ba.Len(), bb.Len(), err)
		}
	}
}

// checkUsable checks that the copy works on: a unique value taken in the
// source is refused, the next write takes the next position, and the old
// password, session and token still work.
func checkUsable(t *testing.T, p *dumpSource, b store.Store) {
	t.Helper()
	ctx := context.Background()
	last := b.LastSeq()
	_, err := b.Create(ctx, store.CreateRequest{Entity: "vehicle", Values: map[string]any{"vin": "VIN00001"}})
	var ce *store.ConflictError
	if !errors.As(err, &ce) || ce.Code != store.CodeDuplicate {
		t.Errorf("a duplicate vin in the copy: %v", err)
	}
	if _, err := b.Create(ctx, store.CreateRequest{Entity: "vehicle", Values: map[string]any{"vin": "NEW"}}); err != nil {
		t.Fatal(err)
	}
	ev, err := b.Events(ctx, last, 10)
	if err != nil || len(ev) != 1 || ev[0].Seq != last+1 || b.LastSeq() != last+1 {
		t.Errorf("the first write after the copy: %v %v, LastSeq %d, want position %d", ev, err, b.LastSeq(), last+1)
	}
	a := fastAuth(b)
	if _, _, err := a.Login(ctx, p.email, p.password, "192.0.2.9:1"); err != nil {
		t.Errorf("login with the old password: %v", err)
	}
	for _, secret := range []string{p.token, p.session} {
		if pr, err := a.Authenticate(ctx, secret); err != nil || pr == nil {
			t.Errorf("authenticate with an old secret: %v", err)
		}
	}
}

func openPG(t testing.TB, url string, sch *schema.Schema) *postgres.Store {
	t.Helper()
	st, err := postgres.Open(context.Background(), url, sch, postgres.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// TestMigrateBadgerToPostgresAndBack copies a populated Badger store into
// PostgreSQL and that into a second Badger store: each answers as the
// first, and works on.
func TestMigrateBadgerToPostgresAndBack(t *testing.T) {
	p := populate(t, 120)
	ctx := context.Background()
	pg := openPG(t, pgtest.DB(t), p.sch)
	var last store.Progress
	if err := store.Copy(ctx, p.st, pg, func(pr store.Progress) { last = pr }); err != nil {
		t.Fatal(err)
	}
	if !last.Finished || !reflect.DeepEqual(last.Done, last.Total) || last.Total[store.DumpChunk] != 2 {
		t.Errorf("last progress %+v", last)
	}
	sameAnswers(t, p.st, pg, p.sch)
	if err := store.Copy(ctx, p.st, pg, nil); err != nil {
		t.Errorf("copy again: %v", err)
	}

	back := openBadger(t, t.TempDir(), p.sch)
	if err := store.Copy(ctx, pg, back, func(pr store.Progress) { last = pr }); err != nil {
		t.Fatal(err)
	}
	if !last.Finished || !reflect.DeepEqual(last.Done, last.Total) {
		t.Errorf("last progress back %+v", last)
	}
	sameAnswers(t, p.st, back, p.sch)
	checkUsable(t, p, pg)
	checkUsable(t, p, back)

	// A destination that holds something else is refused.
	other := openPG(t, pgtest.DB(t), p.sch)
	if _, err := other.Create(ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := store.Copy(ctx, p.st, other, nil); !errors.Is(err, store.ErrNotEmpty) || !strings.Contains(err.Error(), "records of contact") {
		t.Errorf("copy into a database with records: %v", err)
	}
	// pg was written to by checkUsable: its copy id changed, so a copy of
	// it over back (a finished copy of pg as it was) is refused.
	if err := store.Copy(ctx, pg, back, nil); !errors.Is(err, store.ErrNotEmpty) || !strings.Contains(err.Error(), "a finished copy") {
		t.Errorf("copy of a changed source over a finished copy: %v", err)
	}
}

// TestCopyIDFollowsContent: the copy id of a PostgreSQL dump stays while
// nothing is written (across reopening) and changes with a system
// document, which does not move the feed.
func TestCopyIDFollowsContent(t *testing.T) {
	sch := dumpSchema(t)
	url := pgtest.DB(t)
	ctx := context.Background()
	pg := openPG(t, url, sch)
	if _, err := pg.Create(ctx, store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "x"}}); err != nil {
		t.Fatal(err)
	}
	id := func(st *postgres.Store) string {
		h, _, err := store.VerifyDump(ctx, st)
		if err != nil {
			t.Fatal(err)
		}
		return h.CopyID
	}
	first := id(pg)
	if again := id(openPG(t, url, sch)); again != first {
		t.Errorf("copy id %s, reopened %s", first, again)
	}
	if err := pg.SysUpdate(ctx, func(tx store.SysTx) error { return tx.Put(store.KindView, "v1", map[string]string{"a": "b"}) }); err != nil {
		t.Fatal(err)
	}
	if after := id(pg); after == first {
		t.Errorf("copy id %s after a system document was written", after)
	}
}

// TestCopyResumesAfterACut cuts a Badger to PostgreSQL copy and a
// PostgreSQL to Badger copy after a few batches; each destination is
// reopened and the copy resumed, and ends answering as the source.
func TestCopyResumesAfterACut(t *testing.T) {
	p := populate(t, 300)
	url := pgtest.DB(t)
	cut := func(src store.Dumper, dst store.Loader) {
		t.Helper()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		batches := 0
		err := store.Copy(ctx, src, dst, func(pr store.Progress) {
			if pr.Done[store.DumpRecord] > 0 {
				batches++
			}
			if batches == 3 {
				cancel()
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cut copy: %v", err)
		}
		st, err := dst.LoadState(context.Background())
		if err != nil || st == nil || st.Done || st.Cursor.Items == 0 {
			t.Fatalf("state after the cut: %+v %v", st, err)
		}
	}
	resume := func(src store.Dumper, dst store.Loader) {
		t.Helper()
		resumed := false
		var last store.Progress
		if err := store.Copy(context.Background(), src, dst, func(pr store.Progress) { resumed = resumed || pr.Resumed; last = pr }); err != nil {
			t.Fatal(err)
		}
		if !resumed || !reflect.DeepEqual(last.Done, last.Total) {
			t.Errorf("resumed %v, progress %+v", resumed, last)
		}
	}
	pg := openPG(t, url, p.sch)
	cut(p.st, pg)
	pg.Close()
	pg = openPG(t, url, p.sch)
	resume(p.st, pg)
	sameAnswers(t, p.st, pg, p.sch)

	dir := t.TempDir()
	back := openBadger(t, dir, p.sch)
	cut(pg, back)
	back.Close()
	back = openBadger(t, dir, p.sch)
	resume(pg, back)
	sameAnswers(t, p.st, back, p.sch)
	checkUsable(t, p, pg)
	checkUsable(t, p, back)
}

// TestLoadingABatchTwiceIsHarmless loads every batch of a dump twice into
// PostgreSQL, the first time with each item twice in it: the counts, unique values and feed are as after one load.
func TestLoadingABatchTwiceIsHarmless(t *testing.T) {
	p := populate(t, 40)
	ctx := context.Background()
	var h store.DumpHeader
	var items []store.DumpItem
	if err := p.st.Dump(ctx, store.DumpCursor{}, func(x store.DumpHeader) error { h = x; return nil },
		func(it store.DumpItem) error { items = append(items, it); return nil }); err != nil {
		t.Fatal(err)
	}
	pg := openPG(t, pgtest.DB(t), p.sch)
	if err := pg.StartLoad(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := pg.StartLoad(ctx, h); !errors.Is(err, store.ErrNotEmpty) {
		t.Errorf("a second StartLoad: %v", err)
	}
	st := store.LoadState{CopyID: h.CopyID, Source: h.Source, Counts: map[string]int64{}}
	for batch := range slices.Chunk(items, 7) {
		// Each batch twice, and first with every item twice in it.
		for _, b := range [][]store.DumpItem{append(slices.Clone(batch), batch...), batch} {
			st.Cursor = batch[len(batch)-1].Cursor
			if err := pg.Load(ctx, b, st); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := pg.FinishLoad(ctx, h, st); err != nil {
		t.Fatal(err)
	}
	sameAnswers(t, p.st, pg, p.sch)
	checkUsable(t, p, pg)
}

// TestCopySpeed measures a copy of 20,000 records (with their history and
// events) from Badger to PostgreSQL and back.
func TestCopySpeed(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: 20,000 records")
	}
	const n = 20000
	sch := dumpSchema(t)
	ctx := context.Background()
	src := openBadger(t, t.TempDir(), sch)
	for i := range n {
		if _, err := src.Create(ctx, store.CreateRequest{Entity: "vehicle", Values: map[string]any{
			"vin": fmt.Sprintf("VIN%06d", i), "mileage": int64(i), "status": "sold",
			"price": schema.Money{Minor: int64(i), Currency: "AMD"},
		}}); err != nil {
			t.Fatal(err)
		}
	}
	measure := func(what string, from store.Dumper, to store.Loader) {
		t.Helper()
		var last store.Progress
		start := time.Now()
		timed := &timedLoader{Loader: to}
		if err := store.Copy(ctx, from, timed, func(pr store.Progress) { last = pr }); err != nil {
			t.Fatal(err)
		}
		d := time.Since(start)
		items := int64(0)
		for _, v := range last.Done {
			items += v
		}
		t.Logf("%s: %d records, %d items in %v (%v of it loading): %.0f records/s, %.0f items/s", what, last.Done[store.DumpRecord], items,
			d.Round(time.Millisecond), timed.spent.Round(time.Millisecond), float64(last.Done[store.DumpRecord])/d.Seconds(), float64(items)/d.Seconds())
	}
	pg := openPG(t, pgtest.DB(t), sch)
	measure("badger -> postgres", src, pg)
	back := openBadger(t, t.TempDir(), sch)
	measure("postgres -> badger", pg, back)
	if pg.Counts()["vehicle"] != n || back.Counts()["vehicle"] != n || back.LastSeq() != src.LastSeq() {
		t.Errorf("counts %v %v, LastSeq %d %d", pg.Counts(), back.Counts(), back.LastSeq(), src.LastSeq())
	}
}

// timedLoader is a Loader that adds up the time its Load calls take.
type timedLoader struct {
	store.Loader
	spent time.Duration
}

func (l *timedLoader) Load(ctx context.Context, items []store.DumpItem, st store.LoadState) error {
	start := time.Now()
	defer func() { l.spent += time.Since(start) }()
	return l.Loader.Load(ctx, items, st)
}
