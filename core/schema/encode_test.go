package schema

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/types"

	"github.com/crmkit/crm/config"
)

func TestEncodeValue(t *testing.T) {
	e := entity(t, "every")
	at := time.Date(2026, 3, 21, 10, 30, 0, 120000000, time.UTC)
	for _, c := range []struct {
		field string
		in    any
		want  any
	}{
		{"money", Money{150000, "USD"}, map[string]any{"amount": "1500.00", "currency": "USD"}},
		{"money", Money{150050, "AMD"}, map[string]any{"amount": "1500.50", "currency": "AMD"}},
		{"money", Money{1500, "KWD"}, map[string]any{"amount": "1.500", "currency": "KWD"}},
		{"decimal", Decimal("12.5"), "12.5"},
		{"date", date(2026, 3, 21), "2026-03-21"},
		{"datetime", at, "2026-03-21T10:30:00.12Z"},
		{"datetime", at.In(time.FixedZone("AMT", 4*3600)), "2026-03-21T10:30:00.12Z"},
		{"datetime", time.Date(2026, 3, 21, 10, 30, 0, 0, time.UTC), "2026-03-21T10:30:00Z"},
		{"int", int64(7), int64(7)},
		{"bool", true, true},
		{"string", "x", "x"},
		{"file", "f1", "f1"},
		{"string", nil, nil},
	} {
		if got := e.Field(c.field).EncodeValue(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s EncodeValue(%#v) = %#v, want %#v", c.field, c.in, got, c.want)
		}
	}
	got := e.EncodeValues(map[string]any{"money": Money{100, "USD"}, "gone": 1, "created_at": at, "owner": "u1"})
	want := map[string]any{"money": map[string]any{"amount": "1.00", "currency": "USD"}, "created_at": "2026-03-21T10:30:00.12Z", "owner": "u1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("EncodeValues = %#v, want %#v", got, want)
	}
}

func TestMarshalValues(t *testing.T) {
	e := entity(t, "every")
	values := map[string]any{
		"string": "Ann", "int": int64(-3), "decimal": Decimal("0.001"),
		"money": Money{150000, "USD"}, "bool": false, "date": date(2026, 3, 21),
		"datetime": time.Date(2026, 3, 21, 10, 30, 0, 5, time.UTC),
		"text":     nil, // no value: left out
		"gone":     "x", // not a field: left out
	}
	data, err := e.MarshalValues(values)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"bool":false,"date":"2026-03-21","datetime":"2026-03-21T10:30:00.000000005Z","decimal":"0.001","int":-3,"money":{"amount":"1500.00","currency":"USD"},"string":"Ann"}`
	if string(data) != want {
		t.Errorf("MarshalValues = %s\nwant %s", data, want)
	}
	if _, err := e.MarshalValues(map[string]any{"int": 3}); err == nil || !strings.Contains(err.Error(), "int: expected an integer, got a Go value of type int") {
		t.Errorf("MarshalValues(int) error = %v", err)
	}
	if _, err := e.MarshalValues(map[string]any{"money": "1.00"}); err == nil {
		t.Error("MarshalValues(money string): no error")
	}
}

func TestUnmarshalValuesTolerance(t *testing.T) {
	e := entity(t, "every")
	got, err := e.UnmarshalValues([]byte(`{"gone": "x", "int": 5, "string": 5, "decimal": 7, "date": "2026-03-21", "enum": "nope", "text": "hi", "money": {"amount": "1.00", "currency": "USD"}, "bool": null}`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"int":     int64(5),
		"decimal": Decimal("7"), // a number where a string is stored: normalised
		"date":    date(2026, 3, 21),
		"enum":    "nope", // trusted: not re-validated
		"text":    "hi",
		"money":   Money{100, "USD"},
		// "gone" is no longer a field, "string" no longer fits, "bool" is null.
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	// A field that was a string and is now a decimal keeps only numbers.
	got, err = e.UnmarshalValues([]byte(`{"decimal": "abc", "int": "7", "datetime": "2026-03-21"}`))
	if err != nil || len(got) != 0 {
		t.Errorf("got %#v, %v; want nothing", got, err)
	}
	got, err = e.UnmarshalValues([]byte(`{"decimal": "12.50"}`))
	if err != nil || !reflect.DeepEqual(got, map[string]any{"decimal": Decimal("12.5")}) {
		t.Errorf("got %#v, %v", got, err)
	}
	for _, bad := range []string{``, `[]`, `null`, `"x"`, `{`} {
		if _, err := e.UnmarshalValues([]byte(bad)); err == nil {
			t.Errorf("UnmarshalValues(%q): no error", bad)
		}
	}
}

// randomValue returns a random canonical value of the field's type.
func randomValue(r *rand.Rand, f *Field) any {
	pick := func(xs ...string) string { return xs[r.IntN(len(xs))] }
	switch f.Type {
	case config.TypeString:
		return randomText(r, 1+r.IntN(40), false)
	case config.TypeText:
		return randomText(r, r.IntN(200), true)
	case config.TypeInt:
		switch r.IntN(4) {
		case 0:
			return int64(math.MaxInt64 - r.IntN(3))
		case 1:
			return int64(math.MinInt64 + r.IntN(3))
		case 2:
			return int64(r.IntN(2000) - 1000)
		}
		return int64(r.Uint64())
	case config.TypeDecimal:
		var b strings.Builder
		if r.IntN(2) == 0 {
			b.WriteByte('-')
		}
		b.WriteString(strconv.FormatUint(r.Uint64()>>r.IntN(64), 10))
		if r.IntN(2) == 0 {
			b.WriteByte('.')
			for range 1 + r.IntN(30) {
				b.WriteByte(byte('0' + r.IntN(10)))
			}
		}
		d, err := ParseDecimal(b.String())
		if err != nil {
			panic(err)
		}
		return d
	case config.TypeMoney:
		minor := int64(r.Uint64())
		switch r.IntN(4) {
		case 0:
			minor = int64(r.IntN(1_000_000) - 500_000)
		case 1:
			minor = math.MinInt64 + int64(r.IntN(2))
		}
		return Money{Minor: minor, Currency: pick("USD", "EUR", "JPY", "KWD", "AMD", "IRR", "CLF", "BHD")}
	case config.TypeBool:
		return r.IntN(2) == 0
	case config.TypeDate:
		return date(1+r.IntN(9999), time.Month(1+r.IntN(12)), 1+r.IntN(28))
	case config.TypeDateTime:
		lo := time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano() / 1e9
		hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
		sec := lo + r.Int64N(hi-lo)
		ns := int64(0)
		if r.IntN(2) == 0 {
			ns = r.Int64N(1e9)
		}
		return time.Unix(sec, ns).UTC()
	case config.TypeEnum:
		return f.Values[r.IntN(len(f.Values))]
	case config.TypeEmail:
		return pick("a@b.am", "bob.lee+crm@example.com", "ann@xn--e1afmkfd.xn--p1ai", "Ünïcödé@example.org")
	case config.TypePhone:
		return pick("+37491123456", "+16502530000", "+442079460958")
	case config.TypeURL:
		return pick("https://example.com", "http://x.am/a?b=c&d=<e>#f", "https://пример.рф/")
	default: // ref, user, file
		const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-"
		b := make([]byte, 1+r.IntN(MaxIDBytes))
		for i := range b {
			b[i] = alphabet[r.IntN(len(alphabet))]
		}
		return string(b)
	}
}

// randomText returns n random runes from a mix of scripts and characters
// that JSON escapes, trimmed; multiline allows line breaks and tabs.
func randomText(r *rand.Rand, n int, multiline bool) string {
	pool := []rune("aZ09 <>&\"\\/'éժאب中😀\u2028\u2029\ufeff\u200b")
	if multiline {
		pool = append(pool, '\n', '\t', '\r')
	}
	rs := make([]rune, n)
	for i := range rs {
		rs[i] = pool[r.IntN(len(pool))]
	}
	s := string(rs)
	if !multiline {
		s = strings.TrimSpace(s)
		if s == "" {
			s = "x"
		}
	}
	return s
}

func TestMarshalRoundTripProperty(t *testing.T) {
	e := entity(t, "every")
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 3000 {
		values := map[string]any{}
		for _, f := range e.Fields {
			if r.IntN(5) > 0 {
				values[f.Name] = randomValue(r, f)
			}
		}
		data, err := e.MarshalValues(values)
		if err != nil {
			t.Fatalf("#%d MarshalValues(%#v): %v", i, values, err)
		}
		back, err := e.UnmarshalValues(data)
		if err != nil {
			t.Fatalf("#%d UnmarshalValues(%s): %v", i, data, err)
		}
		if !reflect.DeepEqual(back, values) {
			t.Fatalf("#%d round trip:\n got %#v\nwant %#v\njson %s", i, back, values, data)
		}
		// What the API shows, a client may send back unchanged.
		body, err := json.Marshal(e.EncodeValues(values))
		if err != nil {
			t.Fatal(err)
		}
		in, err := e.DecodeInput(body)
		if err != nil {
			t.Fatalf("#%d DecodeInput(%s): %v", i, body, err)
		}
		if !reflect.DeepEqual(in.Values, values) {
			t.Fatalf("#%d re-decode:\n got %#v\nwant %#v\njson %s", i, in.Values, values, body)
		}
	}
}

func TestExpr(t *testing.T) {
	e := entity(t, "every")
	at := time.Date(2026, 3, 21, 10, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		field   string
		in      any
		want    any
		wantZed any
	}{
		{"money", Money{150050, "USD"}, ExprMoney{Amount: 1500.5, Currency: "USD", Minor: 150050}, ExprMoney{}},
		{"decimal", Decimal("0.1"), 0.1, float64(0)},
		{"int", int64(3), int64(3), int64(0)},
		{"bool", true, true, false},
		{"date", at, at, time.Time{}},
		{"datetime", at, at, time.Time{}},
		{"string", "s", "s", ""},
		{"phone", "+1", "+1", ""},
		{"ref", "r", "r", ""},
		{"enum", "sold", "sold", ""},
	} {
		f := e.Field(c.field)
		if got := f.ExprValue(c.in); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s ExprValue = %#v, want %#v", c.field, got, c.want)
		}
		if got := f.ExprZero(); !reflect.DeepEqual(got, c.wantZed) {
			t.Errorf("%s ExprZero = %#v, want %#v", c.field, got, c.wantZed)
		}
	}

	// Expressions compile against ExprType and run on ExprRecord.
	env := types.Map{"record": e.ExprType()}
	prog, err := expr.Compile(`record.money.amount > 100 && record.money.currency == "USD" && record.decimal < 1 && record.int + 1 == 4 && record.owner == "u1"`, expr.Env(env), expr.AsBool())
	if err != nil {
		t.Fatal(err)
	}
	rec := e.ExprRecord(map[string]any{"money": Money{150050, "USD"}, "decimal": Decimal("0.5"), "int": int64(3), "owner": "u1", "gone": 1})
	if _, ok := rec["gone"]; ok {
		t.Error("ExprRecord keeps unknown keys")
	}
	out, err := expr.Run(prog, map[string]any{"record": rec})
	if err != nil || out != true {
		t.Errorf("Run = %v, %v", out, err)
	}
	for _, src := range []string{`record.money.amount + "x"`, `record.nmae == "x"`, `record.int > "x"`, `record.money.cents > 1`} {
		if _, err := expr.Compile(src, expr.Env(env)); err == nil {
			t.Errorf("%s: error not caught at compile time", src)
		}
	}
	// A field without a value is nil, which expressions can test for.
	prog, err = expr.Compile(`record.money == nil && record.string == nil && record.date == nil`, expr.Env(env), expr.AsBool())
	if err != nil {
		t.Fatal(err)
	}
	if out, err := expr.Run(prog, map[string]any{"record": e.ExprRecord(nil)}); err != nil || out != true {
		t.Errorf("Run = %v, %v", out, err)
	}
}
