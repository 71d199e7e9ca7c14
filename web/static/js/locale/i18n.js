// The UI's languages: the current language as a signal, the message
// catalogues (web/static/i18n/<code>.json) and t(), which every visible string
// goes through.
//
// A catalogue is a flat JSON object. A value is a string with {placeholders},
// or a plural object {zero?, one, two?, few?, many?, other} chosen with
// Intl.PluralRules for params.count ("zero", when present, is used for exactly
// 0 whatever the language's rules). A key missing in the language falls back to
// English, then to the key itself.

import { signal, computed } from '@preact/signals-core';
import { missing, number } from './cldr.js';

/** LANGUAGES are the UI's languages with their names in themselves. */
export const LANGUAGES = [
  { code: 'en', name: 'English' },
  { code: 'hy', name: 'Հայերեն' },
  { code: 'lt', name: 'Lietuvių' },
  { code: 'az', name: 'Azərbaycanca' },
  { code: 'fa', name: 'فارسی' },
  { code: 'ru', name: 'Русский' },
];

const RTL = new Set(['fa']);
const FALLBACK = 'en';

/** lang is the current UI language code (a signal). */
export const lang = signal(FALLBACK);

/** dir is the writing direction of the current language, 'rtl' or 'ltr'. */
export const dir = computed(() => (RTL.has(lang.value) ? 'rtl' : 'ltr'));

// code -> catalogue object; filled by setLanguage. A signal so that a component
// rendered before a catalogue arrives renders again when it does.
const catalogues = signal({});
const loading = new Map();

function known(code) {
  return LANGUAGES.some((l) => l.code === code);
}

function load(code) {
  if (!loading.has(code)) {
    const url = new URL(`../../i18n/${code}.json`, import.meta.url);
    const p = fetch(url, { credentials: 'same-origin' })
      .then((r) => {
        if (!r.ok) throw new Error(`i18n: ${url}: HTTP ${r.status}`);
        return r.json();
      })
      .then((cat) => {
        catalogues.value = { ...catalogues.value, [code]: cat };
        return cat;
      })
      .catch((err) => {
        loading.delete(code); // let a later call retry
        throw err;
      });
    loading.set(code, p);
  }
  return loading.get(code);
}

/**
 * setLanguage loads the catalogue of code (and English, the fallback), then
 * makes it the current language and sets <html lang dir>. An unknown code means
 * English. The promise rejects when a catalogue cannot be loaded; the language
 * is still switched and missing keys fall back to English or the key.
 */
export async function setLanguage(code) {
  const next = known(code) ? code : FALLBACK;
  let failure = null;
  await Promise.all(
    [FALLBACK, next].map((c) =>
      load(c).catch((err) => {
        failure = err;
      }),
    ),
  );
  lang.value = next;
  if (typeof document !== 'undefined') {
    document.documentElement.lang = next;
    document.documentElement.dir = RTL.has(next) ? 'rtl' : 'ltr';
  }
  if (failure) throw failure;
}

const pluralRules = new Map();

function plural(code, n) {
  if (!pluralRules.has(code)) pluralRules.set(code, new Intl.PluralRules(code));
  return pluralRules.get(code).select(n);
}

const numberFormats = new Map();

function formatParam(code, v) {
  if (typeof v !== 'number' || !Number.isFinite(v)) return String(v);
  const fb = missing(code);
  if (fb) return number(fb, v);
  if (!numberFormats.has(code)) numberFormats.set(code, new Intl.NumberFormat(code));
  return numberFormats.get(code).format(v);
}

/**
 * t(key, params) is the text of key in the current language with {name}
 * placeholders replaced by params.name (numbers formatted in the language,
 * so Persian shows Persian digits). A plural value is chosen by params.count.
 */
export function t(key, params) {
  const code = lang.value;
  const cats = catalogues.value;
  let from = code;
  let v = cats[code]?.[key];
  if (v === undefined || v === null || v === '') {
    from = FALLBACK;
    v = cats[FALLBACK]?.[key];
  }
  if (v === undefined || v === null || v === '') return key;
  if (typeof v === 'object') {
    const n = Number(params?.count ?? 0);
    if (n === 0 && typeof v.zero === 'string') v = v.zero;
    else v = v[plural(from, n)] ?? v.other ?? key;
  }
  if (!params || typeof v !== 'string') return String(v);
  return v.replace(/\{(\w+)\}/g, (whole, name) =>
    Object.prototype.hasOwnProperty.call(params, name) ? formatParam(code, params[name]) : whole,
  );
}

/**
 * label is the display name of an entity, field or enum value from
 * /api/v1/schema in the current language: labels[lang], else label, else name.
 */
export function label(obj) {
  if (obj === null || obj === undefined) return '';
  if (typeof obj === 'string') return obj;
  return obj.labels?.[lang.value] || obj.label || obj.name || '';
}

/** hasKey reports whether the current language's catalogue or English has key. */
export function hasKey(key) {
  const cats = catalogues.value;
  return cats[lang.value]?.[key] !== undefined || cats[FALLBACK]?.[key] !== undefined;
}
