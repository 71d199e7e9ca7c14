package calendar

import (
	"errors"
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestToJalali(t *testing.T) {
	for _, c := range []struct {
		in      time.Time
		y, m, d int
	}{
		{day(2026, 3, 21), 1405, 1, 1},   // Nowruz 1405
		{day(2026, 3, 20), 1404, 12, 29}, // last day of 1404
		{day(2025, 3, 20), 1403, 12, 30}, // 1403 is a leap year
		{day(2025, 3, 21), 1404, 1, 1},
		{day(1979, 2, 11), 1357, 11, 22}, // the revolution
		{day(2024, 9, 22), 1403, 7, 1},   // first day of the 30-day months
		{day(2024, 9, 21), 1403, 6, 31},  // last 31-day month
		{day(2000, 1, 1), 1378, 10, 11},
		{day(2024, 2, 29), 1402, 12, 10},
	} {
		y, m, d := ToJalali(c.in)
		if y != c.y || m != c.m || d != c.d {
			t.Errorf("ToJalali(%s) = %d-%02d-%02d, want %d-%02d-%02d", c.in.Format(time.DateOnly), y, m, d, c.y, c.m, c.d)
		}
		back, err := FromJalali(c.y, c.m, c.d, time.UTC)
		if err != nil || !back.Equal(c.in) {
			t.Errorf("FromJalali(%d-%d-%d) = %v, %v; want %v", c.y, c.m, c.d, back, err, c.in)
		}
	}
}

func TestToJalaliUsesTheTimesLocation(t *testing.T) {
	tehran, err := time.LoadLocation("Asia/Tehran")
	if err != nil {
		t.Skip(err)
	}
	// 22:00 UTC on 20 March is already 21 March (Nowruz) in Tehran.
	at := time.Date(2026, 3, 20, 22, 0, 0, 0, time.UTC)
	if y, m, d := ToJalali(at); y != 1404 || m != 12 || d != 29 {
		t.Errorf("UTC: %d-%d-%d", y, m, d)
	}
	if y, m, d := ToJalali(at.In(tehran)); y != 1405 || m != 1 || d != 1 {
		t.Errorf("Tehran: %d-%d-%d", y, m, d)
	}
}

func TestFromJalaliRejectsMissingDays(t *testing.T) {
	for _, c := range [][3]int{{1404, 12, 30}, {1403, 7, 31}, {1403, 13, 1}, {1403, 0, 1}} {
		if _, err := FromJalali(c[0], c[1], c[2], time.UTC); err == nil {
			t.Errorf("FromJalali(%v) gave no error", c)
		}
	}
}

func TestFormat(t *testing.T) {
	at := time.Date(2026, 3, 21, 9, 5, 7, 0, time.UTC)
	for _, c := range []struct {
		cal, layout, lang, want string
	}{
		{Jalali, "yyyy-MM-dd", "en", "1405-01-01"},
		{Jalali, "yyyy/MM/dd", "fa", "1405/01/01"},
		{Jalali, "d MMMM yyyy", "en", "1 Farvardin 1405"},
		{Jalali, "d MMMM yyyy", "fa", "1 فروردین 1405"},
		{Jalali, "yy/M/d", "en", "05/1/1"},
		{Gregorian, "yyyy-MM-dd", "", "2026-03-21"},
		{Gregorian, "dd MMMM yyyy", "en", "21 March 2026"},
		{Gregorian, "d MMMM", "fa", "21 مارس"},
		{Gregorian, "dd.MM.yyyy HH:mm:ss", "ru", "21.03.2026 09:05:07"},
		{Gregorian, "'day' d 'of' MMMM", "en", "day 21 of March"},
		{Gregorian, "HH'h'mm, ''yy", "en", "09h05, '26"},
		{Gregorian, "'unterminated", "en", "unterminated"},
		{Gregorian, "", "en", ""},
		{Gregorian, "x", "en", "x"},
	} {
		got, err := Format(at, c.cal, c.layout, c.lang)
		if err != nil || got != c.want {
			t.Errorf("Format(%s, %q, %s) = %q, %v; want %q", c.cal, c.layout, c.lang, got, err, c.want)
		}
	}
}

func TestFormatErrors(t *testing.T) {
	if _, err := Format(day(2026, 1, 1), "julian", "yyyy", "en"); err == nil {
		t.Error("unknown calendar: no error")
	}
	if _, err := Format(time.Time{}, Jalali, "yyyy", "en"); !errors.Is(err, ErrOutOfRange) {
		t.Errorf("year 1: err = %v", err)
	}
}

func TestMonthName(t *testing.T) {
	if got := MonthName(Jalali, 12, "en"); got != "Esfand" {
		t.Errorf("Esfand: %q", got)
	}
	if got := MonthName(Jalali, 7, "fa-IR"); got != "مهر" {
		t.Errorf("Mehr: %q", got)
	}
	if got := MonthName(Gregorian, 13, "en"); got != "" {
		t.Errorf("month 13: %q", got)
	}
}
