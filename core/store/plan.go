package store

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/textnorm"
	badger "github.com/dgraph-io/badger/v4"
	"github.com/expr-lang/expr/ast"
)

// How a list runs (the query planner).
//
// A filter is analysed once, when it compiles (analyse): its top-level
// conjunction gives the predicates an index can answer — `f == c`,
// `f startsWith 's'`, a range `lo <= f < hi` (bounds on one field merge),
// and unions: a conjunct `a == 1 || b == 2` or `f in [c1, c2]` whose every
// branch is such a predicate. Every record the filter matches has an entry
// in each of these ranges, so any one of them is a complete source of
// candidates; the whole filter is still evaluated on each candidate (within
// the budgets of Filter.Eval), which is how `&&` of two indexed predicates
// intersects: walk the smaller, check the other.
//
// At query time (choosePlan) each candidate source is priced in records
// read, with two cheap estimates: the entity's live count N, and each
// predicate's number of index entries. An equality on a counted field
// (aggregates.go: indexed fields, enums, refs, users, owner) has an exact
// count in its counter, one key read in the query's snapshot; any other
// predicate's entries are counted up to a cap (countCap), and a count that
// reaches the cap is taken as "as many as N". The matches M are estimated
// as the smallest predicate count (N without one). A source read in the
// requested order streams: it stops at the end of the page, after about
// (limit+1)·E/M of its E entries. A source in another order is collected:
// all its E entries are read, and the matches after the cursor are kept in
// a buffer of a few pages, sorted (never more than MaxSortMatches matches).
//
// Sources in order:
//   - id order (sort "id" or "created_at", whose order is the id's: ids
//     are time-sorted ULIDs made when a record is created): the records
//     themselves ("scan"), an equality's index range (entries of one value
//     are in id order) or a union, its branches merged in id order without
//     duplicates: an equality's entries as they are, a range's or prefix's
//     ids read off its index keys (fewer than countCap, else the union is
//     collected) and sorted;
//   - order of an indexed field f (sort "f" or "-f"): the index range of a
//     predicate on f, or the whole index of f followed by the records
//     without a value ("index E.f order"). An index walk gives ties in id
//     order in its own direction, so these apply when the id tiebreak goes
//     the same way as f, which is the default (see List).
//
// Sources in runs: a sort on several fields whose first is indexed (e.g.
// "stage,-amount", "owner,-updated_at", "-name,id") walks the first
// field's order as above — the whole index then the records without a
// value, or the range of a range or prefix predicate on it — and sorts
// each run of equal first-field values in memory, bounded by the run's
// size (MaxSortMatches per run); it stops when the page is full. A page
// reads about (limit+1)·E/M entries and the rest of its last run; a cursor
// inside a run reads that run again from its start, keeping what sorts
// after the cursor. The cost of a run is estimated by the first one the
// walk meets (its counter, or its entries counted to the cap).
//
// Sorts on other fields are collected from the cheapest source. Missing
// values sort last in either direction.
//
// Cursors are keyset positions (the last item's sort keys and id): each
// page is read from one snapshot and resumes strictly after the cursor, so
// records written between pages neither repeat nor shift the others.

// MaxSortMatches is how many matching records a list sorted in memory may
// consider; past it the list is refused, with advice to index the field.
const MaxSortMatches = 100_000

// sortLimit is MaxSortMatches, lowered by tests.
var sortLimit = MaxSortMatches

// countCap bounds the index entries counted to estimate a predicate
// (a variable, lowered by tests).
var countCap int64 = 1024

// pred is one index range that holds every record a filter matches.
type pred struct {
	field  string // "id": the records' own keys (op "=" only)
	op     string // "=", "prefix", "range", "search"
	eq     []byte // encoded value for "=", encoded prefix for "prefix", the gram prefix for "search"
	lo, hi []byte // encoded bounds for "range"; nil for open
	loExcl bool
	hiExcl bool
}

func (p *pred) String() string { return p.field + " " + p.op }

// rank orders the kinds of predicates when their estimates tie: equality
// over range over prefix.
func (p *pred) rank() int {
	switch p.op {
	case "=":
		return 0
	case "range":
		return 1
	}
	return 2
}

