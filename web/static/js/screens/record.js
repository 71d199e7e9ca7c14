// A record page, built from the schema: the form of its fields (an input per
// field type, the error next to its field), saved with If-Match so a stale
// edit is refused; the change shows at once and is rolled back with a message
// when the server refuses it (409 or a bad value). Below it the timeline of
// the record (its history, activities, tasks, documents with their files),
// live, and the plugins' actions for its records. /records/<entity>/new creates a record.
import { html } from 'htm/preact';
import { useEffect, useState, useRef } from 'preact/hooks';
import { t, label } from '../locale/i18n.js';
import { api, recordPath } from '../api.js';
import { register, link, navigate } from '../router.js';
import { entity, field, schema } from '../session.js';
import { typeOf, isEmpty } from '../fields/index.js';
import { userName } from '../fields/user.js';
import { listURL, recordURL, remember, titleOf } from '../records.js';
import { subscribe } from '../ws.js';
import { Spinner, ErrorBox, Empty, toast } from '../components.js';
import { ActionButtons } from './actions.js';
import { formatDateTime, formatNumber, formatRelative } from '../locale/format.js';

/** writable converts the form's values to what the API takes on write. */
function writable(ent, values) {
  const out = {};
  for (const [k, v] of Object.entries(values)) {
    const f = ent.fields.find((x) => x.name === k);
    if (!f) continue;
    const ty = typeOf(f);
    out[k] = ty.toWrite ? ty.toWrite(v) : v;
  }
  return out;
}

function FieldRow({ f, value, error, onChange, readOnly }) {
  const id = 'f-' + f.name;
  const ty = typeOf(f);
  return html`<div class=${'field' + (error ? ' has-error' : '')} data-field=${f.name}>
    <label for=${id}>${label(f)}${f.required ? html`<span class="req" aria-hidden="true"> *</span>` : ''}</label>
    <div class="field-input">
      ${readOnly ? html`<div class="value">${ty.display({ field: f, value })}</div>`
        : ty.input({ field: f, value, onChange, id, invalid: !!error, required: f.required })}
      ${error && html`<p class="error" id=${id + '-error'} role="alert">${error}</p>`}
    </div>
  </div>`;
}

/** recordFiles are download links of the files a timeline's record holds (a document's PDF). */
function recordFiles(it) {
  const fields = (entity(it.entity)?.fields || []).filter((f) => f.type === 'file' && it.record?.[f.name]?.id);
  return fields.map((f) => {
    const file = it.record[f.name];
    return html` <span class="tl-file"><a class="button" href=${'/api/v1/files/' + encodeURIComponent(file.id)} download=${file.name || file.id}
      title=${file.name || ''}>${t('timeline.download')}</a>${file.size ? html` <small class="muted">${formatNumber(Math.ceil(file.size / 1024))} KB</small>` : ''}</span>`;
  });
}

