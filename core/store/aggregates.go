package store

// Aggregate counters: the number of records per value of a counted field
// and the sums of money fields per group, kept in the same transaction as
// every write, so that a list's total and a kanban's totals per stage cost
// a few key reads instead of a pass over the records.
//
// A dimension is one field, or for an entity with pipelines also the pair
// "pipeline,stage" (a stage's name means something only inside its
// pipeline). Its key part is the concatenation of its fields' encoded
// values (encodeValue; a missing value encodes as 0x00, so records without
// a value are counted too).
//
//	c/{entity}/{dim}/{values}                  count of records with those values
//	t/{entity}/{money}/{dim}/{values}{currency} count and sum of the money field
//	t/{entity}/{money}/-/{currency}            same, over all records
//
// Counted dimensions: every field that keeps a non-unique index (file fields
// excepted), every enum, bool, ref and user field, and owner. Group
// dimensions of sums: enum, bool, ref, user, owner and an entity's
// pipeline and stage fields (and their pair); not free-text indexed fields
// such as a title, which would cost a key per record for no useful total.
//
// Writes do not read-modify-write the counters as they plan: a write's
// plan emits delta mutations (mutation.add) that batch.apply folds into the
// batch (batch.aggs), and finish adds each counter's total delta to its
// stored value once, in the batch's transaction. So several writes of one
// group commit to the same counter add up, a write refused after planning
// leaves no delta (apply runs only for accepted writes), and one write that
// moves the same counter twice (a forced delete that clears several refs)
// adds both moves.

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	badger "github.com/dgraph-io/badger/v4"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/parser"
)

// MaxCountScan is how many records a count or totals query reads at most
// when its filter cannot be answered from the counters. Past it, Count
// answers an estimate (exact false) and Totals refuses the filter.
const MaxCountScan = 10000

// countScanLimit is MaxCountScan; tests lower it.
var countScanLimit = MaxCountScan

// aggVersion changes when the counters' layout or meaning changes, so that
// stores count again at open.
const aggVersion = "1"

// dim is a counted or grouped dimension: one field or a pair.
type dim struct {
	name   string   // key part: "stage" or "pipeline,stage"
	fields []string // in key order
	types  []string // field types (owner is a user)
}

// aggSpec is what the store counts and sums for one entity.
type aggSpec struct {
	counted []*dim
	groups  []*dim   // group dimensions of sums (the "-" dimension, all records, is implicit)
	money   []string // money fields
	spec    string   // fingerprint: a change recounts the entity at open
}

// aggregateSpecs builds the specs of every entity of the schema.
func aggregateSpecs(sch *schema.Schema) map[string]*aggSpec {
	out := map[string]*aggSpec{}
	for _, ent := range sch.Entities() {
		out[ent.Name] = newAggSpec(ent)
	}
	return out
}

func newAggSpec(ent *schema.Entity) *aggSpec {
	sp := &aggSpec{}
	pipelines := len(ent.Pipelines()) > 0
	one := func(name, typ string) *dim { return &dim{name: name, fields: []string{name}, types: []string{typ}} }
	for _, f := range ent.Fields {
		group := false
		switch f.Type {
		case config.TypeEnum, config.TypeBool, config.TypeRef, config.TypeUser:
			group = true
		case config.TypeMoney:
			sp.money = append(sp.money, f.Name)
		}
		if pipelines && (f.Name == schema.FieldPipeline || f.Name == schema.FieldStage) {
			group = true
		}
		counted := group || f.Index && !f.Unique && f.Type != config.TypeFile
		if counted {
			sp.counted = append(sp.counted, one(f.Name, f.Type))
		}
		if group {
			sp.groups = append(sp.groups, one(f.Name, f.Type))
		}
	}
	owner := one("owner", config.TypeUser)
	sp.counted = append(sp.counted, owner)
	sp.groups = append(sp.groups, owner)
	if pipelines {
		p, st := ent.Field(schema.FieldPipeline), ent.Field(schema.FieldStage)
		pair := &dim{name: p.Name + "," + st.Name, fields: []string{p.Name, st.Name}, types: []string{p.Type, st.Type}}
		sp.counted = append(sp.counted, pair)
		sp.groups = append(sp.groups, pair)
	}
	names := func(ds []*dim) string {
		s := make([]string, len(ds))
		for i, d := range ds {
			s[i] = d.name
		}
		return strings.Join(s, " ")
	}
	sp.spec = fmt.Sprintf("v%s;count=%s;group=%s;money=%s", aggVersion, names(sp.counted), names(sp.groups), strings.Join(sp.money, " "))
	return sp
}