// access is what a filter offers the planner: its indexable conjuncts and
// its unions of indexable predicates.
type access struct {
	conj   []*pred
	unions [][]*pred
	// exact is the filter's one predicate when the filter is nothing but
	// it, an equality whose index range holds exactly the records the
	// filter matches (see exactEquality): a walk of it need not evaluate
	// the filter.
	exact *pred
}

// analyse reads the indexable predicates off a filter's checked AST.
func analyse(ent *schema.Entity, root ast.Node) *access {
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
	walk(root)
	a := &access{}
	ranges := map[string]*pred{}
	for _, n := range conj {
		if u := searchUnion(ent, n); u != nil {
			a.unions = append(a.unions, u)
		}
		if u := unionOf(ent, n); len(u) > 1 {
			a.unions = append(a.unions, u)
			continue
		}
		b, ok := n.(*ast.BinaryNode)
		if !ok {
			continue
		}
		p := predOf(ent, b)
		if p == nil {
			continue
		}
		if p.op != "range" {
			a.conj = append(a.conj, p)
			continue
		}
		r := ranges[p.field]
		if r == nil {
			ranges[p.field] = p
			a.conj = append(a.conj, p)
			continue
		}
		if p.lo != nil {
			r.lo, r.loExcl = p.lo, p.loExcl
		}
		if p.hi != nil {
			r.hi, r.hiExcl = p.hi, p.hiExcl
		}
	}
	if len(a.conj) == 0 && len(a.unions) == 0 {
		return nil
	}
	if len(conj) == 1 && len(a.conj) == 1 && len(a.unions) == 0 && exactEquality(ent, a.conj[0]) {
		a.exact = a.conj[0]
	}
	return a
}

// exactEquality reports whether the index range of p, an equality, holds
// exactly the records whose value equals p's constant: the field's index
// entry is its stored value encoded (encodeValue, which is one to one on
// strings, integers and booleans), the constant is the literal as written
// (constantFor), and the filter compares the same stored value with it.
// Not for decimals (0.0 and -0.0 are equal but encode apart), nor file
// fields (the filter sees the file's id, but better safe), nor id.
func exactEquality(ent *schema.Entity, p *pred) bool {
	if p.op != "=" {
		return false
	}
	if p.field == "owner" {
		return true
	}
	f := ent.Field(p.field)
	if f == nil {
		return false
	}
	switch f.Type {
	case config.TypeString, config.TypeText, config.TypeEmail, config.TypePhone, config.TypeURL,
		config.TypeEnum, config.TypeRef, config.TypeUser, config.TypeInt, config.TypeBool:
		return true
	}
	return false
}

// predOf makes the index range of one comparison, or nil.
func predOf(ent *schema.Entity, b *ast.BinaryNode) *pred {
	if id, ok := idEquals(b); ok {
		return &pred{field: "id", op: "=", eq: []byte(id)}
	}
	field, val, op, ok := comparison(ent, b)
	if !ok || isZero(val) {
		return nil // "" is no value, and has no index entry
	}
	switch op {
	case "==":
		return &pred{field: field, op: "=", eq: encodeValue(val)}
	case "startsWith":
		if s, isStr := val.(string); isStr {
			return &pred{field: field, op: "prefix", eq: encodePrefix(s)}
		}
	case ">", ">=":
		return &pred{field: field, op: "range", lo: encodeValue(val), loExcl: op == ">"}
	case "<", "<=":
		if _, isStr := val.(string); isStr {
			return nil // "" < "b" would match records with no index entry
		}
		return &pred{field: field, op: "range", hi: encodeValue(val), hiExcl: op == "<"}
	}
	return nil
}

// idEquals recognises `id == 'ULID'` (either way round): the record itself
// is its "index entry", read by its key, so `id in [...]` (a screen
// fetching the titles of the records a page refers to) reads those records
// and no others. A string that cannot be an id has no key to read.
func idEquals(b *ast.BinaryNode) (string, bool) {
	if b.Operator != "==" {
		return "", false
	}
	for _, sides := range [][2]ast.Node{{b.Left, b.Right}, {b.Right, b.Left}} {
		ident, ok := sides[0].(*ast.IdentifierNode)
		if !ok || ident.Value != "id" {
			continue
		}
		if s, ok := sides[1].(*ast.StringNode); ok {
			return s.Value, true
		}
	}
	return "", false
}

