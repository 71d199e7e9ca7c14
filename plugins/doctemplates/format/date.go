package format

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// monthNames are the month names as a long date writes them, by language
// and calendar. The Gregorian ones are CLDR 49's format forms (Russian,
// Lithuanian and Armenian decline them: марта, kovo, մարտի). The Jalali
// ones are CLDR's for fa, en and ru; for hy, lt and az CLDR has none and
// these are the names transliterated, lower case as those languages write
// month names inside a date (Lithuanian keeps CLDR's root names).
var monthNames = map[string]map[string][12]string{
	Gregorian: {
		"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		"ru": {"января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября", "ноября", "декабря"},
		"lt": {"sausio", "vasario", "kovo", "balandžio", "gegužės", "birželio", "liepos", "rugpjūčio", "rugsėjo", "spalio", "lapkričio", "gruodžio"},
		"hy": {"հունվարի", "փետրվարի", "մարտի", "ապրիլի", "մայիսի", "հունիսի", "հուլիսի", "օգոստոսի", "սեպտեմբերի", "հոկտեմբերի", "նոյեմբերի", "դեկտեմբերի"},
		"az": {"yanvar", "fevral", "mart", "aprel", "may", "iyun", "iyul", "avqust", "sentyabr", "oktyabr", "noyabr", "dekabr"},
		"fa": {"ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن", "ژوئیه", "اوت", "سپتامبر", "اکتبر", "نوامبر", "دسامبر"},
	},
	Jalali: {
		"en": {"Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar", "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand"},
		"ru": {"фарвардин", "ордибехешт", "хордад", "тир", "мордад", "шахривер", "мехр", "абан", "азер", "дей", "бахман", "эсфанд"},
		"lt": {"Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar", "Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand"},
		"hy": {"ֆարվարդին", "օրդիբեհեշտ", "խորդադ", "թիր", "մորդադ", "շահրիվար", "մեհր", "աբան", "ազար", "դեյ", "բահման", "էսֆանդ"},
		"az": {"fərvərdin", "ordibeheşt", "xordad", "tir", "mordad", "şəhrivər", "mehr", "aban", "azər", "dey", "bəhmən", "əsfənd"},
		"fa": {"فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند"},
	},
}

// MonthName is the name of month m (1-12) of calendar ("gregorian" or
// "jalali") in lang as a long date writes it; "" for a month, calendar or
// language it does not know.
func MonthName(calendar, lang string, m int) string {
	names, ok := monthNames[calendar][lang]
	if !ok || m < 1 || m > 12 {
		return ""
	}
	return names[m-1]
}

// civil is a date of one calendar: year, month 1-12, day.
type civil struct{ y, m, d int }

// inCalendar converts a Gregorian date to cal.
func inCalendar(cal string, y int, m time.Month, d int) (civil, error) {
	if cal == Jalali {
		jy, jm, jd, err := toJalali(y, m, d)
		return civil{jy, jm, jd}, err
	}
	return civil{y, int(m), d}, nil
}

// longDate writes c in lang's long form (CLDR 49 dateFormatLength long,
// without the era; English is day-first, as the documents' example has
// it): en "21 March 2026", ru "21 марта 2026 г.", lt "2026 m. kovo 21 d.",
// hy "21 մարտի, 2026 թ.", az "21 mart 2026", fa "۲۱ مارس ۲۰۲۶".
func longDate(lang, cal string, c civil) string {
	day, year, month := strconv.Itoa(c.d), strconv.Itoa(c.y), MonthName(cal, lang, c.m)
	switch lang {
	case "ru":
		return day + " " + month + " " + year + " г."
	case "lt":
		return year + " m. " + month + " " + day + " d."
	case "hy":
		return day + " " + month + ", " + year + " թ."
	}
	return figures[lang].digits(day + " " + month + " " + year)
}

// shortDate writes c in figures: the Jalali calendar as Iran writes it
// everywhere, 1405/01/01; the Gregorian one as each language does (CLDR
// short forms with a four-digit year): en 21/03/2026, ru, hy, az
// 21.03.2026, lt 2026-03-21, fa ۲۰۲۶/۰۳/۲۱.
func shortDate(lang, cal string, c civil) string {
	y, m, d := fmt.Sprintf("%04d", c.y), fmt.Sprintf("%02d", c.m), fmt.Sprintf("%02d", c.d)
	var out string
	switch {
	case cal == Jalali, lang == "fa":
		out = y + "/" + m + "/" + d
	case lang == "en":
		out = d + "/" + m + "/" + y
	case lang == "lt":
		out = y + "-" + m + "-" + d
	default:
		out = d + "." + m + "." + y
	}
	return figures[lang].digits(out)
}

