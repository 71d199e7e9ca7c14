// Assertions run in the browser by web/localetest (TestBrowser). The results go
// to window.__locale = {done, failures: [...], checks}; the date picker part is
// driven by real key presses from Go through window.__picker.

import { dir, label, lang, setLanguage, t } from '/static/js/locale/i18n.js';
import {
  calendar, formatDate, formatDateNumeric, formatDateTime, formatMoney, formatNumber, formatRelative, timezone,
} from '/static/js/locale/format.js';
import {
  addDays, gregorianToJalali, jalaliToGregorian, monthLength, monthNames, parseDateInput, weekStart,
} from '/static/js/locale/calendar.js';

const failures = [];

// use switches the language; en.json may be missing on a branch without the
// app (setLanguage still switches and says so by rejecting).
async function use(code) {
  try {
    await setLanguage(code);
  } catch (e) {
    console.warn(String(e));
  }
  eq(`language ${code}`, lang.value, code);
}
let checks = 0;
function eq(what, got, want) {
  checks++;
  if (got !== want) failures.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}
function ok(what, cond, detail = '') {
  checks++;
  if (!cond) failures.push(`${what}${detail ? `: ${detail}` : ''}`);
}

async function run() {
  const params = new URLSearchParams(location.search);
  eq('browser time zone (TZ env)', Intl.DateTimeFormat().resolvedOptions().timeZone, params.get('tz'));

  // Known days, month ends and leap years.
  eq('1403/12/30', jalaliToGregorian(1403, 12, 30), '2025-03-20');
  eq('1404/01/01', jalaliToGregorian(1404, 1, 1), '2025-03-21');
  eq('1399/12/30', jalaliToGregorian(1399, 12, 30), '2021-03-20');
  eq('1400/01/01', jalaliToGregorian(1400, 1, 1), '2021-03-21');
  eq('1404/12/30 does not exist', jalaliToGregorian(1404, 12, 30), null);
  eq('1402/07/30 does not exist', jalaliToGregorian(1402, 7, 31), null);
  eq('2025-03-20 in Jalali', JSON.stringify(gregorianToJalali('2025-03-20')), '{"jy":1403,"jm":12,"jd":30}');

  // Every day of 1390..1410: round trip, and consecutive Jalali days are
  // consecutive Gregorian days (no drift, no gap at a month or year end).
  let prev = null;
  let days = 0;
  for (let jy = 1390; jy <= 1410; jy++) {
    for (let jm = 1; jm <= 12; jm++) {
      const len = monthLength(jy, jm, 'jalali');
      for (let jd = 1; jd <= len; jd++) {
        const g = jalaliToGregorian(jy, jm, jd);
        const back = gregorianToJalali(g);
        days++;
        if (!back || back.jy !== jy || back.jm !== jm || back.jd !== jd) {
          failures.push(`round trip ${jy}/${jm}/${jd} -> ${g} -> ${JSON.stringify(back)}`);
        }
        if (prev && addDays(prev, 1) !== g) failures.push(`${jy}/${jm}/${jd} is ${g}, the day after ${prev}`);
        prev = g;
      }
    }
  }
  checks++;
  eq('days in 1390..1410', days, 7670);

  // Typed input.
  eq('parse Persian digits', parseDateInput('۱۴۰۳/۱۲/۳۰', 'jalali'), '2025-03-20');
  eq('parse Arabic-Indic digits', parseDateInput('١٤٠٣-١٢-٣٠', 'jalali'), '2025-03-20');
  eq('parse with dots and bidi marks', parseDateInput('\u200f1404.1.1\u200f', 'jalali'), '2025-03-21');
  eq('parse a day that does not exist', parseDateInput('۱۴۰۴/۱۲/۳۰', 'jalali'), null);
  eq('parse garbage', parseDateInput('۱۴۰۳/۱۳', 'jalali'), null);
  eq('parse ISO in the Jalali calendar', parseDateInput('2025-03-20', 'jalali'), '2025-03-20');
  eq('parse Gregorian leap day', parseDateInput('2024-02-29', 'gregorian'), '2024-02-29');
  eq('parse Gregorian non-leap day', parseDateInput('2025-02-29', 'gregorian'), null);
  eq('parse day.month.year', parseDateInput('20.03.2025', 'gregorian', 'ru'), '2025-03-20');
  eq('parse month/day/year in English', parseDateInput('3/20/2025', 'gregorian', 'en'), '2025-03-20');

  // Dates never shift, in any time zone: every day of 1390..1410 formatted.
  await use('en');
  const numeric = { year: 'numeric', month: 'numeric', day: 'numeric' };
  let shifted = 0;
  const end = jalaliToGregorian(1411, 1, 1);
  for (let g = jalaliToGregorian(1390, 1, 1); g < end; g = addDays(g, 1)) {
    const [y, m, d] = g.split('-').map(Number);
    calendar.value = 'gregorian';
    const gs = formatDate(g, numeric);
    calendar.value = 'jalali';
    const j = gregorianToJalali(g);
    const js = formatDate(g, numeric);
    if (gs !== `${m}/${d}/${y}` || js !== `${j.jm}/${j.jd}/${j.jy}`) {
      if (shifted++ < 5) failures.push(`formatDate(${g}): gregorian ${gs}, jalali ${js}`);
    }
  }
  eq('formatDate shifted days', shifted, 0);
  calendar.value = 'gregorian';
  eq('en date', formatDate('2025-03-20'), 'March 20, 2025');
  eq('en date (datetime string cut to its day)', formatDate('2025-03-20T23:30:00-08:00'), 'March 20, 2025');

  await use('fa');
  eq('<html dir> in Persian', document.documentElement.dir, 'rtl');
  eq('<html lang> in Persian', document.documentElement.lang, 'fa');
  calendar.value = 'jalali';
  eq('fa Jalali date', formatDate('2025-03-20'), '۳۰ اسفند ۱۴۰۳');
  eq('fa Jalali date, year start', formatDate('2025-03-21'), '۱ فروردین ۱۴۰۴');
  eq('fa Jalali numeric', formatDateNumeric('2021-03-20'), '۱۳۹۹/۱۲/۳۰');
  eq('fa Jalali months', monthNames('fa', 'jalali')[0] + ' ' + monthNames('fa', 'jalali')[11], 'فروردین اسفند');
  eq('fa week start', weekStart('fa', 'jalali'), 6);
  timezone.value = 'Asia/Tehran';
  ok('fa datetime in Tehran is 1 Farvardin 1404', formatDateTime('2025-03-20T20:30:00Z').startsWith('۱ فروردین ۱۴۰۴'),
    formatDateTime('2025-03-20T20:30:00Z'));
  timezone.value = 'America/Los_Angeles';
  ok('fa datetime in Los Angeles is 30 Esfand 1403', formatDateTime('2025-03-20T20:30:00Z').startsWith('۳۰ اسفند ۱۴۰۳'),
    formatDateTime('2025-03-20T20:30:00Z'));
  calendar.value = 'gregorian';
  eq('fa Gregorian date', formatDate('2025-03-20'), '۲۰ مارس ۲۰۲۵');

  // Money and numbers.
  const irr = formatMoney({ amount: '1500000', currency: 'IRR' });
  ok('fa IRR has Persian digits and no fraction', irr.includes('۱٬۵۰۰٬۰۰۰') && !irr.includes('٫') && irr.includes('ریال'), irr);
  const irr2 = formatMoney({ amount: '1500000.00', currency: 'IRR' });
  ok('fa IRR "1500000.00" has no fraction', irr2.includes('۱٬۵۰۰٬۰۰۰') && !irr2.includes('٫'), irr2);
  eq('fa number', formatNumber('1234.5'), '۱٬۲۳۴٫۵');
  await use('hy');
  const amd = formatMoney({ amount: '1500.50', currency: 'AMD' });
  ok('hy AMD', amd.includes('1500,50') && amd.includes('֏'), amd);
  const irrHy = formatMoney({ amount: '1500000', currency: 'IRR' });
  ok('hy IRR has no fraction', /^1\s500\s000\sIRR$/u.test(irrHy), irrHy);
  const big = formatMoney({ amount: '12345678901234567.89', currency: 'AMD' });
  ok('hy AMD keeps every digit of a decimal string', big.replace(/\s/g, '').startsWith('12345678901234567,89'), big);
  calendar.value = 'gregorian';
  eq('hy date', formatDate('2025-03-20'), '20 մարտի, 2025 թ.');
  eq('hy months', monthNames('hy', 'gregorian')[2], 'մարտ');
  calendar.value = 'jalali';
  eq('hy Jalali date', formatDate('2025-03-20'), '30 էսֆանդ, 1403 թ.');
  calendar.value = 'gregorian';
  eq('hy relative', formatRelative('2025-03-20T10:00:00Z', Date.parse('2025-03-20T13:00:00Z')), '3 ժամ առաջ');
  eq('hy number in t() params', formatNumber(1234567.5), '1\u00a0234\u00a0567,5');
  await use('ru');
  const rub = formatMoney({ amount: '-0.50', currency: 'RUB' });
  ok('ru RUB', rub.includes('0,50') && rub.includes('₽'), rub);
  await use('az');
  const azn = formatMoney({ amount: '10', currency: 'AZN' });
  ok('az AZN', azn.includes('10,00') && azn.includes('₼'), azn);
  eq('az date', formatDate('2025-03-20'), '20 mart 2025');
  eq('az yesterday', formatRelative('2025-03-19T10:00:00Z', Date.parse('2025-03-20T11:00:00Z')), 'dünən');
  await use('lt');
  eq('lt date', formatDate('2025-03-20'), '2025 m. kovo 20 d.');
  eq('lt EUR', formatMoney({ amount: '1234.5', currency: 'EUR' }), '1\u00a0234,50\u00a0€');

  // Plural rules and t() with each catalogue's plural messages.
  const expect = {
    ru: [[1, 'one'], [2, 'few'], [5, 'many'], [11, 'many'], [21, 'one'], [22, 'few'], [1.5, 'other']],
    lt: [[1, 'one'], [2, 'few'], [9, 'few'], [10, 'other'], [11, 'other'], [21, 'one'], [1.5, 'many']],
  };
  for (const [code, cases] of Object.entries(expect)) {
    const rules = new Intl.PluralRules(code);
    for (const [n, cat] of cases) eq(`${code} plural of ${n}`, rules.select(n), cat);
  }
  let plurals = 0;
  for (const code of ['ru', 'lt', 'fa', 'hy', 'az']) {
    const cat = await (await fetch(`/static/i18n/${code}.json`)).json();
    await use(code);
    const rules = new Intl.PluralRules(code);
    for (const [key, v] of Object.entries(cat)) {
      if (typeof v !== 'object') continue;
      for (const n of [1, 2, 5, 21, 22]) {
        const want = String(v[rules.select(n)] ?? v.other).replace('{count}', new Intl.NumberFormat(code).format(n));
        const got = t(key, { count: n });
        if (got !== want) failures.push(`${code} t(${key}, ${n}): ${got}, want ${want}`);
        plurals++;
      }
    }
  }
  window.__locale.plurals = plurals;
  eq('t() falls back to the key', t('no.such.key'), 'no.such.key');

  // Labels from the schema.
  const vin = { name: 'vin', label: 'VIN', labels: { fa: 'شماره شاسی', hy: 'VIN համար' } };
  await use('fa');
  eq('fa label', label(vin), 'شماره شاسی');
  eq('fa dir signal', dir.value, 'rtl');
  await use('ru');
  eq('label without the language', label(vin), 'VIN');
  eq('label without label', label({ name: 'mileage' }), 'mileage');
  eq('ru dir signal', dir.value, 'ltr');
  const faCat = await (await fetch('/static/i18n/fa.json')).json();
  await use('fa');
  eq('fa text with a placeholder', t('home.title', { name: 'Ani' }), faCat['home.title'].replace('{name}', 'Ani'));
}

