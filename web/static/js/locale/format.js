// Formatting of numbers, money and dates in the user's language, calendar and
// time zone, all through Intl.
//
// Date-only values ("2026-03-21") are days on a calendar, not instants: they are
// formatted from their parts with timeZone 'UTC' and never converted between
// time zones, so no browser time zone can move them a day. The Jalali day is
// always jalaali-js's (calendar.js); Intl only supplies the pattern, the month
// names and the digits.

import { signal } from '@preact/signals-core';
import { lang } from './i18n.js';
import { missing, number as fallbackNumber, relative as fallbackRelative } from './cldr.js';
import {
  gregorianToJalali,
  intlLocale,
  isoDate,
  JALALI_MONTHS,
  jalaliToGregorian,
  monthNames,
  parseISODate,
  toLatinDigits as latin,
  utcDate,
} from './calendar.js';

/** calendar is the user's calendar for display and input, 'gregorian' or 'jalali'. */
export const calendar = signal('gregorian');

/** browserZone is the browser's IANA time zone ('UTC' when unknown). */
export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
}

/**
 * timezone is the IANA time zone date-times are shown and typed in: the
 * user's, else the CRM's (locale.timezone), set by setTimezone; the
 * browser's until then.
 */
export const timezone = signal(browserZone());

/**
 * setTimezone makes zone the time zone of date-times, when Intl knows it;
 * an empty or unknown zone means the browser's. It returns the zone used.
 */
export function setTimezone(zone) {
  let z = browserZone();
  if (zone) {
    try {
      z = new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone;
    } catch {
      console.warn('unknown time zone', zone);
    }
  }
  timezone.value = z;
  return z;
}

/** toLatinDigits turns Persian and Arabic-Indic digits into ASCII (see calendar.js). */
export const toLatinDigits = latin;

const cache = new Map();

function cached(kind, key, make) {
  const k = `${kind}|${key}`;
  let v = cache.get(k);
  if (!v) {
    v = make();
    cache.set(k, v);
  }
  return v;
}

function numberFormat(code, opts) {
  return cached('n', `${code}|${JSON.stringify(opts)}`, () => new Intl.NumberFormat(code, opts));
}

// Intl.NumberFormat formats a decimal string exactly (no float rounding) in
// current browsers; a string that is not a plain decimal is refused here.
const DECIMAL = /^[-+]?\d+(\.\d+)?$/;

function numeric(v) {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return v;
  const s = latin(String(v ?? '')).trim();
  return DECIMAL.test(s) ? s : null;
}

/** formatNumber formats a number or a decimal string in the user's language ("" when not a number). */
export function formatNumber(n, opts = {}) {
  const v = numeric(n);
  if (v === null) return '';
  const all = { maximumFractionDigits: 20, ...opts };
  const fb = missing(lang.value);
  if (fb) return fallbackNumber(fb, v, all);
  return numberFormat(lang.value, all).format(v);
}

// Currencies shown without minor unit whatever CLDR says (the Iranian rial's
// minor unit, the dinar, is not in use).
const NO_MINOR = new Set(['IRR']);

/**
 * formatMoney formats {amount: "1500.00", currency: "AMD"} in the user's
 * language. The amount is an exact decimal string (or a number); IRR shows no
 * fraction digits. "" when the amount is empty or not a number.
 */
export function formatMoney(money) {
  if (!money) return '';
  const v = numeric(money.amount);
  if (v === null) return '';
  const currency = String(money.currency || '').toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency)) return formatNumber(v);
  const opts = { style: 'currency', currency };
  if (NO_MINOR.has(currency)) {
    opts.minimumFractionDigits = 0;
    opts.maximumFractionDigits = 0;
  }
  const fb = missing(lang.value);
  if (fb) return fallbackNumber(fb, v, opts);
  return numberFormat(lang.value, opts).format(v);
}

function dateFormat(code, cal, opts) {
  return cached('d', `${code}|${cal}|${JSON.stringify(opts)}`, () =>
    new Intl.DateTimeFormat(intlLocale(code, cal), { timeZone: 'UTC', ...opts }),
  );
}

