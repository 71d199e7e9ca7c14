// string: one line of text.
import { html } from 'htm/preact';
import { register } from './registry.js';
import { valueLabel } from './enum.js';
import { t } from '../locale/i18n.js';

/** TextInput is the shared one-line input of the text-like types. */
export function TextInput({ field, value, onChange, id, invalid, required, type = 'text', inputmode, autocomplete }) {
  return html`<input id=${id} type=${type} dir="auto" value=${value ?? ''} inputmode=${inputmode}
    autocomplete=${autocomplete || 'off'} required=${required} aria-invalid=${invalid ? 'true' : undefined}
    name=${field.name} onInput=${(e) => onChange(e.currentTarget.value === '' ? null : e.currentTarget.value)} />`;
}

// Choice picks one of a labelled string field's values (a stage), keeping
// a stored value that is not among them.
function Choice({ field, value, onChange, id, invalid, required }) {
  const values = Object.keys(field.value_labels);
  if (value && !values.includes(value)) values.push(value);
  return html`<select id=${id} name=${field.name} value=${value ?? ''} required=${required}
    aria-invalid=${invalid ? 'true' : undefined} onChange=${(e) => onChange(e.currentTarget.value || null)}>
    <option value="">${t('field.none')}</option>
    ${values.map((v) => html`<option value=${v}>${valueLabel(field.value_labels, v)}</option>`)}
  </select>`;
}

// A string field with value_labels (a pipeline's pipeline and stage fields)
// shows its values by their labels.
register('string', {
  display: ({ field, value }) => (value ? html`<span dir="auto">${field?.value_labels ? valueLabel(field.value_labels, value) : value}</span>` : ''),
  text: (v, field) => (v === null || v === undefined ? '' : field?.value_labels ? valueLabel(field.value_labels, v) : String(v)),
  input: (p) => (p.field?.value_labels ? html`<${Choice} ...${p} />` : html`<${TextInput} ...${p} />`),
});
