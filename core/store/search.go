package store

// Global search ("find a customer"): a token index over the fields an
// entity declares searched (schema.Field.Search), kept in the same
// transaction as the record.
//
// Every searched value is cut into folded tokens by package textnorm (a
// phone into its E.164 and national digit strings). Each token t gives
// index entries q/{entity}/{gram}\x00{kind}{id}, one per gram, kind being
// the best way the gram matches the record:
//
//	exact  (0)  gram = t
//	prefix (1)  gram = a proper prefix of t, 1 to maxGramRunes runes
//	infix  (2)  gram = a proper suffix of t of at least minInfixRunes runes,
//	            cut to maxGramRunes
//
// Prefix-of-token is what people type, so it is answered by exact keys:
// the entries of one gram and kind sit in id (creation) order, and walking
// them backwards gives the newest first, so a page of exact-then-prefix
// hits costs a page of keys, whatever the number of matches. Infixes
// ("rosyan" in "petrosyan", "1234" inside a phone number) are found by a
// range scan over the suffixes that start with the typed text: such
// queries are rarer and more selective, and the scan stops after
// maxInfixScan keys. Trigrams would find infixes too but need an
// intersection per query and still a verification; suffixes answer a
// query of any length with one range.
//
// A record whose searched text is longer than its grams hold (a token cut
// at textnorm.MaxTokenRunes, tokens past maxSearchTokens) also has an
// entry under partialGram, so that the grams and that entry together hold
// every record whose searched text contains a given token (plan.go,
// searchUnion).
//
// Several query tokens must all match (any kind) one record: the longest
// drives the walk, and the records every other token's entries also name
// are found by a merge-intersection of the tokens' entries in id order
// (searchEntity), then confirmed by the record's own tokens. Hits rank exact > prefix > infix by the driving token, then
// newest first.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/textnorm"
	badger "github.com/dgraph-io/badger/v4"
)

// Match kinds of a search hit, best first.
const (
	MatchExact  = "exact"
	MatchPrefix = "prefix"
	MatchInfix  = "infix"
)

const (
	kindExact byte = iota
	kindPrefix
	kindInfix
)

var matchNames = [...]string{MatchExact, MatchPrefix, MatchInfix}

const (
	maxGramRunes     = 16   // longest prefix or suffix gram kept
	minInfixRunes    = 3    // shortest suffix gram; shorter queries match prefixes only
	maxSearchTokens  = 256  // tokens of one record indexed; more (long texts) are ignored
	maxInfixScan     = 5000 // keys an infix range scan reads at most
	maxSearchLimit   = 100
	defaultSearchLim = 20
	backfillBatch    = 200 // records indexed per backfill transaction

	// searchVersion names the tokenising and gram rules: changing it
	// rebuilds every search index at the next open.
	searchVersion = "2" // 2: the partialGram of records not indexed in full
)

// SearchHit is one record global search found.
type SearchHit struct {
	Entity string
	ID     string
	Match  string // MatchExact, MatchPrefix or MatchInfix: how the query's main token matched
	Title  string // the record's name or title (else its first searched value, else its id)
	Record *Record
}

// searchTokens are the folded tokens of a record's searched fields.
func searchTokens(ent *schema.Entity, rec *Record) []string {
	out, _ := searchTokensOf(ent, rec)
	return out
}

// searchTokensOf is searchTokens, and whether some text may be left out of
// them: a token cut at textnorm.MaxTokenRunes (or exactly that long), or
// tokens past maxSearchTokens (or exactly that many).
func searchTokensOf(ent *schema.Entity, rec *Record) (out []string, partial bool) {
	if rec == nil {
		return nil, false
	}
	for _, f := range ent.SearchFields() {
		s, ok := rec.Values[f.Name].(string)
		if !ok || s == "" {
			continue
		}
		n := len(out)
		if f.Type == config.TypePhone {
			out = append(out, textnorm.PhoneTokens(s)...)
		} else {
			out = append(out, textnorm.Tokens(s)...)
		}
		for _, t := range out[n:] {
			partial = partial || utf8.RuneCountInString(t) >= textnorm.MaxTokenRunes
		}
		if len(out) >= maxSearchTokens {
			return out[:maxSearchTokens], true
		}
	}
	return out, partial
}

