package store

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
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

// recordsRead counts the records a list has read (decoded), for the tests
// that a page costs what a page costs.
var recordsRead atomic.Int64

// List returns one page of an entity's records that match the filter, in
// the requested order (by id, that is creation order, when none is given).
// Ties are broken by id, in the direction of the last sort key; records
// without a value for a sort field come last in either direction. The plan
// chosen (see plan.go) is in Page.Plan.
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
		if f := ent.Field(k.Field); f != nil && f.Type == config.TypeObject {
			return nil, &QueryError{Param: "sort", Message: fmt.Sprintf("%s.%s is an object: it has no order to sort by", ent.Name, k.Field)}
		}
	}
	if len(keys) == 0 || keys[len(keys)-1].Field != "id" {
		desc := len(keys) > 0 && keys[len(keys)-1].Desc
		keys = append(slices.Clone(keys), SortKey{Field: "id", Desc: desc})
	}
	spec := sortString(keys)
	cur, err := decodeCursor(q.Cursor, spec)
	if err != nil {
		return nil, err
	}
	if cur != nil && len(cur.Keys) != len(keys) {
		return nil, &QueryError{Param: "cursor", Message: "not a cursor this server gave out"}
	}
	var acc *access
	if q.Filter != nil {
		acc = q.Filter.plan
	}
	page := &Page{}
	err = s.view(func(txn *badger.Txn) error {
		seq, err := getUint64(txn, seqKey)
		if err != nil {
			return err
		}
		page.Seq = seq
		p := s.choosePlan(txn, ent, acc, keys, q.Limit)
		page.Plan = p.String()
		l := &lister{s: s, txn: txn, ctx: ctx, ent: ent, q: q, keys: keys, spec: spec, cur: cur, match: q.Filter.matcher()}
		if p.kind == "index" && acc != nil && acc.exact != nil && p.preds[0] == acc.exact {
			l.match = &matcher{} // every entry of the range matches: nothing to evaluate
		}
		defer l.close()
		if p.ordered {
			return l.stream(p, page)
		}
		if p.runs {
			return l.runs(p, page)
		}
		return l.collect(p, page)
	})
	if err != nil {
		return nil, err
	}
	return page, nil
}

// lister runs one list query in one read transaction.
type lister struct {
	s     *Badger
	txn   *badger.Txn
	ctx   context.Context
	ent   *schema.Entity
	q     Query
	keys  []SortKey
	spec  string
	cur   *cursor
	match *matcher
	rr    *recordReader // made by records on first use
	arena []byte        // see keep
	recs  []Record      // see newRecord
	// shallow: read leaves a matching record undecoded (Query.Stored, in
	// stream, which reads nothing of a record but the last one's keys).
	shallow bool
}

// next yields the candidates of a plan: a record, or an id to read;
// ok is false at the end.
type next func() (id string, rec *Record, ok bool, err error)

// sortKey encodes a value for sorting: missing (nil or "") is 0x00.
func sortKey(v any) []byte {
	if isZero(v) {
		return []byte{0x00}
	}
	return encodeValue(v)
}

func missingKey(k []byte) bool { return len(k) == 1 && k[0] == 0x00 }

func (l *lister) keysOf(rec *Record) [][]byte {
	ks := make([][]byte, len(l.keys))
	for i, k := range l.keys {
		ks[i] = sortKey(fieldValue(rec, k.Field))
	}
	return ks
}

