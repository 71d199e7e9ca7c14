// int: a whole number, shown with the language's digits and grouping.
import { html } from 'htm/preact';
import { register, ORDER_OPS } from './registry.js';
import { formatNumber, toLatinDigits } from '../locale/format.js';

/** NumberInput takes digits in any script; onChange gets a number or null. */
export function NumberInput({ field, value, onChange, id, invalid, required, decimal }) {
  return html`<input id=${id} type="text" inputmode=${decimal ? 'decimal' : 'numeric'} dir="ltr"
    value=${value ?? ''} name=${field.name} required=${required} aria-invalid=${invalid ? 'true' : undefined}
    onInput=${(e) => {
      const raw = toLatinDigits(e.currentTarget.value).replace(/[\s,٬]/g, '').replace('٫', '.');
      if (raw === '') return onChange(null);
      const n = Number(raw);
      onChange(Number.isFinite(n) ? n : e.currentTarget.value);
    }} />`;
}

register('int', {
  display: ({ value }) => (value === null || value === undefined ? '' : formatNumber(value)),
  text: (v) => (v === null || v === undefined ? '' : formatNumber(v)),
  input: (p) => html`<${NumberInput} ...${p} />`,
  literal: (v) => String(Number(toLatinDigits(String(v))) || 0),
  ops: ORDER_OPS,
  blank: null,
});
