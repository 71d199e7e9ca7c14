// The admin area (admins only): users (list, create, change role, disable),
// roles (read-only), API tokens (list, create with the secret shown once,
// revoke), rules (their runs, failures with a retry, the diagnostics of a
// refused configuration reload) and plugins (state, restarts, last error,
// restart). Each section is a tab with its own URL, /admin/<section>.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from '../locale/i18n.js';
import { api } from '../api.js';
import { register, link, navigate } from '../router.js';
import { me } from '../session.js';
import { users as userCache } from '../fields/user.js';
import { addNav } from '../shell.js';
import { Spinner, ErrorBox, Empty, toast } from '../components.js';
import { formatDateTime, formatRelative, formatNumber } from '../locale/format.js';

const SECTIONS = ['users', 'roles', 'tokens', 'rules', 'plugins'];

// The texts of the sections, of run statuses and of plugin states.
const SECTION_TEXT = {
  users: () => t('admin.users'), roles: () => t('admin.roles'), tokens: () => t('admin.tokens'),
  rules: () => t('admin.rules'), plugins: () => t('admin.plugins'),
};
const STATUS_TEXT = { ok: () => t('admin.status_ok'), retrying: () => t('admin.status_retrying'), failed: () => t('admin.status_failed') };
const STATE_TEXT = {
  starting: () => t('admin.state_starting'), running: () => t('admin.state_running'), restarting: () => t('admin.state_restarting'),
  failed: () => t('admin.state_failed'), stopped: () => t('admin.state_stopped'),
};
const text = (table, key) => (table[key] ? table[key]() : key);

