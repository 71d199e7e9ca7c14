// The list of an entity's records, built from the schema: columns the user
// chooses, sort by a column, a filter (builder or expr), saved views, paging
// by cursor, bulk edit of selected rows, CSV export, plugins' list actions
// (an upload), and live updates over the websocket. Under 640 px the rows
// become cards (CSS).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { t, label } from '../locale/i18n.js';
import { api, recordPath } from '../api.js';
import { register, link, setQuery } from '../router.js';
import { entity, me, SYSTEM_FIELDS } from '../session.js';
import { typeOf, isEmpty } from '../fields/index.js';
import { recordURL, remember, titleOf } from '../records.js';
import { subscribe } from '../ws.js';
import { Spinner, ErrorBox, Empty, Modal, toast } from '../components.js';
import { FilterEditor } from './filter.js';
import { ActionButtons } from './actions.js';
import { formatNumber } from '../locale/format.js';

const PAGE = 50;

/** defaultColumns are the first few fields of an entity. */
export function defaultColumns(ent) {
  return ent.fields.filter((f) => f.type !== 'text' && f.type !== 'file').slice(0, 5).map((f) => f.name);
}

/** columnFields are the fields a list may show: the entity's, then a few system fields. */
function columnFields(ent) {
  return [...ent.fields, ...SYSTEM_FIELDS.filter((f) => ['owner', 'created_at', 'updated_at'].includes(f.name))];
}

/** columnLabel is a column's heading. */
function columnLabel(f) {
  return f.system ? t('system.' + f.name) : label(f);
}

function Cell({ ent, f, rec }) {
  const ty = typeOf(f);
  return ty.display({ field: f, value: rec[f.name], record: rec });
}

// SortSelect sorts the list on a phone, where the column headings (the
// sort buttons) are hidden and the rows are cards.
function SortSelect({ cols, all, sort, onSort }) {
  const current = all.find((f) => f.name === sort.replace(/^-/, ''));
  const fields = current && !cols.includes(current) ? [...cols, current] : cols;
  return html`<label class="sr-only" for="sort-select">${t('list.sort_by')}</label>
    <select id="sort-select" class="phone-only" value=${sort} onChange=${(e) => onSort(e.currentTarget.value)}>
      ${fields.flatMap((f) => [
        html`<option value=${f.name}>${t('list.sort_asc', { field: columnLabel(f) })}</option>`,
        html`<option value=${'-' + f.name}>${t('list.sort_desc', { field: columnLabel(f) })}</option>`,
      ])}
    </select>`;
}

function ColumnChooser({ ent, columns, onChange, onClose }) {
  return html`<${Modal} title=${t('list.columns')} onClose=${onClose}>
    <ul class="checklist">
      ${columnFields(ent).map((f) => html`<li><label><input type="checkbox" checked=${columns.includes(f.name)}
        onChange=${(e) => onChange(e.currentTarget.checked ? [...columns, f.name] : columns.filter((c) => c !== f.name))} />
        <span dir="auto">${columnLabel(f)}</span></label></li>`)}
    </ul>
    <div class="row"><button type="button" class="primary" onClick=${onClose}>${t('common.done')}</button></div>
  </${Modal}>`;
}

function BulkEdit({ ent, ids, onDone, onClose }) {
  const writable = ent.fields.filter((f) => f.type !== 'file');
  const [name, setName] = useState(writable[0]?.name);
  const [value, setValue] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const f = writable.find((x) => x.name === name);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const res = await api('POST', recordPath(ent.name) + '/bulk', { ids, set: { [name]: value } });
      const failed = res.errors?.length || 0;
      toast(t('list.bulk_done', { count: res.updated ?? ids.length - failed }) + (failed ? ' ' + t('list.bulk_failed', { count: failed }) : ''), failed ? 'error' : 'info');
      onDone();
    } catch (x) {
      setError(x);
    } finally {
      setBusy(false);
    }
  };
  return html`<${Modal} title=${t('list.bulk_title', { count: ids.length })} onClose=${onClose}>
    <form class="form" onSubmit=${submit}>
      <label for="bulk-field">${t('list.bulk_field')}</label>
      <select id="bulk-field" value=${name} onChange=${(e) => { setName(e.currentTarget.value); setValue(null); }}>
        ${writable.map((x) => html`<option value=${x.name}>${label(x)}</option>`)}
      </select>
      <label for="bulk-value">${t('list.bulk_value')}</label>
      ${f && typeOf(f).input({ field: f, value, onChange: setValue, id: 'bulk-value', invalid: !!error?.field })}
      <${ErrorBox} error=${error} />
      <div class="row"><button type="submit" id="bulk-apply" class="primary" disabled=${busy}>${t('list.bulk_apply')}</button></div>
    </form>
  </${Modal}>`;
}