func (sp *aggSpec) countedDim(fields []string) *dim {
	for _, d := range sp.counted {
		if sameSet(d.fields, fields) {
			return d
		}
	}
	return nil
}

func (sp *aggSpec) groupDim(fields []string) *dim {
	for _, d := range sp.groups {
		if sameSet(d.fields, fields) {
			return d
		}
	}
	return nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

func counterKey(entity, dim string, vals []byte) []byte {
	return append([]byte(prefixCounter+entity+"/"+dim+"/"), vals...)
}

func sumPrefix(entity, money, dim string) []byte {
	if dim == "" {
		dim = "-"
	}
	return []byte(prefixSum + entity + "/" + money + "/" + dim + "/")
}

// dimValues encodes a record's values of a dimension.
func dimValues(d *dim, r *Record) []byte {
	var out []byte
	for _, f := range d.fields {
		v := fieldValue(r, f)
		if isZero(v) {
			v = nil
		}
		out = append(out, encodeValue(v)...)
	}
	return out
}

// aggDelta is a change of one counter: n records (+1 or -1) and, for a sum,
// n times minor.
type aggDelta struct {
	n     int64
	minor int64
}

// aggAcc is a counter's accumulated change within a batch.
type aggAcc struct {
	n   int64
	sum big.Int
}

func (b *batch) addAggregate(key []byte, d *aggDelta) {
	if b.aggs == nil {
		b.aggs = map[string]*aggAcc{}
	}
	addAcc(b.aggs, key, d)
}

func addAcc(m map[string]*aggAcc, key []byte, d *aggDelta) {
	a := m[string(key)]
	if a == nil {
		a = &aggAcc{}
		m[string(key)] = a
	}
	a.n += d.n
	if d.minor != 0 {
		var x big.Int
		x.SetInt64(d.minor)
		if d.n < 0 {
			x.Neg(&x)
		}
		a.sum.Add(&a.sum, &x)
	}
}

// aggregateMutations are the counter changes of a write that moves a record
// from old to next (either may be nil): delta mutations that batch.apply
// folds into the batch.
func (s *Badger) aggregateMutations(ent *schema.Entity, old, next *Record) []mutation {
	sp := s.aggs[ent.Name]
	if sp == nil {
		return nil
	}
	var muts []mutation
	move := func(ko, kn []byte, mo, mn int64) {
		if ko != nil && kn != nil && bytes.Equal(ko, kn) && mo == mn {
			return
		}
		if ko != nil {
			muts = append(muts, mutation{key: ko, add: &aggDelta{n: -1, minor: mo}})
		}
		if kn != nil {
			muts = append(muts, mutation{key: kn, add: &aggDelta{n: 1, minor: mn}})
		}
	}
	for _, d := range sp.counted {
		var ko, kn []byte
		if old != nil {
			ko = counterKey(ent.Name, d.name, dimValues(d, old))
		}
		if next != nil {
			kn = counterKey(ent.Name, d.name, dimValues(d, next))
		}
		move(ko, kn, 0, 0)
	}
	for _, m := range sp.money {
		mo, okO := moneyOf(old, m)
		mn, okN := moneyOf(next, m)
		for _, d := range append([]*dim{nil}, sp.groups...) {
			var ko, kn []byte
			if okO {
				ko = sumKey(ent.Name, m, d, old, mo.Currency)
			}
			if okN {
				kn = sumKey(ent.Name, m, d, next, mn.Currency)
			}
			move(ko, kn, mo.Minor, mn.Minor)
		}
	}
	return muts
}

func moneyOf(r *Record, field string) (schema.Money, bool) {
	if r == nil {
		return schema.Money{}, false
	}
	m, ok := r.Values[field].(schema.Money)
	return m, ok && m.Currency != ""
}

func sumKey(entity, money string, d *dim, r *Record, currency string) []byte {
	if d == nil {
		return append(sumPrefix(entity, money, ""), currency...)
	}
	return append(append(sumPrefix(entity, money, d.name), dimValues(d, r)...), currency...)
}

// flushAggregates adds a batch's counter changes to the stored counters
// inside txn; a counter that falls to zero records is removed. A counter
// that would fall below zero (a bug: counters and records disagree) is
// logged and removed rather than refusing the writes.
func flushAggregates(txn *badger.Txn, aggs map[string]*aggAcc, log *slog.Logger) error {
	for k, a := range aggs {
		if a.n == 0 && a.sum.Sign() == 0 {
			continue
		}
		key := []byte(k)
		n, sum, err := readCounter(txn, key)
		if err != nil {
			return err
		}
		n += a.n
		sum.Add(sum, &a.sum)
		if n < 0 {
			log.Error("a counter fell below zero: counters and records disagree", slog.String("key", fmt.Sprintf("%q", key)), slog.Int64("count", n))
			n = 0
		}
		if n == 0 {
			if err := txn.Delete(key); err != nil {
				return fmt.Errorf("write counter %q: %w", key, err)
			}
			continue
		}
		if err := txn.Set(key, encodeCounter(n, sum)); err != nil {
			return fmt.Errorf("write counter %q: %w", key, err)
		}
	}
	return nil
}

// A counter's value is its record count (8 bytes, big-endian) followed,
// for a sum, by the sum in minor units as decimal text.
func encodeCounter(n int64, sum *big.Int) []byte {
	out := binary.BigEndian.AppendUint64(nil, uint64(n))
	if sum != nil && sum.Sign() != 0 {
		out = sum.Append(out, 10)
	}
	return out
}

func decodeCounter(key, v []byte) (int64, *big.Int, error) {
	sum := new(big.Int)
	if len(v) < 8 {
		return 0, nil, fmt.Errorf("counter %q: %d bytes, want at least 8", key, len(v))
	}
	if len(v) > 8 {
		if _, ok := sum.SetString(string(v[8:]), 10); !ok {
			return 0, nil, fmt.Errorf("counter %q: bad sum %q", key, v[8:])
		}
	}
	return int64(binary.BigEndian.Uint64(v)), sum, nil
}

func readCounter(txn *badger.Txn, key []byte) (int64, *big.Int, error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return 0, new(big.Int), nil
	}
	if err != nil {
		return 0, nil, fmt.Errorf("read counter %q: %w", key, err)
	}
	var n int64
	var sum *big.Int
	err = item.Value(func(v []byte) error {
		n, sum, err = decodeCounter(key, v)
		return err
	})
	return n, sum, err
}