// compare orders two records' sort keys: missing values last.
func (l *lister) compare(a, b [][]byte) int {
	for i, k := range l.keys {
		am, bm := missingKey(a[i]), missingKey(b[i])
		var c int
		switch {
		case am && bm:
		case am:
			c = 1
		case bm:
			c = -1
		default:
			c = bytes.Compare(a[i], b[i])
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

// candidate reads one candidate and runs the filter on it.
func (l *lister) candidate(nx next) (*Record, bool, error) {
	if err := l.ctx.Err(); err != nil {
		return nil, false, err
	}
	id, rec, ok, err := nx()
	if err != nil || !ok {
		return nil, false, err
	}
	if rec == nil {
		rec, err = l.read(id)
		if err != nil {
			return nil, false, err
		}
		recordsRead.Add(1)
		return rec, true, nil
	}
	matched, err := l.match.match(rec)
	if err != nil || !matched {
		return nil, true, err
	}
	return rec, true, nil
}

// read reads the record with id if it matches the filter (nil if not): the
// filter runs on the stored form (see scan.go), and only a match is
// decoded.
func (l *lister) read(id string) (*Record, error) {
	item, err := l.records().get(id)
	if err != nil {
		return nil, fmt.Errorf("get %s %s: %w", l.ent.Name, id, err)
	}
	if item == nil {
		return nil, ErrNotFound
	}
	var rec *Record
	err = item.Value(func(v []byte) error {
		ok, err := l.match.matchRaw(id, v)
		if err != nil || !ok {
			return err
		}
		if l.shallow {
			rec = l.newRecord()
			*rec = Record{ID: id, Entity: l.ent.Name, stored: l.keep(v)}
			return nil
		}
		rec, err = decodeOwned(l.ent, id, l.keep(v))
		return err
	})
	return rec, err
}

// keep copies a value Badger lends into the lister's arena, where it is
// never written again (a record's stored form, which its strings may
// share): the records of a page share a few allocations.
func (l *lister) keep(v []byte) []byte {
	if cap(l.arena)-len(l.arena) < len(v) {
		l.arena = make([]byte, 0, max(arenaChunk, len(v)))
	}
	start := len(l.arena)
	l.arena = append(l.arena, v...)
	return l.arena[start:len(l.arena):len(l.arena)]
}

// arenaChunk is the size of the lister's arena's allocations: a page of
// 20 contacts' stored forms.
const arenaChunk = 8 << 10

// newRecord returns a zero record from the lister's block of them, which
// holds a page's records.
func (l *lister) newRecord() *Record {
	if len(l.recs) == cap(l.recs) {
		l.recs = make([]Record, 0, min(l.q.Limit+1, 64))
	}
	l.recs = l.recs[:len(l.recs)+1]
	return &l.recs[len(l.recs)-1]
}

// records is the lister's reader of records by id, made on first use.
func (l *lister) records() *recordReader {
	if l.rr == nil {
		l.rr = newRecordReader(l.txn, l.ent.Name, l.keys[len(l.keys)-1].Desc)
	}
	return l.rr
}

// close releases what the lister holds in its transaction.
func (l *lister) close() {
	if l.rr != nil {
		l.rr.close()
	}
}

// recordReader reads an entity's records by id with one iterator: a page's
// ids, which an index walk yields in id order within a value, are often
// close together (a broad filter matches most records), and stepping the
// iterator to the next one costs a fraction of a txn.Get, which searches
// every level and allocates a dozen times for each key. An id that is not
// a few steps ahead is sought (about what a Get costs); a reader that had
// to seek steps less on the next id.
type recordReader struct {
	it     *badger.Iterator
	key    []byte // prefix, then the id sought
	prefix int
	desc   bool // the iterator walks ids in descending order
	steps  int  // how many entries to step over before seeking
}

// readerSteps is how many entries a reader steps over before it seeks,
// after a read it found by stepping.
const readerSteps = 4

func newRecordReader(txn *badger.Txn, entity string, desc bool) *recordReader {
	prefix := recordPrefix(entity)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: desc})
	return &recordReader{it: it, key: prefix, prefix: len(prefix), desc: desc, steps: readerSteps}
}

// get returns the item of the record with id, nil if there is none; the
// item is valid until the next get.
func (r *recordReader) get(id string) (*badger.Item, error) {
	r.key = append(r.key[:r.prefix], id...)
	// before: the iterator is before the key in its direction.
	before := func() bool {
		c := bytes.Compare(r.it.Item().Key(), r.key)
		return c < 0 && !r.desc || c > 0 && r.desc
	}
	stepped := false
	for i := 0; i < r.steps && r.it.Valid() && before(); i++ {
		r.it.Next()
		stepped = true
	}
	if !r.it.Valid() || before() || !stepped && !bytes.Equal(r.it.Item().Key(), r.key) {
		r.it.Seek(r.key)
		r.steps = 1
	} else if stepped {
		r.steps = readerSteps
	}
	if !r.it.Valid() || !bytes.Equal(r.it.Item().Key(), r.key) {
		return nil, nil
	}
	return r.it.Item(), nil
}

func (r *recordReader) close() { r.it.Close() }

// stream reads a source that yields the requested order, resuming after
// the cursor, and stops when the page is full and one more match shows
// there is a next page.
func (l *lister) stream(p *plan, page *Page) error {
	nx, done := l.source(p)
	defer done()
	l.shallow = l.q.Stored
	defer func() { l.shallow = false }()
	for {
		rec, ok, err := l.candidate(nx)
		if err != nil || !ok {
			return err
		}
		if rec == nil {
			continue
		}
		if len(page.Items) == l.q.Limit {
			last := page.Items[len(page.Items)-1]
			if err := DecodeStored(l.ent, last); err != nil {
				return err
			}
			page.NextCursor = cursor{Sort: l.spec, Keys: l.keysOf(last)}.encode()
			return nil
		}
		page.Items = append(page.Items, rec)
	}
}

// runs reads a source in the order of the first sort key and sorts each
// run of equal first keys in memory, keeping what sorts after the cursor;
// it stops when the page is full and one more match shows there is a next
// page. The source starts at the cursor's run (see source).
func (l *lister) runs(p *plan, page *Page) error {
	type row struct {
		rec  *Record
		keys [][]byte
	}
	nx, done := l.source(p)
	defer done()
	var run []row
	// flush sorts the run and adds it to the page; true when the page is
	// full and a match is left over.
	flush := func() bool {
		slices.SortFunc(run, func(a, b row) int { return l.compare(a.keys, b.keys) })
		for _, r := range run {
			if l.cur != nil && l.compare(r.keys, l.cur.Keys) <= 0 {
				continue
			}
			if len(page.Items) == l.q.Limit {
				return true
			}
			page.Items = append(page.Items, r.rec)
		}
		clear(run)
		run = run[:0]
		return false
	}
	full := func() error {
		page.NextCursor = cursor{Sort: l.spec, Keys: l.keysOf(page.Items[len(page.Items)-1])}.encode()
		return nil
	}
	for {
		rec, ok, err := l.candidate(nx)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if rec == nil {
			continue
		}
		ks := l.keysOf(rec)
		if len(run) > 0 && !bytes.Equal(run[0].keys[0], ks[0]) {
			if flush() || len(page.Items) == l.q.Limit {
				return full() // this match is in a later run: a next page
			}
		}
		if len(run) == sortLimit {
			return planError(l.ent, l.keys)
		}
		run = append(run, row{rec, ks})
	}
	if flush() {
		return full()
	}
	return nil
}

// collect reads every candidate of a source in another order, keeping the
// matches after the cursor in a buffer of a few pages that is sorted and
// cut to one page (and one more) whenever it fills. It keeps only each
// match's id and sort keys, read from the stored form (sortkeys.go), and
// decodes the records of the page at the end.
func (l *lister) collect(p *plan, page *Page) error {
	nx, done := l.keyedSource(p)
	defer done()
	var seen map[string]bool
	if p.kind == "union" {
		seen = map[string]bool{}
	}
	keep := l.q.Limit + 1
	var rows []keyed
	var worst [][]byte // once the buffer was cut: the last kept keys, which a match must sort before
	trim := func() {
		slices.SortFunc(rows, func(a, b keyed) int { return l.compare(a.keys, b.keys) })
		if len(rows) > keep {
			clear(rows[keep:])
			rows = rows[:keep]
			worst = rows[keep-1].keys
		}
	}
	matches := 0
	for {
		m, ok, err := nx()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if seen != nil {
			if seen[m.id] {
				continue
			}
			seen[m.id] = true
		}
		if matches++; matches > sortLimit {
			return planError(l.ent, l.keys)
		}
		if l.cur != nil && l.compare(m.keys, l.cur.Keys) <= 0 || worst != nil && l.compare(m.keys, worst) >= 0 {
			continue
		}
		rows = append(rows, m)
		if len(rows) >= max(4*keep, 1024) {
			trim()
		}
	}
	trim()
	for _, r := range rows[:min(l.q.Limit, len(rows))] {
		rec := r.rec
		if rec == nil {
			var err error
			if rec, err = l.s.getRecord(l.txn, l.ent.Name, r.id); err != nil {
				return err
			}
		}
		page.Items = append(page.Items, rec)
	}
	if len(rows) > l.q.Limit {
		page.NextCursor = cursor{Sort: l.spec, Keys: rows[l.q.Limit-1].keys}.encode()
	}
	return nil
}

// source makes the candidates of a plan. For a plan in the requested
// order, it resumes after the cursor; else it starts at the beginning.
func (l *lister) source(p *plan) (next, func()) {
	desc := l.keys[len(l.keys)-1].Desc
	var afterID string
	var afterVal []byte
	if l.cur != nil && p.ordered {
		afterID = idFromKey(l.cur.Keys[len(l.cur.Keys)-1])
		afterVal = l.cur.Keys[0]
	}
	entity := l.ent.Name
	if p.runs {
		return l.runSource(p, desc)
	}
	switch p.kind {
	case "scan":
		w := l.s.newIDWalk(l.txn, entity, desc, afterID, l.match)
		return w.next, w.close
	case "index":
		pr := p.preds[0]
		var after []byte
		if afterID != "" {
			v := afterVal
			if pr.op == "=" {
				v = pr.eq // id order within one value
			}
			after = append(slices.Clone(v), afterID...)
		}
		w := newIndexWalk(l.txn, entity, pr, desc, after)
		return w.ids, w.close
	case "union":
		walks := make([]*indexWalk, len(p.preds))
		for i, b := range p.preds {
			var after []byte
			if afterID != "" && b.op == "=" {
				after = append(slices.Clone(b.eq), afterID...)
			}
			walks[i] = newIndexWalk(l.txn, entity, b, desc, after)
		}
		closeAll := func() {
			for _, w := range walks {
				w.close()
			}
		}
		if !p.ordered {
			i := 0
			return func() (string, *Record, bool, error) {
				for ; i < len(walks); i++ {
					if id, ok := walks[i].next(); ok {
						return id, nil, true, nil
					}
				}
				return "", nil, false, nil
			}, closeAll
		}
		lists := make([]func() (string, bool), len(walks))
		for i, w := range walks {
			lists[i] = w.next
			if p.preds[i].op != "=" {
				lists[i] = sortedIDs(w, desc, afterID) // a range: in value order
			}
		}
		return mergeIDs(lists, desc), closeAll
	}
	// "order": the field's whole index, then the records without a value.
	var w *indexWalk
	tailAfter := ""
	if afterID != "" && missingKey(afterVal) {
		tailAfter = afterID
	} else {
		var after []byte
		if afterID != "" {
			after = append(slices.Clone(afterVal), afterID...)
		}
		w = newIndexWalk(l.txn, entity, &pred{field: p.field, op: "all"}, desc, after)
	}
	return l.thenMissing(w, p.field, desc, tailAfter)
}

// runSource walks a plan in runs from the start of the cursor's run: the
// index range of its predicate, or the field's whole index and then the
// records without a value (the last run, in either direction).
func (l *lister) runSource(p *plan, desc bool) (next, func()) {
	entity := l.ent.Name
	runDesc := l.keys[0].Desc
	var start []byte // the start of the cursor's run in the walk's direction
	missing := false
	if l.cur != nil {
		v := l.cur.Keys[0]
		missing = missingKey(v)
		start = slices.Clone(v) // ascending: seeks to v+0x00, before v's first id
		if runDesc {
			start = append(start, past...) // descending: seeks to v's last id
		}
	}
	if p.kind == "index" {
		if missing {
			// Every match of a predicate has a value: none sorts after the cursor.
			return func() (string, *Record, bool, error) { return "", nil, false, nil }, func() {}
		}
		w := newIndexWalk(l.txn, entity, p.preds[0], runDesc, start)
		return w.ids, w.close
	}
	var w *indexWalk
	if !missing {
		w = newIndexWalk(l.txn, entity, &pred{field: p.field, op: "all"}, runDesc, start)
	}
	return l.thenMissing(w, p.field, desc, "")
}

// thenMissing walks the ids of an index walk (nil for none), then the
// records that have no value for field (after tailAfter, in id order), which
// the index does not hold: they come last in either direction. The counters
// may say there are none, and then the records are not read.
func (l *lister) thenMissing(w *indexWalk, field string, desc bool, tailAfter string) (next, func()) {
	var tail *idWalk
	noTail := l.s.noneMissing(l.txn, l.ent.Name, field)
	nx := func() (string, *Record, bool, error) {
		if w != nil {
			if id, ok := w.next(); ok {
				return id, nil, true, nil
			}
			w.close()
			w = nil
		}
		if noTail {
			return "", nil, false, nil
		}
		if tail == nil {
			tail = l.s.newIDWalk(l.txn, l.ent.Name, desc, tailAfter, l.match)
		}
		for {
			_, rec, ok, err := tail.next()
			if err != nil || !ok {
				return "", nil, false, err
			}
			if isZero(fieldValue(rec, field)) {
				return rec.ID, rec, true, nil
			}
		}
	}
	return nx, func() {
		if w != nil {
			w.close()
		}
		if tail != nil {
			tail.close()
		}
	}
}

// noneMissing reports whether the counters of a counted field say that
// every record has a value, so that a walk of its order can end with its
// index instead of reading every record for those without one.
func (s *Badger) noneMissing(txn *badger.Txn, entity, field string) bool {
	sp := s.aggs[entity]
	if sp == nil {
		return false
	}
	d := sp.countedDim([]string{field})
	if d == nil {
		return false
	}
	n, _, err := readCounter(txn, counterKey(entity, d.name, encodeValue(nil)))
	return err == nil && n == 0
}

// sortedIDs reads the ids of a walk (a range or prefix, in value order)
// and yields them in id order, after an id when one is given.
func sortedIDs(w *indexWalk, desc bool, after string) func() (string, bool) {
	var ids []string
	for id, ok := w.next(); ok; id, ok = w.next() {
		if after == "" || desc && id < after || !desc && id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if desc {
		slices.Reverse(ids)
	}
	return func() (string, bool) {
		if len(ids) == 0 {
			return "", false
		}
		id := ids[0]
		ids = ids[1:]
		return id, true
	}
}

// mergeIDs merges lists of ids (each in id order) into one stream in id
// order, each id once.
func mergeIDs(walks []func() (string, bool), desc bool) next {
	heads := make([]string, len(walks))
	for i, w := range walks {
		heads[i], _ = w()
	}
	return func() (string, *Record, bool, error) {
		best := ""
		for _, h := range heads {
			if h != "" && (best == "" || desc && h > best || !desc && h < best) {
				best = h
			}
		}
		if best == "" {
			return "", nil, false, nil
		}
		for i, h := range heads {
			if h == best {
				heads[i], _ = walks[i]()
			}
		}
		return best, nil, true, nil
	}
}

// idWalk walks an entity's records in id order, after an id.
type idWalk struct {
	s      *Badger
	it     *badger.Iterator
	entity string
	strip  int
	match  *matcher // reads only the records that match; nil for every record
}

// A walk with a matcher skips the records that do not match it, reading
// only the fields the filter names from their stored form (see scan.go).
// Values are not prefetched: records are small and inline in the LSM tree,
// where prefetching costs a goroutine an item and gains nothing.
func (s *Badger) newIDWalk(txn *badger.Txn, entity string, desc bool, after string, match *matcher) *idWalk {
	prefix := recordPrefix(entity)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: desc})
	switch {
	case after != "" && desc:
		k := recordKey(entity, after)
		it.Seek(k)
		// Seek lands on the cursor's own key or the one before it: skip it.
		if it.Valid() && bytes.Equal(it.Item().Key(), k) {
			it.Next()
		}
	case after != "":
		it.Seek(append(recordKey(entity, after), 0x00))
	case desc:
		it.Seek(append(slices.Clone(prefix), 0xFF))
	default:
		it.Rewind()
	}
	return &idWalk{s: s, it: it, entity: entity, strip: len(prefix), match: match}
}

