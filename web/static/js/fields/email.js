// email: an address, shown as a mailto: link.
import { html } from 'htm/preact';
import { register } from './registry.js';
import { TextInput } from './string.js';

register('email', {
  display: ({ value }) => (value ? html`<a href=${'mailto:' + value} dir="ltr">${value}</a>` : ''),
  input: (p) => html`<${TextInput} ...${p} type="email" autocomplete="email" />`,
});