// searchUnion returns, for `f contains "s"` or `f startsWith "s"` on a
// searched text field, two ranges of the search index (search.go) that
// together hold every record the comparison matches: the grams that start
// with s folded (cut to maxGramRunes), and the records indexed under
// partialGram. nil when s folded is not exactly one token, or (contains)
// is shorter than minInfixRunes runes.
//
// Why every match is there. Fold maps each rune on its own, but for NFKD's
// reordering of combining marks, which never moves a mark across a letter
// or digit; so when a value v contains s, Fold(v) contains Fold(s), and
// when Fold(s) is one token (letters and digits only) that occurrence lies
// in one token t of v, at some rune k. Unless t was cut or left out (then
// the record has the partialGram entry), t is indexed: at k = 0 as
// itself (exact) or by its prefixes of 1 to maxGramRunes runes, at k > 0
// by its suffix from k, cut to maxGramRunes, kept when at least
// minInfixRunes long, which holds when s is. Each of these grams starts
// with Fold(s) cut to maxGramRunes. startsWith has k = 0, at any length.
// TestSearchGramsHoldEveryContains checks this over random text of every
// script textnorm folds; the whole filter is still evaluated on each
// candidate.
func searchUnion(ent *schema.Entity, n ast.Node) []*pred {
	b, ok := n.(*ast.BinaryNode)
	if !ok || b.Operator != "contains" && b.Operator != "startsWith" {
		return nil
	}
	id, ok := b.Left.(*ast.IdentifierNode)
	if !ok {
		return nil
	}
	s, ok := b.Right.(*ast.StringNode)
	if !ok {
		return nil
	}
	f := ent.Field(id.Value)
	if f == nil || !searchedText(ent, f) {
		return nil
	}
	gram, ok := searchNeedle(s.Value, b.Operator == "startsWith")
	if !ok {
		return nil
	}
	return []*pred{
		{field: f.Name, op: "search", eq: []byte(gram)},
		{field: f.Name, op: "search", eq: []byte(partialGram + "\x00")},
	}
}

// searchNeedle is the gram prefix under which the search index holds every
// record whose searched text contains s (prefix: starts with s), if there
// is one (see searchUnion).
func searchNeedle(s string, prefix bool) (string, bool) {
	folded := textnorm.Fold(s)
	toks := textnorm.Tokens(s)
	if len(toks) != 1 || toks[0] != folded {
		return "", false
	}
	if !prefix && utf8.RuneCountInString(folded) < minInfixRunes {
		return "", false
	}
	return cutRunes(folded, maxGramRunes), true
}

// searchedText reports whether f is a searched field cut into tokens as
// text (a phone is indexed by its digit strings instead).
func searchedText(ent *schema.Entity, f *schema.Field) bool {
	switch f.Type {
	case config.TypeString, config.TypeText, config.TypeEmail:
	default:
		return false
	}
	for _, sf := range ent.SearchFields() {
		if sf.Name == f.Name {
			return true
		}
	}
	return false
}

// unionOf returns the branches of `x || y || ...` when each is an indexable
// predicate, or of `f in [c1, c2, ...]` on an indexed field; else nil.
func unionOf(ent *schema.Entity, n ast.Node) []*pred {
	b, ok := n.(*ast.BinaryNode)
	if !ok {
		return nil
	}
	switch b.Operator {
	case "||", "or":
		var out []*pred
		for _, side := range []ast.Node{b.Left, b.Right} {
			if u := unionOf(ent, side); u != nil {
				out = append(out, u...)
				continue
			}
			sb, ok := side.(*ast.BinaryNode)
			if !ok {
				return nil
			}
			p := predOf(ent, sb)
			if p == nil {
				return nil
			}
			out = append(out, p)
		}
		return out
	case "in":
		arr, ok := b.Right.(*ast.ArrayNode)
		if !ok || len(arr.Nodes) == 0 {
			return nil
		}
		var out []*pred
		for _, el := range arr.Nodes {
			p := predOf(ent, &ast.BinaryNode{Operator: "==", Left: b.Left, Right: el})
			if p == nil {
				return nil
			}
			out = append(out, p)
		}
		return out
	}
	return nil
}