func (w *idWalk) next() (string, *Record, bool, error) {
	for ; w.it.Valid(); w.it.Next() {
		var rec *Record
		var err error
		if w.match != nil && w.match.f != nil {
			rec, err = w.match.item(w.s, w.it.Item(), w.entity, w.strip)
		} else {
			rec, err = w.s.itemRecord(w.it.Item(), w.entity, w.strip)
		}
		if err != nil {
			return "", nil, false, err
		}
		recordsRead.Add(1)
		if rec == nil {
			continue // did not match
		}
		w.it.Next()
		return rec.ID, rec, true, nil
	}
	return "", nil, false, nil
}

func (w *idWalk) close() { w.it.Close() }

// indexWalk walks the index entries of a predicate (op "all": the whole
// index of its field) in (value, id) order, after a position (value and
// id, as in the key) when one is given.
type indexWalk struct {
	it   *badger.Iterator
	base []byte
	p    *pred
	desc bool
}

// past is longer than any value and id that follow a prefix in an index
// key, so that a reverse seek to prefix+past lands on its last entry.
var past = bytes.Repeat([]byte{0xFF}, 64)

func newIndexWalk(txn *badger.Txn, entity string, p *pred, desc bool, after []byte) *indexWalk {
	if p.field == "id" {
		return newIDKeyWalk(txn, entity, p, desc, after)
	}
	base := indexPrefix(entity, p.field)
	if p.op == "search" {
		base = searchPrefix(entity) // keys end with the id too
	}
	prefix := base
	if p.op == "=" || p.op == "prefix" || p.op == "search" {
		prefix = append(slices.Clone(base), p.eq...)
	}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false, Reverse: desc})
	join := func(parts ...[]byte) []byte { return bytes.Join(append([][]byte{base}, parts...), nil) }
	switch {
	case after != nil && desc:
		k := join(after)
		it.Seek(k)
		if it.Valid() && bytes.Equal(it.Item().Key(), k) {
			it.Next()
		}
	case after != nil:
		it.Seek(join(after, []byte{0x00}))
	case desc && p.op == "range" && p.hi != nil && p.hiExcl:
		it.Seek(join(p.hi))
	case desc && p.op == "range" && p.hi != nil:
		it.Seek(join(p.hi, past))
	case desc:
		it.Seek(append(slices.Clone(prefix), past...))
	case p.op == "range" && p.lo != nil:
		it.Seek(join(p.lo))
	default:
		it.Rewind()
	}
	return &indexWalk{it: it, base: base, p: p, desc: desc}
}

