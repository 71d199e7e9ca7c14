package format

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// decimal is a parsed decimal string: a sign, the digits before the point
// without leading zeros ("0" for none) and the digits after it as written.
type decimal struct {
	neg  bool
	int  string
	frac string
}

// maxDecimalLen bounds the decimal strings the package reads, so that a
// huge input costs no more than a short error.
const maxDecimalLen = 400

// parseDecimal reads "1500.5", "-12", "+0.05", ".5" or "7.": an optional
// sign, ASCII digits and at most one point, with at least one digit. what
// and name make the error: `money: amount "1,5x" is not a decimal`.
func parseDecimal(what, name, s string) (decimal, error) {
	bad := func(why string) (decimal, error) {
		return decimal{}, fmt.Errorf("%s: %s %q is not a decimal%s", what, name, clip(s), why)
	}
	if len(s) > maxDecimalLen {
		return bad(fmt.Sprintf(" of at most %d characters", maxDecimalLen))
	}
	var d decimal
	body := s
	if body != "" && (body[0] == '-' || body[0] == '+') {
		d.neg = body[0] == '-'
		body = body[1:]
	}
	intPart, fracPart, _ := strings.Cut(body, ".")
	if intPart == "" && fracPart == "" {
		return bad("")
	}
	for _, part := range []string{intPart, fracPart} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return bad(" (write digits with one '.' and no grouping, as in \"1500.50\")")
			}
		}
	}
	d.int = strings.TrimLeft(intPart, "0")
	if d.int == "" {
		d.int = "0"
	}
	d.frac = fracPart
	return d, nil
}

// clip shortens a value quoted in an error.
func clip(s string) string {
	const max = 40
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// isZero reports whether every digit of d is 0.
func (d decimal) isZero() bool {
	return d.int == "0" && strings.Trim(d.frac, "0") == ""
}

// round returns d with exactly places digits after the point, rounding
// half away from zero as invoices do (0.125 is 0.13, -0.125 is -0.13).
// A value that rounds to zero loses its sign.
func (d decimal) round(places int) decimal {
	frac := d.frac
	if len(frac) <= places {
		d.frac = frac + strings.Repeat("0", places-len(frac))
		if d.isZero() {
			d.neg = false
		}
		return d
	}
	up := frac[places] >= '5'
	digits := []byte(d.int + frac[:places])
	if up {
		i := len(digits) - 1
		for ; i >= 0 && digits[i] == '9'; i-- {
			digits[i] = '0'
		}
		if i >= 0 {
			digits[i]++
		} else {
			digits = append([]byte{'1'}, digits...)
		}
	}
	n := len(digits) - places
	d.int = strings.TrimLeft(string(digits[:n]), "0")
	if d.int == "" {
		d.int = "0"
	}
	d.frac = string(digits[n:])
	if d.isZero() {
		d.neg = false
	}
	return d
}

// symbols are the figures of one language, after CLDR 49
// (common/main/<lang>.xml, numbers for the default numbering system).
type symbols struct {
	decimal, group string
	minus          string
	// minGrouping is CLDR's minimumGroupingDigits: with 2 (Armenian) a
	// four-digit whole part stays ungrouped, "1500,50" but "15 000,00".
	minGrouping int
	// persian writes the digits ۰..۹ (U+06F0..U+06F9).
	persian bool
}

const (
	nbsp = "\u00a0" // no-break space
	lrm  = "\u200e" // left-to-right mark
)

// figures are the number symbols of each language.
var figures = map[string]symbols{
	"en": {decimal: ".", group: ",", minus: "-", minGrouping: 1},
	"hy": {decimal: ",", group: nbsp, minus: "-", minGrouping: 2},
	"lt": {decimal: ",", group: nbsp, minus: "\u2212", minGrouping: 1},
	"az": {decimal: ",", group: ".", minus: "-", minGrouping: 1},
	"fa": {decimal: "\u066b", group: "\u066c", minus: lrm + "\u2212", minGrouping: 1, persian: true},
	"ru": {decimal: ",", group: nbsp, minus: "-", minGrouping: 1},
}

// groupDigits writes the whole part digits with the group separator every
// three digits, unless the part is shorter than 3+minGrouping digits.
func (s symbols) groupDigits(digits string) string {
	if len(digits) < 3+s.minGrouping {
		return digits
	}
	var b strings.Builder
	first := len(digits) % 3
	if first == 0 {
		first = 3
	}
	b.WriteString(digits[:first])
	for i := first; i < len(digits); i += 3 {
		b.WriteString(s.group)
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// number writes d's digits (not its sign) in the language's figures.
func (s symbols) number(d decimal) string {
	out := s.groupDigits(d.int)
	if d.frac != "" {
		out += s.decimal + d.frac
	}
	return s.digits(out)
}

// digits replaces ASCII digits by the language's digits.
func (s symbols) digits(text string) string {
	if !s.persian {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) * 2)
	for _, r := range text {
		if r >= '0' && r <= '9' {
			r = '۰' + (r - '0')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Number formats a decimal string in l's language: grouping, decimal
// separator, minus sign and digits, with every fraction digit written as
// given ("1500.50" stays two places): en "1,500.50", ru "1 500,50" (with
// U+00A0), fa "۱٬۵۰۰٫۵۰". l.Calendar plays no part.
func Number(l Locale, decimal string) (string, error) {
	lg, err := lang("number", l.Lang)
	if err != nil {
		return "", err
	}
	d, err := parseDecimal("number", "value", decimal)
	if err != nil {
		return "", err
	}
	if d.isZero() {
		d.neg = false
	}
	s := figures[lg]
	out := s.number(d)
	if d.neg {
		out = s.minus + out
	}
	return out, nil
}
