// Actions contributed by plugins: their manifests (GET /api/v1/plugins/{name})
// name UI actions for an entity, each with a scope. A "record" action is a
// button on each record's page, called with that record; a "list" action is
// a button on the entity's list page, called with no record (an upload). The
// button opens a dialog that asks for the action's arguments with the
// inputs the record form uses (a file is uploaded when chosen, and the
// action gets its id; optional arguments fold away), each labelled in the
// user's language (the manifest's argument labels). An object argument
// with items ({"items": [...]}: the invoices a payment pays, an invoice's
// lines) is a list of rows, a fieldset per item with an input per field,
// rows added and removed with buttons. It calls POST
// /api/v1/plugins/{p}/actions/{a} and shows the answer (result.js: a table
// answer as a table, records as links), or the refusal next to the
// argument, or the row's field, it names.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { label, t } from '../locale/i18n.js';
import { api } from '../api.js';
import { typeOf } from '../fields/index.js';
import { remember } from '../records.js';
import { Modal, toast } from '../components.js';
import { ActionResult } from './result.js';

let manifests = null;

/**
 * pluginActions resolves to [{plugin, action, label, description, args}]:
 * the actions of an entity's records (scope 'record') or of its list
 * (scope 'list').
 */
export async function pluginActions(entityName, scope = 'record') {
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
      if (ua.entity !== entityName || (ua.scope || 'record') !== scope) continue;
      const a = (m.actions || []).find((x) => x.name === ua.action);
      if (!a) continue;
      seen.add(a.name);
      // The button's arguments: those it names, in its order; else all.
      const args = ua.args?.length ? ua.args.map((n) => (a.args || []).find((g) => g.name === n)).filter(Boolean) : a.args || [];
      out.push({ plugin: m.name, action: a.name, label: ua.label || a.name, labels: ua.labels, description: a.description, args });
    }
    // An action bound to an entity's records is a button on them too.
    if (scope !== 'record') continue;
    for (const a of m.actions || []) {
      if (!seen.has(a.name) && (a.entities || []).includes(entityName)) {
        out.push({ plugin: m.name, action: a.name, label: a.name, description: a.description, args: a.args || [] });
      }
    }
  }
  return out;
}

/** reason is a refusal's message without what the dialog already shows: the plugin, the argument, the code. */
function reason(error, act, argName) {
  let m = error.message || '';
  const prefix = `plugin "${act.plugin}" refused: `;
  if (m.startsWith(prefix)) m = m.slice(prefix.length);
  const path = fieldOf(error);
  if (path && m.startsWith(path + ': ')) m = m.slice(path.length + 2);
  else if (argName && m.startsWith(argName + ': ')) m = m.slice(argName.length + 2);
  if (error.code && m.endsWith(` (${error.code})`)) m = m.slice(0, -error.code.length - 3);
  return m;
}

/** isolate keeps a message in another script in its own direction inside a sentence (U+2068 … U+2069). */
function isolate(s) {
  return '\u2068' + s + '\u2069';
}

/** fieldOf is the field a refusal names, without "args.": "file", "allocations.items[1].amount". */
function fieldOf(error) {
  return (error?.field || '').replace(/^args\./, '');
}

