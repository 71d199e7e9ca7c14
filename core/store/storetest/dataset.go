package storetest

import (
	"cmp"
	"fmt"
	"math/big"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// dataset is a set of items with a value of every field type, many
// missing, many tied, with unicode text.
type dataset struct {
	contacts []string
	file     string
	items    []*store.Record // as Get reads them, in creation order
}

var (
	poolNames = []string{"Anna", "anna", "Ánna", "Ärmin", "Արմեն", "Դավիթ", "Дмитрий", "Ёлка", "علي", "Zoë", "😀 smile", "O'Brien", "Bob", "bob", "Zed", "A"}
	poolNotes = []string{"first line\nsecond line", "ünïcödé note", "ՀԱՅԵՐԵՆ տեքստ", "tab\tseparated", "a", "Z", "line"}
	poolRatio = []string{"0.5", "1.25", "-3", "10", "0.001", "2.5", "1000", "-0.75", "3.14159"}
	// Money: a minor amount is never shared by two currencies, so that
	// a sort by a money field has one order whatever a backend does with
	// the currency of equal amounts.
	poolMoney = []schema.Money{
		{Minor: 100, Currency: "USD"}, {Minor: 250, Currency: "USD"}, {Minor: 150000, Currency: "AMD"},
		{Minor: -7, Currency: "USD"}, {Minor: 5, Currency: "JPY"}, {Minor: 99, Currency: "EUR"},
		{Minor: 0, Currency: "EUR"}, {Minor: 1050, Currency: "USD"}, {Minor: 20000, Currency: "AMD"},
		{Minor: 123456789, Currency: "EUR"},
	}
	poolEmails = []string{"anna@example.com", "bob@example.am", "dima@mail.ru", "zoe@example.com", "arm@example.am"}
	poolPhones = []string{"+37491123456", "+37477001122", "+14155550123", "+994501234567"}
	poolSites  = []string{"https://example.com/", "https://example.com/a", "http://crm.example.org/x?y=1", "https://ա.example/"}
	dayZero    = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	timeZero   = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
)

// randomItem gives an item's values (API-like), with the refs of ds.
func randomItem(r *rand.Rand, i int, ds *dataset) map[string]any {
	v := map[string]any{}
	some := func(pct int) bool { return r.IntN(100) < pct }
	name := poolNames[r.IntN(len(poolNames))]
	if some(20) {
		name += fmt.Sprint(" ", r.IntN(5))
	}
	v["name"] = name
	if some(70) {
		v["code"] = fmt.Sprintf("C%04d", i)
	}
	if some(60) {
		v["note"] = poolNotes[r.IntN(len(poolNotes))]
	}
	if some(80) {
		v["qty"] = int64(r.IntN(26) - 5)
	}
	if some(70) {
		v["score"] = r.Int64N(1<<62) - 1<<61
	}
	if some(70) {
		v["ratio"] = poolRatio[r.IntN(len(poolRatio))]
	}
	if some(75) {
		v["price"] = poolMoney[r.IntN(len(poolMoney))]
	}
	if some(70) {
		v["active"] = r.IntN(2) == 0
	}
	if some(75) {
		v["due"] = dayZero.AddDate(0, 0, r.IntN(400))
	}
	if some(75) {
		v["at"] = timeZero.Add(time.Duration(r.Int64N(10*24*3600)) * time.Second).Add(time.Duration(r.IntN(1000)) * time.Microsecond)
	}
	if some(80) {
		v["kind"] = []string{"a", "b", "c"}[r.IntN(3)]
	}
	if some(70) {
		v["email"] = poolEmails[r.IntN(len(poolEmails))]
	}
	if some(50) {
		v["phone"] = poolPhones[r.IntN(len(poolPhones))]
	}
	if some(50) {
		v["site"] = poolSites[r.IntN(len(poolSites))]
	}
	if some(60) {
		v["contact"] = ds.contacts[r.IntN(len(ds.contacts))]
	}
	if some(30) {
		v["other"] = ds.contacts[r.IntN(len(ds.contacts))]
	}
	if some(50) {
		v["assignee"] = []string{UserA, UserB}[r.IntN(2)]
	}
	if some(20) {
		v["doc"] = ds.file
	}
	return v
}

// randomReq is a create of a random item by a random writer and owner.
func randomReq(e *env, r *rand.Rand, i int, ds *dataset) store.CreateRequest {
	req := store.CreateRequest{Entity: "item", Values: e.canon("item", randomItem(r, i, ds))}
	switch r.IntN(5) {
	case 0:
		req.By = "rule:seed" // owned by no one
	case 4:
		req.By = "" // the system: owned by no one, created by no one
	case 1:
		req.By, req.Owner = UserA, UserB
	default:
		req.By = UserA
	}
	return req
}

// seed creates n random items (and the contacts and file they refer
// to), updates some of them, and reads them all back.
func (e *env) seed(n int, seed uint64) *dataset {
	e.t.Helper()
	r := rand.New(rand.NewPCG(seed, 1))
	ds := &dataset{}
	for i := range 4 {
		ds.contacts = append(ds.contacts, e.create("contact", map[string]any{"name": fmt.Sprint("contact ", i)}).ID)
	}
	f, err := e.st.PutFile(e.ctx, "doc.txt", "text/plain", UserA, strings.NewReader("document"), 1<<10)
	if err != nil {
		e.t.Fatal(err)
	}
	ds.file = f.ID
	var ids []string
	for i := range n {
		rec, err := e.st.Create(e.ctx, randomReq(e, r, i, ds))
		if err != nil {
			e.t.Fatalf("seed item %d: %v", i, err)
		}
		ids = append(ids, rec.ID)
	}
	for i := 0; i < n; i += 5 { // some at version 2 and 3, with later updated_at
		set := map[string]any{"qty": int64(r.IntN(26) - 5)}
		if i%10 == 0 {
			set["kind"] = "c"
		}
		e.update(store.UpdateRequest{Entity: "item", ID: ids[i], Set: set})
		if i%15 == 0 {
			e.update(store.UpdateRequest{Entity: "item", ID: ids[i], Set: map[string]any{"name": "Updated"}})
		}
	}
	for _, id := range ids {
		ds.items = append(ds.items, e.get("item", id))
	}
	return ds
}

// sortValue is a record's value of a sort field, nil when missing.
func sortValue(r *store.Record, field string) any {
	var v any
	switch field {
	case "id":
		v = r.ID
	case "version":
		v = r.Version
	case "created_at":
		v = r.CreatedAt
	case "updated_at":
		v = r.UpdatedAt
	case "created_by":
		v = r.CreatedBy
	case "owner":
		v = r.Owner
	default:
		v = r.Values[field]
	}
	if v == "" {
		return nil
	}
	return v
}

// compareValues orders two present values of one field type.
func compareValues(a, b any) int {
	switch x := a.(type) {
	case string:
		return strings.Compare(x, b.(string))
	case int64:
		return cmp.Compare(x, b.(int64))
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case !x:
			return -1
		}
		return 1
	case time.Time:
		return x.Compare(b.(time.Time))
	case schema.Decimal:
		ra, _ := new(big.Rat).SetString(string(x))
		rb, _ := new(big.Rat).SetString(string(b.(schema.Decimal)))
		return ra.Cmp(rb)
	case schema.Money:
		y := b.(schema.Money)
		return cmp.Or(cmp.Compare(x.Minor, y.Minor), strings.Compare(x.Currency, y.Currency))
	}
	panic(fmt.Sprintf("storetest: no order for %T", a))
}

// fullSort is a sort as List applies it: the id last, in the direction of
// the last key, unless the id is already the last key.
func fullSort(keys []store.SortKey) []store.SortKey {
	if len(keys) > 0 && keys[len(keys)-1].Field == "id" {
		return keys
	}
	desc := len(keys) > 0 && keys[len(keys)-1].Desc
	return append(append([]store.SortKey(nil), keys...), store.SortKey{Field: "id", Desc: desc})
}

// compareRecords orders two records as the list contract says: by each
// key, a missing value after every present one in either direction,
// ties by id.
func compareRecords(keys []store.SortKey, a, b *store.Record) int {
	for _, k := range fullSort(keys) {
		av, bv := sortValue(a, k.Field), sortValue(b, k.Field)
		var c int
		switch {
		case av == nil && bv == nil:
		case av == nil:
			c = 1
		case bv == nil:
			c = -1
		default:
			c = compareValues(av, bv)
			if k.Desc {
				c = -c
			}
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
