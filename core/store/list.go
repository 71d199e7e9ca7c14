package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	badger "github.com/dgraph-io/badger/v4"
)

// Page sizes.
const (
	DefaultLimit = 50
	MaxLimit     = 1000
)

// QueryError is a bad list parameter (sort or cursor).
type QueryError struct {
	Param   string
	Message string
}

func (e *QueryError) Error() string { return e.Param + ": " + e.Message }

// ParseSort reads a sort parameter such as "-created_at,name".
func ParseSort(s string) []SortKey {
	var keys []SortKey
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k := SortKey{Field: strings.TrimPrefix(part, "-"), Desc: strings.HasPrefix(part, "-")}
		keys = append(keys, k)
	}
	return keys
}

func sortString(keys []SortKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.Field
		if k.Desc {
			parts[i] = "-" + k.Field
		}
	}
	return strings.Join(parts, ",")
}

// cursor is the position after the last item of a page: the sort spec it
// belongs to and that item's encoded sort keys (the id last). Keyset
// pagination: records written meanwhile neither repeat nor shift a page.
type cursor struct {
	Sort string   `json:"s"`
	Keys [][]byte `json:"k"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s, sort string) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return nil, &QueryError{Param: "cursor", Message: "not a cursor this server gave out"}
	}
	if c.Sort != sort {
		return nil, &QueryError{Param: "cursor", Message: fmt.Sprintf("the cursor belongs to sort %q, not %q", c.Sort, sort)}
	}
	return &c, nil
}

// List returns one page of an entity's records that match the filter, in
// the requested order (by id, that is creation order, when none is given).
func (s *Badger) List(ctx context.Context, q Query) (*Page, error) {
	ent, err := s.entity(q.Entity)
	if err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = DefaultLimit
	}
	if q.Limit > MaxLimit {
		return nil, &QueryError{Param: "limit", Message: fmt.Sprintf("at most %d", MaxLimit)}
	}
	keys := q.Sort
	for _, k := range keys {
		if _, sys := systemTypes[k.Field]; !sys && ent.Field(k.Field) == nil {
			return nil, &QueryError{Param: "sort", Message: fmt.Sprintf("%s has no field %q", ent.Name, k.Field)}
		}
	}
	if len(keys) == 0 || keys[len(keys)-1].Field != "id" {
		keys = append(slices.Clone(keys), SortKey{Field: "id"})
	}
	spec := sortString(keys)
	cur, err := decodeCursor(q.Cursor, spec)
	if err != nil {
		return nil, err
	}
	if cur != nil && len(cur.Keys) != len(keys) {
		return nil, &QueryError{Param: "cursor", Message: "not a cursor this server gave out"}
	}
	var plan *indexPlan
	if q.Filter != nil {
		plan = q.Filter.plan
	}
	page := &Page{Plan: plan.String()}
	err = s.db.View(func(txn *badger.Txn) error {
		if len(keys) == 1 && plan == nil {
			return s.listByID(ctx, txn, q, keys[0].Desc, cur, page)
		}
		return s.listSorted(ctx, txn, q, plan, keys, spec, cur, page)
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// listByID walks the records in key (creation) order and stops at the end
// of the page: the common case, without reading more than it returns.
func (s *Badger) listByID(ctx context.Context, txn *badger.Txn, q Query, desc bool, cur *cursor, page *Page) error {
	prefix := recordPrefix(q.Entity)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: min(q.Limit+1, 100), Reverse: desc})
	defer it.Close()
	switch {
	case cur != nil && desc:
		it.Seek(append(recordKey(q.Entity, idFromKey(cur.Keys[0])), 0x00))
		// Seek lands on the cursor's own key or the one before it: skip it.
		if it.Valid() && bytes.Equal(it.Item().Key(), recordKey(q.Entity, idFromKey(cur.Keys[0]))) {
			it.Next()
		}
	case cur != nil:
		it.Seek(append(recordKey(q.Entity, idFromKey(cur.Keys[0])), 0x00))
	case desc:
		it.Seek(append(slices.Clone(prefix), 0xFF))
	default:
		it.Rewind()
	}
	match := q.Filter.matcher()
	for ; it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := match.item(s, it.Item(), q.Entity, len(prefix))
		if err != nil {
			return err
		}
		if ok, err := match.match(rec); err != nil || !ok {
			if err != nil {
				return err
			}
			continue
		}
		if len(page.Items) == q.Limit {
			page.NextCursor = cursor{Sort: sortString([]SortKey{{Field: "id", Desc: desc}}), Keys: [][]byte{encodeValue(page.Items[len(page.Items)-1].ID)}}.encode()
			return nil
		}
		page.Items = append(page.Items, rec)
	}
	return nil
}

func idFromKey(enc []byte) string {
	// encodeValue of an id: tag, the id's bytes, terminator.
	if len(enc) < 3 {
		return ""
	}
	return string(enc[1 : len(enc)-2])
}

func (s *Badger) itemRecord(item *badger.Item, entity string, strip int) (*Record, error) {
	id := string(item.Key()[strip:])
	var rec *Record
	err := item.Value(func(v []byte) error {
		var err error
		rec, err = decodeRecord(s.schema.Entity(entity), id, v)
		return err
	})
	return rec, err
}

// listSorted collects every matching record (from the index range when the
// filter has one, else from a scan), sorts by the keys and cuts the page
// after the cursor.
func (s *Badger) listSorted(ctx context.Context, txn *badger.Txn, q Query, plan *indexPlan, keys []SortKey, spec string, cur *cursor, page *Page) error {
	type row struct {
		rec  *Record
		keys [][]byte
	}
	var rows []row
	match := q.Filter.matcher()
	add := func(rec *Record) error {
		if ok, err := match.match(rec); err != nil || !ok {
			return err
		}
		ks := make([][]byte, len(keys))
		for i, k := range keys {
			ks[i] = encodeValue(fieldValue(rec, k.Field))
		}
		rows = append(rows, row{rec, ks})
		return nil
	}
	var err error
	if plan != nil {
		err = s.scanIndex(ctx, txn, q.Entity, plan, func(id string) error {
			rec, err := s.getRecord(txn, q.Entity, id)
			if err != nil {
				return err
			}
			return add(rec)
		})
	} else {
		err = s.scanAll(ctx, txn, q.Entity, add)
	}
	if err != nil {
		return err
	}
	cmp := func(a, b [][]byte) int {
		for i, k := range keys {
			c := bytes.Compare(a[i], b[i])
			if k.Desc {
				c = -c
			}
			if c != 0 {
				return c
			}
		}
		return 0
	}
	slices.SortFunc(rows, func(a, b row) int { return cmp(a.keys, b.keys) })
	start := 0
	if cur != nil {
		start, _ = slices.BinarySearchFunc(rows, cur.Keys, func(r row, k [][]byte) int { return cmp(r.keys, k) })
		if start < len(rows) && cmp(rows[start].keys, cur.Keys) == 0 {
			start++
		}
	}
	end := min(start+q.Limit, len(rows))
	for _, r := range rows[start:end] {
		page.Items = append(page.Items, r.rec)
	}
	if end < len(rows) {
		page.NextCursor = cursor{Sort: spec, Keys: rows[end-1].keys}.encode()
	}
	return nil
}

func (s *Badger) scanAll(ctx context.Context, txn *badger.Txn, entity string, fn func(*Record) error) error {
	prefix := recordPrefix(entity)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		rec, err := s.itemRecord(it.Item(), entity, len(prefix))
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// scanIndex calls fn with the id of every index entry the plan covers.
func (s *Badger) scanIndex(ctx context.Context, txn *badger.Txn, entity string, p *indexPlan, fn func(id string) error) error {
	base := indexPrefix(entity, p.field)
	prefix := base
	if p.op != "range" {
		prefix = append(slices.Clone(base), p.eq...)
	}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	if p.op == "range" && p.lo != nil {
		it.Seek(append(slices.Clone(base), p.lo...))
	} else {
		it.Rewind()
	}
	for ; it.Valid(); it.Next() {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := it.Item().Key()
		if len(k) < len(base)+idLen {
			continue
		}
		val, id := k[len(base):len(k)-idLen], string(k[len(k)-idLen:])
		if p.op == "range" {
			if p.lo != nil && p.loExcl && bytes.Equal(val, p.lo) {
				continue
			}
			if p.hi != nil {
				c := bytes.Compare(val, p.hi)
				if c > 0 || c == 0 && p.hiExcl {
					return nil
				}
			}
			if len(val) > 0 && val[0] == 0x00 {
				continue // missing value
			}
		}
		if err := fn(id); err != nil {
			return err
		}
	}
	return nil
}
