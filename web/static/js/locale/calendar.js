// Calendar arithmetic for the UI: pure functions, no signals, no DOM.
//
// Dates are ISO "YYYY-MM-DD" strings or plain numbers. Nothing here calls
// new Date(string) or reads the local time zone: a date-only value is a day on
// the calendar, not an instant, so it is never shifted by a time-zone offset.
// Jalali (Persian solar hijri) arithmetic is jalaali-js's; Intl is used only
// for names (months, weekdays), never for the Jalali day a date falls on.

import {
  toJalaali,
  toGregorian,
  isValidJalaaliDate,
  jalaaliMonthLength,
} from 'jalaali-js';
import { missing } from './cldr.js';

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** Pads n with zeros to width digits. */
function pad(n, width = 2) {
  return String(n).padStart(width, '0');
}

/** isoDate formats a Gregorian year, month and day as "YYYY-MM-DD". */
export function isoDate(y, m, d) {
  return `${pad(y, 4)}-${pad(m)}-${pad(d)}`;
}

/** gregorianMonthLength is the number of days in month m (1-12) of year y. */
export function gregorianMonthLength(y, m) {
  if (m === 2) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 29 : 28;
  return [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1];
}

/**
 * parseISODate splits "YYYY-MM-DD" into {y, m, d}, or returns null when the text
 * is not a real Gregorian date (2025-02-29 is null).
 */
export function parseISODate(iso) {
  const m = ISO_DATE.exec(String(iso ?? '').slice(0, 10));
  if (!m) return null;
  const y = +m[1], mo = +m[2], d = +m[3];
  if (mo < 1 || mo > 12 || d < 1 || d > gregorianMonthLength(y, mo)) return null;
  return { y, m: mo, d };
}

/** gregorianToJalali("2025-03-21") -> {jy: 1404, jm: 1, jd: 1}; null for a bad date. */
export function gregorianToJalali(iso) {
  const g = parseISODate(iso);
  if (!g) return null;
  const j = toJalaali(g.y, g.m, g.d);
  return { jy: j.jy, jm: j.jm, jd: j.jd };
}

/** jalaliToGregorian(1404, 1, 1) -> "2025-03-21"; null when the Jalali date does not exist. */
export function jalaliToGregorian(jy, jm, jd) {
  if (!Number.isInteger(jy) || !Number.isInteger(jm) || !Number.isInteger(jd)) return null;
  if (!isValidJalaaliDate(jy, jm, jd)) return null;
  const g = toGregorian(jy, jm, jd);
  return isoDate(g.gy, g.gm, g.gd);
}

/** monthLength is the number of days in month m of year y in the given calendar. */
export function monthLength(y, m, calendar) {
  return calendar === 'jalali' ? jalaaliMonthLength(y, m) : gregorianMonthLength(y, m);
}

/**
 * addDays moves an ISO date by n days with pure arithmetic on UTC day numbers
 * (Date.UTC and getUTC*, so no local time zone is involved).
 */
