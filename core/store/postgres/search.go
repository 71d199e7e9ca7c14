package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

// Search: every record's search column holds its folded search tokens
// (store.SearchTokens) between spaces, " tok1 tok2 ". Tokens are letters
// and digits, so with t a query token:
//
//	search LIKE '% t %'   a token is t             (exact)
//	search LIKE '% t%'    a token starts with t    (prefix)
//	search LIKE '%t%'     a token contains t       (infix, from minInfixRunes runes)
//
// which is the Badger store's matching (every query token matches a token
// of the record as a prefix or, from three runes, anywhere inside), ranked
// by the driving token, then newest first. A trigram index (pg_trgm)
// serves the LIKEs when the extension is there.

// minInfixRunes is the shortest query token matched inside a record's
// token (shorter ones match prefixes only), as in the Badger store.
const minInfixRunes = 3

// Search finds records of the query's entities whose searched fields
// match every token of its text, ranked exact > prefix > infix, then
// newest first; at most its limit of them.
func (s *Store) Search(ctx context.Context, sq store.SearchQuery) ([]store.SearchHit, error) {
	tokens, driver, ents, limit, err := store.PrepareSearch(s.schema, sq)
	if err != nil {
		return nil, err
	}
	var hits []store.SearchHit
	err = s.readTx(ctx, func(tx pgx.Tx) error {
		hits = hits[:0]
		for _, ent := range ents {
			h, err := s.searchEntity(ctx, tx, ent, tokens, driver, limit, sq.Owners[ent.Name])
			if err != nil {
				return err
			}
			hits = append(hits, h...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", sq.Text, err)
	}
	return store.RankSearchHits(hits, limit), nil
}

// likeEscape escapes LIKE's wildcards in s.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (s *Store) searchEntity(ctx context.Context, tx pgx.Tx, ent *schema.Entity, tokens []string, driver string, limit int, owner string) ([]store.SearchHit, error) {
	args := []any{ent.Name}
	add := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	conds := []string{"r.entity = $1", "r.search IS NOT NULL"}
	for _, t := range tokens {
		pat := "% " + likeEscape(t) + "%"
		if utf8.RuneCountInString(t) >= minInfixRunes {
			pat = "%" + likeEscape(t) + "%"
		}
		conds = append(conds, "r.search LIKE "+add(pat))
	}
	if owner != "" {
		conds = append(conds, "r.owner = "+add(owner))
	}
	exact := add("% " + likeEscape(driver) + " %")
	prefix := add("% " + likeEscape(driver) + "%")
	kind := `CASE WHEN r.search LIKE ` + exact + ` THEN 0 WHEN r.search LIKE ` + prefix + ` THEN 1 ELSE 2 END`
	query := `SELECT r.id, r.enc, ` + kind + ` AS kind FROM crm_records r WHERE ` + strings.Join(conds, " AND ") +
		` ORDER BY kind, r.id COLLATE "C" DESC LIMIT ` + add(limit)
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", ent.Name, err)
	}
	defer rows.Close()
	var hits []store.SearchHit
	names := [...]string{store.MatchExact, store.MatchPrefix, store.MatchInfix}
	for rows.Next() {
		var id string
		var enc []byte
		var k int32
		if err := rows.Scan(&id, &enc, &k); err != nil {
			return nil, fmt.Errorf("search %s: %w", ent.Name, err)
		}
		rec, err := store.DecodeRecord(ent, id, enc)
		if err != nil {
			return nil, err
		}
		hits = append(hits, store.SearchHit{Entity: ent.Name, ID: id, Match: names[k], Title: store.SearchTitle(ent, rec), Record: rec})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %s: %w", ent.Name, err)
	}
	return hits, nil
}