// useLoad fetches path; reload() fetches it again. A 404 means the server
// has no such part (no rules engine, no plugin host): data is null, gone true.
function useLoad(path) {
  const [state, setState] = useState({ data: undefined, error: null, gone: false });
  const [n, setN] = useState(0);
  useEffect(() => {
    let cancelled = false;
    api('GET', path)
      .then((data) => !cancelled && setState({ data, error: null, gone: false }))
      .catch((error) => !cancelled && setState({ data: null, error: error.status === 404 ? null : error, gone: error.status === 404 }));
    return () => (cancelled = true);
  }, [path, n]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

function when(ts) {
  return ts ? html`<time datetime=${ts} title=${formatDateTime(ts)}>${formatRelative(ts)}</time>` : html`<span class="muted">—</span>`;
}

function Admin({ params }) {
  if (!me.value?.permissions?.admin) return html`<section class="page"><${Empty} title=${t('admin.only')} hint=${t('admin.only_hint')} /></section>`;
  const section = params.section || 'users';
  if (!SECTIONS.includes(section)) {
    navigate('/admin', { replace: true });
    return null;
  }
  const Section = { users: Users, roles: Roles, tokens: Tokens, rules: Rules, plugins: Plugins }[section];
  return html`<section class="page admin-page">
    <h1>${t('admin.title')}</h1>
    <nav class="tabs admin-tabs" aria-label=${t('admin.sections')}>
      ${SECTIONS.map((s) => html`<a href=${'/admin/' + s} onClick=${link} aria-current=${s === section ? 'page' : undefined}>${text(SECTION_TEXT, s)}</a>`)}
    </nav>
    <${Section} />
  </section>`;
}

// ---- users

function Users() {
  const list = useLoad('/users');
  const roles = useLoad('/roles');
  const roleNames = (roles.data?.items || []).map((r) => r.name);
  const update = async (u, change, done) => {
    try {
      await api('PATCH', '/users/' + encodeURIComponent(u.id), change);
      toast(done);
      userCache.value = null; // the user pickers load the list again
      list.reload();
    } catch (x) {
      toast(x.message, 'error');
      list.reload();
    }
  };
  if (list.data === undefined) return html`<${Spinner} />`;
  const items = list.data?.items || [];
  const self = me.value?.user?.id;
  return html`<${ErrorBox} error=${list.error} />
    <table class="admin" id="users-table">
      <thead><tr><th>${t('admin.user_name')}</th><th>${t('admin.user_email')}</th><th>${t('admin.user_role')}</th>
        <th>${t('admin.user_extension')}</th><th>${t('admin.user_status')}</th><th>${t('admin.created')}</th></tr></thead>
      <tbody>${items.map((u) => html`<tr key=${u.id} data-id=${u.id}>
        <td data-label=${t('admin.user_name')} dir="auto">${u.name}</td>
        <td data-label=${t('admin.user_email')} dir="auto">${u.email}</td>
        <td data-label=${t('admin.user_role')}>
          <label class="sr-only" for=${'role-' + u.id}>${t('admin.role_of', { name: u.name || u.email })}</label>
          <select id=${'role-' + u.id} value=${u.role} disabled=${u.id === self}
            onChange=${(e) => update(u, { role: e.currentTarget.value }, t('admin.role_changed', { name: u.name || u.email, role: e.currentTarget.value }))}>
            ${!roleNames.includes(u.role) && html`<option value=${u.role}>${u.role}</option>`}
            ${roleNames.map((r) => html`<option value=${r}>${r}</option>`)}
          </select></td>
        <td data-label=${t('admin.user_extension')}>
          <label class="sr-only" for=${'ext-' + u.id}>${t('admin.extension_of', { name: u.name || u.email })}</label>
          <input id=${'ext-' + u.id} class="ext-input" inputmode="numeric" maxlength="10" size="6" dir="ltr" value=${u.extension || ''}
            onChange=${(e) => update(u, { extension: e.currentTarget.value.trim() }, t('admin.extension_changed', { name: u.name || u.email }))} /></td>
        <td data-label=${t('admin.user_status')}>
          ${u.disabled ? html`<span class="state-stopped">${t('admin.disabled')}</span> ` : html`<span class="state-running">${t('admin.active')}</span> `}
          ${u.id !== self && html`<button type="button" class=${u.disabled ? '' : 'danger'} id=${'toggle-' + u.id}
            onClick=${() => update(u, { disabled: !u.disabled }, t(u.disabled ? 'admin.enabled_done' : 'admin.disabled_done', { name: u.name || u.email }))}>
            ${u.disabled ? t('admin.enable') : t('admin.disable')}</button>`}</td>
        <td data-label=${t('admin.created')}>${when(u.created_at)}</td>
      </tr>`)}</tbody>
    </table>
    <${NewUser} roles=${roleNames} onDone=${() => { userCache.value = null; list.reload(); }} />`;
}

function NewUser({ roles, onDone }) {
  const blank = { email: '', name: '', role: '', password: '' };
  const [v, setV] = useState(blank);
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const role = v.role || roles.find((r) => r !== 'admin') || roles[0] || '';
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    try {
      const u = await api('POST', '/users', { ...v, role });
      toast(t('admin.user_created', { name: u.name || u.email }));
      setV(blank);
      onDone();
    } catch (x) {
      x.field ? setErrors({ [x.field]: x.message }) : setError(x);
    } finally {
      setBusy(false);
    }
  };
  const input = (name, type, caption, extra = {}) => html`<label for=${'new-user-' + name}>${caption}</label>
    <input id=${'new-user-' + name} type=${type} dir="auto" value=${v[name]} aria-invalid=${errors[name] ? 'true' : undefined}
      onInput=${(e) => setV({ ...v, [name]: e.currentTarget.value })} ...${extra} />
    ${errors[name] && html`<p class="error" role="alert">${errors[name]}</p>`}`;
  return html`<form class="card form" id="new-user" onSubmit=${submit}>
    <h2>${t('admin.new_user')}</h2>
    ${input('email', 'email', t('admin.user_email'), { required: true, autocomplete: 'off' })}
    ${input('name', 'text', t('admin.user_name'), { required: true })}
    <label for="new-user-role">${t('admin.user_role')}</label>
    <select id="new-user-role" value=${role} onChange=${(e) => setV({ ...v, role: e.currentTarget.value })}>
      ${roles.map((r) => html`<option value=${r}>${r}</option>`)}
    </select>
    ${errors.role && html`<p class="error" role="alert">${errors.role}</p>`}
    ${input('password', 'password', t('admin.user_password'), { required: true, autocomplete: 'new-password' })}
    <${ErrorBox} error=${error} />
    <div class="row"><button type="submit" class="primary" disabled=${busy}>${busy ? t('common.saving') : t('admin.create_user')}</button></div>
  </form>`;
}

// ---- roles

function Roles() {
  const roles = useLoad('/roles');
  if (roles.data === undefined) return html`<${Spinner} />`;
  const list = (xs) => (xs?.length ? xs.join(', ') : '—');
  return html`<${ErrorBox} error=${roles.error} />
    <p class="muted">${t('admin.roles_hint')}</p>
    <table class="admin" id="roles-table">
      <thead><tr><th>${t('admin.role')}</th><th>${t('admin.role_read')}</th><th>${t('admin.role_write')}</th><th>${t('admin.role_own_only')}</th></tr></thead>
      <tbody>${(roles.data?.items || []).map((r) => html`<tr key=${r.name}>
        <td data-label=${t('admin.role')}><b>${r.name}</b>${r.admin ? html` <span class="badge">${t('admin.role_admin')}</span>` : ''}</td>
        <td data-label=${t('admin.role_read')}>${list(r.read)}</td>
        <td data-label=${t('admin.role_write')}>${list(r.write)}</td>
        <td data-label=${t('admin.role_own_only')}>${r.own_only ? t('value.yes') : t('value.no')}</td>
      </tr>`)}</tbody>
    </table>`;
}

// ---- tokens

function Tokens() {
  const [sessions, setSessions] = useState(false);
  const tokens = useLoad('/auth/tokens?all=true');
  const users = useLoad('/users');
  const [name, setName] = useState('');
  const [ttl, setTTL] = useState('');
  const [created, setCreated] = useState(null);
  const [errors, setErrors] = useState({});
  const who = (id) => {
    const u = (users.data?.items || []).find((x) => x.id === id);
    return u ? u.name || u.email : id;
  };
  const create = async (e) => {
    e.preventDefault();
    setErrors({});
    try {
      const tok = await api('POST', '/auth/tokens', { name, ttl: ttl || undefined });
      setCreated(tok);
      setName('');
      tokens.reload();
    } catch (x) {
      setErrors({ [x.field || 'name']: x.message });
    }
  };
  const revoke = async (tok) => {
    if (!window.confirm(t('admin.revoke_confirm', { name: tok.name }))) return;
    try {
      await api('DELETE', '/auth/tokens/' + encodeURIComponent(tok.id));
      toast(t('admin.revoked', { name: tok.name }));
      if (created?.id === tok.id) setCreated(null);
      tokens.reload();
    } catch (x) {
      toast(x.message, 'error');
    }
  };
  const copy = () => navigator.clipboard?.writeText(created.token).then(() => toast(t('admin.copied')), () => {});
  if (tokens.data === undefined) return html`<${Spinner} />`;
  const items = (tokens.data?.items || []).filter((x) => sessions || x.kind !== 'session');
  return html`<${ErrorBox} error=${tokens.error} />
    <form class="card inline-form" id="new-token" onSubmit=${create}>
      <label for="token-name">${t('admin.token_name')}</label>
      <input id="token-name" dir="auto" required value=${name} aria-invalid=${errors.name ? 'true' : undefined} onInput=${(e) => setName(e.currentTarget.value)} />
      <label for="token-ttl">${t('admin.token_ttl')}</label>
      <select id="token-ttl" value=${ttl} onChange=${(e) => setTTL(e.currentTarget.value)}>
        <option value="">${t('admin.ttl_never')}</option>
        <option value="720h">${t('admin.ttl_days', { count: 30 })}</option>
        <option value="2160h">${t('admin.ttl_days', { count: 90 })}</option>
        <option value="8760h">${t('admin.ttl_days', { count: 365 })}</option>
      </select>
      <button type="submit" class="primary">${t('admin.create_token')}</button>
      ${Object.values(errors).map((m) => html`<p class="error" role="alert">${m}</p>`)}
    </form>
    ${created && html`<div class="token-once" role="status" id="token-once">
      <p><b>${t('admin.token_once', { name: created.name })}</b></p>
      <code id="token-secret">${created.token}</code>
      <div class="row"><button type="button" onClick=${copy}>${t('admin.copy')}</button>
        <button type="button" onClick=${() => setCreated(null)}>${t('common.done')}</button></div>
    </div>`}
    <label class="row"><input type="checkbox" checked=${sessions} onChange=${(e) => setSessions(e.currentTarget.checked)} /> ${t('admin.show_sessions')}</label>
    ${items.length === 0 ? html`<${Empty} title=${t('admin.no_tokens')} hint=${t('admin.no_tokens_hint')} />`
      : html`<table class="admin" id="tokens-table">
      <thead><tr><th>${t('admin.token_name')}</th><th>${t('admin.token_user')}</th><th>${t('admin.created')}</th>
        <th>${t('admin.token_expires')}</th><th>${t('admin.token_used')}</th><th></th></tr></thead>
      <tbody>${items.map((x) => html`<tr key=${x.id} data-id=${x.id}>
        <td data-label=${t('admin.token_name')} dir="auto">${x.name}${x.kind === 'session' ? html` <span class="badge">${t('admin.session')}</span>` : ''}</td>
        <td data-label=${t('admin.token_user')} dir="auto">${who(x.user_id)}</td>
        <td data-label=${t('admin.created')}>${when(x.created_at)}</td>
        <td data-label=${t('admin.token_expires')}>${x.expires_at ? formatDateTime(x.expires_at) : t('admin.ttl_never')}</td>
        <td data-label=${t('admin.token_used')}>${when(x.last_used_at)}</td>
        <td><button type="button" class="danger" id=${'revoke-' + x.id} onClick=${() => revoke(x)}>${t('admin.revoke')}</button></td>
      </tr>`)}</tbody>
    </table>`}`;
}

// ---- rules

function Rules() {
  const rules = useLoad('/rules');
  const status = useLoad('/config/status');
  const [open, setOpen] = useState('');
  // Both at once, so that nothing moves under the pointer.
  if (rules.data === undefined || status.data === undefined) return html`<${Spinner} />`;
  const st = status.data;
  return html`<${ErrorBox} error=${rules.error} />
    ${st && html`<div class="card" id="config-status">
      <h2>${t('admin.config')}</h2>
      <p class="small"><code dir="ltr">${st.path}</code> · ${t('admin.config_loaded', { when: formatDateTime(st.loaded_at) })} · ${t('admin.config_checked', { when: formatDateTime(st.checked_at) })}</p>
      ${st.ok ? html`<p class="state-running">${t('admin.config_ok')}</p>`
        : html`<p class="state-failed">${t('admin.config_refused')}</p>
          <pre class="diagnostics" id="config-diagnostics">${(st.diagnostics || []).join('\n')}</pre>`}
      ${st.warnings?.length > 0 && html`<details><summary>${t('admin.config_warnings', { count: st.warnings.length })}</summary><pre>${st.warnings.join('\n')}</pre></details>`}
    </div>`}
    ${rules.gone ? html`<${Empty} title=${t('admin.no_engine')} />`
      : (rules.data?.items || []).length === 0 ? html`<${Empty} title=${t('admin.no_rules')} hint=${t('admin.no_rules_hint')} />`
      : html`<p class="muted small">${t('admin.feed_position', { engine: formatNumber(rules.data.engine_position ?? 0), feed: formatNumber(rules.data.feed_position ?? 0) })}</p>
        <table class="admin" id="rules-table">
        <thead><tr><th>${t('admin.rule')}</th><th>${t('admin.rule_trigger')}</th><th>${t('admin.rule_actions')}</th>
          <th>${t('admin.rule_runs')}</th><th>${t('admin.rule_last')}</th><th></th></tr></thead>
        <tbody>${rules.data.items.map((r) => html`<tr key=${r.name} data-rule=${r.name}>
          <td data-label=${t('admin.rule')}><b>${r.name}</b>${r.when && html`<br /><code class="small" dir="ltr">${r.when}</code>`}</td>
          <td data-label=${t('admin.rule_trigger')}>${(r.on || []).join(', ') || (r.every ? t('admin.every', { every: r.every }) : r.cron || '—')}</td>
          <td data-label=${t('admin.rule_actions')}>${(r.actions || []).join(', ')}</td>
          <td data-label=${t('admin.rule_runs')}>${t('admin.runs_summary', { ok: formatNumber(r.runs?.ok || 0), failed: formatNumber(r.runs?.failed || 0), retrying: formatNumber(r.runs?.retrying || 0) })}
            ${r.runs?.failed > 0 && html` <span class="state-failed">!</span>`}</td>
          <td data-label=${t('admin.rule_last')}>${when(r.last_run)}${r.last_error && html`<p class="error small" dir="auto">${r.last_error}</p>`}</td>
          <td><button type="button" id=${'runs-' + r.name} aria-expanded=${open === r.name} onClick=${() => setOpen(open === r.name ? '' : r.name)}>${t('admin.show_runs')}</button></td>
        </tr>`)}</tbody>
      </table>
      ${open && html`<${Runs} key=${open} rule=${open} onChange=${rules.reload} />`}`}`;
}

function Runs({ rule, onChange }) {
  const [failedOnly, setFailedOnly] = useState(false);
  const runs = useLoad('/rules/' + encodeURIComponent(rule) + '/runs?limit=100');
  const [busy, setBusy] = useState('');
  const retry = async (run) => {
    setBusy(run.id);
    try {
      const r = await api('POST', `/rules/${encodeURIComponent(rule)}/runs/${run.seq}/retry`, {});
      toast(r.status === 'ok' ? t('admin.retry_ok') : t('admin.retry_failed', { error: r.error || r.status }), r.status === 'ok' ? 'info' : 'error');
      runs.reload();
      onChange();
    } catch (x) {
      toast(x.message, 'error');
    } finally {
      setBusy('');
    }
  };
  if (runs.data === undefined) return html`<${Spinner} />`;
  const items = (runs.data?.items || []).filter((r) => !failedOnly || r.status !== 'ok');
  return html`<section class="card" id="runs">
    <header class="page-head"><h2>${t('admin.runs_of', { rule })}</h2>
      <div class="row"><label class="row"><input type="checkbox" checked=${failedOnly} onChange=${(e) => setFailedOnly(e.currentTarget.checked)} /> ${t('admin.failed_only')}</label>
        <button type="button" onClick=${() => { runs.reload(); onChange(); }}>${t('admin.refresh')}</button></div></header>
    <${ErrorBox} error=${runs.error} />
    ${items.length === 0 ? html`<p class="muted">${t('admin.no_runs')}</p>` : html`<table class="admin">
      <thead><tr><th>${t('admin.run_started')}</th><th>${t('admin.run_event')}</th><th>${t('admin.run_status')}</th><th>${t('admin.run_error')}</th><th></th></tr></thead>
      <tbody>${items.map((r) => html`<tr key=${r.id} data-run=${r.seq}>
        <td data-label=${t('admin.run_started')}>${when(r.started)} <span class="muted small">${t('admin.run_took', { ms: formatNumber(Math.round(r.duration_ms || 0)) })}</span></td>
        <td data-label=${t('admin.run_event')}>${r.event} <span class="muted small" dir="ltr">${r.entity}/${r.record_id}</span></td>
        <td data-label=${t('admin.run_status')}><span class=${'state-' + (r.status === 'ok' ? 'running' : 'failed')}>${text(STATUS_TEXT, r.status)}</span>
          <span class="muted small">${t('admin.attempts', { count: r.attempts })}</span></td>
        <td data-label=${t('admin.run_error')} dir="auto">${r.error || '—'}</td>
        <td>${r.status === 'failed' && html`<button type="button" class="primary" disabled=${busy === r.id} onClick=${() => retry(r)}>${t('admin.retry')}</button>`}</td>
      </tr>`)}</tbody></table>`}
  </section>`;
}

// ---- plugins

function Plugins() {
  const plugins = useLoad('/plugins');
  const [busy, setBusy] = useState('');
  const restart = async (p) => {
    setBusy(p.name);
    try {
      await api('POST', '/plugins/' + encodeURIComponent(p.name) + '/restart', {});
      toast(t('admin.restarted', { name: p.name }));
    } catch (x) {
      toast(t('admin.restart_failed', { name: p.name, error: x.message }), 'error');
    } finally {
      setBusy('');
      plugins.reload();
    }
  };
  if (plugins.data === undefined) return html`<${Spinner} />`;
  const items = plugins.data?.items || [];
  if (plugins.gone || items.length === 0) return html`<${ErrorBox} error=${plugins.error} /><${Empty} title=${t('admin.no_plugins')} hint=${t('admin.no_plugins_hint')} />`;
  return html`<${ErrorBox} error=${plugins.error} />
    <table class="admin" id="plugins-table">
      <thead><tr><th>${t('admin.plugin')}</th><th>${t('admin.plugin_state')}</th><th>${t('admin.plugin_restarts')}</th>
        <th>${t('admin.plugin_error')}</th><th></th></tr></thead>
      <tbody>${items.map((p) => html`<tr key=${p.name} data-plugin=${p.name}>
        <td data-label=${t('admin.plugin')}><b>${p.name}</b> <span class="muted small">${p.version || ''} · ${p.source}${p.pid ? ' · pid ' + p.pid : ''}</span>
          ${p.started_at && html`<br /><span class="small">${t('admin.plugin_started', { when: formatRelative(p.started_at) })}</span>`}</td>
        <td data-label=${t('admin.plugin_state')}><span class=${'state-' + p.state}>${text(STATE_TEXT, p.state)}</span></td>
        <td data-label=${t('admin.plugin_restarts')}>${formatNumber(p.restarts || 0)}${p.last_restart && html` <span class="muted small">(${formatRelative(p.last_restart)})</span>`}</td>
        <td data-label=${t('admin.plugin_error')} dir="auto">${p.last_error ? html`<span class="error">${p.last_error}</span>` : (p.warning ? '' : '—')}${p.warning && html`<p class="warning small" data-warning>${p.warning}</p>`}</td>
        <td><button type="button" id=${'restart-' + p.name} disabled=${busy === p.name} onClick=${() => restart(p)}>${busy === p.name ? t('admin.restarting') : t('admin.restart')}</button></td>
      </tr>`)}</tbody>
    </table>`;
}

register('/admin', Admin);
register('/admin/:section', Admin);
addNav({ href: '/admin', key: 'admin.nav', order: 90, admin: true });
