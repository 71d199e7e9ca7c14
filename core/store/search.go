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
// Several query tokens must all match (any kind) one record: the longest
// drives the walk and the others are checked against the record's own
// tokens. Hits rank exact > prefix > infix by the driving token, then
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
	searchVersion = "1"
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
	if rec == nil {
		return nil
	}
	var out []string
	for _, f := range ent.SearchFields() {
		s, ok := rec.Values[f.Name].(string)
		if !ok || s == "" {
			continue
		}
		if f.Type == config.TypePhone {
			out = append(out, textnorm.PhoneTokens(s)...)
		} else {
			out = append(out, textnorm.Tokens(s)...)
		}
		if len(out) >= maxSearchTokens {
			return out[:maxSearchTokens]
		}
	}
	return out
}

// searchGrams maps every gram of a record to its best kind.
func searchGrams(ent *schema.Entity, rec *Record) map[string]byte {
	grams := map[string]byte{}
	put := func(g string, k byte) {
		if old, ok := grams[g]; !ok || k < old {
			grams[g] = k
		}
	}
	for _, t := range searchTokens(ent, rec) {
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

// Search finds records of the given entities (nil for every entity with
// searched fields) whose searched fields match every token of q, ranked
// exact > prefix > infix, then newest first; at most limit of them
// (default 20, at most 100).
func (s *Badger) Search(ctx context.Context, q string, entities []string, limit int) ([]SearchHit, error) {
	tokens := textnorm.QueryTokens(q)
	if len(tokens) == 0 {
		return nil, &QueryError{Param: "q", Message: fmt.Sprintf("%q has no letter or digit to search for", q)}
	}
	switch {
	case limit < 0:
		return nil, &QueryError{Param: "limit", Message: "must not be negative"}
	case limit == 0:
		limit = defaultSearchLim
	case limit > maxSearchLimit:
		limit = maxSearchLimit
	}
	var ents []*schema.Entity
	if entities == nil {
		for _, e := range s.schema.Entities() {
			if len(e.SearchFields()) > 0 {
				ents = append(ents, e)
			}
		}
	}
	for _, name := range entities {
		e, err := s.entity(name)
		if err != nil {
			return nil, &QueryError{Param: "entity", Message: err.Error()}
		}
		if len(e.SearchFields()) == 0 {
			return nil, &QueryError{Param: "entity", Message: fmt.Sprintf("%s has no searched fields; mark one with search = true in its entity block", name)}
		}
		ents = append(ents, e)
	}
	driver := tokens[0]
	for _, t := range tokens[1:] {
		if utf8.RuneCountInString(t) > utf8.RuneCountInString(driver) {
			driver = t
		}
	}
	var hits []SearchHit
	err := s.db.View(func(txn *badger.Txn) error {
		for _, ent := range ents {
			h, err := s.searchEntity(ctx, txn, ent, tokens, driver, limit)
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
	rank := map[string]int{MatchExact: 0, MatchPrefix: 1, MatchInfix: 2}
	slices.SortStableFunc(hits, func(a, b SearchHit) int {
		if d := rank[a.Match] - rank[b.Match]; d != 0 {
			return d
		}
		return strings.Compare(b.ID, a.ID) // ULIDs: newest first
	})
	return hits[:min(len(hits), limit)], nil
}

// searchEntity finds up to limit hits in one entity.
func (s *Badger) searchEntity(ctx context.Context, txn *badger.Txn, ent *schema.Entity, tokens []string, driver string, limit int) ([]SearchHit, error) {
	gram := cutRunes(driver, maxGramRunes)
	var others []string // the other tokens, checked per candidate
	for _, t := range tokens {
		if t != driver {
			others = append(others, t)
		}
	}
	verify := gram != driver // a cut gram may match more than the token
	seen := map[string]bool{}
	var hits []SearchHit
	accept := func(id string, kind byte) error {
		if seen[id] {
			return nil
		}
		seen[id] = true
		// Another token that is an exact or prefix gram of the record is
		// confirmed by its key; only an infix needs the record's tokens.
		check := verify
		for _, o := range others {
			found, err := s.hasGram(txn, ent.Name, cutRunes(o, maxGramRunes), id)
			if err != nil {
				return err
			}
			if !found && utf8.RuneCountInString(o) < minInfixRunes {
				return nil
			}
			check = check || !found || o != cutRunes(o, maxGramRunes)
		}
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
	// Exact, then prefix: each gram's entries newest first.
	for _, k := range []byte{kindExact, kindPrefix} {
		g := gram
		if k == kindExact {
			g = driver
		}
		p := searchGramPrefix(ent.Name, g, k)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: p, Reverse: true})
		for it.Seek(append(bytes.Clone(p), 0xFF)); it.Valid() && len(hits) < limit; it.Next() {
			if err := ctx.Err(); err != nil {
				it.Close()
				return nil, err
			}
			key := it.Item().Key()
			if err := accept(string(key[len(key)-idLen:]), k); err != nil {
				it.Close()
				return nil, err
			}
		}
		it.Close()
	}
	if len(hits) >= limit || utf8.RuneCountInString(driver) < minInfixRunes {
		return hits, nil
	}
	// Infix: every suffix gram that starts with the query, newest first.
	p := append(searchPrefix(ent.Name), gram...)
	var ids []string
	it := txn.NewIterator(badger.IteratorOptions{Prefix: p})
	n := 0
	for it.Rewind(); it.Valid() && n < maxInfixScan; it.Next() {
		n++
		key := it.Item().Key()
		if len(key) < len(p)+2+idLen || key[len(key)-idLen-1] != kindInfix || key[len(key)-idLen-2] != 0 {
			continue
		}
		if id := string(key[len(key)-idLen:]); !seen[id] {
			ids = append(ids, id)
		}
	}
	it.Close()
	slices.Sort(ids)
	ids = slices.Compact(ids)
	for i := len(ids) - 1; i >= 0 && len(hits) < limit; i-- {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := accept(ids[i], kindInfix); err != nil {
			return nil, err
		}
	}
	return hits, nil
}

// hasGram reports whether a record has gram as a whole token or a prefix
// of one.
func (s *Badger) hasGram(txn *badger.Txn, entity, gram, id string) (bool, error) {
	for _, k := range []byte{kindExact, kindPrefix} {
		_, err := txn.Get(searchKey(entity, gram, k, id))
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, badger.ErrKeyNotFound) {
			return false, fmt.Errorf("search %s: %w", entity, err)
		}
	}
	return false, nil
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
		err := s.db.View(func(txn *badger.Txn) error { return sysTx{txn}.Get(KindSearchIndex, ent.Name, &mark) })
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

// SearchReady is closed when the search index of every entity is built,
// existing records included (at once on a store that needs no backfill).
func (s *Badger) SearchReady() <-chan struct{} { return s.searchReady }
