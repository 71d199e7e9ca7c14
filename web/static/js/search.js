// The global search box in the top bar: GET /search?q= as the user types,
// results of every entity the user may read, navigable with the arrow keys,
// Enter opening the record. "/" anywhere (outside a text field) focuses it.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { t, label } from './locale/i18n.js';
import { api } from './api.js';
import { navigate } from './router.js';
import { entity } from './session.js';
import { recordURL, remember } from './records.js';
import { topbar } from './shell.js';

/** GlobalSearch is the top bar's search box with its result list. */
export function GlobalSearch() {
  const [q, setQ] = useState('');
  const [hits, setHits] = useState(null); // null: nothing asked yet
  const [active, setActive] = useState(0);
  const [open, setOpen] = useState(false);
  const [error, setError] = useState('');
  const input = useRef(null);
  const seq = useRef(0);

  useEffect(() => {
    const slash = (e) => {
      if (e.key !== '/' || e.ctrlKey || e.metaKey || e.altKey) return;
      const el = document.activeElement;
      if (el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName))) return;
      e.preventDefault();
      input.current?.focus();
    };
    document.addEventListener('keydown', slash);
    return () => document.removeEventListener('keydown', slash);
  }, []);

  useEffect(() => {
    const text = q.trim();
    if (!text) {
      setHits(null);
      setError('');
      return undefined;
    }
    const n = ++seq.current;
    const timer = setTimeout(() => {
      api('GET', '/search', null, { query: { q: text, limit: 12 } })
        .then((r) => {
          if (n !== seq.current) return;
          for (const h of r.items || []) if (h.record) remember(h.entity, h.record);
          setHits(r.items || []);
          setActive(0);
          setError('');
        })
        .catch((x) => n === seq.current && (setHits([]), setError(x.message)));
    }, 180);
    return () => clearTimeout(timer);
  }, [q]);

  const choose = (h) => {
    if (!h) return;
    setOpen(false);
    setQ('');
    input.current?.blur();
    navigate(recordURL(h.entity, h.id));
  };
  const onKey = (e) => {
    const list = hits || [];
    if (e.key === 'ArrowDown') {
      setOpen(true);
      setActive((a) => (list.length ? (a + 1) % list.length : 0));
    } else if (e.key === 'ArrowUp') {
      setActive((a) => (list.length ? (a - 1 + list.length) % list.length : 0));
    } else if (e.key === 'Enter') {
      choose(list[active]);
    } else if (e.key === 'Escape') {
      if (open && q) setOpen(false);
      else {
        setQ('');
        input.current?.blur();
      }
    } else return;
    e.preventDefault();
  };
  const shown = open && hits !== null;
  const optId = (i) => 'gsearch-opt-' + i;
  return html`<div class="gsearch" role="search">
    <label for="gsearch" class="sr-only">${t('search.label')}</label>
    <input id="gsearch" ref=${input} type="search" dir="auto" autocomplete="off" placeholder=${t('search.placeholder')}
      role="combobox" aria-expanded=${shown} aria-controls="gsearch-results" aria-autocomplete="list"
      aria-activedescendant=${shown && hits.length ? optId(active) : undefined}
      value=${q} onInput=${(e) => { setQ(e.currentTarget.value); setOpen(true); }} onKeyDown=${onKey}
      onFocus=${() => setOpen(true)} onBlur=${() => setTimeout(() => setOpen(false), 150)} />
    ${shown && html`<ul id="gsearch-results" class="results" role="listbox" aria-label=${t('search.results')}>
      ${hits.length === 0
        ? html`<li class="empty-hit" role="option" aria-disabled="true">${error || t('search.none', { q: q.trim() })}</li>`
        : hits.map((h, i) => html`<li id=${optId(i)} role="option" aria-selected=${i === active} class=${i === active ? 'active' : ''}
            data-entity=${h.entity} data-id=${h.id} onMouseDown=${(e) => { e.preventDefault(); choose(h); }} onMouseEnter=${() => setActive(i)}>
            <a href=${recordURL(h.entity, h.id)} tabindex="-1" dir="auto" onClick=${(e) => e.preventDefault()}>${h.title || h.id}</a>
            <span class="badge">${label(entity(h.entity) || { name: h.entity })}</span></li>`)}
    </ul>`}
  </div>`;
}

topbar.unshift(GlobalSearch);
