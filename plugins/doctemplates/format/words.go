package format

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// speller spells whole numbers in one language.
type speller struct {
	zero, minus string
	// triple spells 1..999; fem asks for the feminine forms of the
	// numerals where the language has them (Russian одна/две, Lithuanian
	// viena/dvi).
	triple func(t int, fem bool) string
	// scales are the words for 10^3, 10^6 ... 10^18 in the language's
	// plural forms (see plural); scaleFem tells which are feminine.
	scales   [][3]string
	scaleFem []bool
	// omitOne leaves out the numeral "one" before a scale word, as
	// Azerbaijani writes 1000 as "min" (but 10^6 as "bir milyon").
	omitOne []bool
	// plural picks the form (0, 1 or 2) that follows the number n.
	plural func(n uint64) int
	// join puts the spelled groups together.
	join string
}

// spell writes n in words; fem asks for the feminine numerals in the last
// group (the one that agrees with the noun after the number).
func (s *speller) spell(n uint64, fem bool) string {
	if n == 0 {
		return s.zero
	}
	var groups []int
	for v := n; v > 0; v /= 1000 {
		groups = append(groups, int(v%1000))
	}
	var parts []string
	for scale := len(groups) - 1; scale >= 0; scale-- {
		t := groups[scale]
		if t == 0 {
			continue
		}
		if scale == 0 {
			parts = append(parts, s.triple(t, fem))
			continue
		}
		word := s.scales[scale-1][s.plural(uint64(t))]
		if t == 1 && s.omitOne != nil && s.omitOne[scale-1] {
			parts = append(parts, word)
			continue
		}
		parts = append(parts, s.triple(t, s.scaleFem != nil && s.scaleFem[scale-1])+" "+word)
	}
	return strings.Join(parts, s.join)
}

// pluralEn picks the form of the word after a number in English: singular for
// exactly one, plural for anything else (zero included).
func pluralEn(n uint64) int {
	if n == 1 {
		return 0
	}
	return 1
}

// pluralRu is the Russian rule: 1, 21, 101 take the singular (рубль),
// 2-4, 22-24 the genitive singular (рубля), the rest and 11-14 the
// genitive plural (рублей).
func pluralRu(n uint64) int {
	switch {
	case n%100 >= 11 && n%100 <= 14:
		return 2
	case n%10 == 1:
		return 0
	case n%10 >= 2 && n%10 <= 4:
		return 1
	}
	return 2
}

// pluralLt is the Lithuanian rule: 1, 21, 101 take the nominative singular
// (euras), 2-9, 22-29 the nominative plural (eurai), 0, 10, 11-19, 20, 30
// the genitive plural (eurų).
func pluralLt(n uint64) int {
	switch {
	case n%100 >= 11 && n%100 <= 19, n%10 == 0:
		return 2
	case n%10 == 1:
		return 0
	}
	return 1
}

// pluralNone is for the languages whose nouns stay singular after a
// numeral: Armenian, Azerbaijani, Persian.
func pluralNone(uint64) int { return 0 }

// same gives one word in all three forms.
func same(w string) [3]string { return [3]string{w, w, w} }

var spellers = map[string]*speller{
	"en": {zero: "zero", minus: "minus", triple: tripleEn, plural: pluralEn, join: " ",
		scales: [][3]string{same("thousand"), same("million"), same("billion"), same("trillion"), same("quadrillion"), same("quintillion")}},
	"ru": {zero: "ноль", minus: "минус", triple: tripleRu, plural: pluralRu, join: " ",
		scales: [][3]string{
			{"тысяча", "тысячи", "тысяч"}, {"миллион", "миллиона", "миллионов"}, {"миллиард", "миллиарда", "миллиардов"},
			{"триллион", "триллиона", "триллионов"}, {"квадриллион", "квадриллиона", "квадриллионов"},
			{"квинтиллион", "квинтиллиона", "квинтиллионов"}},
		scaleFem: []bool{true, false, false, false, false, false}},
	"lt": {zero: "nulis", minus: "minus", triple: tripleLt, plural: pluralLt, join: " ",
		scales: [][3]string{
			{"tūkstantis", "tūkstančiai", "tūkstančių"}, {"milijonas", "milijonai", "milijonų"}, {"milijardas", "milijardai", "milijardų"},
			{"trilijonas", "trilijonai", "trilijonų"}, {"kvadrilijonas", "kvadrilijonai", "kvadrilijonų"},
			{"kvintilijonas", "kvintilijonai", "kvintilijonų"}}},
	"hy": {zero: "զրո", minus: "մինուս", triple: tripleHy, plural: pluralNone, join: " ",
		scales: [][3]string{same("հազար"), same("միլիոն"), same("միլիարդ"), same("տրիլիոն"), same("կվադրիլիոն"), same("կվինտիլիոն")}},
	"az": {zero: "sıfır", minus: "mənfi", triple: tripleAz, plural: pluralNone, join: " ",
		scales:  [][3]string{same("min"), same("milyon"), same("milyard"), same("trilyon"), same("katrilyon"), same("kvintilyon")},
		omitOne: []bool{true, false, false, false, false, false}},
	"fa": {zero: "صفر", minus: "منفی", triple: tripleFa, plural: pluralNone, join: " و ",
		scales: [][3]string{same("هزار"), same("میلیون"), same("میلیارد"), same("تریلیون"), same("کوادریلیون"), same("کوینتیلیون")}},
}