// readLocale checks l's language and calendar and the layout ("" or
// "long" is the long form, "short" the numeric one).
func readLocale(what string, l Locale, layout string) (lg, cal string, short bool, err error) {
	if lg, err = lang(what, l.Lang); err != nil {
		return "", "", false, err
	}
	if cal, err = calendar(what, l.Calendar); err != nil {
		return "", "", false, err
	}
	switch strings.ToLower(layout) {
	case "", "long":
		return lg, cal, false, nil
	case "short":
		return lg, cal, true, nil
	}
	return "", "", false, fmt.Errorf("%s: layout %q is not known; expected \"\" (long), \"long\" or \"short\"", what, clip(layout))
}

// parseDateOnly reads "2026-03-21" strictly: four-digit year, two-digit
// month and day, a date that exists.
func parseDateOnly(what, s string) (y int, m time.Month, d int, err error) {
	bad := fmt.Errorf("%s: date %q is not a date written as 2026-03-21", what, clip(s))
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, 0, 0, bad
	}
	num := func(part string) int {
		n := 0
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return -1
			}
			n = n*10 + int(part[i]-'0')
		}
		return n
	}
	y, mm, d := num(s[:4]), num(s[5:7]), num(s[8:])
	if y < 0 || mm < 1 || mm > 12 || d < 1 {
		return 0, 0, 0, bad
	}
	if t := time.Date(y, time.Month(mm), d, 0, 0, 0, 0, time.UTC); t.Day() != d {
		return 0, 0, 0, fmt.Errorf("%s: date %q does not exist", what, s)
	}
	return y, time.Month(mm), d, nil
}

// Date formats a date-only value "2026-03-21" in l's calendar and
// language; the date goes through no time zone. layout "" (or "long") is
// the long form, "short" the numeric one:
//
//	fa jalali     "۱ فروردین ۱۴۰۵"      short "۱۴۰۵/۰۱/۰۱"
//	en gregorian  "21 March 2026"       short "21/03/2026"
//	ru gregorian  "21 марта 2026 г."    short "21.03.2026"
//	lt gregorian  "2026 m. kovo 21 d."  short "2026-03-21"
//
// Persian writes Persian digits.
func Date(l Locale, date string, layout string) (string, error) {
	lg, cal, short, err := readLocale("date", l, layout)
	if err != nil {
		return "", err
	}
	y, m, d, err := parseDateOnly("date", date)
	if err != nil {
		return "", err
	}
	c, err := inCalendar(cal, y, m, d)
	if err != nil {
		return "", fmt.Errorf("date: %q: %w", date, err)
	}
	if short {
		return shortDate(lg, cal, c), nil
	}
	return longDate(lg, cal, c), nil
}

// DateTime formats an RFC 3339 datetime ("2026-03-21T10:30:00Z") at the
// wall clock of the IANA zone ("Asia/Tehran"; "" is UTC; "Local", the
// server's zone, is refused: a document reads the same wherever it is
// made), in l's calendar and language: the date as Date writes it, then
// the time as 24-hour HH:MM: en "21 March 2026, 14:00", lt "2026 m. kovo
// 21 d. 14:00", fa "۱ فروردین ۱۴۰۵، ساعت ۱۴:۰۰", short "1405/01/01 14:00".
func DateTime(l Locale, rfc3339, zone, layout string) (string, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "Local" {
		return "", fmt.Errorf("datetime: time zone %q is not a known IANA zone such as \"Asia/Yerevan\"", clip(zone))
	}
	return DateTimeIn(l, rfc3339, loc, layout)
}

// DateTimeIn is DateTime at a zone already loaded: a caller formatting
// many datetimes at one zone loads it once (time.LoadLocation reads the
// zone's file on every call).
func DateTimeIn(l Locale, rfc3339 string, loc *time.Location, layout string) (string, error) {
	lg, cal, short, err := readLocale("datetime", l, layout)
	if err != nil {
		return "", err
	}
	t, err := time.Parse(time.RFC3339Nano, rfc3339)
	if err != nil {
		return "", fmt.Errorf("datetime: %q is not an RFC 3339 datetime such as 2026-03-21T10:30:00Z", clip(rfc3339))
	}
	t = t.In(loc)
	c, err := inCalendar(cal, t.Year(), t.Month(), t.Day())
	if err != nil {
		return "", fmt.Errorf("datetime: %q: %w", rfc3339, err)
	}
	clock := figures[lg].digits(t.Format("15:04"))
	if short {
		return shortDate(lg, cal, c) + " " + clock, nil
	}
	date := longDate(lg, cal, c)
	switch lg {
	case "fa":
		return date + "، ساعت " + clock, nil
	case "lt", "az":
		return date + " " + clock, nil
	}
	return date + ", " + clock, nil
}

// Year returns the year of t, at t's own location, in calendar: the
// Jalali year for "jalali", the Gregorian year for anything else. It is
// the year document series count in (INV-1405-0001). A date the Jalali
// arithmetic does not cover (before 560 or after 3798) gives its
// Gregorian year less 621, the Jalali year it would have near Nowruz.
func Year(calendar string, t time.Time) int {
	if !strings.EqualFold(calendar, Jalali) {
		return t.Year()
	}
	jy, _, _, err := toJalali(t.Year(), t.Month(), t.Day())
	if err != nil {
		return t.Year() - 621
	}
	return jy
}
