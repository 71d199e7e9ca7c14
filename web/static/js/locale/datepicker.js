// DatePicker: a date (or date and time) input in the user's calendar and digits.
//
// A text input takes a typed date in the user's calendar (Jalali or
// Gregorian) with ASCII, Persian or Arabic-Indic digits; a button opens a month
// grid (Jalali months in the Jalali calendar, the week starting on the
// language's first day). The value in and out is always Gregorian: ISO
// "YYYY-MM-DD", or RFC 3339 (UTC) with withTime, the wall-clock time being read
// and shown in format.js's timezone (the user's or the CRM's, which the app
// sets; a zone other than the browser's is named beside the time input). onChange(null) means the field was cleared.
//
// Keyboard: in the input, ArrowDown (or Alt+ArrowDown) opens the grid, Enter
// commits the typed text, Escape closes the grid or restores the last value. In
// the grid, arrows move by day and week (mirrored right-to-left), PageUp and
// PageDown by month (with Shift by year), Home and End to the week's ends, Enter
// or Space choose, Escape closes and returns to the input.
//
// Its default look is datepicker.css; the class names (datepicker,
// datepicker-input, datepicker-toggle, datepicker-popup, datepicker-head,
// datepicker-prev, datepicker-next, datepicker-title, datepicker-grid,
// datepicker-day, is-today, is-selected, datepicker-time) let the app restyle it.

import { html } from 'htm/preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import '@preact/signals'; // renders again when lang, dir, calendar or timezone change
import { dir, lang, t } from './i18n.js';
import { browserZone, calendar, formatDate, formatDateNumeric, timezone, wallClock, zonedToInstant } from './format.js';
import {
  addDays,
  fromYMD,
  isoDate,
  monthLength,
  monthNames,
  parseDateInput,
  parseISODate,
  toLatinDigits,
  toYMD,
  weekday,
  weekdayNames,
  weekStart,
} from './calendar.js';

let nextId = 0;

// The picker's default look (datepicker.css, zero specificity) goes first in
// <head>, so the app's own stylesheets override it.
if (typeof document !== 'undefined' && !document.querySelector('link[data-datepicker]')) {
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = new URL('./datepicker.css', import.meta.url).href;
  link.dataset.datepicker = '';
  document.head.prepend(link);
}

// The calendar day and "HH:MM" of a value (ISO date, or RFC 3339 with withTime).
function split(value, withTime, zone) {
  if (!value) return { date: '', time: '' };
  if (!withTime) return { date: parseISODate(String(value).slice(0, 10)) ? String(value).slice(0, 10) : '', time: '' };
  const w = wallClock(value, zone);
  if (!w) return { date: '', time: '' };
  const hh = String(w.h).padStart(2, '0');
  const mm = String(w.min).padStart(2, '0');
  return { date: isoDate(w.y, w.m, w.d), time: `${hh}:${mm}` };
}