// aggMarker is the progress of an entity's counting at open (SysTx kind
// KindAggregates, key: the entity).
type aggMarker struct {
	Spec  string `json:"spec"`
	After string `json:"after,omitempty"` // last record id counted
	Done  bool   `json:"done"`
}

// backfillChunk is how many records one backfill transaction counts.
const backfillChunk = 500

// backfillAggregates counts, at open, the records of every entity whose
// counters are missing (a store written before counters existed) or were
// kept for another spec (the schema changed what is counted). It runs
// before the writer starts, in transactions of backfillChunk records that
// each save their progress, so that an interrupted backfill resumes.
func (s *Badger) backfillAggregates() error {
	names := make([]string, 0, len(s.aggs))
	for name := range s.aggs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := s.backfillEntity(name, s.aggs[name]); err != nil {
			return fmt.Errorf("count %s records: %w", name, err)
		}
	}
	return nil
}

func (s *Badger) backfillEntity(entity string, sp *aggSpec) error {
	var mk aggMarker
	mkKey := sysKey(KindAggregates, entity)
	if err := s.view(func(txn *badger.Txn) error {
		item, err := txn.Get(mkKey)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return item.Value(func(v []byte) error { return json.Unmarshal(v, &mk) })
	}); err != nil {
		return fmt.Errorf("read marker: %w", err)
	}
	if mk.Spec == sp.spec && mk.Done {
		return nil
	}
	start := time.Now()
	if mk.Spec != sp.spec {
		if err := s.dropCounters(entity); err != nil {
			return err
		}
		mk = aggMarker{Spec: sp.spec}
	}
	ent := s.schema.Entity(entity)
	total := 0
	for !mk.Done {
		err := s.db.Update(func(txn *badger.Txn) error {
			var recs []*Record
			p := recordPrefix(entity)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true, PrefetchSize: 100})
			seek := p
			if mk.After != "" {
				seek = append(recordKey(entity, mk.After), 0)
			}
			for it.Seek(seek); it.Valid() && len(recs) < backfillChunk; it.Next() {
				id := string(it.Item().Key()[len(p):])
				var rec *Record
				err := it.Item().Value(func(v []byte) error {
					var err error
					rec, err = decodeRecord(ent, id, v)
					return err
				})
				if err != nil {
					it.Close()
					return err
				}
				recs = append(recs, rec)
			}
			it.Close()
			acc := map[string]*aggAcc{}
			for _, r := range recs {
				for _, m := range s.aggregateMutations(ent, nil, r) {
					addAcc(acc, m.key, m.add)
				}
				mk.After = r.ID
			}
			if err := flushAggregates(txn, acc, s.log); err != nil {
				return err
			}
			mk.Done = len(recs) < backfillChunk
			total += len(recs)
			v, _ := json.Marshal(mk)
			return txn.Set(mkKey, v)
		})
		if err != nil {
			return err
		}
	}
	if total > 0 {
		s.log.Info("counted records for list totals", slog.String("entity", entity), slog.Int("records", total),
			slog.Duration("took", time.Since(start)))
	}
	return nil
}