// plan is how one list query runs.
type plan struct {
	kind    string  // "scan", "index", "union", "order"
	preds   []*pred // the index range ("index"), the branches ("union")
	field   string  // the index walked in order ("order")
	ordered bool    // the source yields the requested order: stream it
	runs    bool    // the source yields the order of the first sort key: sort its runs
	entity  string
}

func (p *plan) String() string {
	var s string
	switch p.kind {
	case "scan":
		s = "scan"
	case "index":
		s = "index " + p.entity + "." + p.preds[0].String()
	case "order":
		s = "index " + p.entity + "." + p.field + " order"
	case "union":
		parts := make([]string, len(p.preds))
		for i, b := range p.preds {
			switch {
			case b.op != "search":
				parts[i] = "index " + p.entity + "." + b.String()
			case string(b.eq) == partialGram+"\x00":
				parts[i] = "search " + p.entity + " partial"
			default:
				parts[i] = "search " + p.entity + " " + strconv.Quote(string(b.eq))
			}
		}
		s = "union(" + strings.Join(parts, ", ") + ")"
	}
	switch {
	case p.runs:
		s += "; sort runs in memory"
	case !p.ordered:
		s += "; sort in memory"
	}
	return s
}

// sortOrder says which walks give the order of the sort keys (the id
// last): id order (byID), or the order of one indexed field (field), or
// the order of the first key's indexed field, whose runs of equal values
// are then sorted in memory (runField).
func sortOrder(ent *schema.Entity, keys []SortKey) (byID bool, field, runField string) {
	if len(keys) == 1 {
		return true, "", ""
	}
	k := keys[0].Field
	if len(keys) == 2 && keys[0].Desc == keys[1].Desc && k == "created_at" {
		return true, "", ""
	}
	if f := ent.Field(k); k != "owner" && (f == nil || !indexed(f)) {
		return false, "", ""
	}
	if len(keys) == 2 && keys[0].Desc == keys[1].Desc {
		return false, k, ""
	}
	return false, "", k
}

// estimate is a predicate's counted index entries, and whether the count
// stopped at the cap.
type estimate struct {
	n      int64
	capped bool
}

// choosePlan prices the sources a query can use and returns the cheapest.
func (s *Badger) choosePlan(txn *badger.Txn, ent *schema.Entity, acc *access, keys []SortKey, limit int) *plan {
	byID, sortField, runField := sortOrder(ent, keys)
	scan := &plan{kind: "scan", ordered: byID, entity: ent.Name}
	if acc == nil && sortField == "" && runField == "" {
		return scan
	}
	var total int64
	if v, ok := s.counts.Load(ent.Name); ok {
		total = v.(interface{ Load() int64 }).Load()
	}
	n := float64(max(total, 1))
	counted := map[*pred]estimate{}
	count := func(p *pred) float64 {
		e, ok := counted[p]
		if !ok {
			e = s.estimate(txn, ent.Name, p)
			counted[p] = e
		}
		if e.capped {
			return n
		}
		return float64(e.n)
	}
	matches := n
	if acc != nil {
		for _, p := range acc.conj {
			c := count(p)
			if counted[p].capped {
				c = float64(countCap)
			}
			matches = min(matches, c)
		}
	}
	var unions [][]*pred
	if acc != nil {
		for _, u := range acc.unions {
			if u[0].op == "search" && !s.searchComplete(txn, ent) {
				continue // the index does not hold every record yet
			}
			unions = append(unions, u)
			var c float64
			for _, b := range u {
				c += count(b)
			}
			matches = min(matches, c)
		}
	}
	matches = max(matches, 1)
	page := float64(limit + 1)
	stream := func(e float64) float64 { return min(e, page*e/matches) }

	best, bestCost, bestRank := scan, n, 3
	if byID {
		bestCost = stream(n)
	}
	consider := func(p *plan, cost float64, rank int) {
		if cost < bestCost || cost == bestCost && rank < bestRank {
			best, bestCost, bestRank = p, cost, rank
		}
	}
	if sortField != "" {
		consider(&plan{kind: "order", field: sortField, ordered: true, entity: ent.Name}, stream(n), 2)
	}
	var run float64 // the estimated size of a run of runField
	if runField != "" {
		e := s.firstRun(txn, ent.Name, runField, keys[0].Desc)
		run = float64(e.n)
		if e.capped {
			run = n
		}
		consider(&plan{kind: "order", field: runField, runs: true, entity: ent.Name}, min(n, stream(n)+run), 2)
	}
	if acc != nil {
		for _, p := range acc.conj {
			c := count(p)
			ordered := byID && p.op == "=" || p.field == sortField
			cost := c
			if ordered {
				cost = stream(c)
			}
			consider(&plan{kind: "index", preds: []*pred{p}, ordered: ordered, entity: ent.Name}, cost, p.rank())
			if p.field == runField && p.op != "=" {
				consider(&plan{kind: "index", preds: []*pred{p}, runs: true, entity: ent.Name}, min(c, stream(c)+run), p.rank())
			}
		}
		for _, u := range unions {
			var c float64
			small := true // every range or prefix branch counted below the cap
			for _, b := range u {
				c += count(b)
				small = small && (b.op == "=" || !counted[b].capped)
			}
			c = min(c, n)
			ordered := byID && small
			cost := c
			if ordered {
				cost = stream(c)
			}
			consider(&plan{kind: "union", preds: u, ordered: ordered, entity: ent.Name}, cost, 2)
		}
	}
	return best
}

