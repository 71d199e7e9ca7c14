// Record actions contributed by plugins: their manifests (GET
// /api/v1/plugins/{name}) name actions for an entity; each becomes a button
// on that entity's record page that calls POST /api/v1/plugins/{p}/actions/{a}
// and shows the answer or the refusal.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from '../locale/i18n.js';
import { api } from '../api.js';
import { typeOf } from '../fields/index.js';
import { Modal, ErrorBox, toast } from '../components.js';

let manifests = null;

/** pluginActions resolves to [{plugin, action, label, args}] for an entity. */
export async function pluginActions(entityName) {
  if (!manifests) {
    manifests = api('GET', '/plugins')
      .then((r) => Promise.all((r.items || []).map((p) => api('GET', '/plugins/' + encodeURIComponent(p.name)).catch(() => null))))
      .then((list) => list.filter((x) => x?.manifest).map((x) => x.manifest))
      .catch(() => []);
  }
  const out = [];
  for (const m of await manifests) {
    const seen = new Set();
    for (const ua of m.ui_actions || []) {
      if (ua.entity !== entityName) continue;
      const a = (m.actions || []).find((x) => x.name === ua.action);
      if (!a) continue;
      seen.add(a.name);
      out.push({ plugin: m.name, action: a.name, label: ua.label || a.name, description: a.description, args: a.args || [] });
    }
    for (const a of m.actions || []) {
      if (!seen.has(a.name) && (a.entities || []).includes(entityName)) {
        out.push({ plugin: m.name, action: a.name, label: a.name, description: a.description, args: a.args || [] });
      }
    }
  }
  return out;
}

function ActionForm({ act, entityName, id, onClose }) {
  const [args, setArgs] = useState({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(undefined);
  const [error, setError] = useState(null);
  const run = async (e) => {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    setResult(undefined);
    try {
      const r = await api('POST', `/plugins/${encodeURIComponent(act.plugin)}/actions/${encodeURIComponent(act.action)}`, { entity: entityName, id, args });
      setResult(r?.result ?? null);
      toast(t('actions.done', { action: act.label }));
    } catch (x) {
      setError(x);
    } finally {
      setBusy(false);
    }
  };
  return html`<${Modal} title=${act.label} onClose=${onClose}>
    <form class="form" onSubmit=${run}>
      ${act.description && html`<p class="muted">${act.description}</p>`}
      ${act.args.map((a) => {
        const f = { ...a, name: a.name, label: a.name };
        return html`<label for=${'arg-' + a.name}>${a.name}${a.required ? ' *' : ''}</label>
          ${typeOf(f).input({ field: f, value: args[a.name] ?? null, id: 'arg-' + a.name, required: a.required,
            invalid: error?.field === a.name, onChange: (v) => setArgs({ ...args, [a.name]: v }) })}
          ${error?.field === a.name && html`<p class="error">${error.message}</p>`}`;
      })}
      ${error && !act.args.some((a) => a.name === error.field) && html`<${ErrorBox} error=${error} />`}
      ${result !== undefined && html`<div class="result" role="status"><h3>${t('actions.result')}</h3>
        <pre dir="ltr">${JSON.stringify(result, null, 2)}</pre></div>`}
      <div class="row"><button type="submit" class="primary" disabled=${busy}>${busy ? t('common.loading') : t('actions.run')}</button></div>
    </form>
  </${Modal}>`;
}

/** ActionButtons shows an entity's plugin actions for one record. */
export function ActionButtons({ entityName, id }) {
  const [acts, setActs] = useState([]);
  const [open, setOpen] = useState(null);
  useEffect(() => {
    pluginActions(entityName).then(setActs);
  }, [entityName]);
  if (!acts.length) return null;
  return html`<div class="plugin-actions" role="group" aria-label=${t('actions.label')}>
    ${acts.map((a) => html`<button type="button" onClick=${() => setOpen(a)} title=${a.description || ''}>${a.label}</button>`)}
    ${open && html`<${ActionForm} act=${open} entityName=${entityName} id=${id} onClose=${() => setOpen(null)} />`}
  </div>`;
}
