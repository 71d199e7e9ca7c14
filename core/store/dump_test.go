package store_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"reflect"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/auth"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
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

type dumpSource struct {
	st       *store.Badger
	sch      *schema.Schema
	email    string
	password string
	token    string // an API token's secret
	session  string // a session's secret
	file     *store.File
	fileData []byte
	deleted  []string // ids of deleted records ("entity/id")
}

func openDumpStore(t *testing.T, dir string) (*store.Badger, *schema.Schema) {
	t.Helper()
	st, sch := openWith(t, dir, dumpHCL, store.Options{NoSync: true})
	<-st.SearchReady()
	return st, sch
}

func fastAuth(st store.Store) *auth.Service {
	return auth.New(st, nil, auth.Options{ArgonMemoryKiB: 64, ArgonTime: 1, ArgonThreads: 1, Logger: slog.New(slog.DiscardHandler)})
}

// populate fills a store with every kind of thing a store holds: records
// of several entities with unique fields and references, histories of
// several versions, deleted records, emitted events, users, a session and
// a token, a file of two chunks, and system documents of other kinds.
func populate(t *testing.T, dir string, vehicles int) *dumpSource {
	t.Helper()
	ctx := context.Background()
	st, sch := openDumpStore(t, dir)
	p := &dumpSource{st: st, sch: sch, email: "ann@example.com", password: "correct horse battery"}
	a := fastAuth(st)
	u, err := a.CreateUser(ctx, p.email, "Ann", "admin", p.password)
	if err != nil {
		t.Fatal(err)
	}
	if p.token, _, err = a.CreateToken(ctx, u.ID, "backup test", 0); err != nil {
		t.Fatal(err)
	}
	if p.session, _, err = a.Login(ctx, p.email, p.password, "192.0.2.1:1234"); err != nil {
		t.Fatal(err)
	}
	p.fileData = bytes.Repeat([]byte("contract text <&> "), 40000) // 720 KB: two chunks
	if p.file, err = st.PutFile(ctx, "contract.txt", "text/plain", u.ID, bytes.NewReader(p.fileData), 1<<30); err != nil {
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
			p.deleted = append(p.deleted, "vehicle/"+v.ID)
		}
	}
	// A referenced contact deleted with force: its vehicles' refs are cleared in their own histories.
	if _, err := st.Delete(ctx, store.DeleteRequest{Entity: "contact", ID: contacts[3].ID, By: u.ID, Force: true}); err != nil {
		t.Fatal(err)
	}
	p.deleted = append(p.deleted, "contact/"+contacts[3].ID)
	if _, err := st.Emit(ctx, store.EmitRequest{Name: "call.missed", Payload: map[string]any{"from": "+37410000000"}, By: "plugin:phone"}); err != nil {
		t.Fatal(err)
	}
	err = st.SysUpdate(ctx, func(tx store.SysTx) error {
		for kind, key := range map[string]string{store.KindConsumer: "rules", store.KindRuleRun: store.NewID(),
			store.KindNotification: u.ID + "/n1", store.KindRuleStats: "welcome", store.KindEffect: "k1"} {
			if err := tx.Put(kind, key, map[string]any{"at": st.LastSeq(), "kind": kind}); err != nil {
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

// sameStores checks that b answers every read as a does.
func sameStores(t *testing.T, a, b *store.Badger, sch *schema.Schema) {
	t.Helper()
	ctx := context.Background()
	if a.LastSeq() != b.LastSeq() {
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
	list := func(st *store.Badger, entity, filter, sort string) ([]string, string) {
		t.Helper()
		var f *store.Filter
		if filter != "" {
			var err error
			if f, err = store.CompileFilter(sch.Entity(entity), filter); err != nil {
				t.Fatal(err)
			}
		}
		var out []string
		q := store.Query{Entity: entity, Filter: f, Sort: store.ParseSort(sort), Limit: 1000}
		plan := ""
		for {
			page, err := st.List(ctx, q)
			if err != nil {
				t.Fatalf("list %s %q: %v", entity, filter, err)
			}
			plan = page.Plan
			for _, r := range page.Items {
				out = append(out, fmt.Sprintf("%s v%d %s %s %s %s %v", r.ID, r.Version, r.CreatedAt, r.UpdatedAt, r.Owner, r.CreatedBy, r.Values))
			}
			if page.NextCursor == "" {
				return out, plan
			}
			q.Cursor = page.NextCursor
		}
	}
	for _, c := range []struct{ entity, filter, sort string }{
		{"vehicle", "", ""}, {"vehicle", "", "-mileage"}, {"vehicle", `vin == "VIN00007"`, ""},
		{"vehicle", "mileage >= 500 && mileage < 2000", "mileage"}, {"vehicle", `status == "sold"`, "-updated_at"},
		{"contact", "", "name"}, {"supplier", "rating > 1", ""}, {"supplier", `contract != ""`, ""},
	} {
		la, pa := list(a, c.entity, c.filter, c.sort)
		lb, pb := list(b, c.entity, c.filter, c.sort)
		if len(la) == 0 || !reflect.DeepEqual(la, lb) || pa != pb {
			t.Errorf("list %s %q: %d items (plan %s), copy %d items (plan %s)", c.entity, c.filter, len(la), pa, len(lb), pb)
		}
		var f *store.Filter
		if c.filter != "" {
			f, _ = store.CompileFilter(sch.Entity(c.entity), c.filter)
		}
		na, xa, err := a.Count(ctx, c.entity, f)
		if err != nil {
			t.Fatal(err)
		}
		nb, xb, err := b.Count(ctx, c.entity, f)
		if err != nil {
			t.Fatal(err)
		}
		if na != nb || xa != xb {
			t.Errorf("count %s %q: %d %v, copy %d %v", c.entity, c.filter, na, xa, nb, xb)
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
	if len(ta) == 0 || !reflect.DeepEqual(ta, tb) {
		t.Errorf("totals %v, copy %v", ta, tb)
	}
	for _, q := range []string{"petros", "VIN0001", "supplier 3", "tact 1"} {
		sa, err := a.Search(ctx, store.SearchQuery{Text: q, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		sb, err := b.Search(ctx, store.SearchQuery{Text: q, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if len(sa) == 0 || !reflect.DeepEqual(sa, sb) {
			t.Errorf("search %q: %d hits, copy %d", q, len(sa), len(sb))
		}
	}
	for _, kind := range dumpKinds {
		docs := func(st *store.Badger) map[string]string {
			m := map[string]string{}
			if err := st.SysList(ctx, kind, "", func(k string, d []byte) error { m[k] = string(d); return nil }); err != nil {
				t.Fatal(err)
			}
			return m
		}
		if da, db := docs(a), docs(b); !reflect.DeepEqual(da, db) {
			t.Errorf("system documents %s: %d, copy %d", kind, len(da), len(db))
		}
	}
	var files []string
	a.SysList(ctx, store.KindFile, "", func(k string, _ []byte) error { files = append(files, k); return nil })
	for _, id := range files {
		fa, err := a.FileInfo(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		fb, err := b.FileInfo(ctx, id)
		if err != nil || !reflect.DeepEqual(fa, fb) {
			t.Errorf("file %s: %v %v", id, fb, err)
		}
		var ba, bb bytes.Buffer
		if err := a.WriteFile(ctx, id, &ba); err != nil {
			t.Fatal(err)
		}
		if err := b.WriteFile(ctx, id, &bb); err != nil || !bytes.Equal(ba.Bytes(), bb.Bytes()) || ba.Len() == 0 {
			t.Errorf("file %s bytes: %d, copy %d (%v)", id, ba.Len(), bb.Len(), err)
		}
		ra, _ := a.FileHolders(ctx, id, sch.EntityNames())
		rb, _ := b.FileHolders(ctx, id, sch.EntityNames())
		if !reflect.DeepEqual(ra, rb) {
			t.Errorf("file %s holders %v, copy %v", id, ra, rb)
		}
	}
}

// checkUsable checks that the copy works on: a unique value taken in the
// source is refused, the next write takes the next position, and the old
// password, session and token still work.
func checkUsable(t *testing.T, p *dumpSource, b *store.Badger) {
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
	if err != nil || len(ev) != 1 || ev[0].Seq != last+1 {
		t.Errorf("the first write after the copy: %v %v, want position %d", ev, err, last+1)
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

func TestCopyBadgerToBadger(t *testing.T) {
	p := populate(t, t.TempDir(), 120)
	dst, _ := openDumpStore(t, t.TempDir())
	var last store.Progress
	calls := 0
	if err := store.Copy(context.Background(), p.st, dst, func(pr store.Progress) { last = pr; calls++ }); err != nil {
		t.Fatal(err)
	}
	if !last.Finished || !reflect.DeepEqual(last.Done, last.Total) || last.Total[store.DumpRecord] == 0 || last.Total[store.DumpChunk] != 2 {
		t.Errorf("last progress %+v", last)
	}
	sameStores(t, p.st, dst, p.sch)
	// Copying again is a no-op; into a store that holds something else, refused.
	if err := store.Copy(context.Background(), p.st, dst, nil); err != nil {
		t.Errorf("copy again: %v", err)
	}
	checkUsable(t, p, dst)
	if _, err := p.st.Create(context.Background(), store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "later"}}); err != nil {
		t.Fatal(err)
	}
	if err := store.Copy(context.Background(), p.st, dst, nil); !errors.Is(err, store.ErrNotEmpty) || !strings.Contains(err.Error(), "a finished copy") {
		t.Errorf("copy of a changed source over a finished copy: %v", err)
	}
	other, _ := openDumpStore(t, t.TempDir())
	if _, err := other.Create(context.Background(), store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := store.Copy(context.Background(), p.st, other, nil); !errors.Is(err, store.ErrNotEmpty) || !strings.Contains(err.Error(), "record") {
		t.Errorf("copy into a store with records: %v", err)
	}
}

func TestCopyResumesAfterACut(t *testing.T) {
	p := populate(t, t.TempDir(), 300)
	dir := t.TempDir()
	dst, _ := openDumpStore(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	batches := 0
	err := store.Copy(ctx, p.st, dst, func(pr store.Progress) {
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
	// The destination is reopened, as after a kill, and the copy resumed.
	if err := dst.Close(); err != nil {
		t.Fatal(err)
	}
	dst, _ = openDumpStore(t, dir)
	resumed := false
	var last store.Progress
	if err := store.Copy(context.Background(), p.st, dst, func(pr store.Progress) { resumed = resumed || pr.Resumed; last = pr }); err != nil {
		t.Fatal(err)
	}
	if !resumed || !reflect.DeepEqual(last.Done, last.Total) {
		t.Errorf("resumed %v, progress %+v", resumed, last)
	}
	sameStores(t, p.st, dst, p.sch)
	checkUsable(t, p, dst)
}

// collect is a Loader that keeps the items, for tests that load by hand.
type collect struct {
	h     store.DumpHeader
	items []store.DumpItem
}

func (c *collect) LoadState(context.Context) (*store.LoadState, error) { return nil, nil }
func (c *collect) StartLoad(_ context.Context, h store.DumpHeader) error {
	c.h = h
	return nil
}
func (c *collect) Load(_ context.Context, items []store.DumpItem, _ store.LoadState) error {
	c.items = append(c.items, items...)
	return nil
}
func (c *collect) FinishLoad(context.Context, store.DumpHeader, store.LoadState) error { return nil }

func TestLoadingABatchTwiceIsHarmless(t *testing.T) {
	p := populate(t, t.TempDir(), 60)
	var c collect
	if err := store.Copy(context.Background(), p.st, &c, nil); err != nil {
		t.Fatal(err)
	}
	dst, _ := openDumpStore(t, t.TempDir())
	ctx := context.Background()
	if err := dst.StartLoad(ctx, c.h); err != nil {
		t.Fatal(err)
	}
	n := len(c.items)
	st := store.LoadState{CopyID: c.h.CopyID}
	for _, r := range [][2]int{{0, n / 2}, {n / 4, 3 * n / 4}, {0, n / 3}, {n / 2, n}, {n - 10, n}} {
		if err := dst.Load(ctx, c.items[r[0]:r[1]], st); err != nil {
			t.Fatal(err)
		}
	}
	if err := dst.FinishLoad(ctx, c.h, st); err != nil {
		t.Fatal(err)
	}
	sameStores(t, p.st, dst, p.sch)
}

func TestDumpFileRoundTrip(t *testing.T) {
	p := populate(t, t.TempDir(), 80)
	var buf bytes.Buffer
	if err := store.Copy(context.Background(), p.st, store.NewDumpWriter(&buf), nil); err != nil {
		t.Fatal(err)
	}
	h, counts, err := store.VerifyDump(context.Background(), store.NewDumpReader("backup", bytes.NewReader(buf.Bytes())))
	if err != nil {
		t.Fatal(err)
	}
	if h.LastSeq != p.st.LastSeq() || !reflect.DeepEqual(h.Counts, counts) {
		t.Errorf("header %+v, counted %v", h, counts)
	}
	dst, _ := openDumpStore(t, t.TempDir())
	if err := store.Copy(context.Background(), store.NewDumpReader("backup", bytes.NewReader(buf.Bytes())), dst, nil); err != nil {
		t.Fatal(err)
	}
	sameStores(t, p.st, dst, p.sch)
	checkUsable(t, p, dst)
}

// lines returns a dump's decompressed lines.
func dumpLines(t *testing.T, b []byte) []string {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(string(raw), "\n")
}

func gz(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

func TestBadDumpFilesAreRefusedNamingTheLine(t *testing.T) {
	p := populate(t, t.TempDir(), 10)
	var buf bytes.Buffer
	if err := store.Copy(context.Background(), p.st, store.NewDumpWriter(&buf), nil); err != nil {
		t.Fatal(err)
	}
	lines := dumpLines(t, buf.Bytes())
	lines = lines[:len(lines)-1] // the empty string after the last newline
	n := len(lines)
	with := func(i int, s string) []byte {
		l := append([]string(nil), lines...)
		l[i] = s
		return gz(strings.Join(l, ""))
	}
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"not gzip", []byte("hello\n"), "not a gzip-compressed crm dump"},
		{"bad header", with(0, "{\"format\":\"zip\"}\n"), `backup line 1: format "zip"`},
		{"newer version", with(0, strings.Replace(lines[0], `"version":1`, `"version":9`, 1)), "backup line 1: dump version 9"},
		{"bad json", with(5, "{\"t\":\"record\",\n"), "backup line 6:"},
		{"unknown type", with(7, "{\"t\":\"blob\"}\n"), `backup line 8: unknown item type "blob"`},
		{"bad record", with(2, `{"t":"record","entity":"vehicle","id":"x","data":{}}`+"\n"), "backup line 3: record: id \"x\""},
		{"missing end", gz(strings.Join(lines[:n-1], "")), fmt.Sprintf("truncated after line %d: no end line", n-1)},
		{"cut line", gz(strings.Join(lines[:n-1], "") + lines[n-1][:5]), fmt.Sprintf("backup line %d: cut off", n)},
		{"wrong counts", with(n-1, "{\"t\":\"end\",\"counts\":{\"record\":1}}\n"), fmt.Sprintf("backup line %d: the end line counts", n)},
		{"after end", gz(strings.Join(lines, "") + lines[3]), fmt.Sprintf("backup line %d: data after the end line", n+1)},
		{"truncated gzip", buf.Bytes()[:buf.Len()-20], "truncated"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := store.VerifyDump(context.Background(), store.NewDumpReader("backup", bytes.NewReader(c.data)))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestDumpIDStaysAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	p := populate(t, dir, 5)
	id := func(st *store.Badger) string {
		var c collect
		if err := store.Copy(context.Background(), st, &c, nil); err != nil {
			t.Fatal(err)
		}
		return c.h.CopyID
	}
	before := id(p.st)
	if err := p.st.Close(); err != nil {
		t.Fatal(err)
	}
	st, _ := openDumpStore(t, dir)
	if after := id(st); after != before {
		t.Errorf("copy id %s after a reopen, %s before", after, before)
	}
	if _, err := st.Create(context.Background(), store.CreateRequest{Entity: "contact", Values: map[string]any{"name": "x"}}); err != nil {
		t.Fatal(err)
	}
	if after := id(st); after == before {
		t.Errorf("copy id unchanged by a write")
	}
}

func TestLoadSplitsABatchTooBigForOneTransaction(t *testing.T) {
	ctx := context.Background()
	dst, _ := openDumpStore(t, t.TempDir())
	h := store.DumpHeader{Format: store.DumpFormat, Version: store.DumpVersion, CopyID: "test", Source: "test"}
	if err := dst.StartLoad(ctx, h); err != nil {
		t.Fatal(err)
	}
	// 24 chunks of 512 KiB: 12 MiB, more than one Badger transaction takes.
	id := store.NewID()
	var items []store.DumpItem
	var want []byte
	for n := range 24 {
		b := bytes.Repeat([]byte{byte('a' + n)}, 512<<10)
		want = append(want, b...)
		items = append(items, store.DumpItem{Type: store.DumpChunk, ID: id, N: uint32(n), Bytes: b, Cursor: store.DumpCursor{Items: int64(n + 1)}})
	}
	meta := fmt.Sprintf(`{"id":%q,"name":"big","size":%d}`, id, len(want))
	items = append(items, store.DumpItem{Type: store.DumpSys, Kind: store.KindFile, Key: id, Data: []byte(meta), Cursor: store.DumpCursor{Items: 25}})
	st := store.LoadState{CopyID: "test", Cursor: store.DumpCursor{Items: 25}, Counts: map[string]int64{store.DumpChunk: 24, store.DumpSys: 1}}
	if err := dst.Load(ctx, items, st); err != nil {
		t.Fatal(err)
	}
	if err := dst.FinishLoad(ctx, h, st); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := dst.WriteFile(ctx, id, &got); err != nil || !bytes.Equal(got.Bytes(), want) {
		t.Fatalf("file after a split load: %d bytes, want %d (%v)", got.Len(), len(want), err)
	}
	ls, err := dst.LoadState(ctx)
	if err != nil || !ls.Done || ls.Cursor.Items != 25 || ls.Counts[store.DumpChunk] != 24 {
		t.Fatalf("state %+v %v", ls, err)
	}
}
