// Package sqlfilter translates what it can of a compiled record filter
// (package store's expr-lang filters) into a PostgreSQL WHERE clause over
// the PostgreSQL store's records table, so that the database finds the
// matching rows through its indexes; what it cannot translate is left to
// the caller to evaluate in Go with the same Filter, so both stores give
// the same answers.
//
// The layout it reads (created by package postgres):
//
//	crm_records(entity text, id text, version bigint,
//	            created_at timestamptz, updated_at timestamptz,
//	            created_by text, owner text,
//	            data jsonb,  -- field values in API JSON form (schema.Field.EncodeValue)
//	            enc bytea)   -- the record in package store's own encoding
//
// The system columns are NOT NULL (a record without an owner has an
// empty owner, not NULL), as a filter never sees them nil; created_at
// and updated_at may hold the times truncated or rounded to the
// microsecond. id, created_by and owner are declared COLLATE "C": an
// index on a column of another collation (the primary key on id) cannot
// serve FieldExpr's `id COLLATE "C" = $1`.
//
// What Where translates exactly: &&, ||, ! (and, or, not) over
// comparisons of a field, a system field or a money field's amount or
// currency with a constant (==, !=, <, <=, >, >=; a date field also with
// date(...) of string literals), `in` a list of constants, == nil and
// != nil, startsWith, endsWith, contains, hasPrefix and hasSuffix with a
// string literal, a bool field alone, true and false. A datetime,
// created_at or updated_at compared with date(...) becomes a range one
// microsecond wider (a superset). Anything else (now(), two fields
// compared, arithmetic, len, matches, ?., closures, a money's minor, a
// string PostgreSQL cannot take as text) is left to Go.
//
// FieldExpr names the SQL expression of one field's value; the store's
// index definitions use the same expressions, so a translated predicate
// can use them.
package sqlfilter

import (
	"fmt"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
)

// Functions is the DDL of the SQL functions FieldExpr's expressions call;
// the store runs it in its migrations. crm_ts reads a datetime in its API
// form (RFC 3339 in UTC, always with "Z"), so its result does not depend
// on the session's time zone, which is what lets it be IMMUTABLE and so
// stand in an index expression.
const Functions = `
CREATE OR REPLACE FUNCTION crm_ts(text) RETURNS timestamptz
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT $1::timestamptz $$;
CREATE OR REPLACE FUNCTION crm_date(text) RETURNS date
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$ SELECT $1::date $$;
`

// FieldExpr is the SQL expression of a field's value as filters compare
// and lists sort it, for the records table under alias ("" in an index
// definition, "r" in a query):
//
//   - system fields are columns: id, created_by and owner under COLLATE "C"
//     (byte order, as the Badger store sorts), version, created_at, updated_at;
//   - string kinds (string, text, enum, email, phone, url, ref, user, file):
//     (data->>'f') COLLATE "C";
//   - int: (data->>'f')::bigint; decimal: (data->>'f')::float8, as a filter
//     sees a decimal as the nearest float64; bool: (data->>'f')::boolean;
//   - date: crm_date(data->>'f'); datetime: crm_ts(data->>'f');
//   - money: its amount, (data->'f'->>'amount')::float8 (FieldExpr of
//     "f.currency" is its currency).
//
// The error names a field the entity does not have.
func FieldExpr(ent *schema.Entity, name, alias string) (string, error) {
	p := ""
	if alias != "" {
		p = alias + "."
	}
	switch name {
	case "id", "created_by", "owner":
		return p + name + ` COLLATE "C"`, nil
	case "version", "created_at", "updated_at":
		return p + name, nil
	}
	if len(name) > len(".currency") && name[len(name)-len(".currency"):] == ".currency" {
		base := name[:len(name)-len(".currency")]
		if f := ent.Field(base); f != nil && f.Type == config.TypeMoney {
			return fmt.Sprintf(`(%sdata->%s->>'currency') COLLATE "C"`, p, quote(base)), nil
		}
	}
	f := ent.Field(name)
	if f == nil {
		return "", fmt.Errorf("sqlfilter: entity %s has no field %q", ent.Name, name)
	}
	text := fmt.Sprintf("(%sdata->>%s)", p, quote(name))
	switch f.Type {
	case config.TypeInt:
		return "(" + text + "::bigint)", nil
	case config.TypeDecimal:
		return "(" + text + "::float8)", nil
	case config.TypeBool:
		return "(" + text + "::boolean)", nil
	case config.TypeDate:
		return "crm_date" + text, nil
	case config.TypeDateTime:
		return "crm_ts" + text, nil
	case config.TypeMoney:
		return fmt.Sprintf("((%sdata->%s->>'amount')::float8)", p, quote(name)), nil
	}
	return text + ` COLLATE "C"`, nil
}

// quote is a SQL string literal of a field name (names are identifiers
// checked by the schema, so this is belt and braces).
func quote(s string) string {
	out := []byte{'\''}
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' {
			out = append(out, '\'')
		}
		out = append(out, s[i])
	}
	return string(append(out, '\''))
}
