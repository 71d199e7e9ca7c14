// user: a user's id, shown by name (admins read every user, others the
// directory of active users). Chosen from that list.
import { html } from 'htm/preact';
import { signal } from '@preact/signals';
import { register } from './registry.js';
import { api } from '../api.js';
import { me } from '../session.js';
import { t } from '../locale/i18n.js';

/** users is the list of users once fetched ([] when not allowed). */
export const users = signal(null);

function loadUsers() {
  if (users.value !== null) return;
  users.value = [];
  // Admins read the full list (disabled users too, for old records); every
  // other user the directory of active users' ids and names.
  const path = me.value?.permissions?.admin ? '/users' : '/users/directory';
  api('GET', path).then((res) => (users.value = res.items || res || [])).catch(() => {});
}

/** userName is the display name of a user id. */
export function userName(id) {
  if (!id) return '';
  if (id === me.value?.user?.id) return me.value.user.name || me.value.user.email || t('user.me');
  loadUsers();
  const u = (users.value || []).find((x) => x.id === id);
  return u ? u.name || u.email : id;
}

register('user', {
  display: ({ value }) => (value ? html`<span dir="auto">${userName(value)}</span>` : ''),
  text: (v) => userName(v),
  input: ({ field, value, onChange, id, invalid }) => {
    loadUsers();
    const list = users.value || [];
    const mine = me.value?.user;
    const opts = list.length ? list : mine ? [mine] : [];
    return html`<select id=${id} name=${field.name} value=${value ?? ''} aria-invalid=${invalid ? 'true' : undefined}
      onChange=${(e) => onChange(e.currentTarget.value || null)}>
      <option value="">${t('field.none')}</option>
      ${value && !opts.some((u) => u.id === value) && html`<option value=${value}>${userName(value)}</option>`}
      ${opts.map((u) => html`<option value=${u.id}>${u.name || u.email}</option>`)}
    </select>`;
  },
  ops: ['==', '!='],
  blank: null,
});
