// decimal: a number with a fraction.
import { html } from 'htm/preact';
import { register, ORDER_OPS } from './registry.js';
import { NumberInput } from './int.js';
import { formatNumber, toLatinDigits } from '../locale/format.js';

register('decimal', {
  display: ({ value }) => (value === null || value === undefined ? '' : formatNumber(Number(value))),
  text: (v) => (v === null || v === undefined ? '' : formatNumber(Number(v))),
  input: (p) => html`<${NumberInput} ...${p} decimal=${true} />`,
  literal: (v) => String(Number(toLatinDigits(String(v)).replace('٫', '.')) || 0),
  ops: ORDER_OPS,
  blank: null,
});
