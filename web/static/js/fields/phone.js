// phone: stored E.164 by the server (it accepts any digits and spacing).
import { html } from 'htm/preact';
import { register } from './registry.js';
import { TextInput } from './string.js';

register('phone', {
  display: ({ value }) => (value ? html`<a href=${'tel:' + value} dir="ltr">${value}</a>` : ''),
  input: (p) => html`<${TextInput} ...${p} type="tel" inputmode="tel" autocomplete="tel" />`,
});
