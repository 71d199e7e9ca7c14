package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	badger "github.com/dgraph-io/badger/v4"
)

// scanFilters are filters over vehicles whose answers MatchRaw must give
// exactly as Eval on the decoded record: nil values, money, refs, system
// fields, optional chaining, $env, closures, let, run-time failures.
var scanFilters = []string{
	"vin == 'V1'", "vin != 'V1'", "status == 'sold'", "status != 'sold'", "status == nil", "status != nil",
	"mileage > 5", "mileage <= 5 || status == 'sold'", "mileage % 1000 == 7", "mileage / 0 > 1", "-mileage < -3",
	"mileage == nil", "(mileage ?? 0) > 3", "(mileage ?? -1) == -1", "vin contains 'é'", "vin contains '1'",
	"vin startsWith 'V'", "vin endsWith '2'", "vin matches '^V[0-9]+$'", "vin in ['V1', 'V2']", "status in ['sold', 'service']",
	"price.amount > 1000", "price.minor == 150000", "price.currency == 'AMD'", "price?.amount > 1000", "price == nil",
	"buyer == nil", "buyer != nil && second == buyer", "price?.currency == nil", "owner == ''", "owner != ''",
	"created_by == '" + testUser + "'", "version == 1", "version > 1", "created_at < now()", "updated_at > created_at",
	"updated_at >= created_at && id != ''", "id startsWith '0'", "len(vin) > 2", "upper(vin) == 'V1'",
	"any(['V1', 'x'], {# == vin})", "let v = vin; v + v == 'V1V1'", "$env.vin == 'V1'", "$env['status'] == nil",
	"'price' in $env", "mileage > 5 ? vin == 'V1' : status == 'sold'", "not (mileage > 5)", "!(vin == 'V1')",
	"hasPrefix(vin, 'V') && mileage > 1", "mileage + 1 > 7.5", "mileage ** 2 > 30", "vin + 'x' == 'V1x'",
	"date(created_at) != nil", "true", "false", "nil == nil",
}

// scanRecords are the vehicles of the scan tests, some values missing.
func scanRecords(t *testing.T, st *store.Badger) []*store.Record {
	t.Helper()
	buyer := create(t, st, "contact", map[string]any{"name": "Ani"})
	other := create(t, st, "contact", map[string]any{"name": "Aram"})
	var out []*store.Record
	for i, v := range []map[string]any{
		{"vin": "V1", "mileage": int64(7), "status": "sold", "price": schema.Money{Minor: 150000, Currency: "AMD"}, "buyer": buyer.ID, "second": buyer.ID},
		{"vin": "V2"},
		{"vin": "Vé12", "mileage": int64(-3), "status": "service", "buyer": buyer.ID, "second": other.ID},
		{"vin": `V"<&>\3`, "mileage": int64(1007), "price": schema.Money{Minor: 99, Currency: "AMD"}},
		{"vin": "V5", "status": "in_stock", "mileage": int64(0)},
	} {
		r := create(t, st, "vehicle", v)
		if i == 1 {
			var err error
			r, err = st.Update(context.Background(), store.UpdateRequest{Entity: "vehicle", ID: r.ID,
				Set: map[string]any{"mileage": int64(9)}, Owner: testUser, By: testUser})
			if err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, r)
	}
	return out
}