// partialGram is the gram under which a record whose searched text is not
// all in its grams (searchTokensOf) is indexed, so that a list's
// `contains` planned on the search index (plan.go, searchUnion) finds it
// too. No token holds it: tokens are letters and digits.
const partialGram = "\x01"

// searchGrams maps every gram of a record to its best kind.
func searchGrams(ent *schema.Entity, rec *Record) map[string]byte {
	grams := map[string]byte{}
	put := func(g string, k byte) {
		if old, ok := grams[g]; !ok || k < old {
			grams[g] = k
		}
	}
	tokens, partial := searchTokensOf(ent, rec)
	if partial {
		put(partialGram, kindExact)
	}
	for _, t := range tokens {
		put(t, kindExact)
		runes := []rune(t)
		for n := 1; n < len(runes) && n <= maxGramRunes; n++ {
			put(string(runes[:n]), kindPrefix)
		}
		for i := 1; len(runes)-i >= minInfixRunes; i++ {
			put(string(runes[i:min(len(runes), i+maxGramRunes)]), kindInfix)
		}
	}
	return grams
}

// searchMutations moves a record's search entries from old to next (either
// may be nil): it removes the grams that went or changed kind and adds the
// new ones, so a search never finds a record by a value it no longer has.
func (s *Badger) searchMutations(ent *schema.Entity, old, next *Record) []mutation {
	if len(ent.SearchFields()) == 0 {
		return nil
	}
	id := ""
	if old != nil {
		id = old.ID
	} else {
		id = next.ID
	}
	before, after := searchGrams(ent, old), searchGrams(ent, next)
	var muts []mutation
	for g, k := range before {
		if nk, ok := after[g]; !ok || nk != k {
			muts = append(muts, mutation{key: searchKey(ent.Name, g, k, id)})
		}
	}
	for g, k := range after {
		if ok, ok2 := before[g]; !ok2 || ok != k {
			muts = append(muts, mutation{key: searchKey(ent.Name, g, k, id), val: []byte{}})
		}
	}
	return muts
}

// SearchQuery is a global search: the text, where to look, how many hits.
type SearchQuery struct {
	Text     string
	Entities []string // nil for every entity with searched fields
	Limit    int      // default 20, at most 100
	// Owners binds the hits of an entity to the records of one owner
	// (entity -> user id): the owner's index entries are one more list of
	// the intersection, so a page costs about the keys around its hits,
	// however many records others own.
	Owners map[string]string
}

