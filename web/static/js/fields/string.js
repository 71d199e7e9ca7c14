// string: one line of text.
import { html } from 'htm/preact';
import { register } from './registry.js';

/** TextInput is the shared one-line input of the text-like types. */
export function TextInput({ field, value, onChange, id, invalid, required, type = 'text', inputmode, autocomplete }) {
  return html`<input id=${id} type=${type} dir="auto" value=${value ?? ''} inputmode=${inputmode}
    autocomplete=${autocomplete || 'off'} required=${required} aria-invalid=${invalid ? 'true' : undefined}
    name=${field.name} onInput=${(e) => onChange(e.currentTarget.value === '' ? null : e.currentTarget.value)} />`;
}

register('string', {
  display: ({ value }) => (value ? html`<span dir="auto">${value}</span>` : ''),
  input: (p) => html`<${TextInput} ...${p} />`,
});
