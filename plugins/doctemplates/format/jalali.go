package format

import (
	"fmt"
	"time"
)

// The Jalali calendar here is the arithmetic one of the jalaali-js project
// (after Borkowski): leap years follow 33-year cycles that a list of
// breaks adjusts, which matches the calendar Iran observes for the years
// 1244-1475 AP and extends it from -61 to 3177 AP (Gregorian 560-3798).
// Months 1-6 have 31 days, 7-11 have 30, Esfand 29 or, in a leap year, 30.

// jalaliBreaks are the Jalali years where the 33-year cycle is reset.
var jalaliBreaks = [...]int{-61, 9, 38, 199, 426, 686, 756, 818, 1111, 1181,
	1210, 1635, 2060, 2097, 2192, 2262, 2324, 2394, 2456, 3178}

// errJalaliRange says that a year is outside the years the calendar's
// arithmetic covers.
func errJalaliRange(jy int) error {
	return fmt.Errorf("jalali year %d is outside %d..%d", jy, jalaliBreaks[0], jalaliBreaks[len(jalaliBreaks)-1]-1)
}

// nowruz returns the day of March (Gregorian year jy+621) on which the
// Jalali year jy begins, and whether jy is a leap year (Esfand has 30 days).
func nowruz(jy int) (march int, leap bool, err error) {
	last := len(jalaliBreaks) - 1
	if jy < jalaliBreaks[0] || jy >= jalaliBreaks[last] {
		return 0, false, errJalaliRange(jy)
	}
	// Count the Jalali leap days before jy, cycle by cycle.
	leapDays := -14
	start, span := jalaliBreaks[0], 0
	for _, next := range jalaliBreaks[1:] {
		span = next - start
		if jy < next {
			break
		}
		leapDays += span/33*8 + span%33/4
		start = next
	}
	years := jy - start
	leapDays += years/33*8 + (years%33+3)/4
	if span%33 == 4 && span-years == 4 {
		leapDays++
	}
	// Gregorian leap days up to the same March.
	gy := jy + 621
	gregLeapDays := gy/4 - (gy/100+1)*3/4 - 150
	march = 20 + leapDays - gregLeapDays

	// Where jy stands in its 33-year cycle tells whether it is leap.
	if span-years < 6 {
		years = years - span + (span+4)/33*33
	}
	pos := (years + 1) % 33
	return march, pos != 0 && (pos-1)%4 == 0, nil
}

// toJalali returns the Jalali date of the Gregorian date y-m-d.
func toJalali(y int, m time.Month, d int) (jy, jm, jd int, err error) {
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	jy = y - 621
	march, _, err := nowruz(jy)
	if err != nil {
		return 0, 0, 0, err
	}
	first := time.Date(y, time.March, march, 0, 0, 0, 0, time.UTC)
	if day.Before(first) {
		jy--
		if march, _, err = nowruz(jy); err != nil {
			return 0, 0, 0, err
		}
		first = time.Date(y-1, time.March, march, 0, 0, 0, 0, time.UTC)
	}
	k := int(day.Sub(first) / (24 * time.Hour))
	if k < 186 {
		return jy, k/31 + 1, k%31 + 1, nil
	}
	k -= 186
	return jy, k/30 + 7, k%30 + 1, nil
}

// jalaliMonthDays is the length of month jm of Jalali year jy.
func jalaliMonthDays(jm int, leap bool) int {
	switch {
	case jm <= 6:
		return 31
	case jm <= 11 || leap:
		return 30
	}
	return 29
}

// fromJalali returns the Gregorian date of the Jalali date jy-jm-jd, at
// midnight UTC; it fails for a date that does not exist (1404-12-30).
func fromJalali(jy, jm, jd int) (time.Time, error) {
	march, leap, err := nowruz(jy)
	if err != nil {
		return time.Time{}, err
	}
	if jm < 1 || jm > 12 || jd < 1 || jd > jalaliMonthDays(jm, leap) {
		return time.Time{}, fmt.Errorf("jalali date %04d-%02d-%02d does not exist", jy, jm, jd)
	}
	offset := (jm-1)*31 + jd - 1
	if jm > 6 {
		offset = 186 + (jm-7)*30 + jd - 1
	}
	// time.Date carries the days past March into the months after it.
	return time.Date(jy+621, time.March, march+offset, 0, 0, 0, 0, time.UTC), nil
}
