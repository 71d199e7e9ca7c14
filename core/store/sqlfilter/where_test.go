package sqlfilter_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/sqlfilter"
	"github.com/jackc/pgx/v5"
)

// exactFilters must translate exactly.
var exactFilters = []string{
	"s == 'abc'", "s != 'abc'", "!(s == 'abc')", "s == nil", "s != nil", "'abc' == s",
	"i == 1", "i != 1", "i > 1", "!(i > 1)", "i >= -42", "1 < i", "i == 1.0", "i < 1.5", "i in [1, 2, -42]", "i not in [1, 2]",
	"d == 1.5", "d != 1.5", "d > 0.1", "d < 1", "d in [1, 1.5, nil]",
	"b", "!b", "b == true", "b != true", "b == nil", "not b",
	"s in ['a', 'ab']", "s in ['', 'a']", "s not in ['a']", "!(s in ['', 'b'])", "e in ['a', 'c_d']", "s in []", "s not in []",
	"s startsWith 'a'", "s endsWith 'b'", "s contains '%'", "s contains '_'", "s contains '\\\\'", "s startsWith ''",
	"!(s startsWith 'a')", "s not contains 'b'", "hasPrefix(s, 'a')", "!hasPrefix(s, 'a')", "hasSuffix(t, 's')",
	"m.amount > 1", "!(m.amount > 1)", "m.amount == 1.5", "m.amount != 1.5", "m.currency == 'USD'", "m.currency != 'USD'",
	"m.currency startsWith 'U'", "m.amount in [0, 1.5]", "m == nil", "m != nil",
	"dt == date('2026-03-01')", "dt != date('2026-03-01')", "dt > date('2026-03-01')", "!(dt >= date('2026-03-01'))",
	"dt < date('2026-03-01T10:00:00Z')", "dt >= date('2026-03-01T10:00:00Z')", "dt <= date('2026-03-01T10:00:00Z')",
	"dt == date('2026-03-01T10:00:00Z')", "dt > date('2026-03-01', '2006-01-02', 'Asia/Tokyo')", "dt < date('bad')",
	"id == 'x'", "owner == 'u1'", "owner != ''", "created_by < 'u'", "version >= 2", "owner == nil", "id != nil",
	"s == 'a' || i > 1", "i > 1 || s == 'a'", "s == 'a' && i > 1", "!(s == 'a' && i > 1)", "!(s == 'a' || i > 1)",
	"(s == 'a' || s == 'b') && !(i < 0)", "s < 'b' || t >= 'b'", "i > 1 || true", "true", "false", "b && i > 1 || !b",
	"s == 'it\\'s'", "s == \"a'b\"", "s == '日本'", "s > 'é'", "s == '\\u00a0'",
}

// inexactFilters translate to a superset at best.
var inexactFilters = []string{
	"ts > date('2026-03-01')", "created_at <= date('2026-03-01T10:30:00.123456789Z')", "ts == date('2026-03-01T00:00:00Z')",
	"now() > ts", "len(s) > 2", "s == t", "s matches '^a'", "i > 1 && len(s) > 2", "len(s) > 2 || i > 1",
	"m?.amount > 1", "m.minor > 100", "s == 'a' && (upper(t) == 'X' || i > 1)",
}

// TestWhere checks, on real PostgreSQL, that the rows Where's condition
// selects hold every record f.Eval matches, and only those when Where
// says exact, over hand-written and random filters on records with every
// field type.
func TestWhere(t *testing.T) {
	ctx := context.Background()
	ent := thing(t)
	conn := openDB(t)
	r := rand.New(rand.NewPCG(20, 2))
	var recs []*store.Record
	byID := map[string]*store.Record{}
	for range 400 {
		rec := randomRecord(t, ent, r)
		recs = append(recs, rec)
		byID[rec.ID] = rec
	}
	insert(t, conn, ent, recs)

	var selected, matched int // rows of the inexact translations
	check := func(src string) (compiled, exact bool) {
		t.Helper()
		f, err := store.CompileFilter(ent, src)
		if err != nil {
			var fe *store.FilterError
			if !errors.As(err, &fe) {
				t.Fatalf("%s: %v", src, err)
			}
			return false, false
		}
		var args sqlfilter.Args
		cond, exact := sqlfilter.Where(f, "r", &args)
		got := selectIDs(t, ctx, conn, cond, args.List)
		var want []string
		matches := map[string]bool{}
		for _, rec := range recs {
			ok, err := f.Eval(rec)
			if err != nil {
				t.Fatalf("%s: Eval: %v", src, err)
			}
			if ok {
				want = append(want, rec.ID)
				matches[rec.ID] = true
			}
		}
		gotSet := make(map[string]bool, len(got))
		for _, id := range got {
			gotSet[id] = true
		}
		for _, id := range want {
			if !gotSet[id] {
				t.Fatalf("%s\nSQL %s %v\nmisses %s: %v (exact %v)", src, cond, args.List, id, byID[id].Values, exact)
			}
		}
		var kept []string
		for _, id := range got {
			if matches[id] {
				kept = append(kept, id)
			} else if exact {
				t.Fatalf("%s\nSQL %s %v\nexact but selects %s: %v owner %q", src, cond, args.List, id, byID[id].Values, byID[id].Owner)
			}
		}
		if len(kept) != len(want) {
			t.Fatalf("%s: %d rows after Eval, want %d", src, len(kept), len(want))
		}
		if !exact {
			selected, matched = selected+len(got), matched+len(want)
		}
		return true, exact
	}

	for _, src := range exactFilters {
		if compiled, exact := check(src); !compiled || !exact {
			t.Errorf("%s: compiled %v, exact %v; want an exact translation", src, compiled, exact)
		}
	}
	// Chains of || and && on one nullable field, whose comparisons fail
	// on nil, stay exact and grow linearly.
	for _, chain := range []struct{ op, cmp string }{{" || ", "s == %s"}, {" && ", "s != %s"}, {" || ", "t >= %s"}, {" or ", "hasPrefix(s, %s)"}} {
		var terms []string
		for i := range 60 {
			terms = append(terms, fmt.Sprintf(chain.cmp, exprString(stringPool[i%len(stringPool)]+strconv.Itoa(i))))
		}
		src := strings.Join(terms, chain.op)
		if compiled, exact := check(src); !compiled || !exact {
			t.Errorf("%s: compiled %v, exact %v; want an exact translation", src, compiled, exact)
		}
		f, _ := store.CompileFilter(ent, src)
		var args sqlfilter.Args
		if cond, _ := sqlfilter.Where(f, "r", &args); len(cond) > 200*len(terms) {
			t.Errorf("%d terms of %q: %d bytes of SQL", len(terms), chain.cmp, len(cond))
		}
	}
	for _, src := range inexactFilters {
		if compiled, exact := check(src); !compiled || exact {
			t.Errorf("%s: compiled %v, exact %v; want a superset", src, compiled, exact)
		}
	}
	g := &filterGen{r: r, recs: recs}
	var n, compiled, exact int
	for range 2000 {
		src := g.filter(3)
		n++
		c, e := check(src)
		if c {
			compiled++
		}
		if e {
			exact++
		}
	}
	t.Logf("%d hand-written filters (%d exact); %d random: %d compiled, %d exact; the inexact selected %d rows for %d matches",
		len(exactFilters)+len(inexactFilters), len(exactFilters), n, compiled, exact, selected, matched)
	if compiled < n/2 || exact < compiled/4 {
		t.Errorf("random filters: %d of %d compiled, %d exact: the generator or the translation went astray", compiled, n, exact)
	}
}