// Formats the calendar day (y, m, d Gregorian) plus an optional wall-clock time
// as Intl would in the user's language and calendar, with the Jalali year,
// month and day taken from jalaali-js rather than ICU.
function formatWall(g, time, opts) {
  const code = lang.value;
  const cal = calendar.value === 'jalali' ? 'jalali' : 'gregorian';
  const fb = missing(code);
  if (fb) return formatFallback(fb, code, cal, g, time, opts);
  const at = utcDate(isoDate(g.y, g.m, g.d));
  if (time) at.setUTCHours(time.h, time.min, time.s || 0);
  const fmt = dateFormat(code, cal, opts);
  if (cal !== 'jalali') return fmt.format(at);
  const j = gregorianToJalali(isoDate(g.y, g.m, g.d));
  const num = numberFormat(code, { useGrouping: false });
  const num2 = numberFormat(code, { useGrouping: false, minimumIntegerDigits: 2 });
  const ro = fmt.resolvedOptions();
  const parts = fmt.formatToParts(at).map((p) => {
    switch (p.type) {
      case 'year':
        return { type: p.type, value: num.format(j.jy) };
      case 'day':
        return { type: p.type, value: (ro.day === '2-digit' ? num2 : num).format(j.jd) };
      case 'month':
        if (ro.month === '2-digit' || ro.month === 'numeric') {
          return { type: p.type, value: (ro.month === '2-digit' ? num2 : num).format(j.jm) };
        }
        return { type: p.type, value: jalaliMonthInContext(code, ro.month, j.jm, opts) };
      default:
        return p;
    }
  });
  return dropEra(parts).map((p) => p.value).join('');
}

// formatWall with the fallback data of a language the browser lacks.
function formatFallback(fb, code, cal, g, time, opts) {
  let y = g.y, m = g.m, d = g.d;
  if (cal === 'jalali') {
    const j = gregorianToJalali(isoDate(g.y, g.m, g.d));
    y = j.jy; m = j.jm; d = j.jd;
  }
  const two = (n) => String(n).padStart(2, '0');
  let date = '';
  if (opts.month === 'long' || opts.month === 'short') {
    let name;
    if (cal === 'jalali') name = monthNames(code, 'jalali')[m - 1];
    else name = (opts.month === 'long' ? fb.months : fb.monthsShort)[m - 1];
    date = fb.dateLong.replace('{d}', String(d)).replace('{M}', name).replace('{y}', String(y));
  } else if (opts.year || opts.month || opts.day) {
    date = fb.dateNumeric.replace('{dd}', two(d)).replace('{MM}', two(m)).replace('{y}', String(y));
  }
  if (!time || !opts.hour) return date;
  const t = `${two(time.h)}:${two(time.min)}`;
  return date ? fb.dateTime.replace('{date}', date).replace('{t}', t) : t;
}

// The name of Jalali month jm as Intl writes it inside a date (Russian
// declines it: "30 эсфанда"), taken from a day in the middle of that month so a
// one-day disagreement between ICU and jalaali-js cannot matter.
function jalaliMonthInContext(code, width, jm, opts) {
  const names = cached('jm', `${code}|${width}|${JSON.stringify(opts)}`, () => {
    const own = JALALI_MONTHS[code] || missing(code)?.jalaliMonths;
    const fmt = new Intl.DateTimeFormat(intlLocale(code, 'jalali'), { timeZone: 'UTC', day: 'numeric', month: width });
    const out = [];
    for (let m = 1; m <= 12; m++) {
      if (own) {
        out.push(own[m - 1]);
        continue;
      }
      const part = fmt.formatToParts(utcDate(jalaliToGregorian(1400, m, 15))).find((p) => p.type === 'month');
      out.push(part ? part.value : monthNames(code, 'jalali')[m - 1]);
    }
    return out;
  });
  return names[jm - 1];
}

// An era ("AP", "перс. год") that Intl adds to non-Gregorian dates is dropped
// with the separator that joined it to the date.
function dropEra(parts) {
  const i = parts.findIndex((p) => p.type === 'era');
  if (i < 0) return parts;
  const out = parts.slice();
  if (i > 0 && out[i - 1].type === 'literal') out.splice(i - 1, 2);
  else if (out[i + 1]?.type === 'literal') out.splice(i, 2);
  else out.splice(i, 1);
  return out;
}

const DATE_OPTS = { year: 'numeric', month: 'long', day: 'numeric' };

/**
 * formatDate formats a date-only value "YYYY-MM-DD" (a longer value is cut to
 * its date) in the user's language and calendar, never through a time zone.
 * "" for an empty value; the text itself when it is not a date.
 */