// newIDKeyWalk is the walk of `id == 'ULID'`: the record's own key
// r/{entity}/{id}, whose last idLen bytes are the id like an index
// entry's. after (the predicate's value, the id, then the cursor's id)
// skips the record unless it comes after the cursor in the walk's
// direction.
func newIDKeyWalk(txn *badger.Txn, entity string, p *pred, desc bool, after []byte) *indexWalk {
	base := recordPrefix(entity)
	prefix := append(slices.Clone(base), p.eq...)
	if len(p.eq) != idLen {
		prefix = append(prefix, 0xff) // not an id: no key
	} else if len(after) >= idLen {
		cur, id := string(after[len(after)-idLen:]), string(p.eq)
		if desc && id >= cur || !desc && id <= cur {
			prefix = append(prefix, 0xff) // no key: the record is before the cursor
		}
	}
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false, Reverse: desc})
	if desc {
		it.Seek(append(slices.Clone(prefix), past...))
	} else {
		it.Rewind()
	}
	return &indexWalk{it: it, base: base, p: p, desc: desc}
}

// next returns the next entry's id; false past the end of the range.
func (w *indexWalk) next() (string, bool) {
	k, ok := w.peek()
	if !ok {
		return "", false
	}
	id := string(k[len(k)-idLen:])
	w.it.Next()
	return id, true
}

