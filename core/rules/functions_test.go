package rules

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/crmkit/crm/core/schema"
	"github.com/crmkit/crm/core/store"
)

func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s: %v", name, err)
	}
	return loc
}

func utcDate(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestFunctions(t *testing.T) {
	yerevan, tehran := mustLoad(t, "Asia/Yerevan"), mustLoad(t, "Asia/Tehran")
	// 22:30 UTC on 20 March 2026 is already 21 March (Nowruz 1405) in
	// Yerevan (+4) and Tehran (+3:30).
	now := time.Date(2026, 3, 20, 22, 30, 0, 0, time.UTC)
	contact := &store.Record{ID: "c1", Entity: "contact", Version: 3, Owner: "u1",
		CreatedAt: now.Add(-5 * time.Hour), UpdatedAt: now.Add(-72 * time.Hour),
		Values: map[string]any{"name": " Anahit ", "birthday": utcDate(1990, 3, 21), "email": "ani@example.com"}}
	revolution := &store.Record{ID: "c2", Entity: "contact", Values: map[string]any{"name": "X", "birthday": utcDate(1979, 2, 11)}}
	leapling := &store.Record{ID: "c3", Entity: "contact", Values: map[string]any{"name": "Y", "birthday": utcDate(2000, 2, 29)}}
	vehicle := &store.Record{ID: "v1", Entity: "vehicle", UpdatedAt: time.Date(2026, 3, 22, 21, 0, 0, 0, time.UTC), Values: map[string]any{
		"vin": "WVW123", "mileage": int64(120000), "price": schema.Money{Minor: 150000000, Currency: "AMD"},
		"weight": schema.Decimal("1450.5"), "checked": utcDate(2026, 3, 25),
	}}
	for _, c := range []struct {
		entity, src string
		rec         *store.Record
		loc         *time.Location
		now         time.Time
		want        any
	}{
		{"contact", "now()", contact, yerevan, now, now},
		{"contact", "duration('72h')", contact, yerevan, now, 72 * time.Hour},
		{"contact", "duration('3d')", contact, yerevan, now, 72 * time.Hour},
		{"contact", "duration('1d12h30m')", contact, yerevan, now, 36*time.Hour + 30*time.Minute},
		{"contact", "duration('-2d')", contact, yerevan, now, -48 * time.Hour},
		{"contact", "days(3)", contact, yerevan, now, 72 * time.Hour},
		{"contact", "days(1.5)", contact, yerevan, now, 36 * time.Hour},
		{"contact", "since(record.created_at)", contact, yerevan, now, 5 * time.Hour},
		{"contact", "since(record.updated_at) > duration('3d')", contact, yerevan, now, false},
		{"contact", "since(record.updated_at) >= duration('3d')", contact, yerevan, now, true},
		{"contact", "now() - duration('1h') < now()", contact, yerevan, now, true},
		// A date field is its calendar date; today is 21 March in Yerevan, 20 March in UTC.
		{"vehicle", "days_until(record.checked)", vehicle, yerevan, now, 4},
		{"vehicle", "days_until(record.checked)", vehicle, tehran, now, 4},
		{"vehicle", "days_until(record.checked)", vehicle, time.UTC, now, 5},
		{"vehicle", "days_until(record.updated_at)", vehicle, yerevan, now, 2},
		{"contact", "days_until(record.birthday)", contact, yerevan, now, -13149},
		{"contact", "is_anniversary(record.birthday)", contact, yerevan, now, true},
		{"contact", "is_anniversary(record.birthday)", contact, time.UTC, now, false},
		{"contact", "is_anniversary(record.birthday)", leapling, yerevan, time.Date(2027, 2, 28, 12, 0, 0, 0, time.UTC), true},
		{"contact", "is_anniversary(record.birthday)", leapling, yerevan, time.Date(2028, 2, 28, 12, 0, 0, 0, time.UTC), false},
		{"contact", "is_anniversary(record.birthday)", leapling, yerevan, time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), true},
		{"contact", "is_anniversary(record.birthday)", leapling, yerevan, time.Date(2027, 3, 1, 12, 0, 0, 0, time.UTC), false},
		{"contact", "format_date(record.birthday, 'jalali', 'yyyy/MM/dd')", revolution, tehran, now, "1357/11/22"},
		{"contact", "format_date(record.birthday, 'gregorian', 'd MMMM yyyy')", revolution, tehran, now, "11 February 1979"},
		{"contact", "format_date(now(), 'jalali', 'd MMMM yyyy')", contact, tehran, now, "1 Farvardin 1405"},
		{"contact", "format_date(now(), 'jalali', 'yyyy-MM-dd HH:mm')", contact, yerevan, now, "1405-01-01 02:30"},
		{"contact", "format_date(now(), 'jalali', 'yyyy-MM-dd')", contact, time.UTC, now, "1404-12-29"},
		{"contact", "format_date(now(), 'gregorian', 'yyyy-MM-dd')", contact, time.UTC, now, "2026-03-20"},
		{"contact", "format_date(record.birthday, 'jalali', 'yyyy')", &store.Record{ID: "c4"}, yerevan, now, ""},
		{"vehicle", "format_money(record.price)", vehicle, yerevan, now, "1,500,000.00 AMD"},
		{"vehicle", "record.price.amount >= 1000000 && record.price.currency == 'AMD'", vehicle, yerevan, now, true},
		{"vehicle", "format_money(money(1234567.891, 'USD'))", vehicle, yerevan, now, "1,234,567.89 USD"},
		{"vehicle", "format_money(money(-1500, 'JPY'))", vehicle, yerevan, now, "-1,500 JPY"},
		{"vehicle", "format_money(money('999.5', 'AMD'))", vehicle, yerevan, now, "999.50 AMD"},
		{"vehicle", "money('12.5', 'amd')", vehicle, yerevan, now, schema.ExprMoney{Amount: 12.5, Currency: "AMD", Minor: 1250}},
		{"vehicle", "money(3, 'USD').amount > 2", vehicle, yerevan, now, true},
		{"vehicle", "record.weight > 1450 && record.mileage > 100000", vehicle, yerevan, now, true},
		{"contact", "trim(lower(record.name))", contact, yerevan, now, "anahit"},
		{"contact", "upper(record.email) contains 'EXAMPLE'", contact, yerevan, now, true},
		{"contact", "record.email matches '^[a-z]+@example\\\\.com$'", contact, yerevan, now, true},
		{"contact", "record.email endsWith '.com' && record.email startsWith 'ani'", contact, yerevan, now, true},
		{"contact", "record.id + ' ' + record.owner + ' ' + string(record.version)", contact, yerevan, now, "c1 u1 3"},
		{"contact", "[event, user?.role ?? 'system']", contact, yerevan, now, []any{"updated", "system"}},
	} {
		p := compileExpr(t, c.entity, c.src)
		got, err := p.Eval(&Input{Record: c.rec, Event: "updated", Now: c.now, Location: c.loc})
		if err != nil {
			t.Errorf("%s (%s): %v", c.src, c.loc, err)
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s (%s) = %#v, want %#v", c.src, c.loc, got, c.want)
		}
	}
}

