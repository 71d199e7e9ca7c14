// enum: one of the field's values, shown by its label in the language.
import { html } from 'htm/preact';
import { register } from './registry.js';
import { t, label } from '../locale/i18n.js';

/** valueLabel is the label of an enum value in the current language. */
export function valueLabel(field, v) {
  const meta = field.value_labels?.[v];
  if (meta) return label({ name: v, ...meta });
  return v;
}

register('enum', {
  display: ({ field, value }) => (value ? html`<span class="badge">${valueLabel(field, value)}</span>` : ''),
  text: (v, field) => (v ? valueLabel(field, v) : ''),
  input: ({ field, value, onChange, id, invalid, required }) =>
    html`<select id=${id} name=${field.name} value=${value ?? ''} required=${required}
      aria-invalid=${invalid ? 'true' : undefined} onChange=${(e) => onChange(e.currentTarget.value || null)}>
      <option value="">${t('field.none')}</option>
      ${(field.values || []).map((v) => html`<option value=${v}>${valueLabel(field, v)}</option>`)}
    </select>`,
  ops: ['==', '!='],
  choices: (field) => (field.values || []).map((v) => ({ value: v, label: valueLabel(field, v) })),
});