export function formatDate(iso, opts = DATE_OPTS) {
  if (iso === null || iso === undefined || iso === '') return '';
  const g = parseISODate(String(iso).slice(0, 10));
  if (!g) return String(iso);
  return formatWall(g, null, opts);
}

/**
 * formatDateNumeric formats a date-only value with numbers only, year first in
 * the Jalali calendar (۱۴۰۳/۱۲/۳۰), as the date picker's text input shows it.
 */
export function formatDateNumeric(iso) {
  const g = parseISODate(String(iso ?? '').slice(0, 10));
  if (!g) return '';
  const num = numberFormat(lang.value, { useGrouping: false });
  const num2 = numberFormat(lang.value, { useGrouping: false, minimumIntegerDigits: 2 });
  if (calendar.value === 'jalali') {
    const j = gregorianToJalali(isoDate(g.y, g.m, g.d));
    return `${num.format(j.jy)}/${num2.format(j.jm)}/${num2.format(j.jd)}`;
  }
  return `${num.format(g.y)}-${num2.format(g.m)}-${num2.format(g.d)}`;
}

/**
 * wallClock is the calendar day and time of an instant in a time zone:
 * {y, m, d, h, min, s} (Gregorian), or null for a bad date.
 */
export function wallClock(instant, zone = timezone.value) {
  const t = instant instanceof Date ? instant : new Date(instant);
  if (Number.isNaN(t.getTime())) return null;
  const fmt = cached('wall', zone, () =>
    new Intl.DateTimeFormat('en-US-u-ca-gregory-nu-latn', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    }),
  );
  const p = {};
  for (const part of fmt.formatToParts(t)) p[part.type] = part.value;
  return { y: +p.year, m: +p.month, d: +p.day, h: +p.hour % 24, min: +p.minute, s: +p.second };
}

/**
 * zonedToInstant is the instant at which the wall clock in zone shows the given
 * Gregorian day and time (the earlier one in a repeated hour).
 */
export function zonedToInstant(y, m, d, h, min, zone = timezone.value) {
  const base = wallMs(y, m, d, h, min, 0);
  let guess = base;
  for (let i = 0; i < 3; i++) {
    const w = wallClock(new Date(guess), zone);
    const diff = base - wallMs(w.y, w.m, w.d, w.h, w.min, w.s);
    if (diff === 0) break;
    guess += diff;
  }
  return new Date(guess);
}

// The wall-clock time y-m-d h:min:s read as if it were UTC, in milliseconds.
function wallMs(y, m, d, h, min, s) {
  const t = utcDate(isoDate(y, m, d));
  t.setUTCHours(h, min, s);
  return t.getTime();
}

const DATETIME_OPTS = { year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit' };

/** formatDateTime formats an RFC 3339 instant in the user's language, calendar and time zone. */
export function formatDateTime(rfc3339, opts = DATETIME_OPTS) {
  if (!rfc3339) return '';
  const w = wallClock(rfc3339);
  if (!w) return String(rfc3339);
  return formatWall(w, w, opts);
}

/** formatTime formats the wall-clock time of an RFC 3339 instant in the user's time zone. */
export function formatTime(rfc3339) {
  if (!rfc3339) return '';
  const w = wallClock(rfc3339);
  if (!w) return '';
  return formatWall(w, w, { hour: 'numeric', minute: '2-digit' });
}

const UNITS = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['week', 7 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

/**
 * formatRelative says how long ago or from now an RFC 3339 instant is ("3 hours
 * ago", "in 2 days", "yesterday") in the user's language; now defaults to the
 * current time.
 */
export function formatRelative(rfc3339, now = Date.now()) {
  if (!rfc3339) return '';
  const t = new Date(rfc3339).getTime();
  if (Number.isNaN(t)) return String(rfc3339);
  const secs = Math.round((t - (now instanceof Date ? now.getTime() : now)) / 1000);
  const fb = missing(lang.value);
  const fmt = fb ? { format: (n, unit) => fallbackRelative(fb, n, unit) } : cached('rel', lang.value, () => new Intl.RelativeTimeFormat(lang.value, { numeric: 'auto' }));
  for (const [unit, size] of UNITS) {
    if (Math.abs(secs) >= size || unit === 'second') {
      return fmt.format(Math.trunc(secs / size), unit);
    }
  }
  return '';
}
