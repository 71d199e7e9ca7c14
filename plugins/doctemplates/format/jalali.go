package format

import (
	"fmt"
	"time"

	jalaali "github.com/jalaali/go-jalaali"
)

// The Jalali arithmetic is github.com/jalaali/go-jalaali's (the Go port of
// jalaali-js, which the core and the web UI use too): leap years follow
// 33-year cycles adjusted by a list of breaks, matching the calendar Iran
// observes. Months 1-6 have 31 days, 7-11 have 30, Esfand 29 or, in a leap
// year, 30.

// toJalali returns the Jalali date of the Gregorian date y-m-d.
func toJalali(y int, m time.Month, d int) (jy, jm, jd int, err error) {
	jy, month, jd, err := jalaali.ToJalaali(y, m, d)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("jalali date of %04d-%02d-%02d: %w", y, int(m), d, err)
	}
	return jy, int(month), jd, nil
}

// isJalaliLeap reports whether Jalali year jy has 30 days in Esfand.
func isJalaliLeap(jy int) (bool, error) {
	leap, err := jalaali.IsLeapYear(jy)
	if err != nil {
		return false, fmt.Errorf("jalali year %d: %w", jy, err)
	}
	return leap, nil
}

// fromJalali returns the Gregorian date of the Jalali date jy-jm-jd, at
// midnight UTC; it fails for a date that does not exist (1404-12-30).
func fromJalali(jy, jm, jd int) (time.Time, error) {
	if !jalaali.IsValidDate(jy, jm, jd) {
		return time.Time{}, fmt.Errorf("jalali date %04d-%02d-%02d does not exist", jy, jm, jd)
	}
	gy, gm, gd, err := jalaali.ToGregorian(jy, jalaali.Month(jm), jd)
	if err != nil {
		return time.Time{}, fmt.Errorf("jalali date %04d-%02d-%02d: %w", jy, jm, jd, err)
	}
	return time.Date(gy, gm, gd, 0, 0, 0, 0, time.UTC), nil
}
