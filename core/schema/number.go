package schema

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/text/currency"
)

// Decimal is an exact decimal number in canonical text form ("12.5", "-3",
// "0.001"; no exponent, no leading '+', no superfluous zeros).
type Decimal string

// MaxDecimalDigits is the largest number of digits (integer and fractional
// together) that a Decimal may have.
const MaxDecimalDigits = 64

// Float64 returns the nearest float64 to d, or 0 if d is not a valid decimal.
func (d Decimal) Float64() float64 {
	f, err := strconv.ParseFloat(string(d), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return f // ±Inf or 0, the nearest representable value
		}
		return 0
	}
	return f
}

// String returns d's text.
func (d Decimal) String() string { return string(d) }

// ParseDecimal parses s as an exact decimal number and returns its canonical
// form. It accepts an optional sign, digits with an optional fraction, and an
// optional exponent ("1.50", "-0.25", "+3", "1e3", "12.5E-1"); it rejects
// anything else, including spaces, and numbers that need more than
// MaxDecimalDigits digits when written out.
func ParseDecimal(s string) (Decimal, error) {
	n, err := parseNumber(s, true)
	if err != nil {
		if errors.Is(err, errExponentRange) {
			return "", fmt.Errorf("expected a decimal number of at most %d digits, got %s", MaxDecimalDigits, quote(s))
		}
		return "", fmt.Errorf("expected a decimal number like \"12.5\", got %s", quote(s))
	}
	if n.digitCount() > MaxDecimalDigits {
		return "", fmt.Errorf("expected a decimal number of at most %d digits, got %s", MaxDecimalDigits, quote(s))
	}
	return Decimal(n.text()), nil
}

// Money is an exact amount of money: integer minor units of an ISO 4217 currency.
type Money struct {
	Minor    int64
	Currency string
}

// String returns the amount and the currency, e.g. "1500.00 USD".
func (m Money) String() string { return FormatMoney(m) + " " + m.Currency }

// Float64 returns the nearest float64 to the amount in major units.
func (m Money) Float64() float64 { return Decimal(FormatMoney(m)).Float64() }

// CurrencyDigits returns the number of minor digits of an ISO 4217 currency
// code as golang.org/x/text/currency knows it (USD 2, JPY 0, KWD 3; AMD and
// IRR 0 there, although ISO 4217 says 2), and the code in upper case.
func CurrencyDigits(code string) (digits int, canonical string, err error) {
	if len(code) != 3 || !isASCIILetters(code) {
		return 0, "", fmt.Errorf("unknown currency %s; expected an ISO 4217 code like \"USD\"", quote(code))
	}
	u, err := currency.ParseISO(code)
	if err != nil {
		return 0, "", fmt.Errorf("unknown currency %s; expected an ISO 4217 code like \"USD\"", quote(code))
	}
	if d, ok := isoDigits[u.String()]; ok {
		return d, u.String(), nil
	}
	scale, _ := currency.Standard.Rounding(u)
	return scale, u.String(), nil
}

// isoDigits are the ISO 4217 minor units of the currencies for which CLDR
// (and so x/text) uses fewer digits in practice. Money is kept in ISO minor
// units, so that "1500.50" AMD is exact, as ISO 4217 defines the dram.
var isoDigits = map[string]int{
	"AMD": 2, "IRR": 2, "IQD": 3, "RSD": 2, "ALL": 2, "AFN": 2, "LBP": 2, "SYP": 2, "YER": 2,
	"MMK": 2, "LAK": 2, "KPW": 2, "SOS": 2, "MGA": 2, "UZS": 2, "COP": 2, "IDR": 2, "PKR": 2,
	"MNT": 2, "TZS": 2,
}

// moneyScale is the scale used to format and read stored amounts: the
// currency's digits, or 2 for a code x/text does not know.
func moneyScale(code string) int {
	d, _, err := CurrencyDigits(code)
	if err != nil {
		return 2
	}
	return d
}

// FormatMoney returns the amount of m as a decimal string with the currency's
// minor digits, e.g. {150000, "USD"} -> "1500.00", {1500, "JPY"} -> "1500",
// {1500, "KWD"} -> "1.500". A currency it does not know gets 2 digits.
func FormatMoney(m Money) string {
	return formatMinor(m.Minor, moneyScale(m.Currency))
}

func formatMinor(minor int64, scale int) string {
	neg := minor < 0
	abs := uint64(minor)
	if neg {
		abs = -abs // two's complement: correct for math.MinInt64 too
	}
	digits := strconv.FormatUint(abs, 10)
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if scale == 0 {
		b.WriteString(digits)
		return b.String()
	}
	b.WriteString(digits[:len(digits)-scale])
	b.WriteByte('.')
	b.WriteString(digits[len(digits)-scale:])
	return b.String()
}

