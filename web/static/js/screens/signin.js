// The sign-in screen, shown whenever there is no session.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { t, lang, LANGUAGES } from '../locale/i18n.js';
import { signIn, chooseLanguage } from '../session.js';

export function SignIn() {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      await signIn(email.trim(), password);
    } catch (x) {
      setError(x.status === 401 || x.status === 403 ? t('auth.wrong_login') : x.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<main class="signin">
    <form class="card signin-card" onSubmit=${submit} aria-labelledby="signin-title">
      <h1 id="signin-title">${t('auth.sign_in_title')}</h1>
      <label for="signin-email">${t('auth.email')}</label>
      <input id="signin-email" type="email" autocomplete="username" required dir="ltr"
        value=${email} onInput=${(e) => setEmail(e.currentTarget.value)} />
      <label for="signin-password">${t('auth.password')}</label>
      <input id="signin-password" type="password" autocomplete="current-password" required dir="ltr"
        value=${password} onInput=${(e) => setPassword(e.currentTarget.value)} />
      ${error && html`<p class="error" role="alert">${error}</p>`}
      <button type="submit" class="primary" disabled=${busy}>${busy ? t('common.loading') : t('auth.sign_in')}</button>
      <p class="muted small">${t('auth.first_start_hint')}</p>
      <label for="signin-language" class="small">${t('user.language')}</label>
      <select id="signin-language" value=${lang.value} onChange=${(e) => chooseLanguage(e.currentTarget.value)}>
        ${LANGUAGES.map((l) => html`<option value=${l.code} lang=${l.code}>${l.name}</option>`)}
      </select>
    </form>
  </main>`;
}
