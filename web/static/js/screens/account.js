// The account screen: the phone extension (PATCH /api/v1/auth/me) and the
// password (POST /api/v1/auth/password).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { t } from '../locale/i18n.js';
import { api } from '../api.js';
import { register } from '../router.js';
import { me } from '../session.js';
import { toast } from '../components.js';

// Extension sets the user's phone extension: calls ringing there show the
// caller's card (call tracking).
function Extension() {
  const [value, setValue] = useState(me.value?.user?.extension || '');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const res = await api('PATCH', '/auth/me', { extension: value.trim() });
      if (res?.user && me.value) me.value = { ...me.value, user: { ...me.value.user, ...res.user, extension: res.user.extension } };
      toast(t('account.extension_saved'));
    } catch (x) {
      setError(x.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="card form" id="extension-form" onSubmit=${submit}>
    <h2>${t('account.extension')}</h2>
    <label for="my-extension">${t('account.extension')}</label>
    <input id="my-extension" inputmode="numeric" pattern="[0-9]{1,10}" maxlength="10" dir="ltr" value=${value}
      aria-describedby="my-extension-hint" aria-invalid=${error ? 'true' : undefined} onInput=${(e) => setValue(e.currentTarget.value)} />
    <p class="muted" id="my-extension-hint">${t('account.extension_hint')}</p>
    ${error && html`<p class="error" role="alert">${error}</p>`}
    <button type="submit" class="primary" disabled=${busy}>${t('common.save')}</button>
  </form>`;
}

function Account() {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [again, setAgain] = useState('');
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    if (next !== again) return setErrors({ again: t('account.mismatch') });
    setBusy(true);
    setErrors({});
    try {
      await api('POST', '/auth/password', { current, new: next });
      setCurrent('');
      setNext('');
      setAgain('');
      toast(t('account.changed'));
    } catch (x) {
      setErrors({ [x.field === 'new' ? 'new' : x.field === 'current' || x.status === 403 ? 'current' : 'form']: x.message });
    } finally {
      setBusy(false);
    }
  };
  const err = (k) => errors[k] && html`<p class="error" id=${'err-' + k} role="alert">${errors[k]}</p>`;
  const u = me.value?.user || {};
  return html`<section class="page narrow">
    <h1>${t('account.title')}</h1>
    <p class="muted" dir="auto">${u.name} ${u.email && html`<span dir="ltr">(${u.email})</span>`}</p>
    <form class="card form" onSubmit=${submit}>
      <h2>${t('user.change_password')}</h2>
      <label for="pw-current">${t('account.current')}</label>
      <input id="pw-current" type="password" autocomplete="current-password" required value=${current}
        aria-invalid=${errors.current ? 'true' : undefined} onInput=${(e) => setCurrent(e.currentTarget.value)} />
      ${err('current')}
      <label for="pw-new">${t('account.new')}</label>
      <input id="pw-new" type="password" autocomplete="new-password" required value=${next}
        aria-invalid=${errors.new ? 'true' : undefined} onInput=${(e) => setNext(e.currentTarget.value)} />
      ${err('new')}
      <label for="pw-again">${t('account.again')}</label>
      <input id="pw-again" type="password" autocomplete="new-password" required value=${again}
        aria-invalid=${errors.again ? 'true' : undefined} onInput=${(e) => setAgain(e.currentTarget.value)} />
      ${err('again')} ${err('form')}
      <button type="submit" class="primary" disabled=${busy}>${t('common.save')}</button>
    </form>
    <${Extension} />
  </section>`;
}

register('/account', Account);
