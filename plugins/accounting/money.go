package accounting

import (
	"fmt"
	"math/big"
	"regexp"
	"strings"

	"golang.org/x/text/currency"

	"github.com/crmkit/crm/plugins/doctemplates/format"
)

// Amounts are integer minor units of the currency (cents, luma, whole
// rials), computed in exact rational arithmetic and rounded once per
// step, half away from zero:
//
//	line net   = round(quantity × unit price × (100 − discount %) / 100)
//	line VAT   = round(line net × VAT rate % / 100)
//	line gross = line net + line VAT
//	invoice net, VAT, gross = the sums of its lines' (no rounding at all)
//
// Minor units are those invoices are written in (format.MinorDigits):
// two for AMD, AZN, EUR and RUB, none for IRR (whole rials).

// decimalRe is a plain decimal: an optional minus, digits, an optional
// fraction; no exponent, no grouping.
var decimalRe = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// parseDecimal reads a decimal string exactly.
func parseDecimal(s string) (*big.Rat, error) {
	s = strings.TrimSpace(s)
	if !decimalRe.MatchString(s) {
		return nil, fmt.Errorf("%q is not a decimal number like 12.5", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a decimal number like 12.5", s)
	}
	return r, nil
}

// currencyDigits is the number of minor digits invoices in cur are written
// with, and cur in upper case; an error for a code that is not ISO 4217.
func currencyDigits(cur string) (int, string, error) {
	code := strings.ToUpper(strings.TrimSpace(cur))
	if _, err := currency.ParseISO(code); err != nil || len(code) != 3 {
		return 0, "", fmt.Errorf("unknown currency %q: expected an ISO 4217 code such as AMD, EUR, IRR", cur)
	}
	return format.MinorDigits(code), code, nil
}

// pow10 is 10^n as a big.Int.
func pow10(n int) *big.Int { return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil) }

// toMinor reads an amount in major units ("1500.50") of a currency with
// digits minor digits as minor units, refusing more fractional digits than
// the currency has (trailing zeros aside: "1500.00" IRR is 1500).
func toMinor(amount string, digits int) (int64, error) {
	r, err := parseDecimal(amount)
	if err != nil {
		return 0, err
	}
	r.Mul(r, new(big.Rat).SetInt(pow10(digits)))
	if !r.IsInt() {
		return 0, fmt.Errorf("%s has more decimals than the currency's %d", amount, digits)
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("%s is too large", amount)
	}
	return r.Num().Int64(), nil
}

// formatMinor writes minor units as a decimal string in major units.
func formatMinor(minor int64, digits int) string {
	neg := minor < 0
	abs := new(big.Int).Abs(big.NewInt(minor)).String()
	if digits > 0 {
		if len(abs) <= digits {
			abs = strings.Repeat("0", digits-len(abs)+1) + abs
		}
		abs = abs[:len(abs)-digits] + "." + abs[len(abs)-digits:]
	}
	if neg {
		return "-" + abs
	}
	return abs
}

// roundHalfAway rounds r to an integer, halves away from zero.
func roundHalfAway(r *big.Rat) (int64, error) {
	num := new(big.Int).Abs(r.Num())
	q, rem := new(big.Int).QuoRem(num, r.Denom(), new(big.Int))
	if rem.Mul(rem, big.NewInt(2)).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(1))
	}
	if r.Sign() < 0 {
		q.Neg(q)
	}
	if !q.IsInt64() {
		return 0, fmt.Errorf("the amount %s is too large", r.FloatString(2))
	}
	return q.Int64(), nil
}

// Money is an amount in minor units of a currency.
type Money struct {
	Minor    int64
	Currency string
}

// JSON is the API form of m: {"amount": "1500.00", "currency": "AMD"}.
func (m Money) JSON() map[string]any {
	return map[string]any{"amount": formatMinor(m.Minor, format.MinorDigits(m.Currency)), "currency": m.Currency}
}

// String is "1500.00 AMD".
func (m Money) String() string {
	return formatMinor(m.Minor, format.MinorDigits(m.Currency)) + " " + m.Currency
}

