package schema

import "strings"

// Persian and Arabic-Indic digits and separators, which people type in
// Iran, Afghanistan and the Arab world (and a Persian keyboard gives):
// numbers, money amounts, dates and date-times written with them are read
// as their ASCII form. Phones get the same from libphonenumber.
const (
	persianDecimalSep   = '٫' // U+066B ARABIC DECIMAL SEPARATOR, the Persian one
	persianThousandsSep = '٬' // U+066C ARABIC THOUSANDS SEPARATOR
)

// latinDigits returns s with Persian (۰-۹) and Arabic-Indic (٠-٩) digits as
// ASCII digits, the Persian decimal separator ٫ as '.', and the thousands
// separator ٬ between two digits dropped; changed reports whether any was
// there. Nothing else is touched, so every other character is refused (or
// accepted) by the parser as before.
func latinDigits(s string) (out string, changed bool) {
	if !strings.ContainsFunc(s, isEasternNumeral) {
		return s, false
	}
	rs := []rune(s)
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range rs {
		switch {
		case r >= '۰' && r <= '۹':
			b.WriteRune('0' + (r - '۰'))
		case r >= '٠' && r <= '٩':
			b.WriteRune('0' + (r - '٠'))
		case r == persianDecimalSep:
			b.WriteByte('.')
		case r == persianThousandsSep && i > 0 && i+1 < len(rs) && isAnyDigit(rs[i-1]) && isAnyDigit(rs[i+1]):
			// a group separator: left out
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), true
}

func isEasternNumeral(r rune) bool {
	return r >= '۰' && r <= '۹' || r >= '٠' && r <= '٩' || r == persianDecimalSep || r == persianThousandsSep
}

func isAnyDigit(r rune) bool {
	return r >= '0' && r <= '9' || r >= '۰' && r <= '۹' || r >= '٠' && r <= '٩'
}