// dropCounters removes an entity's counters, in chunks.
func (s *Badger) dropCounters(entity string) error {
	for _, p := range [][]byte{[]byte(prefixCounter + entity + "/"), []byte(prefixSum + entity + "/")} {
		for {
			var keys [][]byte
			if err := s.view(func(txn *badger.Txn) error {
				it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
				defer it.Close()
				for it.Rewind(); it.Valid() && len(keys) < 5000; it.Next() {
					keys = append(keys, it.Item().KeyCopy(nil))
				}
				return nil
			}); err != nil {
				return fmt.Errorf("drop counters: %w", err)
			}
			if len(keys) == 0 {
				break
			}
			wb := s.db.NewWriteBatch()
			for _, k := range keys {
				if err := wb.Delete(k); err != nil {
					wb.Cancel()
					return fmt.Errorf("drop counters: %w", err)
				}
			}
			if err := wb.Flush(); err != nil {
				return fmt.Errorf("drop counters: %w", err)
			}
		}
	}
	return nil
}

// Total is the count and sum of a money field over the records of one
// group in one currency. Sums are never mixed across currencies.
type Total struct {
	Group    any    // the group's value: nil for records without one, and when not grouped
	Currency string // "" when no money field is summed
	Sum      string // exact decimal in the currency's major units ("1500.00"); "" with no money field
	Minor    *big.Int
	Count    int64 // records of the group (with a value of the money field in that currency, when summed)
}

// eqSet is a filter that is a conjunction of equalities: field -> the
// values it may take (one for ==, several for `in` or ||).
type eqSet map[string][]any

// equalities reads a filter as a conjunction of equalities on fields, each
// `f == v`, `f in [v, ...]` or an || of those on the same field; ok is
// false for any other filter.
func equalities(ent *schema.Entity, src string) (eqSet, bool) {
	tree, err := parser.Parse(src)
	if err != nil {
		return nil, false
	}
	out := eqSet{}
	var conj func(n ast.Node) bool
	conj = func(n ast.Node) bool {
		if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
			return conj(b.Left) && conj(b.Right)
		}
		field, vals, ok := disjunction(ent, n)
		if !ok {
			return false
		}
		if prev, seen := out[field]; seen {
			// f == a && f == b: the intersection.
			var both []any
			for _, v := range vals {
				if containsValue(prev, v) {
					both = append(both, v)
				}
			}
			vals = both
		}
		out[field] = vals
		return true
	}
	if !conj(tree.Node) {
		return nil, false
	}
	return out, true
}

func containsValue(vals []any, v any) bool {
	for _, x := range vals {
		if equalValues(x, v) {
			return true
		}
	}
	return false
}