/** argOf is the argument a refusal names: "file", "args.file", or the list of "allocations.items[1].amount". */
function argOf(act, error) {
  const f = fieldOf(error).split(/[.[]/)[0];
  return act.args.find((a) => a.name === f)?.name || '';
}

/** itemsOf is an items argument's rows as the API takes them: empty fields and rows left out, null for none. */
function itemsOf(a, v) {
  const rows = [];
  for (const row of v?.items || []) {
    const out = {};
    for (const f of a.items) {
      const x = row[f.name];
      if (x === undefined || x === null || x === '') continue;
      const ty = typeOf(f);
      out[f.name] = ty.toWrite ? ty.toWrite(x) : x;
    }
    if (Object.keys(out).length > 0) rows.push(out);
  }
  return rows.length ? { items: rows } : null;
}

/**
 * ItemsInput asks for an items argument: a fieldset per row with an input
 * per item field, "Add a row" and "Remove" buttons. errField is the field
 * a refusal names ("allocations.items[1].amount"), shown at its row.
 */
function ItemsInput({ arg, value, onChange, id, errField, refused }) {
  const rows = value?.items?.length ? value.items : [{}];
  const set = (i, name, v) => onChange({ items: rows.map((r, j) => (j === i ? { ...r, [name]: v } : r)) });
  return html`<div class="items-input" id=${id}>
    ${rows.map((row, i) => html`<fieldset class="item-row" key=${i} data-row=${i}>
      <legend>${t('actions.row', { n: i + 1 })}</legend>
      ${arg.items.map((f) => {
        const fid = `${id}-${i}-${f.name}`;
        const field = { ...f, label: label(f) };
        const bad = errField === `${arg.name}.items[${i}].${f.name}`;
        return html`<div class=${'field' + (bad ? ' has-error' : '')} data-item=${f.name}>
          <label for=${fid}>${label(f)}${f.required ? html`<span class="req" aria-hidden="true"> *</span>` : ''}</label>
          ${typeOf(field).input({ field, value: row[f.name] ?? null, id: fid, required: f.required, invalid: bad, onChange: (v) => set(i, f.name, v) })}
          ${f.description && html`<small class="muted" dir="auto">${f.description}</small>`}
          ${bad && refused(errField)}</div>`;
      })}
      ${rows.length > 1 && html`<button type="button" class="remove-row" onClick=${() => onChange({ items: rows.filter((_, j) => j !== i) })}>${t('actions.remove_row')}</button>`}
    </fieldset>`)}
    <button type="button" class="add-row" onClick=${() => onChange({ items: [...rows, {}] })}>${t('actions.add_row')}</button>
  </div>`;
}

function ActionForm({ act, entityName, id, onClose, onDone }) {
  const [args, setArgs] = useState({});
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState(undefined);
  const [error, setError] = useState(null);
  const run = async (e) => {
    e?.preventDefault();
    setBusy(true);
    setError(null);
    setResult(undefined);
    // The values as the API takes them: a file as its id.
    const body = {};
    for (const a of act.args) {
      const ty = typeOf(a);
      if (a.items?.length) {
        const v = itemsOf(a, args[a.name]);
        if (v) body[a.name] = v;
      } else if (args[a.name] !== undefined && args[a.name] !== null && args[a.name] !== '') body[a.name] = ty.toWrite ? ty.toWrite(args[a.name]) : args[a.name];
    }
    try {
      const r = await api('POST', `/plugins/${encodeURIComponent(act.plugin)}/actions/${encodeURIComponent(act.action)}`,
        id ? { entity: entityName, id, args: body } : { args: body });
      const res = r?.result ?? null;
      if (res?.entity && res?.id) remember(res.entity, res);
      setResult(res);
      toast(t('actions.done', { action: label(act) }));
      onDone?.(res);
    } catch (x) {
      setError(x);
    } finally {
      setBusy(false);
    }
  };
  const errArg = argOf(act, error);
  const errField = fieldOf(error);
  const box = useRef(null);
  // The refusal in view, next to the argument it names.
  useEffect(() => {
    if (error) box.current?.querySelector('.refusal')?.scrollIntoView({ block: 'center' });
  }, [error]);
  const refused = (name) => html`<p class="error refusal" id=${'arg-' + name.replace(/[^a-z0-9_-]/gi, '-') + '-error'} role="alert">${t('actions.refused', { reason: isolate(reason(error, act, name)) })}</p>`;
  const input = (a) => {
    const f = { ...a, label: label(a) };
    const onChange = (v) => setArgs((cur) => ({ ...cur, [a.name]: v }));
    if (a.items?.length) {
      // A refusal of one row's field shows at that field; of the list, under it.
      const m = /\.items\[(\d+)\]\.(\w+)$/.exec(errField);
      const atRow = errArg === a.name && !!m && Number(m[1]) < Math.max(args[a.name]?.items?.length || 0, 1) && a.items.some((it) => it.name === m[2]);
      return html`<div class=${'field items' + (errArg === a.name ? ' has-error' : '')} data-arg=${a.name} role="group" aria-labelledby=${'arg-' + a.name + '-label'}>
        <span class="label" id=${'arg-' + a.name + '-label'}>${label(a)}${a.required ? html`<span class="req" aria-hidden="true"> *</span>` : ''}</span>
        ${a.description && html`<small class="muted" dir="auto">${a.description}</small>`}
        <${ItemsInput} arg=${a} value=${args[a.name]} onChange=${onChange} id=${'arg-' + a.name} errField=${errArg === a.name ? errField : ''} refused=${refused} />
        ${errArg === a.name && !atRow && refused(a.name)}</div>`;
    }
    return html`<div class=${'field' + (errArg === a.name ? ' has-error' : '')} data-arg=${a.name}>
      <label for=${'arg-' + a.name}>${label(a)}${a.required ? html`<span class="req" aria-hidden="true"> *</span>` : ''}</label>
      ${typeOf(f).input({ field: f, value: args[a.name] ?? null, id: 'arg-' + a.name, required: a.required,
        invalid: errArg === a.name, onChange })}
      ${a.description && html`<small class="muted" dir="auto">${a.description}</small>`}
      ${errArg === a.name && refused(a.name)}</div>`;
  };
  // Beside required arguments, the optional ones fold away.
  // A list of rows (an items argument) is shown with them.
  const required = act.args.filter((a) => a.required || a.items?.length);
  const optional = act.args.filter((a) => !a.required && !a.items?.length);
  const fold = required.length > 0 && optional.length > 1;
  return html`<${Modal} title=${label(act)} onClose=${onClose}>
    <form class="form action-form" data-action=${act.plugin + '.' + act.action} onSubmit=${run} ref=${box}>
      ${act.description && html`<p class="muted" dir="auto">${act.description}</p>`}
      ${fold ? required.map(input) : act.args.map(input)}
      ${fold && html`<details class="more-args" open=${optional.some((a) => a.name === errArg) || undefined}>
        <summary>${t('actions.optional', { count: optional.length })}</summary>${optional.map(input)}</details>`}
      ${error && !errArg && refused('')}
      ${result !== undefined && html`<${ActionResult} result=${result} />`}
      <div class="row"><button type="submit" class="primary" disabled=${busy}>${busy ? t('common.loading') : t('actions.run')}</button></div>
    </form>
  </${Modal}>`;
}

/**
 * ActionButtons shows an entity's plugin actions: for one record (id), or,
 * without an id, the actions of its list. onDone(result) follows an answer.
 */
export function ActionButtons({ entityName, id, onDone }) {
  const [acts, setActs] = useState([]);
  const [open, setOpen] = useState(null);
  const scope = id ? 'record' : 'list';
  useEffect(() => {
    pluginActions(entityName, scope).then(setActs);
  }, [entityName, scope]);
  if (!acts.length) return null;
  return html`<div class=${'plugin-actions ' + scope + '-actions'} role="group" aria-label=${t('actions.label')}>
    ${acts.map((a) => html`<button type="button" data-action=${a.plugin + '.' + a.action} onClick=${() => setOpen(a)} title=${a.description || ''}>${label(a)}</button>`)}
    ${open && html`<${ActionForm} act=${open} entityName=${entityName} id=${id} onClose=${() => setOpen(null)} onDone=${onDone} />`}
  </div>`;
}