function Views({ ent, state, apply }) {
  const [views, setViews] = useState([]);
  const [naming, setNaming] = useState(false);
  const [name, setName] = useState('');
  const [shared, setShared] = useState(false);
  const load = () => api('GET', '/views', null, { query: { entity: ent.name } }).then((r) => setViews(r.items || [])).catch(() => setViews([]));
  useEffect(() => { load(); }, [ent.name]);
  const save = async (e) => {
    e.preventDefault();
    try {
      await api('POST', '/views', { name, entity: ent.name, filter: state.filter, sort: state.sort, columns: state.columns, shared });
      setNaming(false);
      setName('');
      toast(t('views.saved'));
      load();
    } catch (x) {
      toast(x.message, 'error');
    }
  };
  const remove = async (v) => {
    try {
      await api('DELETE', '/views/' + encodeURIComponent(v.id));
      load();
    } catch (x) {
      toast(x.message, 'error');
    }
  };
  const active = views.find((v) => v.id === state.view);
  return html`<div class="views">
    <label for="view-select" class="sr-only">${t('views.label')}</label>
    <select id="view-select" value=${state.view || ''} onChange=${(e) => {
      const v = views.find((x) => x.id === e.currentTarget.value);
      apply(v ? { view: v.id, filter: v.filter || null, sort: v.sort || null, columns: (v.columns || []).join(',') || null } : { view: null });
    }}>
      <option value="">${t('views.all')}</option>
      ${views.map((v) => html`<option value=${v.id}>${v.name}${v.shared ? ' ⋅ ' + t('views.shared') : ''}</option>`)}
    </select>
    ${active && (active.owner === me.value?.user?.id || me.value?.permissions?.admin) &&
      html`<button type="button" onClick=${() => remove(active)}>${t('views.delete')}</button>`}
    ${naming
      ? html`<form class="inline-form" onSubmit=${save}>
          <input id="view-name" aria-label=${t('views.name')} placeholder=${t('views.name')} required dir="auto" value=${name} onInput=${(e) => setName(e.currentTarget.value)} />
          <label><input type="checkbox" checked=${shared} onChange=${(e) => setShared(e.currentTarget.checked)} /> ${t('views.shared')}</label>
          <button type="submit" class="primary">${t('common.save')}</button>
          <button type="button" onClick=${() => setNaming(false)}>${t('common.cancel')}</button></form>`
      : html`<button type="button" id="save-view" onClick=${() => setNaming(true)}>${t('views.save')}</button>`}
  </div>`;
}

function List({ params, query }) {
  const ent = entity(params.entity);
  if (!ent) return html`<${Empty} title=${t('list.no_entity', { name: params.entity })} />`;
  return html`<${EntityList} ent=${ent} query=${query} />`;
}

