// enum: one of the field's values, shown by its label in the language.
import { html } from 'htm/preact';
import { register } from './registry.js';
import { t, lang } from '../locale/i18n.js';

/**
 * valueLabel is the label of an enum value (or pipeline stage) in the
 * current language, from labels {lang: text} (the schema's value_labels or
 * stage_labels entry): the language's, else English, else the value.
 */
export function valueLabel(labels, v) {
  return labels?.[v]?.[lang.value] || labels?.[v]?.en || String(v).replace(/_/g, ' ');
}

register('enum', {
  display: ({ field, value }) => (value ? html`<span class="badge">${valueLabel(field.value_labels, value)}</span>` : ''),
  text: (v, field) => (v ? valueLabel(field.value_labels, v) : ''),
  input: ({ field, value, onChange, id, invalid, required }) =>
    html`<select id=${id} name=${field.name} value=${value ?? ''} required=${required}
      aria-invalid=${invalid ? 'true' : undefined} onChange=${(e) => onChange(e.currentTarget.value || null)}>
      <option value="">${t('field.none')}</option>
      ${(field.values || []).map((v) => html`<option value=${v}>${valueLabel(field.value_labels, v)}</option>`)}
    </select>`,
  ops: ['==', '!='],
  choices: (field) => (field.values || []).map((v) => ({ value: v, label: valueLabel(field.value_labels, v) })),
});
