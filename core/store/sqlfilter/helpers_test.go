package sqlfilter_test

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/config"
	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
	"github.com/crmkit/crm/core/store/sqlfilter"
	"github.com/crmkit/crm/core/testkit/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// thingHCL is an entity with a field of every type.
const thingHCL = `
entity "thing" {
  field "s"  { type = "string" }
  field "t"  { type = "text" }
  field "e"  {
    type = "enum"
    values = ["a", "b", "c_d"]
  }
  field "em" { type = "email" }
  field "ph" { type = "phone" }
  field "u"  { type = "url" }
  field "r"  {
    type = "ref"
    to = "thing"
  }
  field "us" { type = "user" }
  field "fl" { type = "file" }
  field "i"  { type = "int" }
  field "d"  { type = "decimal" }
  field "b"  { type = "bool" }
  field "dt" { type = "date" }
  field "ts" { type = "datetime" }
  field "m"  { type = "money" }
}
locale { currency = "AMD" }
`

// stringFields are the fields of string kinds.
var stringFields = []string{"s", "t", "e", "em", "ph", "u", "r", "us", "fl"}

// thing is the entity of thingHCL.
func thing(t testing.TB) *schema.Entity {
	t.Helper()
	cfg, diags := config.LoadSources(map[string][]byte{"thing.hcl": []byte(thingHCL)})
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	sch, err := schema.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return sch.Entity("thing")
}

// tableDDL is the records table of the documented layout.
const tableDDL = `CREATE TABLE crm_records (
	entity text NOT NULL, id text COLLATE "C" NOT NULL, version bigint NOT NULL,
	created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL,
	created_by text COLLATE "C" NOT NULL, owner text COLLATE "C" NOT NULL,
	data jsonb NOT NULL, enc bytea NOT NULL,
	PRIMARY KEY (entity, id))`