// Search finds records of the query's entities whose searched fields
// match every token of its text, ranked exact > prefix > infix, then
// newest first; at most its limit of them.
func (s *Badger) Search(ctx context.Context, sq SearchQuery) ([]SearchHit, error) {
	q := sq.Text
	tokens, driver, ents, limit, err := PrepareSearch(s.schema, sq)
	if err != nil {
		return nil, err
	}
	var hits []SearchHit
	err = s.view(func(txn *badger.Txn) error {
		for _, ent := range ents {
			h, err := s.searchEntity(ctx, txn, ent, tokens, driver, limit, sq.Owners[ent.Name])
			if err != nil {
				return err
			}
			hits = append(hits, h...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", q, err)
	}
	return RankSearchHits(hits, limit), nil
}

// PrepareSearch reads a search query as every backend does: its folded
// tokens, the driving token (the longest, whose match kind ranks a hit),
// the entities to search and the limit; a bad query is a *QueryError.
func PrepareSearch(sch *schema.Schema, sq SearchQuery) (tokens []string, driver string, ents []*schema.Entity, limit int, err error) {
	q, entities, limit := sq.Text, sq.Entities, sq.Limit
	tokens = textnorm.QueryTokens(q)
	if len(tokens) == 0 {
		return nil, "", nil, 0, &QueryError{Param: "q", Message: fmt.Sprintf("%q has no letter or digit to search for", q)}
	}
	switch {
	case limit < 0:
		return nil, "", nil, 0, &QueryError{Param: "limit", Message: "must not be negative"}
	case limit == 0:
		limit = defaultSearchLim
	case limit > maxSearchLimit:
		limit = maxSearchLimit
	}
	if entities == nil {
		for _, e := range sch.Entities() {
			if len(e.SearchFields()) > 0 {
				ents = append(ents, e)
			}
		}
	}
	for _, name := range entities {
		e := sch.Entity(name)
		if e == nil {
			return nil, "", nil, 0, &QueryError{Param: "entity", Message: fmt.Sprintf("unknown entity %q", name)}
		}
		if len(e.SearchFields()) == 0 {
			return nil, "", nil, 0, &QueryError{Param: "entity", Message: fmt.Sprintf("%s has no searched fields; mark one with search = true in its entity block", name)}
		}
		ents = append(ents, e)
	}
	driver = tokens[0]
	for _, t := range tokens[1:] {
		if utf8.RuneCountInString(t) > utf8.RuneCountInString(driver) {
			driver = t
		}
	}
	return tokens, driver, ents, limit, nil
}

// RankSearchHits orders hits exact > prefix > infix, then newest first,
// and keeps the first limit of them.
func RankSearchHits(hits []SearchHit, limit int) []SearchHit {
	rank := map[string]int{MatchExact: 0, MatchPrefix: 1, MatchInfix: 2}
	slices.SortStableFunc(hits, func(a, b SearchHit) int {
		if d := rank[a.Match] - rank[b.Match]; d != 0 {
			return d
		}
		return strings.Compare(b.ID, a.ID) // ULIDs: newest first
	})
	return hits[:min(len(hits), limit)]
}

// SearchTokens are the folded tokens of a record's searched fields, as
// the search index holds them (at most the first 256).
func SearchTokens(ent *schema.Entity, rec *Record) []string { return searchTokens(ent, rec) }

// SearchTitle is what a search hit is shown as: the record's name or
// title, else its first searched value, else its id.
func SearchTitle(ent *schema.Entity, rec *Record) string { return title(ent, rec) }

// searchEntity finds up to limit hits in one entity. The driving token's
// entries are walked newest first in three phases (exact, prefix, infix);
// in each, the records that have every other token are found by a
// merge-intersection (a leapfrog): every token's entries are a list in id
// order, and the walk seeks each list to the largest id that all the lists
// before it still allow, so it reads about the keys around the matches
// rather than a key lookup per candidate of the driving token.
//
// With owner set, only that owner's records are hits: the owner's index
// entries (in id order, like the tokens') are one more list to agree on.
func (s *Badger) searchEntity(ctx context.Context, txn *badger.Txn, ent *schema.Entity, tokens []string, driver string, limit int, owner string) ([]SearchHit, error) {
	gram := cutRunes(driver, maxGramRunes)
	// The other tokens' lists: every record that has the token as a whole
	// token, a prefix or (from minInfixRunes runes) an infix. A token whose
	// infixes are too many to collect has no list and is checked on each
	// candidate's record.
	var others []idList
	for _, t := range tokens {
		if t == driver {
			continue
		}
		l, err := tokenList(txn, ent.Name, t)
		if err != nil {
			return nil, err
		}
		if l != nil {
			others = append(others, l)
		}
	}
	if owner != "" {
		others = append(others, newKeyList(txn, append(indexPrefix(ent.Name, schema.FieldOwner), encodeValue(owner)...)))
	}
	defer func() {
		for _, o := range others {
			o.close()
		}
	}()
	// A cut gram may match more than the token, and another token may
	// match by an infix: the record's tokens confirm every hit.
	check := gram != driver || len(tokens) > 1
	seen := map[string]bool{}
	var hits []SearchHit
	accept := func(id string, kind byte) error {
		if seen[id] {
			return nil
		}
		seen[id] = true
		rec, err := s.getRecord(txn, ent.Name, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if check && !matchesAll(searchTokens(ent, rec), tokens) {
			return nil
		}
		hits = append(hits, SearchHit{Entity: ent.Name, ID: id, Match: matchNames[kind], Title: title(ent, rec), Record: rec})
		return nil
	}
	// walk runs one phase: the ids of d that every other list has.
	walk := func(d idList, kind byte) error {
		defer d.close()
		for len(hits) < limit {
			if err := ctx.Err(); err != nil {
				return err
			}
			x := d.cur()
			if x == "" {
				return nil
			}
			agreed := true
			for _, o := range others {
				o.seek(x)
				y := o.cur()
				if y == "" {
					return nil // a list has nothing left at or below x
				}
				if y != x {
					d.seek(y)
					agreed = false
					break
				}
			}
			if !agreed {
				continue
			}
			if err := accept(x, kind); err != nil {
				return err
			}
			d.seek(below(x))
		}
		return nil
	}
	// Exact, then prefix: each gram's entries newest first.
	if err := walk(newKeyList(txn, searchGramPrefix(ent.Name, driver, kindExact)), kindExact); err != nil {
		return nil, err
	}
	if err := walk(newKeyList(txn, searchGramPrefix(ent.Name, gram, kindPrefix)), kindPrefix); err != nil {
		return nil, err
	}
	if len(hits) >= limit || utf8.RuneCountInString(driver) < minInfixRunes {
		return hits, nil
	}
	// Infix: every suffix gram that starts with the query, newest first.
	ids, _ := infixIDs(txn, ent.Name, gram)
	if err := walk(&sliceList{ids: ids, i: len(ids) - 1}, kindInfix); err != nil {
		return nil, err
	}
	return hits, nil
}

// tokenList is the list of the records that have a query token as a whole
// token, a prefix of one or an infix; nil when its infixes are past
// maxInfixScan keys.
func tokenList(txn *badger.Txn, entity, t string) (idList, error) {
	g := cutRunes(t, maxGramRunes)
	lists := []idList{newKeyList(txn, searchGramPrefix(entity, t, kindExact)), newKeyList(txn, searchGramPrefix(entity, g, kindPrefix))}
	if utf8.RuneCountInString(t) >= minInfixRunes {
		ids, complete := infixIDs(txn, entity, g)
		if !complete {
			for _, l := range lists {
				l.close()
			}
			return nil, nil
		}
		lists = append(lists, &sliceList{ids: ids, i: len(ids) - 1})
	}
	return &unionList{lists: lists}, nil
}

// infixIDs collects, in id order, the records with an infix entry of a gram
// that starts with g, skipping the grams' exact and prefix entries; complete
// is false when it stopped after maxInfixScan keys.
func infixIDs(txn *badger.Txn, entity, g string) (ids []string, complete bool) {
	p := append(searchPrefix(entity), g...)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
	defer it.Close()
	n := 0
	for it.Rewind(); it.Valid(); {
		if n++; n > maxInfixScan {
			return ids, false
		}
		key := it.Item().Key()
		if len(key) < len(p)+2+idLen || key[len(key)-idLen-2] != 0 {
			it.Next()
			continue
		}
		if kind := key[len(key)-idLen-1]; kind < kindInfix {
			// Skip to this gram's infix entries.
			it.Seek(append(bytes.Clone(key[:len(key)-idLen-1]), kindInfix))
			continue
		}
		if key[len(key)-idLen-1] == kindInfix {
			ids = append(ids, string(key[len(key)-idLen:]))
		}
		it.Next()
	}
	slices.Sort(ids)
	return slices.Compact(ids), true
}

// below is an id just under id: seeking a list to it moves past id.
func below(id string) string {
	b := []byte(id)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] > 0 {
			b[i]--
			return string(b[:i+1]) + strings.Repeat("\xff", len(b)-i-1)
		}
	}
	return ""
}

// idList is a list of record ids walked newest first (descending), with
// seeks.
type idList interface {
	cur() string    // the current id; "" past the end
	seek(id string) // move to the largest id at or below id
	close()
}

// keyList is the entries under a key prefix (one gram and kind), each
// ending in an id.
type keyList struct {
	it     *badger.Iterator
	prefix []byte
	id     string
	floor  string // past the end: the ids below floor are known absent
}

func newKeyList(txn *badger.Txn, prefix []byte) *keyList {
	l := &keyList{it: txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true}), prefix: prefix}
	l.it.Seek(append(bytes.Clone(prefix), 0xFF))
	l.load("\xff")
	return l
}