// estimate is a predicate's number of index entries: exact from the
// counter of an equality on a counted field, else counted up to countCap.
func (s *Badger) estimate(txn *badger.Txn, entity string, p *pred) estimate {
	if p.op == "=" {
		if sp := s.aggs[entity]; sp != nil {
			if d := sp.countedDim([]string{p.field}); d != nil {
				n, _, err := readCounter(txn, counterKey(entity, d.name, p.eq))
				if err == nil {
					return estimate{n: n}
				}
				s.log.Warn("planner: counter unreadable; counting index entries", slog.String("entity", entity), slog.String("field", p.field), slog.Any("err", err))
			}
		}
	}
	return s.countIndex(txn, entity, p)
}

// firstRun estimates the size of the first run of equal values a walk of
// a field's index meets (in its direction): the entries of that value.
func (s *Badger) firstRun(txn *badger.Txn, entity, field string, desc bool) estimate {
	w := newIndexWalk(txn, entity, &pred{field: field, op: "all"}, desc, nil)
	val, ok := w.value()
	w.close()
	if !ok {
		return estimate{}
	}
	return s.estimate(txn, entity, &pred{field: field, op: "=", eq: val})
}

// countIndex counts a predicate's index entries, up to countCap.
func (s *Badger) countIndex(txn *badger.Txn, entity string, p *pred) estimate {
	w := newIndexWalk(txn, entity, p, false, nil)
	defer w.close()
	var e estimate
	for ; e.n < countCap; e.n++ {
		if _, ok := w.next(); !ok {
			return e
		}
	}
	e.capped = true
	return e
}

// planError is the refusal of a sort in memory past MaxSortMatches.
func planError(ent *schema.Entity, keys []SortKey) error {
	return &QueryError{Param: "sort", Message: fmt.Sprintf(
		"sorting %s by %s needs more than %d matching records in memory: narrow the filter with an indexed field, sort by an indexed field or by id, or mark the field index = true",
		ent.Name, sortString(keys[:len(keys)-1]), sortLimit)}
}

// scanIndex calls fn with the id of every entry of one index range that
// holds every record the filter matches (an id may come twice from a
// union): the first equality, else the first predicate, else the first
// union. It serves conditional creates, which stop at the first match.
func (s *Badger) scanIndex(ctx context.Context, txn *badger.Txn, entity string, a *access, fn func(id string) error) error {
	var preds []*pred
	for _, p := range a.conj {
		if preds == nil || p.rank() < preds[0].rank() {
			preds = []*pred{p}
		}
	}
	for _, u := range a.unions {
		if preds != nil {
			break
		}
		if u[0].op != "search" || s.searchComplete(txn, s.schema.Entity(entity)) {
			preds = u
		}
	}
	if preds == nil {
		return errNoIndex
	}
	for _, p := range preds {
		w := newIndexWalk(txn, entity, p, false, nil)
		for {
			if err := ctx.Err(); err != nil {
				w.close()
				return err
			}
			id, ok := w.next()
			if !ok {
				break
			}
			if err := fn(id); err != nil {
				w.close()
				return err
			}
		}
		w.close()
	}
	return nil
}
