// Package calendar converts and formats dates in the calendars a business
// may use: the Gregorian calendar and the Jalali (Solar Hijri) calendar of
// Iran and Afghanistan.
//
// It owns the calendar arithmetic and the month names; it reads no clock
// and no configuration. A caller converts a time to the location it means
// (the locale's time zone) before asking for its date: the functions here
// use the date that the time has in its own location.
package calendar

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	jalaali "github.com/jalaali/go-jalaali"
)

// Calendars.
const (
	Gregorian = "gregorian"
	Jalali    = "jalali"
)

// Names lists the calendars Format knows, in the order messages give them.
var Names = []string{Gregorian, Jalali}

// ErrOutOfRange is returned for a date the Jalali conversion cannot handle
// (before the year 560 or after the year 3798 of the Gregorian calendar).
var ErrOutOfRange = errors.New("date out of range of the Jalali calendar")

// ToJalali returns the Jalali date of t, in t's location: 2026-03-21 is
// 1405-01-01 (Nowruz). It returns zeros for a date out of the range the
// conversion handles.
func ToJalali(t time.Time) (y, m, d int) {
	jy, jm, jd, err := jalaali.ToJalaali(t.Year(), t.Month(), t.Day())
	if err != nil {
		return 0, 0, 0
	}
	return jy, int(jm), jd
}

// FromJalali returns midnight of the Jalali date y-m-d in loc; it fails
// for a date that does not exist, such as 1403-12-31.
func FromJalali(y, m, d int, loc *time.Location) (time.Time, error) {
	gy, gm, gd, err := jalaali.ToGregorian(y, jalaali.Month(m), d)
	if err != nil {
		return time.Time{}, fmt.Errorf("calendar: %d-%02d-%02d: %w", y, m, d, err)
	}
	return time.Date(gy, gm, gd, 0, 0, 0, 0, loc), nil
}

// Format writes t, in its own location, in the calendar cal (Gregorian or
// Jalali) after layout, with month names in the language lang ("fa" gives
// Persian names; any other language the Latin ones). The layout's tokens:
//
//	yyyy  year, 4 digits     yy  year, last 2 digits
//	MMMM  month name         MM  month, 2 digits      M  month
//	dd    day, 2 digits      d   day
//	HH    hour (00-23)       mm  minute               ss  second
//
// Any other character stands for itself, and text in single quotes is
// copied as it is (two single quotes make one):
//
//	Format(t, "jalali", "d MMMM yyyy", "en")  // "1 Farvardin 1405"
//	Format(t, "gregorian", "yyyy-MM-dd", "")   // "2026-03-21"
func Format(t time.Time, cal, layout, lang string) (string, error) {
	var y, m, d int
	switch cal {
	case Gregorian:
		y, m, d = t.Year(), int(t.Month()), t.Day()
	case Jalali:
		if y, m, d = ToJalali(t); y == 0 {
			return "", fmt.Errorf("calendar: %s: %w", t.Format(time.DateOnly), ErrOutOfRange)
		}
	default:
		return "", fmt.Errorf("calendar: unknown calendar %q; expected %q or %q", cal, Gregorian, Jalali)
	}
	f := fields{year: y, month: m, day: d, hour: t.Hour(), min: t.Minute(), sec: t.Second(), name: MonthName(cal, m, lang)}
	return f.format(layout), nil
}

// MonthName is the name of month m (1-12) of the calendar cal in the
// language lang: Persian for "fa", Latin letters otherwise.
func MonthName(cal string, m int, lang string) string {
	if m < 1 || m > 12 {
		return ""
	}
	persian := strings.HasPrefix(lang, "fa")
	switch {
	case cal == Jalali && persian:
		return jalaliFa[m-1]
	case cal == Jalali:
		return jalaliEn[m-1]
	case persian:
		return gregorianFa[m-1]
	}
	return time.Month(m).String()
}

var jalaliEn = [12]string{
	"Farvardin", "Ordibehesht", "Khordad", "Tir", "Mordad", "Shahrivar",
	"Mehr", "Aban", "Azar", "Dey", "Bahman", "Esfand",
}

var jalaliFa = [12]string{
	"فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
	"مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
}

var gregorianFa = [12]string{
	"ژانویه", "فوریه", "مارس", "آوریل", "مه", "ژوئن",
	"ژوئیه", "اوت", "سپتامبر", "اکتبر", "نوامبر", "دسامبر",
}

// fields are the parts of a date and time that a layout may show.
type fields struct {
	year, month, day, hour, min, sec int
	name                             string
}

// tokens are the layout tokens, longest first so that "MMMM" wins over "MM".
var tokens = []string{"yyyy", "MMMM", "yy", "MM", "dd", "HH", "mm", "ss", "M", "d"}

// format expands the tokens of layout.
func (f fields) format(layout string) string {
	var b strings.Builder
	for i := 0; i < len(layout); {
		if layout[i] == '\'' {
			i = quoted(&b, layout, i+1)
			continue
		}
		tok := tokenAt(layout[i:])
		if tok == "" {
			b.WriteByte(layout[i])
			i++
			continue
		}
		b.WriteString(f.value(tok))
		i += len(tok)
	}
	return b.String()
}

// quoted copies quoted text starting after the opening quote at layout[i-1]
// and returns the index after the closing quote; two quotes in a row are
// one quote.
func quoted(b *strings.Builder, layout string, i int) int {
	if i < len(layout) && layout[i] == '\'' {
		b.WriteByte('\'')
		return i + 1
	}
	end := strings.IndexByte(layout[i:], '\'')
	if end < 0 {
		b.WriteString(layout[i:])
		return len(layout)
	}
	b.WriteString(layout[i : i+end])
	return i + end + 1
}

// tokenAt is the token s starts with, or "".
func tokenAt(s string) string {
	for _, t := range tokens {
		if strings.HasPrefix(s, t) {
			return t
		}
	}
	return ""
}

// value is the text of one token.
func (f fields) value(tok string) string {
	switch tok {
	case "yyyy":
		return pad(f.year, 4)
	case "yy":
		return pad(f.year%100, 2)
	case "MMMM":
		return f.name
	case "MM":
		return pad(f.month, 2)
	case "M":
		return strconv.Itoa(f.month)
	case "dd":
		return pad(f.day, 2)
	case "d":
		return strconv.Itoa(f.day)
	case "HH":
		return pad(f.hour, 2)
	case "mm":
		return pad(f.min, 2)
	case "ss":
		return pad(f.sec, 2)
	}
	return tok
}

// pad writes n with at least width digits.
func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}