// load reads the id at the iterator; sought is the id the move aimed at.
func (l *keyList) load(sought string) {
	if !l.it.Valid() {
		l.id, l.floor = "", sought+"\x00"
		return
	}
	k := l.it.Item().Key()
	l.id = string(k[len(k)-idLen:])
}

func (l *keyList) cur() string { return l.id }

// seek steps a few entries before it seeks: matches of a common token are
// often close together.
func (l *keyList) seek(id string) {
	switch {
	case l.id == id:
		return
	case l.id == "" && id < l.floor:
		return
	case l.id != "" && l.id > id:
		for range 4 {
			prev := l.id
			l.it.Next()
			l.load(prev)
			if l.id == "" || l.id <= id {
				if l.id == "" {
					l.floor = prev
				}
				return
			}
		}
	}
	l.it.Seek(append(bytes.Clone(l.prefix), id...))
	l.load(id)
}

func (l *keyList) close() { l.it.Close() }

// sliceList is ids in ascending order, walked from the end.
type sliceList struct {
	ids []string
	i   int
}

func (l *sliceList) cur() string {
	if l.i < 0 {
		return ""
	}
	return l.ids[l.i]
}

func (l *sliceList) seek(id string) {
	j, found := slices.BinarySearch(l.ids, id)
	if !found {
		j-- // the largest below id
	}
	l.i = j
}