function Timeline({ ent, id, version, refresh }) {
  const [items, setItems] = useState(null);
  const [next, setNext] = useState('');
  const load = async (cursor) => {
    try {
      const r = await api('GET', recordPath(ent.name, id) + '/timeline', null, { query: { limit: 30, cursor } });
      setItems((cur) => [...(cursor ? cur : []), ...(r.items || [])]);
      setNext(r.next_cursor || '');
    } catch (x) {
      if (x.status !== 404) return setItems([]);
      // No timeline route: the history alone.
      const h = await api('GET', recordPath(ent.name, id) + '/history').catch(() => ({ items: [] }));
      setItems((h.items || h || []).map((x) => ({ kind: 'change', ...x })).reverse());
      setNext('');
    }
  };
  useEffect(() => { load(''); }, [ent.name, id, version, refresh]);
  // Live: a record that comes to refer to this one (a document a rule made,
  // a task) or changes reloads the timeline.
  useEffect(() => {
    let pending = null;
    const reload = () => {
      clearTimeout(pending);
      pending = setTimeout(() => load(''), 100);
    };
    const q = "'" + id.replace(/'/g, '') + "'";
    const unsubs = (schema.value.entities || []).flatMap((e) => {
      const refs = e.fields.filter((f) => f.type === 'ref' && f.to === ent.name);
      if (!refs.length) return [];
      return [subscribe({ entity: e.name, filter: refs.map((f) => `${f.name} == ${q}`).join(' || ') }, (m) => m.type === 'change' && reload())];
    });
    return () => {
      clearTimeout(pending);
      unsubs.forEach((u) => u());
    };
  }, [ent.name, id]);
  if (items === null) return html`<${Spinner} />`;
  if (!items.length) return html`<p class="muted">${t('timeline.empty')}</p>`;
  return html`<ol class="timeline">
    ${items.map((it) => it.kind === 'record'
      ? html`<li class="tl-record"><time datetime=${it.at} title=${formatDateTime(it.at)}>${formatRelative(it.at)}</time>
          <span class="badge">${label(entity(it.entity) || { name: it.entity })}</span>
          <a href=${recordURL(it.entity, it.record?.id)} onClick=${link} dir="auto">${titleOf(it.entity, it.record)}</a>
          ${it.record?.kind && html` <small class="muted">${it.record.kind}</small>`}${recordFiles(it)}</li>`
      : html`<li class="tl-change"><time datetime=${it.at} title=${formatDateTime(it.at)}>${formatRelative(it.at)}</time>
          <span>${t('timeline.' + (it.action || 'updated'), { who: userName(it.by) || it.by || '' })}</span>
          ${it.changes && html`<ul class="changes">${Object.entries(it.changes).map(([k, c]) => {
            const f = field(ent, k) || { name: k, type: 'string' };
            const ty = typeOf(f);
            return html`<li><b>${f.system ? t('system.' + f.name) : label(f)}</b>: <span class="old">${ty.text(c.old, f) || '—'}</span> → <span class="new">${ty.text(c.new, f) || '—'}</span></li>`;
          })}</ul>`}</li>`)}
    ${next && html`<li><button type="button" onClick=${() => load(next)}>${t('list.more')}</button></li>`}
  </ol>`;
}

function RecordPage({ params }) {
  const ent = entity(params.entity);
  if (!ent) return html`<${Empty} title=${t('list.no_entity', { name: params.entity })} />`;
  return html`<${RecordForm} ent=${ent} id=${params.id === 'new' ? '' : params.id} />`;
}

function RecordForm({ ent, id }) {
  const [rec, setRec] = useState(id ? null : {});
  const [values, setValues] = useState({});
  const [errors, setErrors] = useState({});
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const [stale, setStale] = useState(false);
  const [live, setLive] = useState(false);
  // A plugin action's answer (a document made for this record) reloads the timeline.
  const [acted, setActed] = useState(0);
  const editing = useRef(false);
  const canWrite = ent.can_write !== false;
  editing.current = Object.keys(values).length > 0;

  useEffect(() => {
    if (!id) return;
    api('GET', recordPath(ent.name, id))
      .then((r) => { remember(ent.name, r); setRec(r); })
      // Another user's record of an own_only role answers 404, as a missing one.
      .catch((x) => setError(x.status === 404 ? { message: t('record.not_found') } : x));
    // Live: a change made elsewhere shows here at once, unless the user is
    // editing: then the version they started from stays the base of their
    // save (which the server refuses with 409) and a note says why.
    const newer = (r) => {
      if (!r) return;
      setRec((cur) => {
        if (!cur || r.version <= cur.version) return cur;
        if (editing.current) {
          setStale(true);
          return cur;
        }
        return r;
      });
    };
    return subscribe({ entity: ent.name, filter: `id == '${id.replace(/'/g, '')}'` }, (m) => {
      if (m.type === 'snapshot') {
        setLive(true);
        return newer((m.items || []).find((x) => x.id === id));
      }
      if (m.type !== 'change') return;
      if (m.op === 'deleted' || m.op === 'left') return toast(t('record.gone'), 'error');
      newer(m.record);
    });
  }, [ent.name, id]);

  if (error && !rec) return html`<section class="page"><${ErrorBox} error=${error} /><a href=${listURL(ent.name)} onClick=${link}>${t('record.back')}</a></section>`;
  if (!rec) return html`<${Spinner} />`;
  const shown = { ...rec, ...values };
  const dirty = Object.keys(values).length > 0;

  const save = async (e) => {
    e.preventDefault();
    setBusy(true);
    setErrors({});
    setError(null);
    const body = writable(ent, values);
    if (!id) {
      try {
        const created = await api('POST', recordPath(ent.name), body);
        remember(ent.name, created);
        toast(t('record.created'));
        navigate(recordURL(ent.name, created.id), { replace: true });
      } catch (x) {
        x.field ? setErrors({ [x.field]: x.message }) : setError(x);
      } finally {
        setBusy(false);
      }
      return;
    }
    // Optimistic: show the new values at once, roll back on refusal.
    const before = rec;
    setRec({ ...rec, ...values });
    setValues({});
    try {
      const saved = await api('PATCH', recordPath(ent.name, id), body, { ifMatch: before.version });
      remember(ent.name, saved);
      setRec(saved);
      setStale(false);
      toast(t('record.saved'));
    } catch (x) {
      setRec(before);
      setValues(values);
      if (x.status === 409) {
        setError({ message: t('record.conflict') });
        toast(t('record.conflict'), 'error');
      } else if (x.field) setErrors({ [x.field]: x.message });
      else setError(x);
    } finally {
      setBusy(false);
    }
  };
  // The latest version becomes the base; the user's edits stay on top.
  const reloadLatest = async () => {
    const r = await api('GET', recordPath(ent.name, id));
    setRec(r);
    setError(null);
    setStale(false);
  };
  const remove = async () => {
    if (!window.confirm(t('record.delete_confirm'))) return;
    try {
      await api('DELETE', recordPath(ent.name, id));
      toast(t('record.deleted'));
      navigate(listURL(ent.name));
    } catch (x) {
      setError(x);
    }
  };
  const title = id ? titleOf(ent.name, rec) : t('record.new_title', { entity: label(ent) });
  return html`<section class="page record-page" data-live=${live ? 'true' : undefined}>
    <nav class="crumbs" aria-label=${t('record.breadcrumb')}><a href=${listURL(ent.name)} onClick=${link}>${label(ent)}</a></nav>
    <header class="page-head">
      <h1 dir="auto">${title}</h1>
      ${id && html`<div class="actions">
        <${ActionButtons} entityName=${ent.name} id=${id} onDone=${() => setActed((n) => n + 1)} />
        ${canWrite && html`<button type="button" class="danger" onClick=${remove}>${t('record.delete')}</button>`}</div>`}
    </header>
    <form class="card record-form" onSubmit=${save} noValidate>
      ${ent.fields.map((f) => html`<${FieldRow} key=${f.name} f=${f} value=${shown[f.name]} error=${errors[f.name]} readOnly=${!canWrite}
        onChange=${(v) => { setValues((cur) => ({ ...cur, [f.name]: v })); if (errors[f.name]) setErrors({ ...errors, [f.name]: undefined }); }} />`)}
      ${stale && !error && html`<div class="note" role="status">${t('record.changed_meanwhile')}
        <button type="button" onClick=${reloadLatest}>${t('record.reload')}</button></div>`}
      ${error && html`<div class="alert" role="alert">${error.message}
        ${error.message === t('record.conflict') && html` <button type="button" onClick=${reloadLatest}>${t('record.reload')}</button>`}</div>`}
      ${canWrite && html`<div class="row form-actions">
        <button type="submit" class="primary" id="save-record" disabled=${busy || (id && !dirty)}>${busy ? t('common.saving') : id ? t('common.save') : t('record.create')}</button>
        ${dirty && html`<button type="button" onClick=${() => { setValues({}); setErrors({}); }}>${t('common.cancel')}</button>`}
      </div>`}
      ${id && html`<p class="meta muted small">${t('record.meta', { owner: userName(rec.owner), updated: formatDateTime(rec.updated_at) })}</p>`}
    </form>
    ${id && html`<section class="card"><h2>${t('timeline.title')}</h2><${Timeline} ent=${ent} id=${id} version=${rec.version} refresh=${acted} /></section>`}
  </section>`;
}

register('/records/:entity/:id', RecordPage);
