package format

import (
	"testing"
	"time"
)

// Known dates of the Iranian calendar: the Nowruz of recent years, the
// leap day of 1403 and the 22 Bahman 1357 of the 1979 revolution.
var jalaliPairs = []struct {
	jy, jm, jd int
	greg       string
}{
	{1403, 1, 1, "2024-03-20"},
	{1404, 1, 1, "2025-03-21"},
	{1405, 1, 1, "2026-03-21"},
	{1403, 12, 30, "2025-03-20"},
	{1403, 12, 29, "2025-03-19"},
	{1404, 12, 29, "2026-03-20"},
	{1399, 1, 1, "2020-03-20"},
	{1400, 1, 1, "2021-03-21"},
	{1357, 11, 22, "1979-02-11"},
	{1403, 7, 1, "2024-09-22"},
	{1403, 6, 31, "2024-09-21"},
	{1278, 10, 11, "1900-01-01"},
}

func TestJalaliKnownDates(t *testing.T) {
	for _, p := range jalaliPairs {
		g, _ := time.Parse(time.DateOnly, p.greg)
		jy, jm, jd, err := toJalali(g.Year(), g.Month(), g.Day())
		if err != nil || jy != p.jy || jm != p.jm || jd != p.jd {
			t.Errorf("toJalali(%s) = %d-%d-%d, %v; want %d-%d-%d", p.greg, jy, jm, jd, err, p.jy, p.jm, p.jd)
		}
		back, err := fromJalali(p.jy, p.jm, p.jd)
		if err != nil || back.Format(time.DateOnly) != p.greg {
			t.Errorf("fromJalali(%d-%d-%d) = %v, %v; want %s", p.jy, p.jm, p.jd, back, err, p.greg)
		}
	}
}

func TestJalaliLeapYears(t *testing.T) {
	// The leap years of the calendar Iran observes, 1370-1420.
	leap := map[int]bool{1370: true, 1375: true, 1379: true, 1383: true, 1387: true, 1391: true,
		1395: true, 1399: true, 1403: true, 1408: true, 1412: true, 1416: true, 1420: true}
	for jy := 1370; jy <= 1420; jy++ {
		got, err := isJalaliLeap(jy)
		if err != nil || got != leap[jy] {
			t.Errorf("leap(%d) = %v, %v; want %v", jy, got, err, leap[jy])
		}
	}
	if _, err := fromJalali(1404, 12, 30); err == nil {
		t.Error("fromJalali(1404-12-30) accepted a day 1404 does not have")
	}
	for _, bad := range [][3]int{{1403, 0, 1}, {1403, 13, 1}, {1403, 7, 31}, {1403, 1, 32}, {1403, 1, 0}, {3178, 1, 1}, {-62, 1, 1}} {
		if _, err := fromJalali(bad[0], bad[1], bad[2]); err == nil {
			t.Errorf("fromJalali(%v) accepted it", bad)
		}
	}
}

// TestJalaliEveryDay1900To2100 converts every day of 1900-2100 and back,
// checks that the Jalali days follow each other without a gap:
// a check of how this package calls github.com/jalaali/go-jalaali.
func TestJalaliEveryDay1900To2100(t *testing.T) {
	end := time.Date(2101, 1, 1, 0, 0, 0, 0, time.UTC)
	var prev [3]int
	for day := time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC); day.Before(end); day = day.AddDate(0, 0, 1) {
		jy, jm, jd, err := toJalali(day.Year(), day.Month(), day.Day())
		if err != nil {
			t.Fatalf("toJalali(%s): %v", day.Format(time.DateOnly), err)
		}
		back, err := fromJalali(jy, jm, jd)
		if err != nil || !back.Equal(day) {
			t.Fatalf("%s -> %d-%02d-%02d -> %v, %v", day.Format(time.DateOnly), jy, jm, jd, back, err)
		}
		if prev[0] != 0 && !nextJalaliDay(prev, [3]int{jy, jm, jd}) {
			t.Fatalf("%s: %v follows %v", day.Format(time.DateOnly), [3]int{jy, jm, jd}, prev)
		}
		prev = [3]int{jy, jm, jd}
	}
}

// nextJalaliDay reports whether b is the day after a: the next day of the
// month, or the first of the next month or year.
func nextJalaliDay(a, b [3]int) bool {
	switch {
	case b[0] == a[0] && b[1] == a[1]:
		return b[2] == a[2]+1
	case b[0] == a[0]:
		return b[1] == a[1]+1 && b[2] == 1 && a[2] >= 30
	}
	return b[0] == a[0]+1 && b[1] == 1 && b[2] == 1 && a[1] == 12 && a[2] >= 29
}

func TestJalaliRange(t *testing.T) {
	if _, _, _, err := toJalali(3800, 1, 1); err == nil {
		t.Error("toJalali(3800-01-01) did not fail")
	}
	if _, _, _, err := toJalali(500, 1, 1); err == nil {
		t.Error("toJalali(0500-01-01) did not fail")
	}
}