func (l *sliceList) close() {}

// unionList is the ids of several lists, each once.
type unionList struct{ lists []idList }

func (l *unionList) cur() string {
	best := ""
	for _, x := range l.lists {
		best = max(best, x.cur())
	}
	return best
}

func (l *unionList) seek(id string) {
	for _, x := range l.lists {
		x.seek(id)
	}
}

func (l *unionList) close() {
	for _, x := range l.lists {
		x.close()
	}
}

// matchesAll reports whether every query token matches one of a record's
// tokens: as a prefix, or (from minInfixRunes runes) anywhere inside.
func matchesAll(have, want []string) bool {
	for _, q := range want {
		infix := utf8.RuneCountInString(q) >= minInfixRunes
		if !slices.ContainsFunc(have, func(t string) bool {
			return strings.HasPrefix(t, q) || infix && strings.Contains(t, q)
		}) {
			return false
		}
	}
	return true
}

// title is what a hit is shown as: the record's name or title, else its
// first searched value, else its id.
func title(ent *schema.Entity, rec *Record) string {
	for _, name := range []string{"name", "title"} {
		if v, ok := rec.Values[name].(string); ok && v != "" {
			return v
		}
	}
	for _, f := range ent.SearchFields() {
		if v, ok := rec.Values[f.Name].(string); ok && v != "" {
			return v
		}
	}
	return rec.ID
}

