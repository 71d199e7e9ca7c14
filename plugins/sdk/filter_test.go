package sdk

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestLiteral(t *testing.T) {
	type status string
	n := 7
	var nilPtr *int
	for _, c := range []struct {
		v    any
		want string
	}{
		{"plain", `"plain"`},
		{`x" || true || "`, `"x\" || true || \""`},
		{`\" || true || \"`, `"\\\" || true || \\\""`},
		{`x' || true || '`, `"x' || true || '"`},
		{"trailing \\", `"trailing \\"`},
		{"nul\x00 bell\a nl\n del\x7f c1\u0085 ls\u2028", `"nul\u0000 bell\u0007 nl\u000a del\u007f c1\u0085 ls\u2028"`},
		{"bad \xff utf-8", `"bad \uFFFD utf-8"`},
		{"Անի, علی, 张伟, 🚗", `"Անի, علی, 张伟, 🚗"`},
		{status("open"), `"open"`},
		{true, "true"},
		{nil, "nil"},
		{nilPtr, "nil"},
		{&n, "7"},
		{42, "42"},
		{int8(-3), "(-3)"},
		{int64(math.MinInt64), "(-9223372036854775807 - 1)"},
		{uint64(math.MaxUint64), "1.8446744073709552e+19"},
		{uint8(200), "200"},
		{2.5, "2.5"},
		{-0.001, "(-0.001)"},
		{1e21, "1e+21"},
		{float32(0.5), "0.5"},
		{json.Number("12"), "12"},
		{json.Number("-1.5e3"), "(-1500)"},
		{time.Date(2026, 3, 21, 10, 0, 0, 500, time.UTC), `date("2026-03-21T10:00:00.0000005Z")`},
		{time.Date(2026, 3, 21, 14, 0, 0, 0, time.FixedZone("AMT", 4*3600)), `date("2026-03-21T14:00:00+04:00")`},
		{90 * time.Minute, `duration("1h30m0s")`},
		{[]string{"a", `b"`}, `["a", "b\""]`},
		{[2]any{1, "x"}, `[1, "x"]`},
		{[]int(nil), "[]"},
	} {
		if got := Literal(c.v); got != c.want {
			t.Errorf("Literal(%#v) = %s, want %s", c.v, got, c.want)
		}
	}
	for name, v := range map[string]any{
		"a map": map[string]any{"amount": "1"}, "a struct": struct{}{}, "NaN": math.NaN(),
		"infinity": math.Inf(-1), "a func": func() {}, "a bad json.Number": json.Number("1x"),
	} {
		mustPanic(t, name, "filter", func() { Literal(v) })
	}
}

func TestFilterBuilders(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Eq("vin", "WVW\" || true"), `vin == "WVW\" || true"`},
		{Ne("owner", nil), `owner != nil`},
		{Lt("mileage", 100), `mileage < 100`},
		{Le("amount.amount", 99.5), `amount.amount <= 99.5`},
		{Gt("mileage", -1), `mileage > (-1)`},
		{Ge("created_at", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), `created_at >= date("2026-01-01T00:00:00Z")`},
		{In("status", "open", "pending"), `status in ["open", "pending"]`},
		{In("status"), `status in []`},
		{And(Eq("a", 1), "", Eq("b", 2)), `(a == 1) && (b == 2)`},
		{And(), ``},
		{And("", ""), ``},
		{Or(Eq("a", 1), Eq("b", 2)), `(a == 1) || (b == 2)`},
		{Or(Eq("a", 1), ""), ``},
		{Or(), `false`},
		{Not(Eq("a", 1)), `!(a == 1)`},
		{Not(""), `false`},
		{Filterf("vin == %v && status != %v", "x\"y", "closed"), `vin == "x\"y" && status != "closed"`},
		{Filterf("mileage %% 2 == %v", 0), `mileage % 2 == 0`},
		{Filterf("status in %v", []string{"open"}), `status in ["open"]`},
		{Filterf("id != %v", "%v"), `id != "%v"`},
	} {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
	for name, f := range map[string]func(){
		"a field with a space":     func() { Eq("vin or true", 1) },
		"a field that is an expr":  func() { Gt("len(name)", 1) },
		"an empty field":           func() { In("", 1) },
		"a trailing dot":           func() { Eq("amount.", 1) },
		"%s":                       func() { Filterf("vin == %s", "x") },
		"%q":                       func() { Filterf("vin == %q", "x") },
		"a % at the end":           func() { Filterf("vin == %", "x") },
		"more verbs than values":   func() { Filterf("a == %v && b == %v", 1) },
		"more values than verbs":   func() { Filterf("a == %v", 1, 2) },
		"an unrenderable value":    func() { Filterf("a == %v", struct{}{}) },
		"an unrenderable in value": func() { In("a", map[string]int{}) },
	} {
		mustPanic(t, name, "sdk", f)
	}
}

func mustPanic(t *testing.T, name, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		v := recover()
		if s, _ := v.(string); !strings.Contains(s, want) {
			t.Errorf("%s: panic %v, want one that says %q", name, v, want)
		}
	}()
	f()
}