export function addDays(iso, n) {
  const g = parseISODate(iso);
  if (!g) return null;
  const t = new Date(0);
  t.setUTCFullYear(g.y, g.m - 1, g.d + n);
  return isoDate(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** weekday is the day of the week of an ISO date, 0 = Sunday ... 6 = Saturday. */
export function weekday(iso) {
  const g = parseISODate(iso);
  if (!g) return null;
  const t = new Date(0);
  t.setUTCFullYear(g.y, g.m - 1, g.d);
  return t.getUTCDay();
}

/** toYMD returns the year, month and day of an ISO date in the given calendar. */
export function toYMD(iso, calendar) {
  if (calendar === 'jalali') {
    const j = gregorianToJalali(iso);
    return j && { y: j.jy, m: j.jm, d: j.jd };
  }
  return parseISODate(iso);
}

/** fromYMD is the ISO Gregorian date of year y, month m, day d in the given calendar, or null. */
export function fromYMD(y, m, d, calendar) {
  if (calendar === 'jalali') return jalaliToGregorian(y, m, d);
  if (!Number.isInteger(y) || !Number.isInteger(m) || !Number.isInteger(d)) return null;
  if (y < 1 || m < 1 || m > 12 || d < 1 || d > gregorianMonthLength(y, m)) return null;
  return isoDate(y, m, d);
}

const DIGIT_ZERO = [0x06f0 /* Persian ۰ */, 0x0660 /* Arabic-Indic ٠ */];

/**
 * toLatinDigits turns Persian (۰-۹) and Arabic-Indic (٠-٩) digits into ASCII
 * 0-9, and the Arabic decimal and thousands separators (٫ ٬) into "." and ",".
 * Everything else is left as it is.
 */
export function toLatinDigits(str) {
  let out = '';
  for (const ch of String(str ?? '')) {
    const c = ch.codePointAt(0);
    let done = false;
    for (const z of DIGIT_ZERO) {
      if (c >= z && c <= z + 9) {
        out += String.fromCharCode(48 + c - z);
        done = true;
        break;
      }
    }
    if (done) continue;
    if (ch === '\u066b') out += '.';
    else if (ch === '\u066c') out += ',';
    else out += ch;
  }
  return out;
}

// Bidi marks and other invisible characters that copy-paste or an RTL keyboard add.
const INVISIBLE = /[\u200b-\u200f\u061c\u202a-\u202e\u2066-\u2069\ufeff]/g;

/**
 * parseDateInput reads a date typed by a person in the given calendar
 * ('gregorian' or 'jalali') and returns the ISO Gregorian "YYYY-MM-DD" it
 * means, or null. It accepts ASCII, Persian and Arabic-Indic digits and the
 * separators "/", "-", "." (and spaces). Year first (1403/12/30, 2025-03-20)
 * is always understood; with the year last, the order is day.month.year
 * (20.03.2025), except in English with "/" where it is month/day/year.
 * In the Jalali calendar a year of 1700 or more is taken as Gregorian, so a
 * pasted ISO date still works.
 */
export function parseDateInput(text, calendar = 'gregorian', lang = '') {
  const s = toLatinDigits(text).replace(INVISIBLE, '').trim();
  const m = /^(\d{1,4})\s*([/.\-\s])\s*(\d{1,2})\s*\2\s*(\d{1,4})$/.exec(s);
  if (!m) return null;
  let y, mo, d;
  if (m[1].length >= 3) {
    y = +m[1]; mo = +m[3]; d = +m[4];
    if (m[4].length > 2) return null;
  } else if (m[4].length >= 3) {
    y = +m[4];
    if (m[2] === '/' && String(lang).startsWith('en')) {
      mo = +m[1]; d = +m[3];
    } else {
      d = +m[1]; mo = +m[3];
    }
  } else {
    return null;
  }
  const cal = calendar === 'jalali' && y < 1700 ? 'jalali' : 'gregorian';
  return fromYMD(y, mo, d, cal);
}

// Reference Gregorian dates used to ask Intl for names: the 15th of each month
// of a year, far from any month edge so a one-day difference between ICU's
// Persian calendar and jalaali-js cannot change the month.
function jalaliMidMonth(m) {
  return jalaliToGregorian(1400, m, 15);
}

/** utcDate is a Date at midnight UTC of an ISO date (for Intl with timeZone 'UTC' only). */
export function utcDate(iso) {
  const g = parseISODate(iso);
  const t = new Date(0);
  t.setUTCFullYear(g.y, g.m - 1, g.d);
  return t;
}

const nameCache = new Map();

/**
 * JALALI_MONTHS are Jalali month names for languages whose CLDR data has only
 * Latin transliterations (Armenian), in the language's own script; used in
 * dates and as stand-alone names alike.
 */
export const JALALI_MONTHS = {
  hy: ['ֆարվարդին', 'օրդիբեհեշթ', 'խորդադ', 'թիր', 'մորդադ', 'շահրիվար', 'մեհր', 'աբան', 'ազար', 'դեյ', 'բահման', 'էսֆանդ'],
};

/** intlLocale is the BCP 47 tag used with Intl for a UI language and calendar. */
export function intlLocale(lang, calendar) {
  const base = lang || 'en';
  return `${base}-u-ca-${calendar === 'jalali' ? 'persian' : 'gregory'}`;
}

/**
 * monthNames(lang, calendar) is the twelve month names (stand-alone, long) in
 * the language, Jalali months (Farvardin ... Esfand) when calendar is 'jalali'.
 */
export function monthNames(lang, calendar = 'gregorian', width = 'long') {
  const key = `m|${lang}|${calendar}|${width}`;
  if (nameCache.has(key)) return nameCache.get(key);
  if (calendar === 'jalali' && JALALI_MONTHS[lang]) return JALALI_MONTHS[lang];
  const fb = missing(lang);
  if (fb && calendar === 'jalali' && fb.jalaliMonths) return fb.jalaliMonths;
  if (fb && calendar !== 'jalali') return width === 'long' ? fb.monthsStandalone : fb.monthsShort;
  const fmt = new Intl.DateTimeFormat(intlLocale(lang, calendar), { month: width, timeZone: 'UTC' });
  const names = [];
  for (let m = 1; m <= 12; m++) {
    const iso = calendar === 'jalali' ? jalaliMidMonth(m) : isoDate(2001, m, 15);
    names.push(fmt.format(utcDate(iso)));
  }
  nameCache.set(key, names);
  return names;
}

/**
 * weekdayNames(lang, width) is the seven weekday names starting on Sunday
 * (index = Date#getUTCDay), 'short' or 'narrow' or 'long'.
 */
export function weekdayNames(lang, width = 'short') {
  const key = `w|${lang}|${width}`;
  if (nameCache.has(key)) return nameCache.get(key);
  const fb = missing(lang);
  if (fb) return width === 'long' ? fb.weekdays : fb.weekdaysShort;
  const fmt = new Intl.DateTimeFormat(lang || 'en', { weekday: width, timeZone: 'UTC' });
  const names = [];
  for (let i = 0; i < 7; i++) names.push(fmt.format(utcDate(isoDate(2001, 1, 7 + i)))); // 2001-01-07 is a Sunday
  nameCache.set(key, names);
  return names;
}

/**
 * weekStart is the first day of the week (0 = Sunday ... 6 = Saturday): Saturday
 * in Persian or in the Jalali calendar, Sunday in English, Monday in Armenian,
 * Lithuanian, Azerbaijani and Russian.
 */
export function weekStart(lang, calendar = 'gregorian') {
  if (calendar === 'jalali' || lang === 'fa') return 6;
  if (lang === 'en') return 0;
  return 1;
}
