package postgres

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/sqlfilter"
)

// Plans a list page names (Page.Plan).
const (
	planSQL      = "sql"           // the database found the page's records
	planSQLAndGo = "sql+go filter" // the database narrowed them, the filter was evaluated in Go
)

// systemFields are the system fields a list may sort by.
var systemFields = map[string]bool{"id": true, "version": true, "created_at": true, "updated_at": true, "created_by": true, "owner": true}

// sortKey is one key of a list's order as SQL: its expression, the type
// its cursor values are cast back to, and its direction.
type sortKey struct {
	expr    string
	typ     string
	desc    bool
	notNull bool   // a NOT NULL column: no "OR IS NULL" in its keyset, so an index range serves it
	tie     string // a text expression that orders the key's ties exactly (datetime fields), or ""
}

// flatten is the SQL keys of a list's sort keys: each key, then its tie
// breaker if it has one (a text key in the same direction).
func flatten(sks []sortKey) []sortKey {
	out := make([]sortKey, 0, len(sks)+1)
	for _, k := range sks {
		out = append(out, k)
		if k.tie != "" {
			out = append(out, sortKey{expr: k.tie, typ: "text", desc: k.desc})
		}
	}
	return out
}

// nanoText is the tie breaker of a datetime field's sort (see sortKeyOf):
// its stored text (RFC 3339 in UTC, "Z", years 0001-9999, so fixed
// width up to the seconds) with the fraction padded to nine digits, whose
// byte order is the order of the instants to the nanosecond.
func nanoText(ent *schema.Entity, field, alias string) string {
	p := ""
	if alias != "" {
		p = alias + "."
	}
	txt := fmt.Sprintf("(%sdata->>%s)", p, literal(field))
	return fmt.Sprintf(`(left(%s, 19) || rpad(coalesce(substring(%s from '\.([0-9]+)Z$'), ''), 9, '0')) COLLATE "C"`, txt, txt)
}

// nanoValue is nanoText of a time.
func nanoValue(t time.Time) string {
	t = t.UTC()
	return t.Format("2006-01-02T15:04:05") + fmt.Sprintf("%09d", t.Nanosecond())
}

// sortKeyOf is the SQL of a sort key. Owner and created_by are "" for
// none, which sorts as missing (NULL: last in either direction), as in
// the Badger store.
func sortKeyOf(ent *schema.Entity, k store.SortKey) (sortKey, error) {
	sk := sortKey{desc: k.Desc}
	switch k.Field {
	case "owner", "created_by":
		sk.expr, sk.typ = `NULLIF(r.`+k.Field+`, '') COLLATE "C"`, "text"
		return sk, nil
	case "id":
		sk.expr, sk.typ, sk.notNull = `r.id COLLATE "C"`, "text", true
		return sk, nil
	case "version":
		sk.expr, sk.typ, sk.notNull = "r.version", "bigint", true
		return sk, nil
	case "created_at", "updated_at":
		sk.expr, sk.typ, sk.notNull = "r."+k.Field, "timestamptz", true
		return sk, nil
	}
	expr, err := sortExpr(ent, k.Field, "r")
	if err != nil {
		return sk, err
	}
	sk.expr, sk.typ = expr, sqlType(ent.Field(k.Field).Type)
	if ent.Field(k.Field).Type == config.TypeDateTime {
		// The value is stored exactly (enc, and data's text) but its SQL
		// expression, a timestamptz, is rounded to the microsecond: times
		// within one microsecond tie there, and nanoText orders them as
		// the Badger store does (by their nanoseconds), not by id.
		sk.tie = nanoText(ent, k.Field, "r")
	}
	return sk, nil
}

// sortExpr is the SQL expression a list sorts a field by, for the records
// table under alias, as the Badger store orders it: sqlfilter.FieldExpr,
// except that
//
//   - a money field sorts by its minor units (bigint), not by its amount:
//     the stored form's amount has exactly the currency's minor digits
//     (schema.FormatMoney), so its digits without the point are the minor
//     units, exactly (an int64 by construction);
//   - a string kind sorts an empty string as missing (NULL: last in either
//     direction), as the Badger store keys it: NULLIF of FieldExpr and
//     the empty string.
//
// Filters compare FieldExpr; a field the schema indexes (index, unique)
// also gets an index over this expression, so that its sorts can walk it
// (fieldIndexes).
func sortExpr(ent *schema.Entity, name, alias string) (string, error) {
	f := ent.Field(name)
	if f != nil && f.Type == config.TypeMoney {
		p := ""
		if alias != "" {
			p = alias + "."
		}
		return fmt.Sprintf("(replace(%sdata->%s->>'amount', '.', '')::bigint)", p, literal(name)), nil
	}
	expr, err := sqlfilter.FieldExpr(ent, name, alias)
	if err != nil {
		return "", err
	}
	if f != nil && sqlType(f.Type) == "text" {
		return "NULLIF(" + expr + ", '')", nil
	}
	return expr, nil
}

