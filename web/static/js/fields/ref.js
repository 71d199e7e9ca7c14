// ref: the id of a record of field.to; shown as a link by its title and
// chosen with a search box (GET /api/v1/search?entity=&q=).
import { html } from 'htm/preact';
import { useState, useEffect, useRef } from 'preact/hooks';
import { register, ORDER_OPS } from './registry.js';
import { api } from '../api.js';
import { link } from '../router.js';
import { recordURL, titleFor, remember } from '../records.js';
import { t } from '../locale/i18n.js';

/** RefLink links to a referenced record by its title. */
export function RefLink({ to, id }) {
  if (!id) return '';
  return html`<a class="ref-link" href=${recordURL(to, id)} onClick=${link} dir="auto">${titleFor(to, id)}</a>`;
}

/** RefPicker searches records of entity `to` and sets the chosen id. */
export function RefPicker({ field, value, onChange, id, invalid, required }) {
  const [q, setQ] = useState('');
  const [open, setOpen] = useState(false);
  const [hits, setHits] = useState([]);
  const [active, setActive] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    if (!open || q.trim() === '') {
      setHits([]);
      return;
    }
    const n = ++seq.current;
    const timer = setTimeout(() => {
      api('GET', '/search', null, { query: { q, entity: field.to, limit: 8 } })
        .then((res) => {
          if (n !== seq.current) return;
          for (const h of res.items || []) remember(h.entity, h.record || { id: h.id, name: h.title });
          setHits(res.items || []);
          setActive(0);
        })
        .catch(() => n === seq.current && setHits([]));
    }, 200);
    return () => clearTimeout(timer);
  }, [q, open, field.to]);
  const choose = (h) => {
    onChange(h ? h.id : null);
    setQ('');
    setOpen(false);
  };
  const onKey = (e) => {
    if (e.key === 'ArrowDown') setActive((a) => Math.min(a + 1, hits.length - 1));
    else if (e.key === 'ArrowUp') setActive((a) => Math.max(a - 1, 0));
    else if (e.key === 'Enter' && hits[active]) choose(hits[active]);
    else if (e.key === 'Escape') setOpen(false);
    else return;
    e.preventDefault();
  };
  const listId = id + '-results';
  return html`<div class="picker">
    ${value && html`<span class="chip"><${RefLink} to=${field.to} id=${value} />
      <button type="button" class="icon" aria-label=${t('field.clear')} onClick=${() => choose(null)}>×</button></span>`}
    <input id=${id} type="search" dir="auto" role="combobox" aria-expanded=${open && hits.length > 0}
      aria-controls=${listId} aria-invalid=${invalid ? 'true' : undefined} required=${required && !value}
      placeholder=${t('field.search_placeholder')} value=${q} autocomplete="off"
      onInput=${(e) => { setQ(e.currentTarget.value); setOpen(true); }}
      onFocus=${() => setOpen(true)} onBlur=${() => setTimeout(() => setOpen(false), 150)} onKeyDown=${onKey} />
    ${open && hits.length > 0 && html`<ul id=${listId} role="listbox" class="results">
      ${hits.map((h, i) => html`<li role="option" aria-selected=${i === active} class=${i === active ? 'active' : ''}
        onMouseDown=${(e) => { e.preventDefault(); choose(h); }} dir="auto">${h.title || h.id}</li>`)}
    </ul>`}
  </div>`;
}

register('ref', {
  display: ({ field, value }) => html`<${RefLink} to=${field.to} id=${value} />`,
  text: (v, field) => (v ? titleFor(field.to, v) : ''),
  input: (p) => html`<${RefPicker} ...${p} />`,
  ops: ['==', '!='],
  blank: null,
});