// storedForm reads the value stored under a record's key.
func storedForm(t *testing.T, st *store.Badger, r *store.Record) []byte {
	t.Helper()
	var raw []byte
	err := st.DB().View(func(txn *badger.Txn) error {
		item, err := txn.Get([]byte("r/" + r.Entity + "/" + r.ID))
		if err != nil {
			return err
		}
		raw, err = item.ValueCopy(nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func TestMatchRawAgreesWithEval(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	ent := sch.Entity("vehicle")
	recs := scanRecords(t, st)
	budgetFree := 0
	for _, src := range scanFilters {
		f, err := store.CompileFilter(ent, src)
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		if !f.Budgeted() {
			budgetFree++
		}
		matches := 0
		for _, r := range recs {
			raw := storedForm(t, st, r)
			dec, err := store.DecodeRecord(ent, r.ID, raw)
			if err != nil {
				t.Fatal(err)
			}
			want, werr := f.Eval(dec)
			got, gerr := f.MatchRaw(r.ID, raw)
			if got != want || (gerr == nil) != (werr == nil) {
				t.Errorf("%s on %v: MatchRaw = %v, %v; Eval = %v, %v", src, r.Values, got, gerr, want, werr)
			}
			if want {
				matches++
			}
		}
		// The list (a scan, or an index walk) finds what Eval finds.
		page, err := st.List(context.Background(), store.Query{Entity: "vehicle", Filter: f, Limit: 100})
		if err != nil {
			t.Fatalf("%s: List: %v", src, err)
		}
		if len(page.Items) != matches {
			t.Errorf("%s: List gave %d records; Eval matches %d", src, len(page.Items), matches)
		}
	}
	if budgetFree < 20 || budgetFree == len(scanFilters) {
		t.Errorf("%d of %d filters run without instrumentation; want the simple ones only", budgetFree, len(scanFilters))
	}
}

// TestMatchRawReadsOtherStoredForms gives MatchRaw stored forms that this
// version does not write but older data or a changed schema may hold:
// escapes, fields no longer declared, values of another type, nulls, no
// system fields. It answers as Eval on what the store decodes.
func TestMatchRawReadsOtherStoredForms(t *testing.T) {
	_, sch := openStore(t, t.TempDir())
	ent := sch.Entity("vehicle")
	id := store.NewID()
	forms := []string{
		`{"v":1,"c":"2024-01-02T03:04:05Z","u":"2024-01-02T03:04:05Z","f":{"vin":"V\u0031","mileage":7}}`,
		`{"f":{"vin":"V1","mileage":"7","status":"sold"},"v":2,"o":"` + testUser + `"}`,
		`{"v":1,"f":{"mileage":7.0,"vin":null,"gone":{"a":[1,"}"]},"price":{"amount":"1500","currency":"AMD"}}}`,
		`{"v":1,"f":{"mileage":1e3,"vin":"a\"b","status":"nope","price":"1500 AMD"}}`,
		`{"v":1,"f":{"\u0076in":"V1","mileage":-0,"status":"sold"}}`,
		` { "v" : 3 , "f" : { "vin" : "V\u00e91" , "mileage" : 9223372036854775807 } } `,
		`{"v":1,"f":{"mileage":9223372036854775808,"vin":"\ud800"}}`,
		`{"v":1,"f":{}}`,
	}
	for _, form := range forms {
		rec, err := store.DecodeRecord(ent, id, []byte(form))
		if err != nil {
			t.Fatalf("%s: %v", form, err)
		}
		for _, src := range scanFilters {
			f, err := store.CompileFilter(ent, src)
			if err != nil {
				t.Fatal(err)
			}
			want, werr := f.Eval(rec)
			got, gerr := f.MatchRaw(id, []byte(form))
			if got != want || (gerr == nil) != (werr == nil) {
				t.Errorf("%s on %s: MatchRaw = %v, %v; Eval = %v, %v", src, form, got, gerr, want, werr)
			}
		}
	}
	// What the store cannot decode is an error, not a silent miss, where
	// the scan reads it (a match is decoded in full, and fails there).
	f, _ := store.CompileFilter(ent, "vin == 'V1'")
	for _, bad := range []string{``, `{`, `[]`, `{"v":1}`, `{"v":1,"f":[1]}`, `{"v":1,"f":{"vin":"V`, `{"v":1,"f":{"vin" "V1"}}`} {
		if _, err := f.MatchRaw(id, []byte(bad)); err == nil {
			t.Errorf("MatchRaw(%q) = no error", bad)
		}
	}
}

// TestScanKeepsBudgets runs the hostile filters through a list scan: each
// stops with its budget, and none runs uninstrumented.
func TestScanKeepsBudgets(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	create(t, st, "vehicle", map[string]any{"vin": "WVW1", "mileage": int64(7)})
	for _, c := range hostileFilters {
		f, err := store.CompileFilter(sch.Entity("vehicle"), c.src)
		if err != nil {
			t.Fatal(err)
		}
		if !f.Budgeted() {
			t.Errorf("%s runs without its budgets", c.src)
		}
		start := time.Now()
		_, err = st.List(context.Background(), store.Query{Entity: "vehicle", Filter: f, Limit: 10})
		var fe *store.FilterError
		if errors.As(err, &fe) && stoppedByTimeInstead(t, fe.Budget, c.budget, time.Since(start)) {
			continue
		}
		if !errors.As(err, &fe) || fe.Budget != c.budget {
			t.Errorf("%s: List err = %v; want the %s budget", c.src, err, c.budget)
		}
	}
}

// TestScanStopsAtThePage lists with a filter that matches every record:
// pages in id order are the records in creation order, each once.
func TestScanStopsAtThePage(t *testing.T) {
	st, sch := openStore(t, t.TempDir())
	var want []string
	for i := range 25 {
		want = append(want, create(t, st, "vehicle", map[string]any{"vin": fmt.Sprintf("S%02d", i), "mileage": int64(i)}).ID)
	}
	f, err := store.CompileFilter(sch.Entity("vehicle"), "vin startsWith 'S' && mileage % 2 == 0")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	cur := ""
	for {
		p, err := st.List(context.Background(), store.Query{Entity: "vehicle", Filter: f, Limit: 5, Cursor: cur})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range p.Items {
			got = append(got, r.ID)
		}
		if cur = p.NextCursor; cur == "" {
			break
		}
	}
	var even []string
	for i, id := range want {
		if i%2 == 0 {
			even = append(even, id)
		}
	}
	if !slices.Equal(got, even) {
		t.Errorf("pages = %v; want %v", got, even)
	}
}

// BenchmarkMatchRaw is the cost of deciding one stored record with a
// substring filter: a scan (MatchRaw) against decoding it and Eval.
func BenchmarkMatchRaw(b *testing.B) {
	_, sch := openStore(b, b.TempDir())
	ent := sch.Entity("vehicle")
	rec := &store.Record{ID: store.NewID(), Entity: "vehicle", Version: 3, CreatedAt: time.Now(), UpdatedAt: time.Now(), CreatedBy: testUser,
		Values: map[string]any{"vin": "VIN000012345", "mileage": int64(2345), "status": "sold", "price": schema.Money{Minor: 150000, Currency: "AMD"}}}
	raw, err := store.EncodeRecord(ent, rec)
	if err != nil {
		b.Fatal(err)
	}
	f, err := store.CompileFilter(ent, "vin contains '99999'")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("scan", func(b *testing.B) {
		for b.Loop() {
			if ok, err := f.MatchRaw(rec.ID, raw); ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
	b.Run("decode_eval", func(b *testing.B) {
		for b.Loop() {
			r, err := store.DecodeRecord(ent, rec.ID, raw)
			if err != nil {
				b.Fatal(err)
			}
			if ok, err := f.Eval(r); ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	})
}