// sqlType is the SQL type of sqlfilter.FieldExpr of a field of a type.
func sqlType(t string) string {
	switch t {
	case config.TypeInt:
		return "bigint"
	case config.TypeDecimal:
		return "float8"
	case config.TypeMoney:
		return "bigint" // minor units (sortExpr)
	case config.TypeBool:
		return "boolean"
	case config.TypeDate:
		return "date"
	case config.TypeDateTime:
		return "timestamptz"
	}
	return "text"
}

// cursor is the position after a page's last item: its sort spec and the
// item's sort key values as SQL text (nil for none). A cursor of the
// Badger store's form (the keys encoded, "k"; store.CursorAfter makes
// them) is read too.
type cursor struct {
	Sort string    `json:"s"`
	Vals []*string `json:"v,omitempty"`
	Keys [][]byte  `json:"k,omitempty"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = &store.QueryError{Param: "cursor", Message: "not a cursor this server gave out"}

// decodeCursor reads a cursor of the sort spec over the given keys: the
// values of flatten(sks).
func decodeCursor(s, spec string, ent *schema.Entity, keys []store.SortKey, sks []sortKey) ([]*string, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return nil, errBadCursor
	}
	if c.Sort != spec {
		return nil, &store.QueryError{Param: "cursor", Message: fmt.Sprintf("the cursor belongs to sort %q, not %q", c.Sort, spec)}
	}
	if c.Vals == nil && c.Keys != nil {
		if len(c.Keys) != len(keys) {
			return nil, errBadCursor
		}
		c.Vals = make([]*string, 0, len(keys)+1)
		for i, k := range c.Keys {
			v, ok := decodeBadgerKey(ent, keys[i].Field, sks[i].typ, k)
			if !ok {
				return nil, errBadCursor
			}
			c.Vals = append(c.Vals, v)
			if sks[i].tie != "" {
				var tie *string
				if v != nil {
					t, err := time.Parse(time.RFC3339Nano, *v)
					if err != nil {
						return nil, errBadCursor
					}
					n := nanoValue(t)
					tie = &n
				}
				c.Vals = append(c.Vals, tie)
			}
		}
	}
	if len(c.Vals) != len(flatten(sks)) {
		return nil, errBadCursor
	}
	return c.Vals, nil
}

// decodeBadgerKey reads one sort key of a Badger-form cursor (the
// order-preserving encoding of package store) as SQL text.
func decodeBadgerKey(ent *schema.Entity, field, typ string, k []byte) (*string, bool) {
	if len(k) == 1 && k[0] == 0x00 {
		return nil, true
	}
	if len(k) < 2 || k[0] != 0x01 {
		return nil, false
	}
	b := k[1:]
	str := func(s string) (*string, bool) { return &s, true }
	switch typ {
	case "text":
		var out []byte
		for i := 0; i < len(b); i++ {
			if b[i] != 0x00 {
				out = append(out, b[i])
				continue
			}
			if i+1 < len(b) && b[i+1] == 0xFF {
				out = append(out, 0x00)
				i++
				continue
			}
			if i+1 == len(b)-1 && b[i+1] == 0x01 {
				return str(string(out))
			}
			return nil, false
		}
		return nil, false
	case "boolean":
		if len(b) != 1 {
			return nil, false
		}
		return str(strconv.FormatBool(b[0] == 1))
	}
	if len(b) != 8 {
		return nil, false
	}
	u := binary.BigEndian.Uint64(b)
	switch typ {
	case "bigint":
		return str(strconv.FormatInt(int64(u^(1<<63)), 10))
	case "float8":
		if u&(1<<63) != 0 {
			u ^= 1 << 63
		} else {
			u = ^u
		}
		return str(strconv.FormatFloat(math.Float64frombits(u), 'g', -1, 64))
	case "timestamptz":
		return str(time.Unix(0, int64(u^(1<<63))).UTC().Format(time.RFC3339Nano))
	case "date":
		return str(time.Unix(0, int64(u^(1<<63))).UTC().Format(time.DateOnly))
	}
	return nil, false
}

func sortString(keys []store.SortKey) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.Field
		if k.Desc {
			parts[i] = "-" + k.Field
		}
	}
	return strings.Join(parts, ",")
}

// List returns one page of an entity's records that match the filter, in
// the requested order (by id, that is creation order, when none is given).
// Ties are broken by id, in the direction of the last sort key; records
// without a value for a sort field come last in either direction. Pages
// are keyset cursors: records written meanwhile neither repeat nor shift
// a page. Records come back decoded whether or not Query.Stored is set,
// and keep their stored form for store.AppendAPIForm.
func (s *Store) List(ctx context.Context, q store.Query) (*store.Page, error) {
	ent, err := s.entity(q.Entity)
	if err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = store.DefaultLimit
	}
	if q.Limit > store.MaxLimit {
		return nil, &store.QueryError{Param: "limit", Message: fmt.Sprintf("at most %d", store.MaxLimit)}
	}
	keys := q.Sort
	for _, k := range keys {
		if !systemFields[k.Field] && ent.Field(k.Field) == nil {
			return nil, &store.QueryError{Param: "sort", Message: fmt.Sprintf("%s has no field %q", ent.Name, k.Field)}
		}
	}
	if len(keys) == 0 || keys[len(keys)-1].Field != "id" {
		desc := len(keys) > 0 && keys[len(keys)-1].Desc
		keys = append(slices.Clone(keys), store.SortKey{Field: "id", Desc: desc})
	}
	spec := sortString(keys)
	sks := make([]sortKey, len(keys))
	for i, k := range keys {
		if sks[i], err = sortKeyOf(ent, k); err != nil {
			return nil, &store.QueryError{Param: "sort", Message: err.Error()}
		}
	}
	after, err := decodeCursor(q.Cursor, spec, ent, keys, sks)
	if err != nil {
		return nil, err
	}
	sks = flatten(sks)
	base := &sqlfilter.Args{}
	pe := literal(ent.Name)
	cond, exact := "TRUE", true
	if q.Filter != nil {
		cond, exact = sqlfilter.Where(q.Filter, "r", base)
	}
	page := &store.Page{Plan: planSQL}
	if !exact {
		page.Plan = planSQLAndGo
	}
	var order, cols []string
	for _, k := range sks {
		dir := " ASC NULLS LAST"
		if k.desc {
			dir = " DESC NULLS LAST"
		}
		order = append(order, k.expr+dir)
		cols = append(cols, "("+k.expr+")::text")
	}
	match := q.Filter.NewMatcher() // the filter's time budget is the whole query's, as in the Badger store
	batch := q.Limit + 1
	if !exact {
		batch = max(batch, 200)
	}
	err = s.readTx(ctx, func(tx pgx.Tx) error {
		page.Items = page.Items[:0]
		page.NextCursor = ""
		seq, err := feedPosition(ctx, tx)
		if err != nil {
			return err
		}
		page.Seq = seq
		from := after
		var lastKeys []*string // the sort keys of the last item taken
		for {
			args := &sqlfilter.Args{List: slices.Clone(base.List)}
			query := `SELECT r.id, r.enc, ` + strings.Join(cols, ", ") + ` FROM crm_records r WHERE r.entity = ` + pe +
				` AND (` + cond + `) AND (` + keyset(sks, from, args) + `) ORDER BY ` + strings.Join(order, ", ") +
				` LIMIT ` + strconv.Itoa(batch)
			rows, err := tx.Query(ctx, query, args.List...)
			if err != nil {
				return fmt.Errorf("list %s: %w", ent.Name, err)
			}
			n := 0
			full := false
			for rows.Next() {
				n++
				var id string
				var enc []byte
				vals := make([]*string, len(sks))
				dest := []any{&id, &enc}
				for i := range vals {
					dest = append(dest, &vals[i])
				}
				if err := rows.Scan(dest...); err != nil {
					rows.Close()
					return fmt.Errorf("list %s: %w", ent.Name, err)
				}
				from = vals
				rec, err := store.DecodeListed(ent, id, enc) // enc is a copy pgx made for this row
				if err != nil {
					rows.Close()
					return err
				}
				if !exact {
					ok, err := match.Match(rec)
					if err != nil {
						rows.Close()
						return err
					}
					if !ok {
						continue
					}
				}
				if len(page.Items) == q.Limit {
					full = true
					break
				}
				page.Items = append(page.Items, rec)
				lastKeys = vals
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("list %s: %w", ent.Name, err)
			}
			if full {
				page.NextCursor = cursor{Sort: spec, Vals: lastKeys}.encode()
				return nil
			}
			if n < batch {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
	})
	if err != nil {
		var pe *pgconn.PgError
		if q.Cursor != "" && errors.As(err, &pe) && strings.HasPrefix(pe.Code, "22") {
			// A data exception: the cursor's values are not of its
			// sort's types (made up, or given out before the store
			// changed how it sorts).
			return nil, errBadCursor
		}
		return nil, err
	}
	return page, nil
}

// keyset is the condition of the rows after the sort key values from (nil:
// every row), for an order with missing values last in both directions.
func keyset(sks []sortKey, from []*string, args *sqlfilter.Args) string {
	if from == nil {
		return "TRUE"
	}
	var ors []string
	var eqs []string // eqs[j]: key j equals from[j]
	for i := range sks {
		if from[i] != nil {
			op := " > "
			if sks[i].desc {
				op = " < "
			}
			p := args.Add(*from[i]) + "::" + sks[i].typ
			after := "(" + sks[i].expr + op + p + " OR " + sks[i].expr + " IS NULL)"
			if sks[i].notNull {
				after = sks[i].expr + op + p
			}
			ands := append(slices.Clone(eqs), after)
			ors = append(ors, "("+strings.Join(ands, " AND ")+")")
			eqs = append(eqs, sks[i].expr+" = "+p)
		} else {
			// Nothing sorts after a missing value but more missing values.
			eqs = append(eqs, sks[i].expr+" IS NULL")
		}
	}
	if len(ors) == 0 {
		return "FALSE"
	}
	return strings.Join(ors, " OR ")
}