// The RFC 3339 instant (UTC, seconds) of a calendar day and "HH:MM" in zone.
function join(date, time, zone) {
  const g = parseISODate(date);
  const m = /^(\d{1,2}):(\d{2})/.exec(toLatinDigits(time || '00:00'));
  const h = m ? +m[1] : 0;
  const min = m ? +m[2] : 0;
  return zonedToInstant(g.y, g.m, g.d, h, min, zone).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// zoneName is how the time input names zone ("GMT+4"), or '' when it is the
// browser's own.
function zoneName(zone, code, at) {
  if (!zone || zone === browserZone()) return '';
  try {
    const parts = new Intl.DateTimeFormat(code, { timeZone: zone, timeZoneName: 'short' }).formatToParts(at);
    return parts.find((p) => p.type === 'timeZoneName')?.value || zone;
  } catch {
    return zone;
  }
}

function todayISO(zone) {
  const w = wallClock(new Date(), zone);
  return w ? isoDate(w.y, w.m, w.d) : null;
}

// complete reports whether typed date text is finished: year first with a
// two-digit day, or a four-digit year last.
function complete(s) {
  const parts = toLatinDigits(s).trim().split(/[^0-9]+/).filter(Boolean);
  if (parts.length !== 3) return false;
  return parts[0].length >= 3 ? parts[2].length === 2 : parts[2].length === 4;
}

// The same day n months later in the calendar (clamped to the month's end).
function addMonths(iso, n, cal) {
  const p = toYMD(iso, cal);
  let m = p.m - 1 + n;
  const y = p.y + Math.floor(m / 12);
  m = ((m % 12) + 12) % 12 + 1;
  return fromYMD(y, m, Math.min(p.d, monthLength(y, m, cal)), cal);
}

/**
 * DatePicker({id, value, onChange, withTime?, invalid?, required?, disabled?,
 * describedBy?}) renders the input and its month grid.
 */
export function DatePicker({ id, value, onChange, withTime = false, invalid = false, required = false, disabled = false, describedBy }) {
  const cal = calendar.value === 'jalali' ? 'jalali' : 'gregorian';
  const code = lang.value;
  const rtl = dir.value === 'rtl';
  const zone = timezone.value;
  const [uid] = useState(() => `datepicker-${++nextId}`);
  const inputId = id || `${uid}-input`;
  const popupId = `${uid}-popup`;
  const current = split(value, withTime, zone);

  const [text, setText] = useState(() => formatDateNumeric(current.date));
  const [bad, setBad] = useState(false);
  const [open, setOpen] = useState(false);
  const [focus, setFocus] = useState(null); // the ISO day focused in the grid
  const editing = useRef(false);
  const moveFocus = useRef(null); // the ISO day to move the keyboard focus to
  const root = useRef(null);
  const grid = useRef(null);
  const input = useRef(null);

  // Show the value in the user's calendar and digits unless the person is typing.
  useEffect(() => {
    if (!editing.current) {
      setText(formatDateNumeric(current.date));
      setBad(false);
    }
  }, [current.date, cal, code]);

  // After a render, move the keyboard focus to the day asked for, if shown.
  useLayoutEffect(() => {
    if (!moveFocus.current || !open || !grid.current) return;
    const el = grid.current.querySelector(`[data-date="${moveFocus.current}"]`);
    if (el) {
      moveFocus.current = null;
      el.focus();
    }
  });

  // A press outside closes the grid.
  useEffect(() => {
    if (!open) return undefined;
    const onDown = (e) => {
      if (root.current && !root.current.contains(e.target)) setOpen(false);
    };
    document.addEventListener('mousedown', onDown);
    document.addEventListener('touchstart', onDown);
    return () => {
      document.removeEventListener('mousedown', onDown);
      document.removeEventListener('touchstart', onDown);
    };
  }, [open]);

  const emit = (date, time = current.time) => {
    if (!onChange) return;
    if (!date) onChange(null);
    else onChange(withTime ? join(date, time, zone) : date);
  };

  // Reads the typed text; returns the ISO day, '' for empty, or null when not a date.
  const read = (s) => {
    if (toLatinDigits(s).trim() === '') return '';
    return parseDateInput(s, cal, code);
  };

  // While typing, a date is handed on only once it is complete (a four-digit
  // year and a two-digit last part), so "1403/12/3" on the way to "1403/12/30"
  // is never stored. An empty or unfinished text is handed on (or marked
  // invalid) when the input is left or Enter is pressed; until then the value
  // stays the last complete date.
  const onInput = (e) => {
    editing.current = true;
    const s = e.currentTarget.value;
    setText(s);
    const d = read(s);
    setBad(d === null && complete(s));
    if (d && d !== current.date && complete(s)) emit(d);
  };

  const commit = () => {
    editing.current = false;
    const d = read(text);
    if (d === null) {
      setBad(true);
      return;
    }
    setBad(false);
    if (d !== current.date) emit(d);
    setText(formatDateNumeric(d));
  };

  const openGrid = (withFocus) => {
    const start = current.date || read(text) || todayISO(zone);
    setFocus(start);
    setOpen(true);
    moveFocus.current = withFocus ? start : null;
  };

  const choose = (iso) => {
    editing.current = false;
    setText(formatDateNumeric(iso));
    setBad(false);
    setOpen(false);
    if (iso !== current.date) emit(iso);
    input.current?.focus();
  };

  const onInputKey = (e) => {
    if (e.key === 'ArrowDown' && (e.altKey || !open)) {
      e.preventDefault();
      openGrid(true);
    } else if (e.key === 'Enter') {
      if (open) {
        e.preventDefault();
        if (focus) choose(focus);
        return;
      }
      commit();
      if (read(text) === null) e.preventDefault();
    } else if (e.key === 'Escape') {
      if (open) {
        e.preventDefault();
        setOpen(false);
      } else if (text !== formatDateNumeric(current.date)) {
        e.preventDefault();
        editing.current = false;
        setText(formatDateNumeric(current.date));
        setBad(false);
      }
    }
  };

  const onGridKey = (e) => {
    if (!focus) return;
    const back = rtl ? 1 : -1; // ArrowLeft goes back a day left-to-right, forward right-to-left
    let next = null;
    switch (e.key) {
      case 'ArrowLeft':
        next = addDays(focus, back);
        break;
      case 'ArrowRight':
        next = addDays(focus, -back);
        break;
      case 'ArrowUp':
        next = addDays(focus, -7);
        break;
      case 'ArrowDown':
        next = addDays(focus, 7);
        break;
      case 'PageUp':
        next = addMonths(focus, e.shiftKey ? -12 : -1, cal);
        break;
      case 'PageDown':
        next = addMonths(focus, e.shiftKey ? 12 : 1, cal);
        break;
      case 'Home':
        next = addDays(focus, -((weekday(focus) - weekStart(code, cal) + 7) % 7));
        break;
      case 'End':
        next = addDays(focus, 6 - ((weekday(focus) - weekStart(code, cal) + 7) % 7));
        break;
      case 'Enter':
      case ' ':
        e.preventDefault();
        choose(focus);
        return;
      case 'Escape':
        e.preventDefault();
        setOpen(false);
        input.current?.focus();
        return;
      default:
        return;
    }
    e.preventDefault();
    if (next) {
      moveFocus.current = next;
      setFocus(next);
    }
  };

  const onTime = (e) => {
    const time = e.currentTarget.value;
    const date = current.date || read(text);
    if (date) emit(date, time);
  };

  const popup = open && focus ? renderGrid() : null;
  // When the time zone is not the browser's, the time input says which it is.
  const zoneLabel = withTime ? zoneName(zone, code, value ? new Date(value) : new Date()) : '';

  function renderGrid() {
    const view = toYMD(focus, cal);
    const names = monthNames(code, cal);
    const first = fromYMD(view.y, view.m, 1, cal);
    const days = monthLength(view.y, view.m, cal);
    const ws = weekStart(code, cal);
    const lead = (weekday(first) - ws + 7) % 7;
    const num = (n) => new Intl.NumberFormat(code, { useGrouping: false }).format(n);
    const today = todayISO(zone);
    // Persian 'short' weekday names are the full words; one letter each fits a column.
    let shortNames = weekdayNames(code, 'short');
    if (shortNames.some((n) => n.length > 4)) shortNames = weekdayNames(code, 'narrow');
    const longNames = weekdayNames(code, 'long');
    const head = [];
    for (let i = 0; i < 7; i++) {
      const wd = (ws + i) % 7;
      head.push(html`<th scope="col" abbr=${longNames[wd]}>${shortNames[wd]}</th>`);
    }
    const rows = [];
    let cells = [];
    for (let i = 0; i < lead; i++) cells.push(html`<td key=${`lead${i}`} role="gridcell"></td>`);
    for (let d = 1; d <= days; d++) {
      const iso = addDays(first, d - 1);
      const selected = iso === current.date;
      const cls = `datepicker-day${iso === today ? ' is-today' : ''}${selected ? ' is-selected' : ''}`;
      cells.push(html`<td key=${iso} role="gridcell" aria-selected=${selected ? 'true' : 'false'}>
        <button type="button" class=${cls} data-date=${iso} tabindex=${iso === focus ? 0 : -1}
          aria-label=${formatDate(iso)} aria-current=${iso === today ? 'date' : undefined}
          onClick=${() => choose(iso)}>${num(d)}</button>
      </td>`);
      if (cells.length === 7) {
        rows.push(html`<tr key=${iso}>${cells}</tr>`);
        cells = [];
      }
    }
    if (cells.length) {
      while (cells.length < 7) cells.push(html`<td key=${`trail${cells.length}`} role="gridcell"></td>`);
      rows.push(html`<tr key="last">${cells}</tr>`);
    }
    const title = `${names[view.m - 1]} ${num(view.y)}`;
    const prev = addMonths(focus, -1, cal);
    const next = addMonths(focus, 1, cal);
    const monthTitle = (iso) => {
      const p = toYMD(iso, cal);
      return `${names[p.m - 1]} ${num(p.y)}`;
    };
    const go = (iso) => {
      moveFocus.current = null;
      setFocus(iso);
    };
    return html`<div id=${popupId} class="datepicker-popup" role="dialog" aria-modal="false"
        aria-label=${t('datepicker.choose')}>
      <div class="datepicker-head">
        <button type="button" class="datepicker-prev" aria-label=${monthTitle(prev)} title=${monthTitle(prev)}
          onClick=${() => go(prev)}>${rtl ? '›' : '‹'}</button>
        <span class="datepicker-title" id=${`${uid}-title`} aria-live="polite">${title}</span>
        <button type="button" class="datepicker-next" aria-label=${monthTitle(next)} title=${monthTitle(next)}
          onClick=${() => go(next)}>${rtl ? '‹' : '›'}</button>
      </div>
      <table class="datepicker-grid" role="grid" ref=${grid} aria-labelledby=${`${uid}-title`} onKeyDown=${onGridKey}>
        <thead><tr>${head}</tr></thead>
        <tbody>${rows}</tbody>
      </table>
    </div>`;
  }

  return html`<span class="datepicker" ref=${root} dir=${rtl ? 'rtl' : 'ltr'}>
    <input id=${inputId} ref=${input} class="datepicker-input" type="text" inputmode="numeric" autocomplete="off"
      value=${text} placeholder=${formatDateNumeric(todayISO(zone))} required=${required} disabled=${disabled}
      aria-invalid=${invalid || bad ? 'true' : 'false'} aria-describedby=${describedBy}
      onInput=${onInput} onBlur=${commit} onKeyDown=${onInputKey} />
    <button type="button" class="datepicker-toggle" disabled=${disabled}
      aria-label=${t('datepicker.choose')} title=${t('datepicker.choose')}
      aria-haspopup="dialog" aria-expanded=${open ? 'true' : 'false'} aria-controls=${popupId}
      onClick=${() => (open ? setOpen(false) : openGrid(true))}>
      <svg width="18" height="18" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
        <path fill="currentColor" d="M7 2h2v2h6V2h2v2h3a1 1 0 0 1 1 1v15a1 1 0 0 1-1 1H4a1 1 0 0 1-1-1V5a1 1 0 0 1 1-1h3V2zm12 8H5v9h14v-9zM5 8h14V6H5v2z"/>
      </svg>
    </button>
    ${withTime &&
    html`<input type="time" class="datepicker-time" value=${current.time} disabled=${disabled || !current.date}
      aria-label=${t('datepicker.time')} onChange=${onTime} />`}
    ${withTime && zoneLabel &&
    html`<span class="datepicker-zone muted small" title=${t('datepicker.zone', { zone })}>${zoneLabel}</span>`}
    ${popup}
  </span>`;
}