// moneyOf reads a money value in API form; want, when set, is the currency
// it must be in.
func moneyOf(v any) (Money, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Money{}, fmt.Errorf("expected money {\"amount\", \"currency\"}, got %v", v)
	}
	amount, _ := m["amount"].(string)
	cur, _ := m["currency"].(string)
	digits, code, err := currencyDigits(cur)
	if err != nil {
		return Money{}, err
	}
	minor, err := toMinor(amount, digits)
	if err != nil {
		return Money{}, fmt.Errorf("%s %s: %w", amount, code, err)
	}
	return Money{Minor: minor, Currency: code}, nil
}

// LineInput is one invoice line before it is computed.
type LineInput struct {
	Description string
	Product     string // a product's id, or ""
	Quantity    string // decimal, more than 0
	UnitPrice   int64  // minor units of the invoice's currency, 0 or more
	Discount    string // percent, 0 to 100; "" for none
	VATRate     string // percent, 0 to 100
}

// Line is a computed invoice line.
type Line struct {
	LineInput
	Net, VAT, Gross int64
}

// Totals are an invoice's totals: the sums of its lines.
type Totals struct {
	Net, VAT, Gross int64
}

// lineError is a problem with one line's input: the field and what is
// wrong.
type lineError struct {
	Field, Message string
}

func (e *lineError) Error() string { return e.Field + ": " + e.Message }

// percent reads a percentage in [0, 100]; "" is 0.
func percent(field, s string) (*big.Rat, error) {
	if s == "" {
		return new(big.Rat), nil
	}
	r, err := parseDecimal(s)
	if err != nil {
		return nil, &lineError{field, err.Error()}
	}
	if r.Sign() < 0 || r.Cmp(big.NewRat(100, 1)) > 0 {
		return nil, &lineError{field, fmt.Sprintf("%s%% is not between 0 and 100", s)}
	}
	return r, nil
}

// ComputeLine computes one line under the rounding rule.
func ComputeLine(in LineInput) (Line, error) {
	qty, err := parseDecimal(in.Quantity)
	if err != nil {
		return Line{}, &lineError{"quantity", err.Error()}
	}
	if qty.Sign() <= 0 {
		return Line{}, &lineError{"quantity", fmt.Sprintf("the quantity must be more than 0, not %s", in.Quantity)}
	}
	if in.UnitPrice < 0 {
		return Line{}, &lineError{"unit_price", "the unit price must not be negative"}
	}
	disc, err := percent("discount", in.Discount)
	if err != nil {
		return Line{}, err
	}
	vat, err := percent("vat_rate", in.VATRate)
	if err != nil {
		return Line{}, err
	}
	hundred := big.NewRat(100, 1)
	net := new(big.Rat).Mul(qty, new(big.Rat).SetInt64(in.UnitPrice))
	net.Mul(net, new(big.Rat).Sub(hundred, disc))
	net.Quo(net, hundred)
	l := Line{LineInput: in}
	if l.Net, err = roundHalfAway(net); err != nil {
		return Line{}, &lineError{"quantity", err.Error()}
	}
	v := new(big.Rat).Mul(new(big.Rat).SetInt64(l.Net), vat)
	if l.VAT, err = roundHalfAway(v.Quo(v, hundred)); err != nil {
		return Line{}, &lineError{"vat_rate", err.Error()}
	}
	l.Gross = l.Net + l.VAT
	return l, nil
}

// Sum is the totals of lines.
func Sum(lines []Line) Totals {
	var t Totals
	for _, l := range lines {
		t.Net += l.Net
		t.VAT += l.VAT
		t.Gross += l.Gross
	}
	return t
}

// convert converts minor units of a payment in one currency to minor units
// of another at rate (units of to per one unit of from), rounded half away
// from zero.
func convert(minor int64, fromDigits, toDigits int, rate *big.Rat) (int64, error) {
	r := new(big.Rat).SetInt64(minor)
	r.Mul(r, rate)
	r.Mul(r, new(big.Rat).SetInt(pow10(toDigits)))
	r.Quo(r, new(big.Rat).SetInt(pow10(fromDigits)))
	return roundHalfAway(r)
}