// selectIDs runs the condition over the entity's records.
func selectIDs(t *testing.T, ctx context.Context, conn *pgx.Conn, cond string, args []any) []string {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT r.id FROM crm_records r WHERE r.entity = 'thing' AND "+cond, args...)
	if err != nil {
		t.Fatalf("%s %v: %v", cond, args, err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("%s %v: %v", cond, args, err)
	}
	return ids
}

// TestWhereUsesIndex checks that a translated equality reads an index on
// FieldExpr: the index's expression and the filter's are the same text.
func TestWhereUsesIndex(t *testing.T) {
	ctx := context.Background()
	ent := thing(t)
	conn := openDB(t)
	for _, field := range []string{"s", "i", "dt", "m"} {
		expr, err := sqlfilter.FieldExpr(ent, field, "")
		if err != nil {
			t.Fatal(err)
		}
		q := "CREATE INDEX thing_" + field + " ON crm_records ((" + expr + "), id) WHERE entity = 'thing'"
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	_, err := conn.Exec(ctx, `INSERT INTO crm_records (entity, id, version, created_at, updated_at, created_by, owner, data, enc)
		SELECT 'thing', lpad(g::text, 8, '0'), 1, now(), now(), '', '',
			jsonb_build_object('s', 'v' || (g % 2000), 'i', g % 3000, 'dt', to_char(date '2020-01-01' + (g % 1500), 'YYYY-MM-DD'),
				'm', jsonb_build_object('amount', (g % 1000)::text || '.00', 'currency', 'USD')), ''
		FROM generate_series(1, 20000) g`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "ANALYZE crm_records"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ src, index string }{
		{"s == 'v7'", "thing_s"},
		{"s startsWith 'v1999'", "thing_s"},
		{"i == 42", "thing_i"},
		{"dt == date('2021-01-01')", "thing_dt"},
		{"m.amount == 5", "thing_m"},
		{"s in ['v7', 'v8']", "thing_s"},
		{"s == 'v7' || s == 'v8'", "thing_s"},
		{"i == 7 && s > 'v'", "thing_i"},
		{"!(i != 7)", "thing_i"},
		{"id == '00000042'", "crm_records_pkey"},
		{"id in ['00000042', '00000043']", "crm_records_pkey"},
	} {
		f, err := store.CompileFilter(ent, tc.src)
		if err != nil {
			t.Fatal(err)
		}
		var args sqlfilter.Args
		cond, exact := sqlfilter.Where(f, "r", &args)
		if !exact {
			t.Errorf("%s: not exact", tc.src)
		}
		rows, err := conn.Query(ctx, "EXPLAIN SELECT r.id FROM crm_records r WHERE r.entity = 'thing' AND "+cond, args.List...)
		if err != nil {
			t.Fatal(err)
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		plan := strings.Join(lines, "\n")
		if !strings.Contains(plan, "Index Scan using "+tc.index) && !strings.Contains(plan, "Index Only Scan using "+tc.index) &&
			!strings.Contains(plan, "Bitmap Index Scan on "+tc.index) {
			t.Errorf("%s (%s) does not use %s:\n%s", tc.src, cond, tc.index, plan)
		}
	}
}

// TestWhereNil is "TRUE", exact.
func TestWhereNil(t *testing.T) {
	var args sqlfilter.Args
	if cond, exact := sqlfilter.Where(nil, "r", &args); cond != "TRUE" || !exact || len(args.List) != 0 {
		t.Fatalf("Where(nil) = %q, %v, %v", cond, exact, args.List)
	}
}
