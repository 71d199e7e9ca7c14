// The app shell: the sidebar with every entity the user may read (from the
// schema), the top bar with the user menu (language, calendar, password,
// sign-out), and the current screen.
import { html } from 'htm/preact';
import { useState, useEffect } from 'preact/hooks';
import { t, label, LANGUAGES, lang } from './locale/i18n.js';
import { calendar } from './locale/format.js';
import { me, schema, savePrefs, signOut } from './session.js';
import { current, link, location } from './router.js';
import { listURL } from './records.js';
import { connected, onNotification } from './ws.js';
import { Toasts, toast } from './components.js';

/** nav holds the sidebar entries screens add with addNav, above the entities. */
export const nav = [];

/**
 * addNav adds a sidebar entry: href is the app path, key the i18n key of
 * its text; entries are shown in order (then as added). An admin entry is
 * shown to admins only.
 */
export function addNav({ href, key, order = 0, admin = false }) {
  nav.push({ href, key, order, admin });
  nav.sort((a, b) => a.order - b.order);
}

/** topbar is components other modules add to the top bar, before the user menu. */
export const topbar = [];

function Sidebar({ open, onNavigate }) {
  const path = location.value.path;
  const ents = schema.value.entities || [];
  const item = (href, text, extra = '') =>
    html`<li><a href=${href} onClick=${(e) => { link(e); onNavigate(); }} class=${(path === href || path.startsWith(href + '/') ? 'active ' : '') + extra}
      aria-current=${path === href ? 'page' : undefined} dir="auto">${text}</a></li>`;
  return html`<nav id="sidebar" class=${'sidebar' + (open ? ' open' : '')} aria-label=${t('nav.main')}>
    <ul>
      ${item('/', t('nav.home'))}
      ${nav.filter((n) => !n.admin || me.value?.permissions?.admin).map((n) => item(n.href, t(n.key)))}
    </ul>
    <h2 class="nav-head">${t('nav.records')}</h2>
    <ul>${ents.map((e) => item(listURL(e.name), label(e)))}</ul>
  </nav>`;
}

function UserMenu() {
  const [open, setOpen] = useState(false);
  const u = me.value?.user || {};
  const change = (prefs) => savePrefs(prefs).catch((e) => toast(e.message, 'error'));
  const langs = schema.value.locale?.languages;
  const available = langs?.length ? LANGUAGES.filter((l) => langs.includes(l.code)) : LANGUAGES;
  return html`<div class="user-menu">
    <button type="button" class="user-button" aria-expanded=${open} aria-controls="user-menu" onClick=${() => setOpen(!open)}>
      <span dir="auto">${u.name || u.email}</span></button>
    ${open && html`<div id="user-menu" class="menu" role="group" aria-label=${t('user.menu')}>
      <label for="pref-language">${t('user.language')}</label>
      <select id="pref-language" value=${lang.value} onChange=${(e) => change({ language: e.currentTarget.value })}>
        ${available.map((l) => html`<option value=${l.code} lang=${l.code}>${l.name}</option>`)}
      </select>
      <label for="pref-calendar">${t('user.calendar')}</label>
      <select id="pref-calendar" value=${calendar.value} onChange=${(e) => change({ calendar: e.currentTarget.value })}>
        <option value="gregorian">${t('calendar.gregorian')}</option>
        <option value="jalali">${t('calendar.jalali')}</option>
      </select>
      <a href="/account" onClick=${(e) => { link(e); setOpen(false); }}>${t('user.change_password')}</a>
      <button type="button" id="sign-out" onClick=${() => signOut()}>${t('auth.sign_out')}</button>
    </div>`}
  </div>`;
}

/** Shell lays out the signed-in app around the routed screen. */
export function Shell() {
  const [open, setOpen] = useState(false);
  // In-app notifications (a rule's notify) show as a toast.
  useEffect(() => onNotification((n) => toast([n.title, n.message].filter(Boolean).join(': '))), []);
  const r = current.value;
  const Screen = r?.component;
  return html`<div class="shell">
    <a class="skip" href="#main">${t('nav.skip')}</a>
    <header class="topbar">
      <button type="button" class="icon menu-toggle" aria-controls="sidebar" aria-expanded=${open}
        aria-label=${t('nav.menu')} onClick=${() => setOpen(!open)}>☰</button>
      <a href="/" class="brand" onClick=${link}>${t('app.name')}</a>
      <span class=${'live-dot' + (connected.value ? ' on' : '')} title=${connected.value ? t('live.on') : t('live.off')}
        aria-label=${connected.value ? t('live.on') : t('live.off')} role="img"></span>
      <span class="spacer"></span>
      ${topbar.map((C) => html`<${C} />`)}
      <${UserMenu} />
    </header>
    <${Sidebar} open=${open} onNavigate=${() => setOpen(false)} />
    <main class="content" id="main" tabindex="-1">
      ${Screen ? html`<${Screen} params=${r.params} query=${r.query} key=${location.value.path} />`
        : html`<div class="empty"><p class="empty-title">${t('common.not_found')}</p></div>`}
    </main>
    <${Toasts} />
  </div>`;
}