func disjunction(ent *schema.Entity, n ast.Node) (string, []any, bool) {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return "", nil, false
	}
	switch b.Operator {
	case "||", "or":
		fl, vl, ok := disjunction(ent, b.Left)
		if !ok {
			return "", nil, false
		}
		fr, vr, ok := disjunction(ent, b.Right)
		if !ok || fl != fr {
			return "", nil, false
		}
		for _, v := range vr {
			if !containsValue(vl, v) {
				vl = append(vl, v)
			}
		}
		return fl, vl, true
	case "==":
		left, right := b.Left, b.Right
		if _, ok := left.(*ast.IdentifierNode); !ok {
			left, right = right, left
		}
		id, ok := left.(*ast.IdentifierNode)
		if !ok {
			return "", nil, false
		}
		typ := fieldType(ent, id.Value)
		if typ == "" {
			return "", nil, false
		}
		if _, isNil := right.(*ast.NilNode); isNil {
			return id.Value, []any{nil}, true
		}
		v, ok := constantFor(typ, right)
		if !ok {
			return "", nil, false
		}
		if isZero(v) {
			if id.Value == "owner" {
				// Every record has an owner as filters see it: "" for
				// none, counted as no value.
				return id.Value, []any{nil}, true
			}
			return id.Value, []any{}, true // never stored: "" is no value, and nil == "" is false
		}
		return id.Value, []any{v}, true
	case "in":
		id, ok := b.Left.(*ast.IdentifierNode)
		arr, isArr := b.Right.(*ast.ArrayNode)
		if !ok || !isArr {
			return "", nil, false
		}
		typ := fieldType(ent, id.Value)
		if typ == "" {
			return "", nil, false
		}
		var vals []any
		for _, e := range arr.Nodes {
			v, ok := constantFor(typ, e)
			if !ok {
				return "", nil, false
			}
			if isZero(v) && id.Value == "owner" {
				v = nil // no owner, as for ==
			} else if isZero(v) {
				continue
			}
			if !containsValue(vals, v) {
				vals = append(vals, v)
			}
		}
		return id.Value, vals, true
	}
	return "", nil, false
}

// fieldType is the type of a declared field or owner; "" for other names.
func fieldType(ent *schema.Entity, name string) string {
	if name == "owner" {
		return config.TypeUser
	}
	if f := ent.Field(name); f != nil {
		return f.Type
	}
	return ""
}

// product lists every combination of the values of fields, encoded in
// field order.
func (eq eqSet) product(fields []string) [][]byte {
	out := [][]byte{nil}
	for _, f := range fields {
		var next [][]byte
		for _, prefix := range out {
			for _, v := range eq[f] {
				next = append(next, append(slices.Clone(prefix), encodeValue(v)...))
			}
		}
		out = next
	}
	return out
}

