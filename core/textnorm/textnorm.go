// Package textnorm owns text folding for search: it turns what a record
// holds and what a person types into the same comparable tokens, whatever
// the script, case, diacritics, letter variants or digit set. It must not
// know about storage: the store decides how tokens are kept and looked up.
//
// Folding, in order: NFKD (compatibility decomposition, so ligatures such
// as Armenian և and presentation forms come apart), removal of combining
// marks (ą->a, ė->e, š->s, ğ->g, ё->е, Arabic harakat and hamza above),
// removal of joiners and tatweel (ZWNJ U+200C, ZWJ U+200D, U+0640), explicit
// folds for letters NFKD leaves whole (ə->e, ı->i, ø->o, ß->ss, ł->l, đ->d;
// Arabic ي/ى->ی, ك->ک, ة/ە->ه), every decimal digit to ASCII (Arabic-Indic,
// Persian and any other Unicode digit set), and lower case.
package textnorm

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
	"golang.org/x/text/unicode/norm"
)

// MaxTokenRunes is the longest token kept; longer runs of letters are cut.
const MaxTokenRunes = 64

// folds are the letters NFKD does not decompose, folded by hand.
var folds = map[rune]string{
	'ə': "e", 'Ə': "e", // Azerbaijani schwa
	'ı': "i", // dotless i (Azerbaijani, Turkish)
	'ø': "o", 'Ø': "o",
	'æ': "ae", 'Æ': "ae",
	'œ': "oe", 'Œ': "oe",
	'ß': "ss",
	'ł': "l", 'Ł': "l",
	'đ': "d", 'Đ': "d",
	'ħ': "h", 'Ħ': "h",
	'þ': "th", 'Þ': "th",
	'\u064A': "\u06CC", // Arabic yeh -> Persian yeh
	'\u0649': "\u06CC", // alef maksura -> Persian yeh
	'\u0643': "\u06A9", // Arabic kaf -> keheh
	'\u0629': "\u0647", // teh marbuta -> heh
	'\u06D5': "\u0647", // ae (what ۀ decomposes to) -> heh
	'\u06C1': "\u0647", // heh goal -> heh
}

// drop are removed outright: joiners, tatweel, soft hyphen and apostrophes
// (so "O'Brien" is one token, as people type it either way).
func drop(r rune) bool {
	switch r {
	case '\u200C', '\u200D', '\u0640', '\u00AD', '\u200B', '\uFEFF', '\'', '\u2019', '\u02BC':
		return true
	}
	return false
}

// Fold returns s folded: no marks, no joiners, variants unified, ASCII
// digits, lower case. Separators and punctuation are kept.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Me, r) || drop(r):
			continue
		case unicode.Is(unicode.Nd, r):
			b.WriteByte(byte('0' + digitValue(r)))
			continue
		}
		if f, ok := folds[r]; ok {
			b.WriteString(f)
			continue
		}
		r = unicode.ToLower(r)
		if f, ok := folds[r]; ok {
			b.WriteString(f)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// digitValue is the value of a decimal digit of any script: Unicode lays
// every Nd set out as ten consecutive code points from zero (a few sets sit
// back to back, hence the modulo).
func digitValue(r rune) int {
	if r >= '0' && r <= '9' {
		return int(r - '0')
	}
	z := r
	for z > 0 && r-z < 100 && unicode.Is(unicode.Nd, z-1) {
		z--
	}
	return int(r-z) % 10
}

// Tokens splits s into folded tokens: runs of letters and digits, each at
// most MaxTokenRunes long. The same token may appear twice.
func Tokens(s string) []string {
	f := Fold(s)
	var out []string
	start := -1
	flush := func(end int) {
		if start >= 0 {
			out = append(out, cut(f[start:end]))
			start = -1
		}
	}
	for i, r := range f {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(f))
	return out
}

// cut shortens a token to MaxTokenRunes runes.
func cut(t string) string {
	if utf8.RuneCountInString(t) <= MaxTokenRunes {
		return t
	}
	n := 0
	for i := range t {
		if n == MaxTokenRunes {
			return t[:i]
		}
		n++
	}
	return t
}

// PhoneTokens are the digit strings a stored phone number is found by: its
// E.164 digits without the plus ("37491123456") and, when the number
// parses, its national form with the trunk prefix ("091123456"). A number
// that does not parse gives its digits alone.
func PhoneTokens(phone string) []string {
	d := digits(phone)
	if d == "" {
		return nil
	}
	out := []string{d}
	if num, err := phonenumbers.Parse("+"+d, ""); err == nil {
		if nat := digits(phonenumbers.Format(num, phonenumbers.NATIONAL)); nat != "" && nat != d {
			out = append(out, nat)
		}
	}
	return out
}

// digits returns the decimal digits of s, of any script, as ASCII.
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.Is(unicode.Nd, r) {
			b.WriteByte(byte('0' + digitValue(r)))
		}
	}
	return b.String()
}

// QueryTokens are the tokens of what a person typed into a search box. A
// query made only of digits and what phone numbers are written with
// (spaces, + - . ( ) /) and holding at least three digits is one phone
// token, its digits run together ("091 12 34" -> "0911234"; a leading "00"
// international prefix is dropped). Anything else is Tokens(q), with
// repeats removed.
func QueryTokens(q string) []string {
	if d, ok := phoneQuery(q); ok {
		return []string{d}
	}
	var out []string
	seen := map[string]bool{}
	for _, t := range Tokens(q) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

func phoneQuery(q string) (string, bool) {
	n := 0
	for _, r := range q {
		switch {
		case unicode.Is(unicode.Nd, r):
			n++
		case unicode.IsSpace(r) || strings.ContainsRune("+-.()/", r) || drop(r):
		default:
			return "", false
		}
	}
	if n < 3 {
		return "", false
	}
	d := digits(q)
	if strings.HasPrefix(strings.TrimSpace(q), "00") && len(d) > 4 {
		d = d[2:]
	}
	return d, true
}
