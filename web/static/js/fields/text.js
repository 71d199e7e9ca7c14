// text: several lines of text.
import { html } from 'htm/preact';
import { register } from './registry.js';

register('text', {
  display: ({ value }) => (value ? html`<span class="multiline" dir="auto">${value}</span>` : ''),
  input: ({ field, value, onChange, id, invalid, required }) =>
    html`<textarea id=${id} dir="auto" rows="4" name=${field.name} required=${required}
      aria-invalid=${invalid ? 'true' : undefined}
      onInput=${(e) => onChange(e.currentTarget.value === '' ? null : e.currentTarget.value)}>${value ?? ''}</textarea>`,
});