// value returns the next entry's value without moving past it.
func (w *indexWalk) value() ([]byte, bool) {
	k, ok := w.peek()
	if !ok {
		return nil, false
	}
	return slices.Clone(k[len(w.base) : len(k)-idLen]), true
}

// peek moves to the next entry in the range and returns its key, without
// moving past it; false past the end of the range.
func (w *indexWalk) peek() ([]byte, bool) {
	for ; w.it.Valid(); w.it.Next() {
		k := w.it.Item().Key()
		if len(k) < len(w.base)+idLen {
			continue
		}
		val := k[len(w.base) : len(k)-idLen]
		if w.p.op == "range" {
			below := w.p.lo != nil && (bytes.Compare(val, w.p.lo) < 0 || w.p.loExcl && bytes.Equal(val, w.p.lo))
			above := w.p.hi != nil && (bytes.Compare(val, w.p.hi) > 0 || w.p.hiExcl && bytes.Equal(val, w.p.hi))
			if below && w.desc || above && !w.desc {
				return nil, false
			}
			if below || above {
				continue
			}
		}
		return k, true
	}
	return nil, false
}

// ids is next as a source of candidates.
func (w *indexWalk) ids() (string, *Record, bool, error) {
	id, ok := w.next()
	return id, nil, ok, nil
}

func (w *indexWalk) close() { w.it.Close() }

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
		rec, err = decodeStored(s.schema.Entity(entity), id, v)
		return err
	})
	return rec, err
}
