// bool: yes or no.
import { html } from 'htm/preact';
import { register } from './registry.js';
import { t } from '../locale/i18n.js';

register('bool', {
  display: ({ value }) => (value === true ? t('value.yes') : value === false ? t('value.no') : ''),
  text: (v) => (v === true ? t('value.yes') : v === false ? t('value.no') : ''),
  input: ({ field, value, onChange, id }) =>
    html`<input id=${id} type="checkbox" class="check" name=${field.name} checked=${value === true}
      onChange=${(e) => onChange(e.currentTarget.checked)} />`,
  literal: (v) => (v === true || v === 'true' ? 'true' : 'false'),
  ops: ['==', '!='],
  choices: () => [
    { value: 'true', label: t('value.yes') },
    { value: 'false', label: t('value.no') },
  ],
  blank: null,
});
