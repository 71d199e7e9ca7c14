package format

import (
	"strings"
	"testing"
)

// The expected figures are CLDR 49's standard currency and decimal
// patterns and symbols for each language (common/main/<lang>.xml), with
// the package's minor digits per currency. \u00a0 is the no-break space
// CLDR puts between the number and the symbol and, for hy, lt and ru,
// between the groups; \u200e is the left-to-right mark of the Persian
// pattern.
func TestMoneyEveryLanguageAndCurrency(t *testing.T) {
	want := map[string]map[string]string{
		"en": {"AMD": "AMD\u00a01,500.50", "IRR": "IRR\u00a01,501", "AZN": "AZN\u00a01,500.50",
			"EUR": "€1,500.50", "RUB": "RUB\u00a01,500.50", "USD": "$1,500.50"},
		"hy": {"AMD": "1500,50\u00a0֏", "IRR": "1501\u00a0IRR", "AZN": "1500,50\u00a0AZN",
			"EUR": "1500,50\u00a0€", "RUB": "1500,50\u00a0RUB", "USD": "1500,50\u00a0$"},
		"lt": {"AMD": "1\u00a0500,50\u00a0AMD", "IRR": "1\u00a0501\u00a0IRR", "AZN": "1\u00a0500,50\u00a0AZN",
			"EUR": "1\u00a0500,50\u00a0€", "RUB": "1\u00a0500,50\u00a0RUB", "USD": "1\u00a0500,50\u00a0$"},
		"az": {"AMD": "1.500,50\u00a0AMD", "IRR": "1.501\u00a0IRR", "AZN": "1.500,50\u00a0₼",
			"EUR": "1.500,50\u00a0€", "RUB": "1.500,50\u00a0RUB", "USD": "1.500,50\u00a0US$"},
		"fa": {"AMD": "\u200eAMD\u00a0۱٬۵۰۰٫۵۰", "IRR": "\u200eریال\u00a0۱٬۵۰۱", "AZN": "\u200eAZN\u00a0۱٬۵۰۰٫۵۰",
			"EUR": "\u200e€۱٬۵۰۰٫۵۰", "RUB": "\u200eRUB\u00a0۱٬۵۰۰٫۵۰", "USD": "\u200e$۱٬۵۰۰٫۵۰"},
		"ru": {"AMD": "1\u00a0500,50\u00a0AMD", "IRR": "1\u00a0501\u00a0IRR", "AZN": "1\u00a0500,50\u00a0AZN",
			"EUR": "1\u00a0500,50\u00a0€", "RUB": "1\u00a0500,50\u00a0₽", "USD": "1\u00a0500,50\u00a0$"},
	}
	for lang, byCur := range want {
		for cur, w := range byCur {
			got, err := Money(Locale{Lang: lang}, "1500.5", cur)
			if err != nil || got != w {
				t.Errorf("Money(%s, 1500.5, %s) = %+q, %v; want %+q", lang, cur, got, err, w)
			}
		}
	}
}

func TestMoney(t *testing.T) {
	tests := []struct {
		lang, amount, cur, want string
	}{
		// Rounding half away from zero to the currency's minor digits.
		{"en", "0.125", "USD", "$0.13"},
		{"en", "-0.125", "USD", "-$0.13"},
		{"en", "0.124", "USD", "$0.12"},
		{"en", "999.995", "EUR", "€1,000.00"},
		{"en", "-0.001", "USD", "$0.00"}, // rounds to zero: no sign
		{"en", "2.5", "IRR", "IRR\u00a03"},
		{"en", "1234.5678", "KWD", "KWD\u00a01,234.568"},
		{"en", "1500", "JPY", "¥1,500"},
		{"en", "1500", "CHF", "CHF\u00a01,500.00"},
		{"en", "1500", "usd", "$1,500.00"},
		{"en", "0", "USD", "$0.00"},
		{"en", ".5", "USD", "$0.50"},
		{"en", "+7.", "USD", "$7.00"},
		{"en", "000123", "USD", "$123.00"},
		{"en", "12345678901234567890123.456", "USD", "$12,345,678,901,234,567,890,123.46"},
		// Negative amounts take the language's minus sign.
		{"en", "-1500.5", "USD", "-$1,500.50"},
		{"lt", "-1500.5", "EUR", "\u22121\u00a0500,50\u00a0€"},
		{"ru", "-1500.5", "RUB", "-1\u00a0500,50\u00a0₽"},
		{"fa", "-1500", "IRR", "\u200e\u2212\u200eریال\u00a0۱٬۵۰۰"},
		{"az", "-1234567.5", "AZN", "-1.234.567,50\u00a0₼"},
		// Armenian groups from five digits on (CLDR minimumGroupingDigits 2).
		{"hy", "15000", "AMD", "15\u00a0000,00\u00a0֏"},
		{"hy", "-1234567.5", "AMD", "-1\u00a0234\u00a0567,50\u00a0֏"},
		// A symbol ending in a letter is kept apart from the digits.
		{"en", "1", "CNY", "CN¥1.00"},
		{"fa", "1", "CNY", "\u200e¥CN\u00a0۱٫۰۰"},
		{"fa", "1500", "IRT", "\u200eتومان\u00a0۱٬۵۰۰"},
		// Region and case of the language tag are ignored.
		{"ru-RU", "1", "RUB", "1,00\u00a0₽"},
		{"FA_ir", "1", "USD", "\u200e$۱٫۰۰"},
	}
	for _, tt := range tests {
		got, err := Money(Locale{Lang: tt.lang}, tt.amount, tt.cur)
		if err != nil || got != tt.want {
			t.Errorf("Money(%s, %q, %s) = %+q, %v; want %+q", tt.lang, tt.amount, tt.cur, got, err, tt.want)
		}
	}
}

