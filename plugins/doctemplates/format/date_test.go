package format

import (
	"strings"
	"testing"
	"time"
)

func TestDate(t *testing.T) {
	tests := []struct {
		lang, cal, date, layout, want string
	}{
		{"en", "gregorian", "2026-03-21", "", "21 March 2026"},
		{"en", "", "2026-03-21", "short", "21/03/2026"},
		{"en", "jalali", "2026-03-21", "", "1 Farvardin 1405"},
		{"en", "jalali", "2026-03-21", "short", "1405/01/01"},
		{"ru", "gregorian", "2026-03-21", "", "21 марта 2026 г."},
		{"ru", "gregorian", "2026-03-21", "short", "21.03.2026"},
		{"ru", "jalali", "2026-03-21", "", "1 фарвардин 1405 г."},
		{"ru", "jalali", "2026-03-21", "short", "1405/01/01"},
		{"lt", "gregorian", "2026-03-21", "", "2026 m. kovo 21 d."},
		{"lt", "gregorian", "2026-03-21", "short", "2026-03-21"},
		{"lt", "jalali", "2026-03-21", "", "1405 m. Farvardin 1 d."},
		{"hy", "gregorian", "2026-03-21", "", "21 մարտի, 2026 թ."},
		{"hy", "gregorian", "2026-03-21", "short", "21.03.2026"},
		{"hy", "jalali", "2026-03-21", "", "1 ֆարվարդին, 1405 թ."},
		{"az", "gregorian", "2026-03-21", "", "21 mart 2026"},
		{"az", "gregorian", "2026-03-21", "short", "21.03.2026"},
		{"az", "jalali", "2026-03-21", "", "1 fərvərdin 1405"},
		{"fa", "jalali", "2026-03-21", "", "۱ فروردین ۱۴۰۵"},
		{"fa", "jalali", "2026-03-21", "short", "۱۴۰۵/۰۱/۰۱"},
		{"fa", "gregorian", "2026-03-21", "", "۲۱ مارس ۲۰۲۶"},
		{"fa", "gregorian", "2026-03-21", "short", "۲۰۲۶/۰۳/۲۱"},
		{"fa", "jalali", "2025-03-20", "", "۳۰ اسفند ۱۴۰۳"},
		{"fa", "jalali", "2024-12-31", "", "۱۱ دی ۱۴۰۳"},
		{"en", "JALALI", "2024-09-22", "LONG", "1 Mehr 1403"},
		{"ru", "gregorian", "2024-02-29", "", "29 февраля 2024 г."},
	}
	for _, tt := range tests {
		got, err := Date(Locale{Lang: tt.lang, Calendar: tt.cal}, tt.date, tt.layout)
		if err != nil || got != tt.want {
			t.Errorf("Date(%s %s, %s, %q) = %q, %v; want %q", tt.lang, tt.cal, tt.date, tt.layout, got, err, tt.want)
		}
	}
}

// TestDateMonthNames checks each month's name in every language and both
// calendars on a day of that month.
func TestDateMonthNames(t *testing.T) {
	for _, lg := range Languages {
		for m := 1; m <= 12; m++ {
			g := time.Date(2026, time.Month(m), 15, 0, 0, 0, 0, time.UTC).Format(time.DateOnly)
			got, err := Date(Locale{Lang: lg}, g, "")
			if err != nil || !strings.Contains(got, MonthName(Gregorian, lg, m)) {
				t.Errorf("Date(%s, %s) = %q, %v; want month %q", lg, g, got, err, MonthName(Gregorian, lg, m))
			}
			j, _ := fromJalali(1405, m, 10)
			got, err = Date(Locale{Lang: lg, Calendar: Jalali}, j.Format(time.DateOnly), "")
			if err != nil || !strings.Contains(got, MonthName(Jalali, lg, m)) {
				t.Errorf("Date(%s jalali, %s) = %q, %v; want month %q", lg, j.Format(time.DateOnly), got, err, MonthName(Jalali, lg, m))
			}
		}
	}
	if MonthName(Jalali, "fa", 13) != "" || MonthName("hebrew", "en", 1) != "" || MonthName(Gregorian, "de", 1) != "" {
		t.Error("MonthName gave a name for a month, calendar or language it does not know")
	}
}

// TestDateNeverShifts formats every day of 2026 in the zones furthest
// apart: a date-only value names one day wherever the server runs.
func TestDateNeverShifts(t *testing.T) {
	saved := time.Local
	defer func() { time.Local = saved }()
	for _, zone := range []string{"Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Tehran"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Skipf("no zone data: %v", err)
		}
		time.Local = loc
		for day := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC); day.Year() == 2026; day = day.AddDate(0, 0, 1) {
			got, err := Date(Locale{Lang: "lt"}, day.Format(time.DateOnly), "short")
			if err != nil || got != day.Format(time.DateOnly) {
				t.Fatalf("in %s Date(%s) = %q, %v", zone, day.Format(time.DateOnly), got, err)
			}
		}
	}
}