func (eq eqSet) fields() []string {
	out := make([]string, 0, len(eq))
	for f := range eq {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// Count returns the number of records of an entity that match a filter (all
// of them with a nil filter). It answers from the counters, exactly, when
// the filter is a conjunction of equalities (==, in, || of == on one field)
// whose fields are a counted dimension; else it reads the records, through
// the index of the most selective indexed equality when there is one, at
// most MaxCountScan of them: past that, n is an estimate extrapolated from
// the records read (in id order, so the oldest) and exact is false.
func (s *Badger) Count(ctx context.Context, entity string, f *Filter) (n int64, exact bool, err error) {
	if s.isClosed() {
		return 0, false, ErrClosed
	}
	ent, err := s.entity(entity)
	if err != nil {
		return 0, false, err
	}
	if f == nil {
		return s.counter(ent.Name).Load(), true, nil
	}
	sp := s.aggs[ent.Name]
	eq, ok := equalities(ent, f.Source)
	if ok {
		if d := sp.countedDim(eq.fields()); d != nil {
			err := s.view(func(txn *badger.Txn) error {
				for _, vals := range eq.product(d.fields) {
					c, _, err := readCounter(txn, counterKey(ent.Name, d.name, vals))
					if err != nil {
						return err
					}
					n += c
				}
				return nil
			})
			return n, err == nil, err
		}
	}
	field, vals, candidates := s.bestEquality(ent, f)
	matched, read, complete, err := s.walkFrom(ctx, ent, f, field, vals, func(*Record) {})
	if err != nil {
		return 0, false, err
	}
	if complete {
		return matched, true, nil
	}
	if field == "" {
		candidates = s.counter(ent.Name).Load()
	}
	if read == 0 {
		return 0, false, nil
	}
	// Extrapolated over what the walk was reading: the records of the
	// equality's index (an own_only user's records, say), else them all.
	return matched * candidates / read, false, nil
}

// walk reads the records that may match f, at most countScanLimit: through
// the index of the indexed equality with the fewest records when the
// filter's top level has one, else all the entity's records. It calls fn
// for each match; complete is false when it stopped at the limit.
func (s *Badger) walk(ctx context.Context, ent *schema.Entity, f *Filter, fn func(*Record)) (matched, read int64, complete bool, err error) {
	field, vals, _ := s.bestEquality(ent, f)
	return s.walkFrom(ctx, ent, f, field, vals, fn)
}

// walkFrom is walk through the index entries of field's values (all the
// records when field is "").
func (s *Badger) walkFrom(ctx context.Context, ent *schema.Entity, f *Filter, field string, vals []any, fn func(*Record)) (matched, read int64, complete bool, err error) {
	q := f.matcher()
	visit := func(txn *badger.Txn, r *Record) (bool, error) {
		if read >= int64(countScanLimit) {
			return false, nil
		}
		read++
		ok, err := q.match(r)
		if err != nil {
			return false, err
		}
		if ok {
			matched++
			fn(r)
		}
		return true, nil
	}
	complete = true
	err = s.view(func(txn *badger.Txn) error {
		if field != "" {
			for _, v := range vals {
				prefix := append(indexPrefix(ent.Name, field), encodeValue(v)...)
				it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
				for it.Rewind(); it.Valid(); it.Next() {
					if err := ctx.Err(); err != nil {
						it.Close()
						return err
					}
					k := it.Item().Key()
					if len(k)-idLen != len(prefix) {
						continue // a longer value that shares the prefix
					}
					r, err := s.getRecord(txn, ent.Name, string(k[len(k)-idLen:]))
					if err != nil {
						it.Close()
						return err
					}
					more, err := visit(txn, r)
					if err != nil || !more {
						it.Close()
						complete = complete && err == nil && more
						return err
					}
				}
				it.Close()
			}
			return nil
		}
		p := recordPrefix(ent.Name)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true, PrefetchSize: 100})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := ctx.Err(); err != nil {
				return err
			}
			var r *Record
			err := it.Item().Value(func(v []byte) error {
				var err error
				r, err = decodeRecord(ent, string(it.Item().Key()[len(p):]), v)
				return err
			})
			if err != nil {
				return err
			}
			more, err := visit(txn, r)
			if err != nil {
				return err
			}
			if !more {
				complete = false
				return nil
			}
		}
		return nil
	})
	return matched, read, complete, err
}

// bestEquality finds, among the top-level conjuncts of f, the equality (or
// `in`) on an indexed field with the fewest records by the counters, and
// that number of records.
func (s *Badger) bestEquality(ent *schema.Entity, f *Filter) (string, []any, int64) {
	tree, err := parser.Parse(f.Source)
	if err != nil {
		return "", nil, 0
	}
	var conj []ast.Node
	var walk func(n ast.Node)
	walk = func(n ast.Node) {
		if b, ok := n.(*ast.BinaryNode); ok && (b.Operator == "&&" || b.Operator == "and") {
			walk(b.Left)
			walk(b.Right)
			return
		}
		conj = append(conj, n)
	}
	walk(tree.Node)
	sp := s.aggs[ent.Name]
	best, bestN := "", int64(-1)
	var bestVals []any
	_ = s.view(func(txn *badger.Txn) error {
		for _, n := range conj {
			field, vals, ok := disjunction(ent, n)
			if !ok || slices.Contains(vals, any(nil)) {
				continue
			}
			if fd := ent.Field(field); field != "owner" && (fd == nil || !indexed(fd)) {
				continue
			}
			d := sp.countedDim([]string{field})
			if d == nil {
				continue
			}
			var c int64
			for _, v := range vals {
				k, _, err := readCounter(txn, counterKey(ent.Name, d.name, encodeValue(v)))
				if err != nil {
					return err
				}
				c += k
			}
			if bestN < 0 || c < bestN {
				best, bestN, bestVals = field, c, vals
			}
		}
		return nil
	})
	return best, bestVals, bestN
}