func cutRunes(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// searchMark is the stored state of an entity's search index
// (KindSearchIndex): the searched fields it was built for and how far the
// backfill of existing records got.
type searchMark struct {
	Fields string `json:"fields"`          // searchSignature of the entity it was built for
	After  string `json:"after,omitempty"` // last record id indexed by the backfill
	Done   bool   `json:"done"`
}

// searchSignature names an entity's searched fields and the index rules.
func searchSignature(ent *schema.Entity) string {
	var names []string
	for _, f := range ent.SearchFields() {
		names = append(names, f.Name+":"+f.Type)
	}
	return "v" + searchVersion + "|" + strings.Join(names, ",")
}

// prepareSearch runs at open, before the writer starts. An entity whose
// index was built for other searched fields (or never built: a store from
// before search) loses its index and gets a new mark, and is returned for
// the backfill; one whose backfill was cut short is returned to resume.
func (s *Badger) prepareSearch() ([]*schema.Entity, error) {
	var pending []*schema.Entity
	for _, ent := range s.schema.Entities() {
		var mark searchMark
		found := true
		err := s.view(func(txn *badger.Txn) error { return sysTx{txn}.Get(KindSearchIndex, ent.Name, &mark) })
		if errors.Is(err, ErrNotFound) {
			found = false
		} else if err != nil {
			return nil, err
		}
		sig := searchSignature(ent)
		if len(ent.SearchFields()) == 0 {
			if found {
				if err := s.dropSearch(ent.Name, nil); err != nil {
					return nil, err
				}
			}
			continue
		}
		if found && mark.Fields == sig {
			if !mark.Done {
				pending = append(pending, ent)
			}
			continue
		}
		if err := s.dropSearch(ent.Name, &searchMark{Fields: sig}); err != nil {
			return nil, err
		}
		pending = append(pending, ent)
	}
	return pending, nil
}

// dropSearch removes an entity's search index and puts mark in place of
// its mark (nil: removes it).
func (s *Badger) dropSearch(entity string, mark *searchMark) error {
	if err := s.db.DropPrefix(searchPrefix(entity)); err != nil {
		return fmt.Errorf("drop search index of %s: %w", entity, err)
	}
	return s.db.Update(func(txn *badger.Txn) error {
		if mark == nil {
			return sysTx{txn}.Delete(KindSearchIndex, entity)
		}
		return sysTx{txn}.Put(KindSearchIndex, entity, mark)
	})
}

// backfillSearch indexes the existing records of the pending entities, in
// batches, each with its progress in the entity's mark, so that a restart
// resumes where it stopped. It writes only search entries and marks, which
// the writer never reads: a batch that read a record the writer changed
// meanwhile fails with a conflict and is done again.
func (s *Badger) backfillSearch(pending []*schema.Entity) {
	defer s.wg.Done()
	defer close(s.searchReady)
	for _, ent := range pending {
		total := 0
		for {
			select {
			case <-s.stop:
				return
			default:
			}
			n, done, err := s.backfillBatch(ent)
			if err != nil {
				s.log.Error("search backfill stopped; it resumes at the next start", slog.String("entity", ent.Name), slog.Any("err", err))
				return
			}
			total += n
			if done {
				if total > 0 {
					s.log.Info("search index built", slog.String("entity", ent.Name), slog.Int("records", total))
				}
				break
			}
		}
	}
}

func (s *Badger) backfillBatch(ent *schema.Entity) (n int, done bool, err error) {
	for range 20 {
		n, done = 0, false
		err = s.db.Update(func(txn *badger.Txn) error {
			var mark searchMark
			if err := (sysTx{txn}).Get(KindSearchIndex, ent.Name, &mark); err != nil {
				return err
			}
			p := recordPrefix(ent.Name)
			it := txn.NewIterator(badger.IteratorOptions{Prefix: p, PrefetchValues: true, PrefetchSize: 64})
			defer it.Close()
			it.Seek(recordKey(ent.Name, mark.After))
			for ; it.Valid(); it.Next() {
				if n == backfillBatch {
					break
				}
				item := it.Item()
				id := string(item.Key()[len(p):])
				if id == mark.After {
					continue
				}
				rec, err := s.itemRecord(item, ent.Name, len(p))
				if err != nil {
					return err
				}
				for g, k := range searchGrams(ent, rec) {
					if err := txn.Set(searchKey(ent.Name, g, k, id), []byte{}); err != nil {
						return err
					}
				}
				mark.After = id
				n++
			}
			done = !it.Valid()
			mark.Done = done
			return sysTx{txn}.Put(KindSearchIndex, ent.Name, &mark)
		})
		if !errors.Is(err, badger.ErrConflict) {
			break
		}
	}
	if err != nil {
		return 0, false, fmt.Errorf("index %s records: %w", ent.Name, err)
	}
	return n, done, nil
}

// searchComplete reports whether, in txn's snapshot, the search index of
// ent holds every record: built for its searched fields and these rules,
// and its backfill done (the backfill marks that in its last batch's own
// transaction).
func (s *Badger) searchComplete(txn *badger.Txn, ent *schema.Entity) bool {
	var mark searchMark
	if err := (sysTx{txn}).Get(KindSearchIndex, ent.Name, &mark); err != nil {
		return false
	}
	return mark.Done && mark.Fields == searchSignature(ent)
}

// SearchReady is closed when the search index of every entity is built,
// existing records included (at once on a store that needs no backfill).
func (s *Badger) SearchReady() <-chan struct{} { return s.searchReady }