async function picker() {
  // The DatePicker part needs the vendored Preact (branch ui); the Go test
  // asks for it only when the files are there.
  const [{ h, render }, { useState }, { DatePicker }] = await Promise.all([
    import('preact'), import('preact/hooks'), import('/static/js/locale/datepicker.js'),
  ]);
  window.__picker = {
    values: [],
    // switch language and calendar from the Go test
    use: async (code, cal) => {
      await use(code);
      calendar.value = cal;
      return true;
    },
  };
  function Host() {
    const [value, setValue] = useState(null);
    const [when, setWhen] = useState(null);
    return h('div', null,
      h(DatePicker, {
        id: 'dp', value, onChange: (v) => { window.__picker.values.push(v); window.__picker.value = v; setValue(v); },
      }),
      h(DatePicker, {
        id: 'dpt', value: when, withTime: true,
        onChange: (v) => { window.__picker.when = v; setWhen(v); },
      }),
    );
  }
  await use('fa');
  calendar.value = 'jalali';
  timezone.value = 'Asia/Tehran';
  render(h(Host), document.getElementById('picker'));
}

window.__locale = { done: false, failures, checks: 0 };
run()
  .catch((e) => failures.push(`exception: ${e && e.stack ? e.stack : e}`))
  .then(async () => {
    window.__locale.checks = checks;
    if (new URLSearchParams(location.search).get('picker') === '1') {
      try {
        await picker();
        window.__locale.picker = true;
      } catch (e) {
        failures.push(`picker: ${e && e.stack ? e.stack : e}`);
      }
    }
    window.__locale.done = true;
  });
