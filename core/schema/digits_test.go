package schema

import (
	"encoding/json"
	"testing"
	"time"
)

func TestPersianAndArabicIndicDigits(t *testing.T) {
	e := entity(t, "every")
	date := time.Date(2026, 3, 21, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		field string
		in    any // marshalled to JSON
		want  any // the canonical value; nil for a refusal
	}{
		{"int", "۱۲۳۴", int64(1234)},
		{"int", "١٢٣٤", int64(1234)},
		{"int", "-۴۲", int64(-42)},
		{"int", "۱٬۲۳۴٬۵۶۷", int64(1234567)},
		{"int", " ۷ ", int64(7)},
		{"int", "۱٫۵", nil}, // not a whole number
		{"int", "۱۲x", nil}, // not a number
		{"int", "12", nil},  // an ASCII string stays a type error
		{"int", "٬۱۲", nil}, // a separator not between digits stays
		{"decimal", "۱۲٫۵۰", Decimal("12.5")},
		{"decimal", "١٬٢٣٤٫٥", Decimal("1234.5")},
		{"decimal", "۱۲.۵", Decimal("12.5")},
		{"decimal", "۱۲٫٫۵", nil},
		{"money", map[string]any{"amount": "۱٬۵۰۰٫۰۰", "currency": "AMD"}, Money{Minor: 150000, Currency: "AMD"}},
		{"money", map[string]any{"amount": "٢٥٠٠٫٥", "currency": "USD"}, Money{Minor: 250050, Currency: "USD"}},
		{"money", map[string]any{"amount": "۱۲۰۰۰۰۰", "currency": "IRR"}, Money{Minor: 120000000, Currency: "IRR"}},
		{"money", map[string]any{"amount": "۱٫۰۰۱", "currency": "USD"}, nil}, // too many decimals
		{"date", "۲۰۲۶-۰۳-۲۱", date},
		{"date", "٢٠٢٦-٠٣-٢١", date},
		{"date", "۲۰۲۶-۰۲-۳۰", nil},                                         // no such day
		{"date", "۱۴۰۵-۰۱-۰۱", time.Date(1405, 1, 1, 0, 0, 0, 0, time.UTC)}, // digits only: a Jalali date is the client's to convert
		{"datetime", "۲۰۲۶-۰۳-۲۱T۱۴:۳۰:۰۰+۰۴:۰۰", time.Date(2026, 3, 21, 10, 30, 0, 0, time.UTC)},
		{"datetime", "٢٠٢٦-٠٣-٢١T١٠:٣٠:٠٠٫٥Z", time.Date(2026, 3, 21, 10, 30, 0, 500_000_000, time.UTC)},
		{"datetime", "۲۰۲۶-۰۳-۲۱", nil}, // a date-time needs its time and zone
	}
	for _, c := range cases {
		raw, err := json.Marshal(c.in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.Field(c.field).Normalize(raw)
		if c.want == nil {
			if err == nil {
				t.Errorf("%s %s = %#v, want a refusal", c.field, raw, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %s: %v", c.field, raw, err)
			continue
		}
		if tm, ok := c.want.(time.Time); ok {
			if g, ok := got.(time.Time); !ok || !g.Equal(tm) {
				t.Errorf("%s %s = %v, want %v", c.field, raw, got, tm)
			}
			continue
		}
		if got != c.want {
			t.Errorf("%s %s = %#v, want %#v", c.field, raw, got, c.want)
		}
	}
}

func TestLatinDigitsLeavesOtherTextAlone(t *testing.T) {
	for in, want := range map[string]string{
		"":               "",
		"2026-03-21":     "2026-03-21",
		"abc ۱":          "abc 1",
		"٬":              "٬",
		"۱٬":             "1٬",
		"۱٬۲":            "12",
		"٫۵":             ".5",
		"۰۱۲۳۴۵۶۷۸۹":     "0123456789",
		"٠١٢٣٤٥٦٧٨٩":     "0123456789",
		"x\u200f۱\ufeff": "x\u200f1\ufeff",
	} {
		if got, _ := latinDigits(in); got != want {
			t.Errorf("latinDigits(%q) = %q, want %q", in, got, want)
		}
	}
}
