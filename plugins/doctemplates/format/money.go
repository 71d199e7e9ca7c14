package format

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// minorDigits are the currencies whose minor unit is not the usual two
// digits (ISO 4217), and IRR, whose rial has no minor unit in use: invoices
// in Iran print whole rials. IRT is the toman that Iranian software writes
// prices in (10 rials), not an ISO code.
var minorDigits = map[string]int{
	"IRR": 0, "IRT": 0,
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0,
	"PYG": 0, "RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// MinorDigits is the number of digits of currency's minor unit: 2 unless
// the table says otherwise (JPY 0, KWD 3, IRR 0).
func MinorDigits(currency string) int {
	if n, ok := minorDigits[strings.ToUpper(currency)]; ok {
		return n
	}
	return 2
}

// symbolAll are the currency symbols CLDR 49 gives in all six languages;
// symbolIn those that one language writes its own way. A currency in
// neither is written with its ISO code.
var (
	symbolAll = map[string]string{"EUR": "€", "GBP": "£", "INR": "₹", "AUD": "A$", "ILS": "₪"}
	symbolIn  = map[string]map[string]string{
		"en": {"USD": "$", "JPY": "¥", "CNY": "CN¥", "CAD": "CA$"},
		"hy": {"AMD": "֏", "USD": "$", "JPY": "JP¥", "CNY": "CN¥", "CAD": "CA$"},
		"lt": {"USD": "$", "JPY": "¥", "CNY": "CN¥", "CAD": "CA$"},
		"az": {"AZN": "₼", "USD": "US$", "JPY": "JP¥", "CNY": "CN¥", "CAD": "CA$"},
		"fa": {"IRR": "ریال", "IRT": "تومان", "USD": "$", "JPY": "¥", "CNY": "¥CN", "CAD": "$CA"},
		"ru": {"RUB": "₽", "UAH": "₴", "USD": "$", "JPY": "¥", "CNY": "CN¥", "CAD": "CA$"},
	}
)

// symbol is how lang writes currency in figures.
func symbol(lang, currency string) string {
	if s, ok := symbolIn[lang][currency]; ok {
		return s
	}
	if s, ok := symbolAll[currency]; ok {
		return s
	}
	return currency
}

// readMoney checks the language, currency and amount of Money and
// MoneyWords, and rounds the amount to the currency's minor digits.
func readMoney(what string, l Locale, amount, currency string) (lg, code string, d decimal, err error) {
	if lg, err = lang(what, l.Lang); err != nil {
		return "", "", decimal{}, err
	}
	if code, err = currencyCode(what, currency); err != nil {
		return "", "", decimal{}, err
	}
	if d, err = parseDecimal(what, "amount", amount); err != nil {
		return "", "", decimal{}, err
	}
	return lg, code, d.round(MinorDigits(code)), nil
}

// currencyCode checks that currency is three ASCII letters and returns it
// in upper case.
func currencyCode(what, currency string) (string, error) {
	if len(currency) != 3 {
		return "", fmt.Errorf("%s: currency %q is not a three-letter ISO 4217 code", what, clip(currency))
	}
	for i := 0; i < 3; i++ {
		c := currency[i] | 0x20
		if c < 'a' || c > 'z' {
			return "", fmt.Errorf("%s: currency %q is not a three-letter ISO 4217 code", what, clip(currency))
		}
	}
	return strings.ToUpper(currency), nil
}

// Money formats a decimal amount string ("1500.5") with its ISO currency in
// the locale's figures, as CLDR 49's standard currency pattern for the
// language has it: grouping, decimal separator, the currency's symbol (or
// its code) and its place, and exactly the currency's minor digits
// (MinorDigits), rounding half away from zero:
//
//	en  USD "$1,500.50"      AMD "AMD 1,500.50"
//	hy  AMD "1500,50 ֏"      (Armenian groups only from five digits)
//	lt  EUR "1 500,50 €"     ru RUB "1 500,50 ₽"     az AZN "1.500,50 ₼"
//	fa  IRR "‎ریال ۱٬۵۰۰"    (Persian digits; starts with U+200E)
//
// The spaces are U+00A0 (no-break space); a negative amount takes the
// language's minus sign ("-", Lithuanian U+2212, Persian U+200E U+2212).
// l.Calendar plays no part.
func Money(l Locale, amount, currency string) (string, error) {
	lg, code, d, err := readMoney("money", l, amount, currency)
	if err != nil {
		return "", err
	}
	s := figures[lg]
	num := s.number(d)
	sym := symbol(lg, code)
	var out string
	switch lg {
	case "en":
		out = sym + spacing(sym) + num
	case "fa":
		out = lrm + sym + spacing(sym) + num
	default:
		out = num + nbsp + sym
	}
	if d.neg {
		out = s.minus + out
	}
	return out, nil
}

// spacing is CLDR's currencySpacing: a symbol that meets the digits with
// a letter ("AMD", "ریال") is kept apart from them by a no-break space, one
// that meets them with a currency sign ("$", "US$") is not. It serves the
// patterns that put the symbol first; the others have the space in them.
func spacing(sym string) string {
	r, _ := utf8.DecodeLastRuneInString(sym)
	if unicode.IsSymbol(r) || unicode.IsSpace(r) {
		return ""
	}
	return nbsp
}