// Totals returns, per group value of groupBy ("" for one group of all) and
// per currency, the count and exact sum of the money field sumField over
// the records that match f; with sumField "", only the count per group. It
// answers from the counters when f is nil or a conjunction of equalities
// whose fields, with groupBy's, form a group dimension (deal stage with
// `pipeline == 'sales'`); else it reads the records, at most MaxCountScan,
// and refuses a filter that matches more with a *QueryError.
func (s *Badger) Totals(ctx context.Context, entity, groupBy, sumField string, f *Filter) ([]Total, error) {
	ent, err := s.entity(entity)
	if err != nil {
		return nil, err
	}
	sp := s.aggs[ent.Name]
	if err := checkTotals(ent, sp, groupBy, sumField); err != nil {
		return nil, err
	}
	var group *dim
	if groupBy != "" {
		group = sp.groupDim([]string{groupBy})
	}
	eq := eqSet{}
	if f != nil {
		var ok bool
		if eq, ok = equalities(ent, f.Source); !ok {
			return s.totalsByWalk(ctx, ent, group, sumField, f)
		}
	}
	fields := eq.fields()
	if group != nil && !slices.Contains(fields, groupBy) {
		fields = append(fields, groupBy)
	}
	var d *dim
	if len(fields) > 0 {
		if d = sp.groupDim(fields); d == nil {
			return s.totalsByWalk(ctx, ent, group, sumField, f)
		}
	}
	type gk struct{ group, currency string }
	acc := map[gk]*Total{}
	var order []gk
	err = s.view(func(txn *badger.Txn) error {
		var prefix []byte
		if sumField != "" {
			prefix = sumPrefix(ent.Name, sumField, "")
			if d != nil {
				prefix = sumPrefix(ent.Name, sumField, d.name)
			}
		} else {
			prefix = counterKey(ent.Name, d.name, nil)
		}
		// With an equality on the dimension's first field, only its values' keys.
		starts := [][]byte{prefix}
		if d != nil {
			if vals, ok := eq[d.fields[0]]; ok {
				starts = starts[:0]
				for _, v := range vals {
					starts = append(starts, append(slices.Clone(prefix), encodeValue(v)...))
				}
			}
		}
		for _, start := range starts {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: start})
			for it.Rewind(); it.Valid(); it.Next() {
				if err := ctx.Err(); err != nil {
					it.Close()
					return err
				}
				key := it.Item().KeyCopy(nil)
				rest := key[len(prefix):]
				var gv any
				keep := true
				if d != nil {
					for i, fname := range d.fields {
						var v any
						var err error
						v, rest, err = decodeKeyValue(rest, d.types[i])
						if err != nil {
							it.Close()
							return fmt.Errorf("counter %q: %w", key, err)
						}
						if vals, ok := eq[fname]; ok && !containsValue(vals, v) {
							keep = false
						}
						if fname == groupBy {
							gv = v
						}
					}
				}
				if !keep {
					continue
				}
				currency := string(rest)
				var n int64
				var sum *big.Int
				err := it.Item().Value(func(v []byte) error {
					var err error
					n, sum, err = decodeCounter(key, v)
					return err
				})
				if err != nil {
					it.Close()
					return err
				}
				k := gk{fmt.Sprint(gv), currency}
				if gv == nil {
					k.group = "\x00nil"
				}
				t := acc[k]
				if t == nil {
					t = &Total{Group: gv, Currency: currency, Minor: new(big.Int)}
					acc[k] = t
					order = append(order, k)
				}
				t.Count += n
				t.Minor.Add(t.Minor, sum)
			}
			it.Close()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]Total, 0, len(order))
	for _, k := range order {
		out = append(out, *acc[k])
	}
	return finishTotals(out, sumField != ""), nil
}

// CheckTotals refuses, with the *QueryError Badger.Totals gives, a totals
// query of ent that names no money field sumField of it, or a groupBy it
// cannot be grouped by, or neither.
func CheckTotals(ent *schema.Entity, groupBy, sumField string) error {
	return checkTotals(ent, newAggSpec(ent), groupBy, sumField)
}

func checkTotals(ent *schema.Entity, sp *aggSpec, groupBy, sumField string) error {
	if sumField != "" && !slices.Contains(sp.money, sumField) {
		return &QueryError{Param: "totals", Message: fmt.Sprintf("%s has no money field %q to sum (money fields: %s)", ent.Name, sumField, orNone(sp.money))}
	}
	if groupBy != "" {
		if sp.groupDim([]string{groupBy}) == nil {
			var names []string
			for _, d := range sp.groups {
				if len(d.fields) == 1 {
					names = append(names, d.name)
				}
			}
			return &QueryError{Param: "group", Message: fmt.Sprintf("%s cannot be grouped by %q (group fields: %s)", ent.Name, groupBy, orNone(names))}
		}
	} else if sumField == "" {
		return &QueryError{Param: "totals", Message: "name a money field to sum, a field to group by, or both"}
	}
	return nil
}