// openDB connects to a fresh database with the records table and
// sqlfilter.Functions.
func openDB(t *testing.T) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, pgtest.DB(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	for _, q := range []string{tableDDL, sqlfilter.Functions} {
		if _, err := conn.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	return conn
}

// Value pools: boundaries, unicode, quotes and LIKE's wildcards.
var (
	stringPool = []string{"", "a", "ab", "abc", "abd", "b", "B", "Ani", "ani", "anis", "é", "e\u0301", "ée", "日本", "日本語",
		"100%", "50_50", "it's", `back\slash`, `"q"`, "a%b", "_x", "%", "_", "z", "a b", "ÿ", "😀", "a\tb", "a'b",
		"c_d", "<&>", strings.Repeat("x", 300), "\u00a0", "Z"}
	intPool = []int64{0, 1, -1, 2, 42, -42, 100, math.MaxInt64, math.MinInt64, 1 << 53, 1<<53 + 1, -(1 << 53) - 1, 999}
	decPool = []string{"0", "1", "1.5", "-1.5", "0.1", "0.2", "0.30000000000000004", "9007199254740993", "-0.001",
		"12345678901234567890.123456789", "100", "2.5", "1e3"}
	moneyPool = []schema.Money{{Minor: 0, Currency: "USD"}, {Minor: 150, Currency: "USD"}, {Minor: -150, Currency: "USD"},
		{Minor: 150, Currency: "JPY"}, {Minor: 1500, Currency: "KWD"}, {Minor: 100, Currency: "AMD"}, {Minor: math.MaxInt64 / 2, Currency: "USD"},
		{Minor: 1, Currency: "USD"}, {Minor: 10, Currency: "EUR"}}
	datePool = []string{"0001-01-01", "1970-01-01", "2026-02-28", "2026-03-01", "2026-03-02", "9999-12-31", "2000-02-29"}
	timePool = []string{"2026-03-01T00:00:00Z", "2026-03-01T00:00:00.000000001Z", "2026-03-01T00:00:00.0000005Z",
		"2026-03-01T00:00:00.000001Z", "2026-03-01T10:30:00.123456789Z", "1970-01-01T00:00:00Z", "0001-01-01T00:00:00Z",
		"9999-12-31T23:59:59.999999999Z", "2026-02-28T23:59:59.9999995Z", "2026-03-01T23:59:59Z"}
	userPool = []string{"", "u1", "u2", "Ü", "01JTESTUSER000000000000000X"}
)

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

func mustDate(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

// randomTime is a time of the pool, or a random one with nanoseconds.
func randomTime(r *rand.Rand) time.Time {
	if r.IntN(2) == 0 {
		return mustTime(timePool[r.IntN(len(timePool))])
	}
	return time.Unix(1_700_000_000+r.Int64N(100_000_000), r.Int64N(1e9)).UTC()
}

// randomRecord is a record of thing with random values, some missing.
func randomRecord(t testing.TB, ent *schema.Entity, r *rand.Rand) *store.Record {
	vals := map[string]any{}
	pick := func() bool { return r.IntN(4) != 0 }
	for _, f := range stringFields {
		if pick() {
			s := stringPool[r.IntN(len(stringPool))]
			if f == "e" {
				s = []string{"a", "b", "c_d"}[r.IntN(3)]
			}
			vals[f] = s
		}
	}
	if pick() {
		if r.IntN(3) == 0 {
			vals["i"] = intPool[r.IntN(len(intPool))]
		} else {
			vals["i"] = r.Int64N(200) - 100
		}
	}
	if pick() {
		d, err := schema.ParseDecimal(decPool[r.IntN(len(decPool))])
		if err != nil {
			t.Fatal(err)
		}
		vals["d"] = d
	}
	if pick() {
		vals["b"] = r.IntN(2) == 0
	}
	if pick() {
		vals["dt"] = mustDate(datePool[r.IntN(len(datePool))])
	}
	if pick() {
		vals["ts"] = randomTime(r)
	}
	if pick() {
		vals["m"] = moneyPool[r.IntN(len(moneyPool))]
	}
	created := randomTime(r)
	return &store.Record{ID: store.NewID(), Entity: ent.Name, Version: 1 + r.Int64N(3),
		CreatedAt: created, UpdatedAt: randomTime(r),
		CreatedBy: userPool[r.IntN(len(userPool))], Owner: userPool[r.IntN(len(userPool))], Values: vals}
}

// insert writes records as the PostgreSQL store would: field values in
// API form. Every other record's times go in as text (PostgreSQL rounds
// to the microsecond), the others as time.Time (pgx truncates).
func insert(t testing.TB, conn *pgx.Conn, ent *schema.Entity, recs []*store.Record) {
	t.Helper()
	ctx := context.Background()
	batch := &pgx.Batch{}
	for i, rec := range recs {
		data, err := json.Marshal(ent.EncodeValues(rec.Values))
		if err != nil {
			t.Fatal(err)
		}
		var c, u any = rec.CreatedAt, rec.UpdatedAt
		if i%2 == 1 {
			c, u = rec.CreatedAt.Format(time.RFC3339Nano), rec.UpdatedAt.Format(time.RFC3339Nano)
		}
		batch.Queue(`INSERT INTO crm_records (entity, id, version, created_at, updated_at, created_by, owner, data, enc)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, '')`, rec.Entity, rec.ID, rec.Version, c, u, rec.CreatedBy, rec.Owner, string(data))
	}
	if err := conn.SendBatch(ctx, batch).Close(); err != nil {
		t.Fatal(err)
	}
}

// exprString is s as an expr string literal.
func exprString(s string) string { return strconv.Quote(s) }

// filterGen makes random filter sources over thing from a small grammar.
type filterGen struct {
	r    *rand.Rand
	recs []*store.Record
}

func (g *filterGen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }

// filter is a random filter of at most depth levels of &&, || and !.
func (g *filterGen) filter(depth int) string {
	if depth <= 0 || g.r.IntN(3) == 0 {
		return g.leaf()
	}
	a, b := g.filter(depth-1), g.filter(depth-1)
	switch g.r.IntN(7) {
	case 0, 1:
		return "(" + a + ") && (" + b + ")"
	case 2, 3:
		return "(" + a + ") || (" + b + ")"
	case 4:
		return "!(" + a + ")"
	case 5:
		return "not (" + a + ") and " + b
	}
	return a + " or " + b
}

// stringConst is a string from the pool or a piece of a stored value.
func (g *filterGen) stringConst(field string) string {
	if g.r.IntN(2) == 0 {
		rec := g.recs[g.r.IntN(len(g.recs))]
		var s string
		switch field {
		case "id":
			s = rec.ID
		case "owner":
			s = rec.Owner
		case "created_by":
			s = rec.CreatedBy
		case "m.currency":
			if m, ok := rec.Values["m"].(schema.Money); ok {
				s = m.Currency
			}
		default:
			s, _ = rec.Values[field].(string)
		}
		if s != "" && g.r.IntN(3) == 0 {
			i := g.r.IntN(len(s))
			s = s[:i] // may cut a rune: not sendable, left to Go
		}
		return exprString(s)
	}
	return exprString(g.pick(stringPool...))
}

func (g *filterGen) numConst() string {
	switch g.r.IntN(5) {
	case 0:
		return strconv.FormatInt(intPool[g.r.IntN(len(intPool))], 10)
	case 1:
		return g.pick(decPool...)
	case 2:
		return strconv.FormatInt(g.r.Int64N(200)-100, 10)
	case 3:
		return g.pick("1.5", "-0.5", "0.0", "-0.0", "2.0", "1e2", "0.30000000000000004", "9007199254740993.0")
	}
	return "-" + strconv.Itoa(g.r.IntN(50))
}

func (g *filterGen) timeConst(date bool) string {
	if g.r.IntN(8) == 0 {
		return g.pick("now()", "date('bad')", "date('2026-03-01', '2006-01-02', 'Asia/Tokyo')", "date('10:00:00')")
	}
	if date && g.r.IntN(2) == 0 {
		return "date('" + g.pick(datePool...) + "')"
	}
	if g.r.IntN(2) == 0 {
		return "date('" + g.pick(timePool...) + "')"
	}
	rec := g.recs[g.r.IntN(len(g.recs))]
	var tm time.Time
	switch {
	case date:
		tm, _ = rec.Values["dt"].(time.Time)
	case g.r.IntN(2) == 0:
		tm = rec.CreatedAt
	default:
		tm, _ = rec.Values["ts"].(time.Time)
	}
	if g.r.IntN(3) == 0 {
		tm = tm.Add(time.Duration(g.r.IntN(3)-1) * 500)
	}
	return "date('" + tm.Format(time.RFC3339Nano) + "')"
}

var orderOps = []string{"==", "!=", "<", "<=", ">", ">="}

// cmp is `field op k`, or the other way round.
func (g *filterGen) cmp(field, k string) string {
	op := g.pick(orderOps...)
	if g.r.IntN(4) == 0 {
		return k + " " + op + " " + field
	}
	return field + " " + op + " " + k
}

// leaf is one comparison, or something not translated.
func (g *filterGen) leaf() string {
	switch g.r.IntN(14) {
	case 0, 1, 2: // a string field
		f := g.pick(append(stringFields, "id", "owner", "created_by", "m.currency")...)
		switch g.r.IntN(7) {
		case 0:
			return f + " " + g.pick("startsWith", "endsWith", "contains", "not startsWith", "not contains") + " " + g.stringConst(f)
		case 1:
			return g.pick("hasPrefix", "hasSuffix") + "(" + f + ", " + g.stringConst(f) + ")"
		case 2:
			var els []string
			for range g.r.IntN(4) {
				els = append(els, g.stringConst(f))
			}
			if g.r.IntN(4) == 0 {
				els = append(els, g.pick("nil", "1", "''"))
			}
			return f + " " + g.pick("in", "not in") + " [" + strings.Join(els, ", ") + "]"
		case 3:
			return f + " " + g.pick("==", "!=") + " nil"
		}
		return g.cmp(f, g.stringConst(f))
	case 3, 4: // a number
		f := g.pick("i", "d", "m.amount", "version")
		if g.r.IntN(4) == 0 {
			var els []string
			for range 1 + g.r.IntN(3) {
				els = append(els, g.numConst())
			}
			if g.r.IntN(4) == 0 {
				els = append(els, "nil")
			}
			return f + " " + g.pick("in", "not in") + " [" + strings.Join(els, ", ") + "]"
		}
		if g.r.IntN(6) == 0 {
			return f + " " + g.pick("==", "!=") + " nil"
		}
		return g.cmp(f, g.numConst())
	case 5:
		return g.pick("b", "!b", "b == true", "b != true", "b == false", "b == nil", "b != nil", "not b", "true", "false", "m == nil", "m != nil")
	case 6, 7:
		f := g.pick("dt", "ts", "created_at", "updated_at")
		if g.r.IntN(8) == 0 {
			return f + " " + g.pick("==", "!=") + " nil"
		}
		return g.cmp(f, g.timeConst(f == "dt"))
	case 8: // not translated
		return g.pick("len(s) > 2", "s matches '^a'", "s == t", "upper(s) == 'A'", "i + 1 > 5", "m?.amount > 1",
			"m.minor > 100", "s ?? 'x' == 'x'", "(i > 0 ? s : t) == 'a'", "now() > ts", "i in 1..5",
			"any([1, 2], {# == i})", "s in [t]", "string(i) == '1'")
	}
	return g.leaf()
}
