// money: {"amount": "1500.00", "currency": "AMD"}; the amount stays an
// exact decimal string, the currency one of ISO 4217.
import { html } from 'htm/preact';
import { register, ORDER_OPS } from './registry.js';
import { formatMoney, toLatinDigits } from '../locale/format.js';
import { schema } from '../session.js';
import { t } from '../locale/i18n.js';

const CURRENCIES = ['AMD', 'AZN', 'EUR', 'IRR', 'RUB', 'USD'];

function MoneyInput({ field, value, onChange, id, invalid, required }) {
  const cur = value?.currency || schema.value.locale?.currency || 'AMD';
  const set = (amount, currency) => onChange(amount === '' || amount === null ? null : { amount, currency });
  const list = CURRENCIES.includes(cur) ? CURRENCIES : [cur, ...CURRENCIES];
  return html`<span class="money-input">
    <input id=${id} type="text" inputmode="decimal" dir="ltr" value=${value?.amount ?? ''} name=${field.name}
      required=${required} aria-invalid=${invalid ? 'true' : undefined}
      onInput=${(e) => set(toLatinDigits(e.currentTarget.value).replace(/[\s,٬]/g, '').replace('٫', '.'), cur)} />
    <select aria-label=${t('field.currency')} value=${cur}
      onChange=${(e) => value?.amount && set(value.amount, e.currentTarget.value)}>
      ${list.map((c) => html`<option value=${c}>${c}</option>`)}
    </select></span>`;
}

register('money', {
  display: ({ value }) => (value?.amount ? html`<span class="num">${formatMoney(value)}</span>` : ''),
  text: (v) => (v?.amount ? formatMoney(v) : ''),
  input: (p) => html`<${MoneyInput} ...${p} />`,
  literal: (v) => String(Number(toLatinDigits(String(v))) || 0),
  // A filter compares the amount: price.amount >= 1000.
  path: (f) => f.name + '.amount',
  ops: ORDER_OPS,
  blank: null,
});
