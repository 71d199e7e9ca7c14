package schema

import (
	"math"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	valid := []struct{ in, want string }{
		{"0", "0"},
		{"-0", "0"},
		{"0.000", "0"},
		{"12.5", "12.5"},
		{"12.50", "12.5"},
		{"012.50", "12.5"},
		{"-3", "-3"},
		{"+3", "3"},
		{"0.001", "0.001"},
		{".001e3", ""}, // invalid, see below
		{"100", "100"},
		{"1e3", "1000"},
		{"1E3", "1000"},
		{"1.5e1", "15"},
		{"125e-2", "1.25"},
		{"-125e-5", "-0.00125"},
		{"1e-0", "1"},
		{"0e999999", "0"},
		{"123456789012345678901234567890.123456789", "123456789012345678901234567890.123456789"},
	}
	for _, c := range valid {
		if c.want == "" {
			continue
		}
		got, err := ParseDecimal(c.in)
		if err != nil || string(got) != c.want {
			t.Errorf("ParseDecimal(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	invalid := []struct{ in, msg string }{
		{"", `expected a decimal number like "12.5", got ""`},
		{".001e3", `expected a decimal number like "12.5", got ".001e3"`},
		{"1.", `expected a decimal number like "12.5", got "1."`},
		{"1,5", `expected a decimal number like "12.5", got "1,5"`},
		{" 1", `expected a decimal number like "12.5", got " 1"`},
		{"1e", `expected a decimal number like "12.5", got "1e"`},
		{"--1", `expected a decimal number like "12.5", got "--1"`},
		{"NaN", `expected a decimal number like "12.5", got "NaN"`},
		{"Inf", `expected a decimal number like "12.5", got "Inf"`},
		{"0x10", `expected a decimal number like "12.5", got "0x10"`},
		{"١٢", `expected a decimal number like "12.5", got "١٢"`},
		{"1e65", `expected a decimal number of at most 64 digits, got "1e65"`},
		{"1e-65", `expected a decimal number of at most 64 digits, got "1e-65"`},
		{"1e9999999", `expected a decimal number of at most 64 digits, got "1e9999999"`},
	}
	for _, c := range invalid {
		got, err := ParseDecimal(c.in)
		if err == nil || err.Error() != c.msg {
			t.Errorf("ParseDecimal(%q) = %q, %v; want error %q", c.in, got, err, c.msg)
		}
	}
	// The limit is exactly 64 digits.
	if _, err := ParseDecimal("1e63"); err != nil {
		t.Errorf("1e63: %v", err)
	}
	if _, err := ParseDecimal("1e-64"); err != nil {
		t.Errorf("1e-64: %v", err)
	}
}

func TestDecimalFloat64(t *testing.T) {
	for _, c := range []struct {
		d    Decimal
		want float64
	}{{"12.5", 12.5}, {"-3", -3}, {"0.001", 0.001}, {"0", 0}, {"", 0}, {"x", 0}} {
		if got := c.d.Float64(); got != c.want {
			t.Errorf("Decimal(%q).Float64() = %v, want %v", c.d, got, c.want)
		}
	}
}

func TestCurrencyDigits(t *testing.T) {
	for _, c := range []struct {
		code, canon string
		digits      int
	}{
		{"USD", "USD", 2}, {"usd", "USD", 2}, {"EUR", "EUR", 2}, {"JPY", "JPY", 0},
		{"KWD", "KWD", 3}, {"BHD", "BHD", 3}, {"CLF", "CLF", 4},
		// CLDR gives AMD and IRR no minor digits; money follows ISO 4217: 2.
		{"AMD", "AMD", 2}, {"IRR", "IRR", 2}, {"IQD", "IQD", 3},
	} {
		d, canon, err := CurrencyDigits(c.code)
		if err != nil || d != c.digits || canon != c.canon {
			t.Errorf("CurrencyDigits(%q) = %d, %q, %v; want %d, %q", c.code, d, canon, err, c.digits, c.canon)
		}
	}
	for _, code := range []string{"", "US", "USDD", "ZZZ", "U$D", "12A"} {
		if _, _, err := CurrencyDigits(code); err == nil {
			t.Errorf("CurrencyDigits(%q): no error", code)
		}
	}
}

func TestFormatMoney(t *testing.T) {
	for _, c := range []struct {
		m    Money
		want string
	}{
		{Money{150000, "USD"}, "1500.00"},
		{Money{150000, "AMD"}, "1500.00"},
		{Money{1500, "JPY"}, "1500"},
		{Money{1500, "KWD"}, "1.500"},
		{Money{5, "KWD"}, "0.005"},
		{Money{-5, "USD"}, "-0.05"},
		{Money{0, "USD"}, "0.00"},
		{Money{0, "JPY"}, "0"},
		{Money{12345, "CLF"}, "1.2345"},
		{Money{math.MaxInt64, "USD"}, "92233720368547758.07"},
		{Money{math.MinInt64, "USD"}, "-92233720368547758.08"},
		{Money{math.MinInt64, "JPY"}, "-9223372036854775808"},
		{Money{150, "ZZZ"}, "1.50"}, // unknown currency: 2 digits
		{Money{150, ""}, "1.50"},
	} {
		if got := FormatMoney(c.m); got != c.want {
			t.Errorf("FormatMoney(%v) = %q, want %q", c.m, got, c.want)
		}
	}
	if got := (Money{150000, "USD"}).String(); got != "1500.00 USD" {
		t.Errorf("String() = %q", got)
	}
}

func TestParseMoney(t *testing.T) {
	valid := []struct {
		amount, cur string
		want        Money
	}{
		{"1500.00", "USD", Money{150000, "USD"}},
		{"1500", "USD", Money{150000, "USD"}},
		{"1500.5", "USD", Money{150050, "USD"}},
		{"-0.05", "USD", Money{-5, "USD"}},
		{"+1", "USD", Money{100, "USD"}},
		{"0", "usd", Money{0, "USD"}},
		{"1500", "AMD", Money{150000, "AMD"}},
		{"1500.00", "AMD", Money{150000, "AMD"}},
		{"1500.500", "AMD", Money{150050, "AMD"}}, // trailing zeros are exact
		{"1500", "JPY", Money{1500, "JPY"}},
		{"1.5", "KWD", Money{1500, "KWD"}},
		{"1.005", "KWD", Money{1005, "KWD"}},
		{"1.2345", "CLF", Money{12345, "CLF"}},
		{"92233720368547758.07", "USD", Money{math.MaxInt64, "USD"}},
		{"-92233720368547758.08", "USD", Money{math.MinInt64, "USD"}},
		{"-9223372036854775808", "JPY", Money{math.MinInt64, "JPY"}},
		{"00012.10", "USD", Money{1210, "USD"}},
	}
	for _, c := range valid {
		got, err := ParseMoney(c.amount, c.cur)
		if err != nil || got != c.want {
			t.Errorf("ParseMoney(%q, %q) = %v, %v; want %v", c.amount, c.cur, got, err, c.want)
		}
	}
	invalid := []struct{ amount, cur, msg string }{
		{"1500.005", "USD", `"1500.005" has 3 decimal places, but USD allows at most 2`},
		{"1500.123", "AMD", `"1500.123" has 3 decimal places, but AMD allows at most 2`},
		{"1.0001", "KWD", `"1.0001" has 4 decimal places, but KWD allows at most 3`},
		{"1e3", "USD", `expected an amount like "1500.00" (no exponent), got "1e3"`},
		{"1,500.00", "USD", `expected an amount like "1500.00", got "1,500.00"`},
		{"", "USD", `expected an amount like "1500.00", got ""`},
		{"$5", "USD", `expected an amount like "1500.00", got "$5"`},
		{"92233720368547758.08", "USD", `"92233720368547758.08" is too large for an amount in USD`},
		{"-92233720368547758.09", "USD", `"-92233720368547758.09" is too large for an amount in USD`},
		{"99999999999999999999999", "JPY", `"99999999999999999999999" is too large for an amount in JPY`},
		{"1", "ZZZ", `unknown currency "ZZZ"; expected an ISO 4217 code like "USD"`},
		{"1", "", `unknown currency ""; expected an ISO 4217 code like "USD"`},
		{"1", "dollars", `unknown currency "dollars"; expected an ISO 4217 code like "USD"`},
	}
	for _, c := range invalid {
		got, err := ParseMoney(c.amount, c.cur)
		if err == nil || err.Error() != c.msg {
			t.Errorf("ParseMoney(%q, %q) = %v, %v; want error %q", c.amount, c.cur, got, err, c.msg)
		}
	}
}

func TestFormatParseMoneyRoundTrip(t *testing.T) {
	for _, cur := range []string{"USD", "JPY", "KWD", "AMD", "CLF"} {
		for _, minor := range []int64{0, 1, -1, 9, 10, 99, 100, 101, 123456789, -987654321, math.MaxInt64, math.MinInt64, math.MinInt64 + 1} {
			m := Money{minor, cur}
			got, err := ParseMoney(FormatMoney(m), cur)
			if err != nil || got != m {
				t.Errorf("ParseMoney(FormatMoney(%v)) = %v, %v", m, got, err)
			}
		}
	}
}
