// date: a calendar day, "2026-03-21", never converted through a time zone.
// The input is the uikit DatePicker (Jalali months when the user's calendar
// is Jalali, typed Persian or Arabic-Indic digits accepted); it is loaded on
// first use, with a plain text input that parses the same way meanwhile.
import { html } from 'htm/preact';
import { signal } from '@preact/signals';
import { register, ORDER_OPS, quote } from './registry.js';
import { formatDate, formatDateTime, calendar } from '../locale/format.js';
import { parseDateInput } from '../locale/calendar.js';

const picker = signal(null);
let loading = null;

function loadPicker() {
  if (!loading) {
    loading = import('../locale/datepicker.js')
      .then((m) => (picker.value = m.DatePicker))
      .catch((e) => console.warn('date picker', e));
  }
}

/** DateInput edits a date (or, withTime, a datetime) value. */
export function DateInput({ field, value, onChange, id, invalid, required, withTime }) {
  loadPicker();
  const P = picker.value;
  if (P) return html`<${P} id=${id} value=${value ?? ''} withTime=${withTime} invalid=${invalid} required=${required}
    onChange=${(v) => onChange(v || null)} />`;
  return html`<input id=${id} type="text" dir="auto" name=${field.name} value=${value ?? ''}
    aria-invalid=${invalid ? 'true' : undefined}
    onChange=${(e) => onChange(parseDateInput(e.currentTarget.value, calendar.value) || e.currentTarget.value || null)} />`;
}

register('date', {
  display: ({ value }) => (value ? html`<time datetime=${value}>${formatDate(value)}</time>` : ''),
  text: (v) => (v ? formatDate(v) : ''),
  input: (p) => html`<${DateInput} ...${p} />`,
  literal: (v) => 'date(' + quote(v) + ')',
  ops: ORDER_OPS,
  blank: null,
});

register('datetime', {
  display: ({ value }) => (value ? html`<time datetime=${value}>${formatDateTime(value)}</time>` : ''),
  text: (v) => (v ? formatDateTime(v) : ''),
  input: (p) => html`<${DateInput} ...${p} withTime=${true} />`,
  literal: (v) => 'date(' + quote(v) + ')',
  ops: ORDER_OPS,
  blank: null,
});
