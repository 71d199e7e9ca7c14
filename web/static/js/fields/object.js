// object: a JSON object a plugin writes (the call tracking plugin's caller
// card). Shown folded, its "name" (or its keys) as the summary and the JSON
// when opened; read-only in forms, and not a filter or sort field.
import { html } from 'htm/preact';
import { register } from './registry.js';

/** summary is a one-line text for an object value. */
function summary(v) {
  if (!v || typeof v !== 'object') return '';
  if (typeof v.name === 'string' && v.name) return v.name;
  if (typeof v.title === 'string' && v.title) return v.title;
  return '{' + Object.keys(v).join(', ') + '}';
}

register('object', {
  display: ({ value }) => (value && typeof value === 'object'
    ? html`<details class="object-value"><summary dir="auto">${summary(value)}</summary>
        <pre dir="ltr">${JSON.stringify(value, null, 2)}</pre></details>`
    : ''),
  text: (v) => summary(v),
  input: ({ value, id }) => html`<pre id=${id} class="object-value" dir="ltr" tabindex="0">${value ? JSON.stringify(value, null, 2) : ''}</pre>`,
  literal: () => 'nil',
  ops: [],
  blank: null,
});