func TestNumber(t *testing.T) {
	tests := []struct{ lang, in, want string }{
		{"en", "1500.50", "1,500.50"},
		{"en", "1234567", "1,234,567"},
		{"en", "-0.000", "0.000"},
		{"en", "999", "999"},
		{"hy", "1500.5", "1500,5"},
		{"hy", "12345.5", "12\u00a0345,5"},
		{"lt", "1500.50", "1\u00a0500,50"},
		{"lt", "-3", "\u22123"},
		{"az", "1500.50", "1.500,50"},
		{"fa", "1500.50", "۱٬۵۰۰٫۵۰"},
		{"fa", "-12", "\u200e\u2212۱۲"},
		{"ru", "1500.50", "1\u00a0500,50"},
		{"ru", "0.5", "0,5"},
	}
	for _, tt := range tests {
		got, err := Number(Locale{Lang: tt.lang}, tt.in)
		if err != nil || got != tt.want {
			t.Errorf("Number(%s, %q) = %+q, %v; want %+q", tt.lang, tt.in, got, err, tt.want)
		}
	}
}

func TestMoneyErrorsNameTheValue(t *testing.T) {
	tests := []struct {
		lang, amount, cur, want string
	}{
		{"en", "1,5x", "USD", `money: amount "1,5x" is not a decimal`},
		{"en", "", "USD", `money: amount "" is not a decimal`},
		{"en", "-", "USD", `money: amount "-" is not a decimal`},
		{"en", ".", "USD", `money: amount "." is not a decimal`},
		{"en", "1.2.3", "USD", `money: amount "1.2.3" is not a decimal`},
		{"en", "1e5", "USD", `money: amount "1e5" is not a decimal`},
		{"en", " 1", "USD", `money: amount " 1" is not a decimal`},
		{"en", "١٢", "USD", `money: amount "١٢" is not a decimal`},
		{"en", strings.Repeat("9", 500), "USD", `is not a decimal of at most 400 characters`},
		{"en", "1", "US", `money: currency "US" is not a three-letter ISO 4217 code`},
		{"en", "1", "U$D", `money: currency "U$D" is not a three-letter ISO 4217 code`},
		{"de", "1", "EUR", `money: language "de" is not supported; expected one of en, hy, lt, az, fa, ru`},
		{"", "1", "EUR", `money: language "" is not supported`},
	}
	for _, tt := range tests {
		got, err := Money(Locale{Lang: tt.lang}, tt.amount, tt.cur)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Money(%q, %q, %q) = %q, %v; want an error containing %q", tt.lang, tt.amount, tt.cur, got, err, tt.want)
		}
	}
	if _, err := Number(Locale{Lang: "en"}, "12a"); err == nil || err.Error() != `number: value "12a" is not a decimal (write digits with one '.' and no grouping, as in "1500.50")` {
		t.Errorf("Number(12a) error = %v", err)
	}
}

func TestMinorDigits(t *testing.T) {
	for cur, want := range map[string]int{"AMD": 2, "IRR": 0, "AZN": 2, "EUR": 2, "RUB": 2, "USD": 2, "JPY": 0, "KWD": 3, "CLF": 4, "XYZ": 2, "jpy": 0} {
		if got := MinorDigits(cur); got != want {
			t.Errorf("MinorDigits(%s) = %d; want %d", cur, got, want)
		}
	}
}
