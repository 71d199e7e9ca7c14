package format

import (
	"math"
	"strings"
	"testing"
)

func TestNumberWords(t *testing.T) {
	tests := []struct {
		lang string
		n    int64
		want string
	}{
		{"en", 0, "zero"},
		{"en", 7, "seven"},
		{"en", 15, "fifteen"},
		{"en", 40, "forty"},
		{"en", 99, "ninety-nine"},
		{"en", 101, "one hundred one"},
		{"en", 1500, "one thousand five hundred"},
		{"en", 1000001, "one million one"},
		{"en", -42, "minus forty-two"},
		{"en", math.MaxInt64, "nine quintillion two hundred twenty-three quadrillion three hundred seventy-two trillion thirty-six billion eight hundred fifty-four million seven hundred seventy-five thousand eight hundred seven"},
		{"en", math.MinInt64, "minus nine quintillion two hundred twenty-three quadrillion three hundred seventy-two trillion thirty-six billion eight hundred fifty-four million seven hundred seventy-five thousand eight hundred eight"},

		// Russian: тысяча is feminine (одна, две), миллион masculine;
		// 1 / 2-4 / 5-20 take тысяча / тысячи / тысяч, 11-14 тысяч.
		{"ru", 0, "ноль"},
		{"ru", 1, "один"},
		{"ru", 2, "два"},
		{"ru", 1000, "одна тысяча"},
		{"ru", 1500, "одна тысяча пятьсот"},
		{"ru", 2000, "две тысячи"},
		{"ru", 4000, "четыре тысячи"},
		{"ru", 5000, "пять тысяч"},
		{"ru", 11000, "одиннадцать тысяч"},
		{"ru", 12000, "двенадцать тысяч"},
		{"ru", 21000, "двадцать одна тысяча"},
		{"ru", 22000, "двадцать две тысячи"},
		{"ru", 111000, "сто одиннадцать тысяч"},
		{"ru", 1000000, "один миллион"},
		{"ru", 2000000, "два миллиона"},
		{"ru", 5000000, "пять миллионов"},
		{"ru", 2002002, "два миллиона две тысячи два"},
		{"ru", 1000000000, "один миллиард"},
		{"ru", 940, "девятьсот сорок"},
		{"ru", -19, "минус девятнадцать"},

		// Lithuanian: vienas tūkstantis, du tūkstančiai, 10-19 and round
		// tens take the genitive plural tūkstančių.
		{"lt", 0, "nulis"},
		{"lt", 100, "šimtas"},
		{"lt", 200, "du šimtai"},
		{"lt", 1000, "vienas tūkstantis"},
		{"lt", 1500, "vienas tūkstantis penki šimtai"},
		{"lt", 2000, "du tūkstančiai"},
		{"lt", 9000, "devyni tūkstančiai"},
		{"lt", 10000, "dešimt tūkstančių"},
		{"lt", 15000, "penkiolika tūkstančių"},
		{"lt", 20000, "dvidešimt tūkstančių"},
		{"lt", 21000, "dvidešimt vienas tūkstantis"},
		{"lt", 111000, "šimtas vienuolika tūkstančių"},
		{"lt", 3000000, "trys milijonai"},
		{"lt", -5, "minus penki"},

		// Armenian: compounds in one word, "մեկ հազար" in full.
		{"hy", 10, "տասը"},
		{"hy", 15, "տասնհինգ"},
		{"hy", 21, "քսանմեկ"},
		{"hy", 100, "հարյուր"},
		{"hy", 1000, "մեկ հազար"},
		{"hy", 1500, "մեկ հազար հինգ հարյուր"},
		{"hy", 2310, "երկու հազար երեք հարյուր տասը"},
		{"hy", 1000000, "մեկ միլիոն"},
		{"hy", -3, "մինուս երեք"},

		// Azerbaijani: min for 1000, bir milyon.
		{"az", 0, "sıfır"},
		{"az", 1000, "min"},
		{"az", 1500, "min beş yüz"},
		{"az", 2021, "iki min iyirmi bir"},
		{"az", 1000000, "bir milyon"},
		{"az", 1001000, "bir milyon min"},
		{"az", -60, "mənfi altmış"},

		// Persian: every part joined with " و ".
		{"fa", 0, "صفر"},
		{"fa", 100, "یکصد"},
		{"fa", 123, "یکصد و بیست و سه"},
		{"fa", 1000, "یک هزار"},
		{"fa", 1500, "یک هزار و پانصد"},
		{"fa", 2000000, "دو میلیون"},
		{"fa", 1001001, "یک میلیون و یک هزار و یک"},
		{"fa", -7, "منفی هفت"},
	}
	for _, tt := range tests {
		got, err := NumberWords(tt.lang, tt.n)
		if err != nil || got != tt.want {
			t.Errorf("NumberWords(%s, %d) = %q, %v; want %q", tt.lang, tt.n, got, err, tt.want)
		}
	}
	if _, err := NumberWords("xx", 1); err == nil || !strings.Contains(err.Error(), `language "xx" is not supported`) {
		t.Errorf("NumberWords(xx) error = %v", err)
	}
}