function EntityList({ ent, query }) {
  const filter = query.get('filter') || '';
  const sort = query.get('sort') || '-created_at';
  const all = columnFields(ent);
  const columns = (query.get('columns') || '').split(',').filter((c) => all.some((f) => f.name === c));
  const cols = (columns.length ? columns : defaultColumns(ent)).map((c) => all.find((f) => f.name === c));
  const canWrite = ent.can_write !== false;
  const state = { filter, sort, columns: cols.map((c) => c.name), view: query.get('view') };
  const [items, setItems] = useState(null);
  const [next, setNext] = useState('');
  const [total, setTotal] = useState(null);
  const [error, setError] = useState(null);
  const [more, setMore] = useState(false);
  const [selected, setSelected] = useState(new Set());
  const [modal, setModal] = useState('');
  const [showFilter, setShowFilter] = useState(!!filter);
  const [reload, setReload] = useState(0);
  const [live, setLive] = useState(false);

  useEffect(() => {
    let cancelled = false;
    setItems(null);
    setError(null);
    setSelected(new Set());
    api('GET', recordPath(ent.name), null, { query: { filter, sort, limit: PAGE, count: true } })
      .then((r) => {
        if (cancelled) return;
        for (const rec of r.items || []) remember(ent.name, rec);
        setItems(r.items || []);
        setNext(r.next_cursor || '');
        setTotal(typeof r.total === 'number' ? r.total : null);
      })
      .catch((x) => !cancelled && (setError(x), setItems([])));
    // Live: every change to this query, as it commits.
    setLive(false);
    const unsub = subscribe({ entity: ent.name, filter: filter || undefined, sort }, (m) => {
      if (m.type === 'snapshot') {
        // The query as of the subscription: a record written between the
        // page's fetch and the subscription shows too.
        setLive(true);
        setItems((cur) => {
          if (!cur) return cur;
          const missing = (m.items || []).filter((x) => !cur.some((y) => y.id === x.id));
          const fresh = new Map((m.items || []).map((x) => [x.id, x]));
          return [...missing, ...cur.map((x) => (fresh.get(x.id)?.version > x.version ? fresh.get(x.id) : x))];
        });
        return;
      }
      if (m.type !== 'change' || !m.record) return;
      const rec = m.record;
      remember(ent.name, rec);
      setItems((cur) => {
        if (!cur) return cur;
        const i = cur.findIndex((x) => x.id === rec.id);
        if (m.op === 'deleted' || m.op === 'left') return i < 0 ? cur : cur.filter((x) => x.id !== rec.id);
        if (i >= 0) return cur.map((x) => (x.id === rec.id ? rec : x));
        return m.op === 'created' || m.op === 'updated' ? [rec, ...cur] : cur;
      });
      if (m.op === 'created') setTotal((n) => (n === null ? n : n + 1));
      if (m.op === 'deleted' || m.op === 'left') setTotal((n) => (n === null ? n : Math.max(0, n - 1)));
    });
    return () => {
      cancelled = true;
      unsub();
    };
  }, [ent.name, filter, sort, reload]);

  const loadMore = async () => {
    setMore(true);
    try {
      const r = await api('GET', recordPath(ent.name), null, { query: { filter, sort, limit: PAGE, cursor: next } });
      for (const rec of r.items || []) remember(ent.name, rec);
      setItems((cur) => [...cur, ...(r.items || []).filter((x) => !cur.some((y) => y.id === x.id))]);
      setNext(r.next_cursor || '');
    } catch (x) {
      toast(x.message, 'error');
    } finally {
      setMore(false);
    }
  };
  const sortBy = (name) => setQuery({ sort: sort === name ? '-' + name : name, view: null });
  const toggle = (id) => {
    const s = new Set(selected);
    s.has(id) ? s.delete(id) : s.add(id);
    setSelected(s);
  };
  const exportURL = '/api/v1' + recordPath(ent.name) + '/export?' + new URLSearchParams({ ...(filter ? { filter } : {}), sort, columns: state.columns.join(',') });
  const filterError = error && (error.field === 'filter' || error.line) ? error : null;
  return html`<section class="page list-page" data-live=${live ? 'true' : undefined}>
    <header class="page-head">
      <h1 dir="auto">${label(ent)} ${total !== null && html`<small class="muted">${formatNumber(total)}</small>`}</h1>
      <div class="actions">
        <${ActionButtons} entityName=${ent.name} />
        ${ent.can_write !== false && html`<a class="button primary" id="new-record" href=${recordURL(ent.name, 'new')} onClick=${link}>${t('list.new', { entity: label(ent) })}</a>`}
      </div>
    </header>
    <div class="toolbar">
      <${Views} ent=${ent} state=${state} apply=${setQuery} />
      <button type="button" id="filter-toggle" aria-expanded=${showFilter} onClick=${() => setShowFilter(!showFilter)}>${t('list.filter')}${filter ? ' •' : ''}</button>
      <button type="button" id="columns-button" onClick=${() => setModal('columns')}>${t('list.columns')}</button>
      <${SortSelect} cols=${cols} all=${all} sort=${sort} onSort=${(s) => setQuery({ sort: s, view: null })} />
      <a class="button" id="export-link" href=${exportURL} download>${t('list.export')}</a>
      ${selected.size > 0 && html`<button type="button" id="bulk-button" class="primary" onClick=${() => setModal('bulk')}>${t('list.bulk_edit', { count: selected.size })}</button>`}
    </div>
    ${showFilter && html`<${FilterEditor} ent=${ent} value=${filter} error=${filterError} onApply=${(f) => setQuery({ filter: f || null, view: null })} />`}
    ${error && !filterError && html`<${ErrorBox} error=${error} />`}
    ${items === null ? html`<${Spinner} />`
      : items.length === 0 ? html`<${Empty} title=${filter ? t('list.empty_filtered') : t('list.empty', { entity: label(ent) })}
          hint=${filter ? t('list.empty_filtered_hint') : t('list.empty_hint')}>
          ${!filter && ent.can_write !== false && html`<a class="button primary" href=${recordURL(ent.name, 'new')} onClick=${link}>${t('list.new', { entity: label(ent) })}</a>`}</${Empty}>`
      : html`<table class="records">
          <thead><tr>
            ${canWrite && html`<th class="select"><label class="tap"><input type="checkbox" aria-label=${t('list.select_all')} checked=${selected.size === items.length}
              onChange=${(e) => setSelected(e.currentTarget.checked ? new Set(items.map((x) => x.id)) : new Set())} /></label></th>`}
            ${cols.map((f) => html`<th scope="col" aria-sort=${sort === f.name ? 'ascending' : sort === '-' + f.name ? 'descending' : undefined}>
              <button type="button" class="sort" onClick=${() => sortBy(f.name)}>${columnLabel(f)}${sort === f.name ? ' ▲' : sort === '-' + f.name ? ' ▼' : ''}</button></th>`)}
          </tr></thead>
          <tbody>
            ${items.map((rec) => html`<tr key=${rec.id} data-id=${rec.id}>
              ${canWrite && html`<td class="select"><label class="tap"><input type="checkbox" aria-label=${t('list.select', { title: titleOf(ent.name, rec) })} checked=${selected.has(rec.id)} onChange=${() => toggle(rec.id)} /></label></td>`}
              ${cols.map((f, i) => html`<td data-label=${columnLabel(f)} class=${i === 0 ? 'title-cell' : undefined}>${i === 0
                ? html`<a href=${recordURL(ent.name, rec.id)} onClick=${link} class="row-link" dir="auto">${isEmpty(rec[f.name]) ? titleOf(ent.name, rec) : typeOf(f).text(rec[f.name], f)}</a>`
                : html`<${Cell} ent=${ent} f=${f} rec=${rec} />`}</td>`)}
            </tr>`)}
          </tbody>
        </table>
        ${next && html`<div class="more"><button type="button" onClick=${loadMore} disabled=${more}>${more ? t('common.loading') : t('list.more')}</button></div>`}`}
    ${modal === 'columns' && html`<${ColumnChooser} ent=${ent} columns=${state.columns}
      onChange=${(c) => setQuery({ columns: c.join(',') || null, view: null })} onClose=${() => setModal('')} />`}
    ${modal === 'bulk' && html`<${BulkEdit} ent=${ent} ids=${[...selected]} onClose=${() => setModal('')}
      onDone=${() => { setModal(''); setReload(reload + 1); }} />`}
  </section>`;
}

register('/records/:entity', List);