// ParseMoney parses an amount in major units ("1500.00", "-12.5", "3") of the
// given ISO 4217 currency exactly. It fails if the amount has more fractional
// digits than the currency allows (trailing zeros do not count: "1500.00" is
// 1500 JPY), if the currency is unknown, if the amount is not a plain decimal
// (no exponent) or if it does not fit in int64 minor units. The currency code
// may be given in lower case; the result has it in upper case.
func ParseMoney(amount, currencyCode string) (Money, error) {
	scale, code, err := CurrencyDigits(currencyCode)
	if err != nil {
		return Money{}, err
	}
	minor, err := parseMinor(amount, code, scale)
	if err != nil {
		return Money{}, err
	}
	return Money{Minor: minor, Currency: code}, nil
}

func parseMinor(amount, code string, scale int) (int64, error) {
	n, err := parseNumber(amount, false)
	if err != nil {
		if errors.Is(err, errExponent) {
			return 0, fmt.Errorf("expected an amount like \"1500.00\" (no exponent), got %s", quote(amount))
		}
		return 0, fmt.Errorf("expected an amount like \"1500.00\", got %s", quote(amount))
	}
	if n.coef == "" {
		return 0, nil
	}
	if places := -n.exp; places > scale {
		if scale == 0 {
			return 0, fmt.Errorf("%s has %s, but %s has no minor units", quote(amount), plural(places, "decimal place"), code)
		}
		return 0, fmt.Errorf("%s has %s, but %s allows at most %d", quote(amount), plural(places, "decimal place"), code, scale)
	}
	v, ok := n.int64Shift(scale)
	if !ok {
		return 0, fmt.Errorf("%s is too large for an amount in %s", quote(amount), code)
	}
	return v, nil
}

var (
	errSyntax        = errors.New("not a number")
	errExponent      = errors.New("exponent not allowed")
	errExponentRange = errors.New("exponent out of range")
)

// number is an exact decimal number: (-1 if neg) × coef × 10^exp, where coef
// is a string of digits without leading or trailing zeros, empty for zero.
type number struct {
	neg  bool
	coef string
	exp  int
}

// parseNumber reads [+-]? digits ('.' digits)? ([eE] [+-]? digits)? exactly.
// The exponent is allowed only when allowExp is true, and its magnitude must
// stay below one million.
func parseNumber(s string, allowExp bool) (number, error) {
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	intPart := s[start:i]
	if intPart == "" {
		return number{}, errSyntax
	}
	var frac string
	if i < len(s) && s[i] == '.' {
		i++
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		frac = s[start:i]
		if frac == "" {
			return number{}, errSyntax
		}
	}
	exp := 0
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		if !allowExp {
			return number{}, errExponent
		}
		i++
		eneg := false
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			eneg = s[i] == '-'
			i++
		}
		start = i
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if start == i {
			return number{}, errSyntax
		}
		ed := strings.TrimLeft(s[start:i], "0")
		if len(ed) > 6 {
			if i != len(s) {
				return number{}, errSyntax
			}
			return number{}, errExponentRange
		}
		if ed != "" {
			exp, _ = strconv.Atoi(ed) // at most 6 digits: cannot fail
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(s) {
		return number{}, errSyntax
	}
	coef := strings.TrimLeft(intPart, "0") + frac
	if coef == frac {
		coef = strings.TrimLeft(frac, "0")
	}
	exp -= len(frac)
	end := len(coef)
	for end > 0 && coef[end-1] == '0' {
		end--
	}
	exp += len(coef) - end
	coef = coef[:end]
	if coef == "" {
		return number{}, nil
	}
	return number{neg: neg, coef: coef, exp: exp}, nil
}

// digitCount is the number of digits n has when written out without an
// exponent, not counting a lone leading "0" before the point.
func (n number) digitCount() int {
	if n.coef == "" {
		return 1
	}
	if n.exp >= 0 {
		return len(n.coef) + n.exp
	}
	return max(len(n.coef), -n.exp)
}

// text is the canonical decimal text of n. Callers bound digitCount first.
func (n number) text() string {
	if n.coef == "" {
		return "0"
	}
	var b strings.Builder
	if n.neg {
		b.WriteByte('-')
	}
	switch k := len(n.coef) + n.exp; {
	case n.exp >= 0:
		b.WriteString(n.coef)
		b.WriteString(strings.Repeat("0", n.exp))
	case k > 0:
		b.WriteString(n.coef[:k])
		b.WriteByte('.')
		b.WriteString(n.coef[k:])
	default:
		b.WriteString("0.")
		b.WriteString(strings.Repeat("0", -k))
		b.WriteString(n.coef)
	}
	return b.String()
}

// int64Shift returns n × 10^shift if that is an integer within int64.
func (n number) int64Shift(shift int) (int64, bool) {
	if n.coef == "" {
		return 0, true
	}
	e := n.exp + shift
	if e < 0 || len(n.coef)+e > 19 {
		return 0, false
	}
	s := n.coef + strings.Repeat("0", e)
	if n.neg {
		s = "-" + s
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

// isInteger reports whether n has no fractional part.
func (n number) isInteger() bool { return n.coef == "" || n.exp >= 0 }

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isASCIILetters(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