// totalsByWalk computes totals from the records, at most countScanLimit.
func (s *Badger) totalsByWalk(ctx context.Context, ent *schema.Entity, group *dim, sumField string, f *Filter) ([]Total, error) {
	type gk struct{ group, currency string }
	acc := map[gk]*Total{}
	_, _, complete, err := s.walk(ctx, ent, f, func(r *Record) {
		var gv any
		if group != nil {
			if gv = fieldValue(r, group.fields[0]); isZero(gv) {
				gv = nil
			}
		}
		currency := ""
		var minor int64
		if sumField != "" {
			m, ok := moneyOf(r, sumField)
			if !ok {
				return
			}
			currency, minor = m.Currency, m.Minor
		}
		k := gk{fmt.Sprint(gv), currency}
		if gv == nil {
			k.group = "\x00nil"
		}
		t := acc[k]
		if t == nil {
			t = &Total{Group: gv, Currency: currency, Minor: new(big.Int)}
			acc[k] = t
		}
		t.Count++
		t.Minor.Add(t.Minor, big.NewInt(minor))
	})
	if err != nil {
		return nil, err
	}
	if !complete {
		return nil, &QueryError{Param: "filter", Message: fmt.Sprintf("totals with this filter would read more than %d %s records: filter with equalities (==, in) on %s's counted fields only, or narrow it with an equality on an indexed field", countScanLimit, ent.Name, ent.Name)}
	}
	out := make([]Total, 0, len(acc))
	for _, t := range acc {
		out = append(out, *t)
	}
	return finishTotals(out, sumField != ""), nil
}

// FinishTotals formats the sums of totals (summed: a money field was
// summed) and orders them by group value (no value first), then currency,
// as Badger.Totals answers.
func FinishTotals(out []Total, summed bool) []Total { return finishTotals(out, summed) }

// finishTotals formats the sums and orders the totals by group value (no
// value first), then currency.
func finishTotals(out []Total, summed bool) []Total {
	for i := range out {
		t := &out[i]
		if !summed {
			t.Minor, t.Currency = nil, ""
			continue
		}
		t.Sum = formatBigMinor(t.Minor, t.Currency)
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := encodeValue(out[i].Group), encodeValue(out[j].Group)
		if c := bytes.Compare(a, b); c != 0 {
			return c < 0
		}
		return out[i].Currency < out[j].Currency
	})
	return out
}

// formatBigMinor writes an amount in minor units as a decimal in the
// currency's major units.
func formatBigMinor(minor *big.Int, currency string) string {
	digits, _, err := schema.CurrencyDigits(currency)
	if err != nil {
		digits = 2
	}
	neg := minor.Sign() < 0
	s := new(big.Int).Abs(minor).String()
	if digits > 0 {
		if len(s) <= digits {
			s = strings.Repeat("0", digits-len(s)+1) + s
		}
		s = s[:len(s)-digits] + "." + s[len(s)-digits:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// decodeKeyValue reads one value of encodeValue from the front of b, for
// the string-like and bool types of group dimensions.
func decodeKeyValue(b []byte, typ string) (any, []byte, error) {
	if len(b) == 0 {
		return nil, nil, errors.New("truncated value")
	}
	if b[0] == 0x00 {
		return nil, b[1:], nil
	}
	if typ == config.TypeBool {
		if len(b) < 2 {
			return nil, nil, errors.New("truncated bool")
		}
		return b[1] == 1, b[2:], nil
	}
	var s []byte
	for i := 1; i+1 < len(b); i++ {
		if b[i] != 0x00 {
			s = append(s, b[i])
			continue
		}
		switch b[i+1] {
		case 0xFF:
			s = append(s, 0x00)
			i++
		case 0x01:
			return string(s), b[i+2:], nil
		default:
			return nil, nil, errors.New("bad string escape")
		}
	}
	return nil, nil, errors.New("unterminated string")
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}