// TestMoneyWordsEveryLanguageAndCurrency spells 1500.50 of each currency
// in each language, as an invoice prints it.
func TestMoneyWordsEveryLanguageAndCurrency(t *testing.T) {
	want := map[string]map[string]string{
		"en": {
			"AMD": "one thousand five hundred drams 50 luma",
			"IRR": "one thousand five hundred one rials",
			"AZN": "one thousand five hundred manat 50 qapik",
			"EUR": "one thousand five hundred euros 50 cents",
			"RUB": "one thousand five hundred rubles 50 kopecks",
			"USD": "one thousand five hundred US dollars 50 cents",
		},
		"ru": {
			"AMD": "одна тысяча пятьсот драмов 50 лум",
			"IRR": "одна тысяча пятьсот один риал",
			"AZN": "одна тысяча пятьсот манатов 50 гяпиков",
			"EUR": "одна тысяча пятьсот евро 50 центов",
			"RUB": "одна тысяча пятьсот рублей 50 копеек",
			"USD": "одна тысяча пятьсот долларов США 50 центов",
		},
		"lt": {
			"AMD": "vienas tūkstantis penki šimtai dramų 50 lumų",
			"IRR": "vienas tūkstantis penki šimtai vienas rialas",
			"AZN": "vienas tūkstantis penki šimtai manatų 50 kepikų",
			"EUR": "vienas tūkstantis penki šimtai eurų 50 centų",
			"RUB": "vienas tūkstantis penki šimtai rublių 50 kapeikų",
			"USD": "vienas tūkstantis penki šimtai JAV dolerių 50 centų",
		},
		"hy": {
			"AMD": "մեկ հազար հինգ հարյուր դրամ 50 լումա",
			"IRR": "մեկ հազար հինգ հարյուր մեկ ռիալ",
			"AZN": "մեկ հազար հինգ հարյուր մանաթ 50 գյապիկ",
			"EUR": "մեկ հազար հինգ հարյուր եվրո 50 ցենտ",
			"RUB": "մեկ հազար հինգ հարյուր ռուբլի 50 կոպեկ",
			"USD": "մեկ հազար հինգ հարյուր ԱՄՆ դոլար 50 ցենտ",
		},
		"az": {
			"AMD": "min beş yüz dram 50 luma",
			"IRR": "min beş yüz bir rial",
			"AZN": "min beş yüz manat 50 qəpik",
			"EUR": "min beş yüz avro 50 sent",
			"RUB": "min beş yüz rubl 50 qəpik",
			"USD": "min beş yüz ABŞ dolları 50 sent",
		},
		"fa": {
			"AMD": "یک هزار و پانصد درام و ۵۰ لوما",
			"IRR": "یک هزار و پانصد و یک ریال",
			"AZN": "یک هزار و پانصد منات و ۵۰ قپیک",
			"EUR": "یک هزار و پانصد یورو و ۵۰ سنت",
			"RUB": "یک هزار و پانصد روبل و ۵۰ کوپک",
			"USD": "یک هزار و پانصد دلار آمریکا و ۵۰ سنت",
		},
	}
	for lang, byCur := range want {
		for cur, w := range byCur {
			got, err := MoneyWords(Locale{Lang: lang}, "1500.50", cur)
			if err != nil || got != w {
				t.Errorf("MoneyWords(%s, 1500.50, %s) = %q, %v; want %q", lang, cur, got, err, w)
			}
		}
	}
}