func TestDateErrors(t *testing.T) {
	tests := []struct {
		l            Locale
		date, layout string
		want         string
	}{
		{Locale{Lang: "en"}, "2026-02-30", "", `date: date "2026-02-30" does not exist`},
		{Locale{Lang: "en"}, "2026-13-01", "", `date: date "2026-13-01" is not a date written as 2026-03-21`},
		{Locale{Lang: "en"}, "21.03.2026", "", `date: date "21.03.2026" is not a date`},
		{Locale{Lang: "en"}, "2026-03-21T10:00:00Z", "", `is not a date written as 2026-03-21`},
		{Locale{Lang: "en"}, "2026-3-21", "", `is not a date`},
		{Locale{Lang: "en"}, "", "", `date: date "" is not a date`},
		{Locale{Lang: "en"}, "+026-03-21", "", `is not a date`},
		{Locale{Lang: "en", Calendar: "hijri"}, "2026-03-21", "", `date: calendar "hijri" is not supported`},
		{Locale{Lang: "en"}, "2026-03-21", "dd.MM", `date: layout "dd.MM" is not known`},
		{Locale{Lang: "xx"}, "2026-03-21", "", `date: language "xx" is not supported`},
		{Locale{Lang: "fa", Calendar: "jalali"}, "0100-01-01", "", `jalaali: -521 is invalid year`},
	}
	for _, tt := range tests {
		got, err := Date(tt.l, tt.date, tt.layout)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Date(%v, %q, %q) = %q, %v; want an error containing %q", tt.l, tt.date, tt.layout, got, err, tt.want)
		}
	}
}

func TestDateTime(t *testing.T) {
	tests := []struct {
		l                Locale
		at, zone, layout string
		want             string
	}{
		// 21:00 UTC on 20 March is 00:30 on Nowruz in Tehran (UTC+3:30).
		{Locale{"fa", "jalali"}, "2026-03-20T21:00:00Z", "Asia/Tehran", "", "۱ فروردین ۱۴۰۵، ساعت ۰۰:۳۰"},
		{Locale{"fa", "jalali"}, "2026-03-20T21:00:00Z", "Asia/Tehran", "short", "۱۴۰۵/۰۱/۰۱ ۰۰:۳۰"},
		{Locale{"fa", "jalali"}, "2026-03-20T21:00:00Z", "UTC", "", "۲۹ اسفند ۱۴۰۴، ساعت ۲۱:۰۰"},
		{Locale{"en", ""}, "2026-03-21T10:30:00+04:00", "Asia/Yerevan", "", "21 March 2026, 10:30"},
		{Locale{"en", ""}, "2026-03-21T10:30:00Z", "", "", "21 March 2026, 10:30"},
		{Locale{"ru", ""}, "2026-03-21T10:30:00Z", "Europe/Moscow", "", "21 марта 2026 г., 13:30"},
		{Locale{"lt", ""}, "2026-03-21T10:30:00Z", "Europe/Vilnius", "", "2026 m. kovo 21 d. 12:30"},
		{Locale{"az", ""}, "2026-03-21T23:30:00Z", "Asia/Baku", "short", "22.03.2026 03:30"},
		{Locale{"hy", ""}, "2026-03-21T10:30:00.123Z", "Asia/Yerevan", "", "21 մարտի, 2026 թ., 14:30"},
	}
	for _, tt := range tests {
		got, err := DateTime(tt.l, tt.at, tt.zone, tt.layout)
		if err != nil || got != tt.want {
			t.Errorf("DateTime(%v, %s, %q, %q) = %q, %v; want %q", tt.l, tt.at, tt.zone, tt.layout, got, err, tt.want)
		}
	}
	errs := []struct{ at, zone, want string }{
		{"2026-03-21", "UTC", `datetime: "2026-03-21" is not an RFC 3339 datetime`},
		{"2026-03-21T10:30:00Z", "Mars/Olympus", `datetime: time zone "Mars/Olympus" is not a known IANA zone`},
		{"2026-03-21T10:30:00Z", "Local", `datetime: time zone "Local" is not a known IANA zone`},
	}
	for _, e := range errs {
		if _, err := DateTime(Locale{Lang: "en"}, e.at, e.zone, ""); err == nil || !strings.Contains(err.Error(), e.want) {
			t.Errorf("DateTime(%q, %q) error = %v; want %q", e.at, e.zone, err, e.want)
		}
	}
}

func TestYear(t *testing.T) {
	tehran := time.FixedZone("IRST", 3*3600+1800)
	tests := []struct {
		cal  string
		t    time.Time
		want int
	}{
		{"gregorian", time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), 2026},
		{"", time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), 2026},
		{"jalali", time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC), 1404},
		{"jalali", time.Date(2026, 3, 21, 0, 0, 0, 0, time.UTC), 1405},
		// The year is read at the time's own location.
		{"jalali", time.Date(2026, 3, 21, 0, 30, 0, 0, tehran), 1405},
		{"jalali", time.Date(2026, 3, 21, 0, 30, 0, 0, tehran).UTC(), 1404},
		{"Jalali", time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC), 1404},
	}
	for _, tt := range tests {
		if got := Year(tt.cal, tt.t); got != tt.want {
			t.Errorf("Year(%q, %v) = %d; want %d", tt.cal, tt.t, got, tt.want)
		}
	}
}
