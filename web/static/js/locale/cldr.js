// Locale data for languages some browsers' Intl lacks.
//
// Chromium as built by Debian (and other builds that trim ICU to the browser's
// own UI languages) has no Armenian data at all and no Azerbaijani dates or
// numbers: Intl answers in English ("AMD 1,500.50", "March 20, 2025",
// "2025 M03 20"). For those languages format.js uses the tables below, taken
// from CLDR 46 (unicode.org/cldr, Unicode license), instead. A browser with
// full data (Firefox, Safari) never needs them: missing() tests the browser.

const data = {
  hy: {
    decimal: ',',
    group: '\u00a0',
    minGrouping: 2,
    currencyAfter: true,
    months: ['հունվարի', 'փետրվարի', 'մարտի', 'ապրիլի', 'մայիսի', 'հունիսի', 'հուլիսի', 'օգոստոսի', 'սեպտեմբերի', 'հոկտեմբերի', 'նոյեմբերի', 'դեկտեմբերի'],
    monthsStandalone: ['հունվար', 'փետրվար', 'մարտ', 'ապրիլ', 'մայիս', 'հունիս', 'հուլիս', 'օգոստոս', 'սեպտեմբեր', 'հոկտեմբեր', 'նոյեմբեր', 'դեկտեմբեր'],
    monthsShort: ['հնվ', 'փտվ', 'մրտ', 'ապր', 'մյս', 'հնս', 'հլս', 'օգս', 'սեպ', 'հոկ', 'նոյ', 'դեկ'],
    weekdays: ['կիրակի', 'երկուշաբթի', 'երեքշաբթի', 'չորեքշաբթի', 'հինգշաբթի', 'ուրբաթ', 'շաբաթ'],
    weekdaysShort: ['կիր', 'երկ', 'երք', 'չրք', 'հնգ', 'ուր', 'շբթ'],
    // {d} day, {M} month name, {y} year, {t} time
    dateLong: '{d} {M}, {y} թ.',
    dateNumeric: '{dd}.{MM}.{y}',
    dateTime: '{date}, {t}',
    relative: {
      now: 'հիմա', yesterday: 'երեկ', today: 'այսօր', tomorrow: 'վաղը',
      second: ['{0} վայրկյան առաջ', '{0} վայրկյանից'],
      minute: ['{0} րոպե առաջ', '{0} րոպեից'],
      hour: ['{0} ժամ առաջ', '{0} ժամից'],
      day: ['{0} օր առաջ', '{0} օրից'],
      week: ['{0} շաբաթ առաջ', '{0} շաբաթից'],
      month: ['{0} ամիս առաջ', '{0} ամսից'],
      year: ['{0} տարի առաջ', '{0} տարուց'],
    },
    currency: { AMD: '֏', AZN: '₼', EUR: '€', RUB: '₽', USD: '$', IRR: 'IRR' },
  },
  az: {
    decimal: ',',
    group: '.',
    minGrouping: 1,
    currencyAfter: true,
    months: ['yanvar', 'fevral', 'mart', 'aprel', 'may', 'iyun', 'iyul', 'avqust', 'sentyabr', 'oktyabr', 'noyabr', 'dekabr'],
    monthsStandalone: ['Yanvar', 'Fevral', 'Mart', 'Aprel', 'May', 'İyun', 'İyul', 'Avqust', 'Sentyabr', 'Oktyabr', 'Noyabr', 'Dekabr'],
    monthsShort: ['yan', 'fev', 'mar', 'apr', 'may', 'iyn', 'iyl', 'avq', 'sen', 'okt', 'noy', 'dek'],
    weekdays: ['bazar', 'bazar ertəsi', 'çərşənbə axşamı', 'çərşənbə', 'cümə axşamı', 'cümə', 'şənbə'],
    weekdaysShort: ['B.', 'B.E.', 'Ç.A.', 'Ç.', 'C.A.', 'C.', 'Ş.'],
    jalaliMonths: ['fərvərdin', 'ordibeheşt', 'xordəd', 'tir', 'mordəd', 'şəhrivar', 'mehr', 'abən', 'azər', 'dey', 'bəhmən', 'isfənd'],
    dateLong: '{d} {M} {y}',
    dateNumeric: '{dd}.{MM}.{y}',
    dateTime: '{date}, {t}',
    relative: {
      now: 'indi', yesterday: 'dünən', today: 'bu gün', tomorrow: 'sabah',
      second: ['{0} saniyə öncə', '{0} saniyə ərzində'],
      minute: ['{0} dəqiqə öncə', '{0} dəqiqə ərzində'],
      hour: ['{0} saat öncə', '{0} saat ərzində'],
      day: ['{0} gün öncə', '{0} gün ərzində'],
      week: ['{0} həftə öncə', '{0} həftə ərzində'],
      month: ['{0} ay öncə', '{0} ay ərzində'],
      year: ['{0} il öncə', '{0} il ərzində'],
    },
    currency: { AMD: '֏', AZN: '₼', EUR: '€', RUB: '₽', USD: '$', IRR: 'IRR' },
  },
};

const probed = new Map();

/**
 * missing returns the fallback data for lang when the browser's Intl has no
 * dates for it (it writes March as in English or as "M03"), else null.
 */
export function missing(lang) {
  if (!data[lang]) return null;
  if (!probed.has(lang)) {
    const march = new Date(Date.UTC(2001, 2, 15));
    const opts = { month: 'long', timeZone: 'UTC' };
    let lacks = true;
    try {
      const own = new Intl.DateTimeFormat(lang, opts).format(march);
      const en = new Intl.DateTimeFormat('en', opts).format(march);
      lacks = own === en || /^M0?3$/.test(own);
    } catch {
      lacks = true;
    }
    probed.set(lang, lacks);
  }
  return probed.get(lang) ? data[lang] : null;
}

function group(intPart, d) {
  if (intPart.length < 4 || (d.minGrouping > 1 && intPart.length < 3 + d.minGrouping)) return intPart;
  return intPart.replace(/\B(?=(\d{3})+(?!\d))/g, d.group);
}

/**
 * number formats n with the fallback data d: Intl (in English, Latin digits)
 * rounds it, then the separators and the currency's place are d's.
 */
export function number(d, n, opts = {}) {
  const parts = new Intl.NumberFormat('en-US-u-nu-latn', { ...opts, useGrouping: false, currencyDisplay: 'code' }).formatToParts(n);
  let sign = '';
  let int = '';
  let frac = '';
  let code = '';
  let rest = '';
  for (const p of parts) {
    if (p.type === 'minusSign') sign = '-';
    else if (p.type === 'integer') int += p.value;
    else if (p.type === 'fraction') frac = p.value;
    else if (p.type === 'currency') code = p.value;
    else if (p.type === 'percentSign' || p.type === 'compact' || p.type === 'exponentInteger') rest += p.value;
  }
  const grouped = opts.useGrouping === false ? int : group(int, d);
  const body = `${sign}${grouped}${frac ? d.decimal + frac : ''}${rest}`;
  if (!code) return body;
  const symbol = d.currency[code] ?? code;
  return d.currencyAfter ? `${body}\u00a0${symbol}` : `${symbol}\u00a0${body}`;
}

/** relative is "3 hours ago" in the fallback data d (n < 0: past). */
export function relative(d, n, unit) {
  if (unit === 'day' && Math.abs(n) <= 1) return [d.relative.yesterday, d.relative.today, d.relative.tomorrow][n + 1];
  if (unit === 'second' && n === 0) return d.relative.now;
  const [past, future] = d.relative[unit];
  return (n < 0 ? past : future).replace('{0}', number(d, Math.abs(n)));
}