func TestMoneyWordsForms(t *testing.T) {
	tests := []struct {
		lang, amount, cur, want string
	}{
		// Russian: рубль / рубля / рублей and копейка / копейки / копеек.
		{"ru", "1", "RUB", "один рубль 00 копеек"},
		{"ru", "2.01", "RUB", "два рубля 01 копейка"},
		{"ru", "5.02", "RUB", "пять рублей 02 копейки"},
		{"ru", "11.11", "RUB", "одиннадцать рублей 11 копеек"},
		{"ru", "21.21", "RUB", "двадцать один рубль 21 копейка"},
		{"ru", "22.22", "RUB", "двадцать два рубля 22 копейки"},
		{"ru", "114.14", "RUB", "сто четырнадцать рублей 14 копеек"},
		{"ru", "1000", "RUB", "одна тысяча рублей 00 копеек"},
		{"ru", "2001", "RUB", "две тысячи один рубль 00 копеек"},
		{"ru", "0", "RUB", "ноль рублей 00 копеек"},
		{"ru", "-1500.5", "RUB", "минус одна тысяча пятьсот рублей 50 копеек"},
		{"ru", "3", "USD", "три доллара США 00 центов"},
		{"ru", "1", "EUR", "один евро 00 центов"},
		{"ru", "1.01", "AMD", "один драм 01 лума"},
		{"ru", "4.03", "AMD", "четыре драма 03 лумы"},

		// Lithuanian: euras / eurai / eurų, 11-19 and round tens genitive.
		{"lt", "1", "EUR", "vienas euras 00 centų"},
		{"lt", "2.01", "EUR", "du eurai 01 centas"},
		{"lt", "9.09", "EUR", "devyni eurai 09 centai"},
		{"lt", "10.10", "EUR", "dešimt eurų 10 centų"},
		{"lt", "11.11", "EUR", "vienuolika eurų 11 centų"},
		{"lt", "19.19", "EUR", "devyniolika eurų 19 centų"},
		{"lt", "21.21", "EUR", "dvidešimt vienas euras 21 centas"},
		{"lt", "22.22", "EUR", "dvidešimt du eurai 22 centai"},
		{"lt", "111", "EUR", "šimtas vienuolika eurų 00 centų"},
		{"lt", "1000", "EUR", "vienas tūkstantis eurų 00 centų"},
		{"lt", "2000", "EUR", "du tūkstančiai eurų 00 centų"},
		{"lt", "12000", "EUR", "dvylika tūkstančių eurų 00 centų"},
		{"lt", "3.02", "RUB", "trys rubliai 02 kapeikos"},

		// English: singular for one only.
		{"en", "1.01", "USD", "one US dollar 01 cent"},
		{"en", "0", "EUR", "zero euros 00 cents"},
		{"en", "2", "AMD", "two drams 00 luma"},

		// IRR has no minor unit: rounded to whole rials.
		{"fa", "1500", "IRR", "یک هزار و پانصد ریال"},
		{"fa", "1499.5", "IRR", "یک هزار و پانصد ریال"},
		{"fa", "0", "IRR", "صفر ریال"},
		{"fa", "-20", "IRR", "منفی بیست ریال"},
		{"fa", "1500", "IRT", "یک هزار و پانصد تومان"},
		{"en", "1500", "IRR", "one thousand five hundred rials"},

		// Rounding carries into the whole units.
		{"en", "1.995", "USD", "two US dollars 00 cents"},
		{"en", "-0.004", "USD", "zero US dollars 00 cents"},

		// Currencies without names: the code and a fraction.
		{"en", "1500.5", "GBP", "one thousand five hundred GBP 50/100"},
		{"en", "7.125", "KWD", "seven KWD 125/1000"},
		{"ru", "5", "JPY", "пять JPY"},
		{"fa", "2.5", "GBP", "دو GBP و ۵۰/۱۰۰"},

		// The whole int64 range.
		{"en", "9223372036854775807.99", "USD", "nine quintillion two hundred twenty-three quadrillion three hundred seventy-two trillion thirty-six billion eight hundred fifty-four million seven hundred seventy-five thousand eight hundred seven US dollars 99 cents"},
		{"ru", "-9223372036854775807", "RUB", "минус девять квинтиллионов двести двадцать три квадриллиона триста семьдесят два триллиона тридцать шесть миллиардов восемьсот пятьдесят четыре миллиона семьсот семьдесят пять тысяч восемьсот семь рублей 00 копеек"},
	}
	for _, tt := range tests {
		got, err := MoneyWords(Locale{Lang: tt.lang}, tt.amount, tt.cur)
		if err != nil || got != tt.want {
			t.Errorf("MoneyWords(%s, %q, %s) = %q, %v; want %q", tt.lang, tt.amount, tt.cur, got, err, tt.want)
		}
	}
}

// TestRussianPluralOfEveryNumberUpTo1000 checks the plural rule against its
// definition for 0-1000 and the number of kopecks 0-99.
func TestRussianPluralOfEveryNumberUpTo1000(t *testing.T) {
	for n := uint64(0); n <= 1000; n++ {
		last2, last := n%100, n%10
		want := "рублей"
		switch {
		case last2 >= 11 && last2 <= 14:
		case last == 1:
			want = "рубль"
		case last >= 2 && last <= 4:
			want = "рубля"
		}
		if got := currencyNames["ru"]["RUB"].major.forms[pluralRu(n)]; got != want {
			t.Errorf("%d %s; want %s", n, got, want)
		}
	}
}

func TestMoneyWordsErrors(t *testing.T) {
	tests := []struct {
		lang, amount, cur, want string
	}{
		{"en", "1,5x", "USD", `money words: amount "1,5x" is not a decimal`},
		{"en", "9223372036854775808", "USD", `money words: amount "9223372036854775808" is too large to spell`},
		{"en", "9223372036854775807.995", "USD", `is too large to spell`},
		{"en", "-99999999999999999999", "USD", `is too large to spell`},
		{"en", "1", "1AB", `money words: currency "1AB" is not a three-letter ISO 4217 code`},
		{"pl", "1", "EUR", `money words: language "pl" is not supported`},
	}
	for _, tt := range tests {
		got, err := MoneyWords(Locale{Lang: tt.lang}, tt.amount, tt.cur)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("MoneyWords(%q, %q, %q) = %q, %v; want an error containing %q", tt.lang, tt.amount, tt.cur, got, err, tt.want)
		}
	}
}