var (
	onesEn = [20]string{"", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
		"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"}
	tensEn = [10]string{"", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"}
)

// tripleEn: 1500 is "one thousand five hundred", 21 "twenty-one", 101
// "one hundred one" (no "and", as cheques and US contracts write it).
func tripleEn(t int, _ bool) string {
	var parts []string
	if h := t / 100; h > 0 {
		parts = append(parts, onesEn[h]+" hundred")
	}
	switch r := t % 100; {
	case r == 0:
	case r < 20:
		parts = append(parts, onesEn[r])
	case r%10 == 0:
		parts = append(parts, tensEn[r/10])
	default:
		parts = append(parts, tensEn[r/10]+"-"+onesEn[r%10])
	}
	return strings.Join(parts, " ")
}

var (
	onesRu = [20]string{"", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь", "девять",
		"десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать", "шестнадцать",
		"семнадцать", "восемнадцать", "девятнадцать"}
	tensRu     = [10]string{"", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят", "восемьдесят", "девяносто"}
	hundredsRu = [10]string{"", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот", "восемьсот", "девятьсот"}
)

// tripleRu: the feminine одна and две agree with тысяча and копейка.
func tripleRu(t int, fem bool) string {
	var parts []string
	if h := t / 100; h > 0 {
		parts = append(parts, hundredsRu[h])
	}
	r := t % 100
	if r >= 20 {
		parts = append(parts, tensRu[r/10])
		r %= 10
	}
	switch {
	case r == 0:
	case fem && r == 1:
		parts = append(parts, "одна")
	case fem && r == 2:
		parts = append(parts, "две")
	default:
		parts = append(parts, onesRu[r])
	}
	return strings.Join(parts, " ")
}

var (
	onesLt = [20]string{"", "vienas", "du", "trys", "keturi", "penki", "šeši", "septyni", "aštuoni", "devyni",
		"dešimt", "vienuolika", "dvylika", "trylika", "keturiolika", "penkiolika", "šešiolika",
		"septyniolika", "aštuoniolika", "devyniolika"}
	onesLtFem = [10]string{"", "viena", "dvi", "trys", "keturios", "penkios", "šešios", "septynios", "aštuonios", "devynios"}
	tensLt    = [10]string{"", "", "dvidešimt", "trisdešimt", "keturiasdešimt", "penkiasdešimt", "šešiasdešimt",
		"septyniasdešimt", "aštuoniasdešimt", "devyniasdešimt"}
)

// tripleLt: 100 is "šimtas", 200 "du šimtai"; 1000 is "vienas
// tūkstantis" as invoices write it.
func tripleLt(t int, fem bool) string {
	var parts []string
	switch h := t / 100; {
	case h == 1:
		parts = append(parts, "šimtas")
	case h > 1:
		parts = append(parts, onesLt[h]+" šimtai")
	}
	r := t % 100
	if r >= 20 {
		parts = append(parts, tensLt[r/10])
		r %= 10
	}
	switch {
	case r == 0:
	case fem && r < 10:
		parts = append(parts, onesLtFem[r])
	default:
		parts = append(parts, onesLt[r])
	}
	return strings.Join(parts, " ")
}

var (
	onesHy = [10]string{"", "մեկ", "երկու", "երեք", "չորս", "հինգ", "վեց", "յոթ", "ութ", "ինը"}
	tensHy = [10]string{"", "տաս", "քսան", "երեսուն", "քառասուն", "հիսուն", "վաթսուն", "յոթանասուն", "ութսուն", "իննսուն"}
)

// tripleHy: tens and units are one word (քսանմեկ, տասնհինգ), 10 alone is
// տասը, 100 is հարյուր, and 1000 is "մեկ հազար" as invoices and contracts
// write it (speech says հազար).
func tripleHy(t int, _ bool) string {
	var parts []string
	switch h := t / 100; {
	case h == 1:
		parts = append(parts, "հարյուր")
	case h > 1:
		parts = append(parts, onesHy[h]+" հարյուր")
	}
	switch r := t % 100; {
	case r == 0:
	case r == 10:
		parts = append(parts, "տասը")
	case r > 10 && r < 20:
		parts = append(parts, "տասն"+onesHy[r%10])
	default:
		parts = append(parts, tensHy[r/10]+onesHy[r%10])
	}
	return strings.Join(parts, " ")
}

var (
	onesAz = [10]string{"", "bir", "iki", "üç", "dörd", "beş", "altı", "yeddi", "səkkiz", "doqquz"}
	tensAz = [10]string{"", "on", "iyirmi", "otuz", "qırx", "əlli", "altmış", "yetmiş", "səksən", "doxsan"}
)

// tripleAz: 100 is yüz, 1000 is min (not "bir min"), 21 is "iyirmi bir".
func tripleAz(t int, _ bool) string {
	var parts []string
	switch h := t / 100; {
	case h == 1:
		parts = append(parts, "yüz")
	case h > 1:
		parts = append(parts, onesAz[h]+" yüz")
	}
	r := t % 100
	if r >= 10 {
		parts = append(parts, tensAz[r/10])
	}
	if r%10 > 0 {
		parts = append(parts, onesAz[r%10])
	}
	return strings.Join(parts, " ")
}

var (
	onesFa = [20]string{"", "یک", "دو", "سه", "چهار", "پنج", "شش", "هفت", "هشت", "نه",
		"ده", "یازده", "دوازده", "سیزده", "چهارده", "پانزده", "شانزده", "هفده", "هجده", "نوزده"}
	tensFa     = [10]string{"", "", "بیست", "سی", "چهل", "پنجاه", "شصت", "هفتاد", "هشتاد", "نود"}
	hundredsFa = [10]string{"", "یکصد", "دویست", "سیصد", "چهارصد", "پانصد", "ششصد", "هفتصد", "هشتصد", "نهصد"}
)

// tripleFa joins its parts with " و ": 123 is "یکصد و بیست و سه". 100 is
// یکصد and 1000 "یک هزار", the forms cheques and invoices in Iran write.
func tripleFa(t int, _ bool) string {
	var parts []string
	if h := t / 100; h > 0 {
		parts = append(parts, hundredsFa[h])
	}
	r := t % 100
	if r >= 20 {
		parts = append(parts, tensFa[r/10])
		r %= 10
	}
	if r > 0 {
		parts = append(parts, onesFa[r])
	}
	return strings.Join(parts, " و ")
}

// NumberWords spells a whole number in the language tag ("en", "ru-RU"),
// with the language's word for minus before a negative one: en 1500 "one
// thousand five hundred", ru 1000 "одна тысяча", lt 15 "penkiolika", hy 21
// "քսանմեկ", az 1000 "min", fa 1500 "یک هزار و پانصد". The whole int64
// range is spelled.
func NumberWords(tag string, n int64) (string, error) {
	lg, err := lang("number words", tag)
	if err != nil {
		return "", err
	}
	return spellers[lg].signed(n < 0, magnitude(n), false), nil
}

// magnitude is |n| as an unsigned number (math.MinInt64 included).
func magnitude(n int64) uint64 {
	if n < 0 {
		return uint64(-(n + 1)) + 1
	}
	return uint64(n)
}

// signed spells n with the minus word before it when neg.
func (s *speller) signed(neg bool, n uint64, fem bool) string {
	out := s.spell(n, fem)
	if neg && n != 0 {
		out = s.minus + " " + out
	}
	return out
}

// MoneyWords spells an amount in words in l.Lang, as contracts and invoices
// print it: the whole units in words with the currency's name in the form
// the number asks for, then the minor units as figures (always with the
// currency's minor digits) and the minor unit's name:
//
//	en  "one thousand five hundred drams 50 luma"
//	ru  "одна тысяча пятьсот рублей 50 копеек", "две тысячи один рубль 00 копеек"
//	lt  "vienas tūkstantis penki šimtai eurų 50 centų"
//	hy  "մեկ հազար հինգ հարյուր դրամ 50 լումա"
//	az  "min beş yüz manat 50 qəpik"
//	fa  "یک هزار و پانصد ریال" (IRR has no minor unit; Persian digits)
//
// The amount is rounded half away from zero to the currency's minor digits
// first. A currency without names here is written with its ISO code and
// its minor units as a fraction ("one thousand GBP 50/100"). The whole
// part must fit an int64.
func MoneyWords(l Locale, amount, currency string) (string, error) {
	lg, code, d, err := readMoney("money words", l, amount, currency)
	if err != nil {
		return "", err
	}
	s, digits := spellers[lg], MinorDigits(code)
	whole, err := strconv.ParseUint(d.int, 10, 64)
	if err != nil || whole > math.MaxInt64 {
		return "", fmt.Errorf("money words: amount %q is too large to spell; the whole part may have at most 19 digits (%d)", clip(amount), int64(math.MaxInt64))
	}
	names, known := currencyNames[lg][code]
	if !known {
		names = currencyName{major: unitName{forms: same(code)}}
	}
	out := s.signed(d.neg, whole, names.major.fem) + " " + names.major.forms[s.plural(whole)]
	if digits == 0 {
		return out, nil
	}
	minor, _ := strconv.ParseUint(d.frac, 10, 64)
	fig := figures[lg].digits(d.frac)
	sep := " "
	if lg == "fa" {
		sep = " و "
	}
	if !known {
		return out + sep + fig + "/" + figures[lg].digits("1"+strings.Repeat("0", digits)), nil
	}
	return out + sep + fig + " " + names.minor.forms[s.plural(minor)], nil
}