func TestFormatDateInPersian(t *testing.T) {
	cfg, sch := load(t, exprRule("contact", "format_date(record.birthday, 'jalali', 'd MMMM yyyy')"))
	cfg.Locale.Default = "fa"
	set, diags := Compile(cfg, sch)
	if diags.HasErrors() {
		t.Fatal(formatDiags(diags))
	}
	got, err := set.Rules[0].Actions[0].Args["body"].Eval(&Input{Record: &store.Record{Values: map[string]any{"birthday": utcDate(1979, 2, 11)}}})
	if err != nil || got != "22 بهمن 1357" {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestFunctionErrorsAtRunTime(t *testing.T) {
	empty := &store.Record{ID: "c1", Values: map[string]any{}}
	for _, c := range []struct{ src, want string }{
		{"since(record.birthday)", "since: the time has no value"},
		{"days_until(record.birthday)", "days_until: the date has no value"},
		{"duration(record.name)", `invalid duration "Ani"`},
		{"money(1, record.name)", `money: unknown currency "Ani"`},
		{"days(1e300)", "out of range"},
		{"format_date(now(), record.name, 'yyyy')", `format_date: calendar: unknown calendar "Ani"`},
	} {
		empty.Values["name"] = "Ani"
		p := compileExpr(t, "contact", c.src)
		_, err := p.Eval(&Input{Record: empty})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.src, err, c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "rules.hcl:6:13: ") {
			t.Errorf("%s: error without its place: %v", c.src, err)
		}
	}
	// A birthday that is not set is no anniversary, and formats as "";
	// so does a price.
	p := compileExpr(t, "contact", "[is_anniversary(record.birthday), format_date(record.birthday, 'jalali', 'yyyy')]")
	got, err := p.Eval(&Input{Record: empty})
	if err != nil || !reflect.DeepEqual(got, []any{false, ""}) {
		t.Errorf("got %v, %v", got, err)
	}
	p = compileExpr(t, "vehicle", "format_money(record.price)")
	if got, err := p.Eval(&Input{Record: empty}); err != nil || got != "" {
		t.Errorf("format_money of no price = %q, %v", got, err)
	}
}

func TestParseDuration(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"72h", 72 * time.Hour, true},
		{"3d", 72 * time.Hour, true},
		{"0.5d", 12 * time.Hour, true},
		{"+1d1h", 25 * time.Hour, true},
		{"-1d1h", -25 * time.Hour, true},
		{"1d-1h", 0, false},
		{"d", 0, false},
		{"1dd", 0, false},
		{"infd", 0, false},
		{"NaNd", 0, false},
		{"1e3d", 0, false},
		{"200000d", 0, false},
		{"3x", 0, false},
		{"", 0, false},
	} {
		got, err := parseDuration(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("parseDuration(%q) = %v, %v; want %v ok=%v", c.in, got, err, c.want, c.ok)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct {
		m    schema.ExprMoney
		want string
	}{
		{schema.ExprMoney{Minor: 150000, Currency: "AMD"}, "1,500.00 AMD"},
		{schema.ExprMoney{Minor: 99, Currency: "USD"}, "0.99 USD"},
		{schema.ExprMoney{Minor: -123456789, Currency: "USD"}, "-1,234,567.89 USD"},
		{schema.ExprMoney{Minor: 100000, Currency: "JPY"}, "100,000 JPY"},
		{schema.ExprMoney{Minor: 1500, Currency: "KWD"}, "1.500 KWD"},
	} {
		if got := formatMoney(c.m); got != c.want {
			t.Errorf("formatMoney(%+v) = %q, want %q", c.m, got, c.want)
		}
	}
}
