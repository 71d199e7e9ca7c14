// url: a web address, shown as a link that opens apart from the app.
import { html } from 'htm/preact';
import { register } from './registry.js';
import { TextInput } from './string.js';

function safe(u) {
  return /^https?:\/\//i.test(u || '');
}

register('url', {
  display: ({ value }) =>
    value
      ? safe(value)
        ? html`<a href=${value} target="_blank" rel="noopener noreferrer" dir="ltr">${value}</a>`
        : html`<span dir="ltr">${value}</span>`
      : '',
  input: (p) => html`<${TextInput} ...${p} type="url" inputmode="url" />`,
});
