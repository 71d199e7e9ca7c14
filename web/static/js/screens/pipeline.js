// The pipeline of an entity (deals) as a kanban: a column per stage with
// its count and its money totals per currency, cards dragged between
// columns (SortableJS) or moved with the keyboard (a "move to stage" menu on
// the focused card, or the M key). Each move is a PATCH of the stage with
// If-Match, shown at once and rolled back with a message when the server
// refuses it (409: someone changed the deal meanwhile). Live: the board
// subscribes to its pipeline over the websocket, so a colleague's move
// appears. At phone width the columns are a snap carousel that scrolls by
// itself, never the page.
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import Sortable from 'sortablejs';
import { t, label } from '../locale/i18n.js';
import { api, recordPath } from '../api.js';
import { register, link, navigate, setQuery } from '../router.js';
import { schema } from '../session.js';
import { quote } from '../fields/index.js';
import { valueLabel } from '../fields/enum.js';
import { BATCH, idsFilter, recordURL, remember, titleOf } from '../records.js';
import { subscribe } from '../ws.js';
import { addNav } from '../shell.js';
import { Spinner, ErrorBox, Empty, toast } from '../components.js';
import { formatMoney, formatNumber } from '../locale/format.js';

// The board loads its cards in pages of PAGE, at most MAX of them.
const PAGE = 500;
const MAX = 2000;

/** pipelines lists every pipeline of the schema with its entity. */
export function pipelines() {
  return (schema.value.entities || []).flatMap((e) => (e.pipelines || []).map((p) => ({ ...p, entity: e })));
}

/** stageLabel is a stage's label in the user's language. */
export function stageLabel(p, stage) {
  return valueLabel(p.stage_labels, stage);
}

function Pipeline({ query }) {
  const all = pipelines();
  if (!all.length) return html`<section class="page"><${Empty} title=${t('pipeline.none')} hint=${t('pipeline.none_hint')} /></section>`;
  const want = query.get('pipeline');
  const p = all.find((x) => x.name === want) || all[0];
  return html`<${Board} key=${p.entity.name + '/' + p.name} p=${p} all=${all} />`;
}

// upsert puts rec into the map unless the map holds a newer version.
function upsert(map, rec) {
  const cur = map[rec.id];
  if (cur && cur.version >= rec.version) return map;
  return { ...map, [rec.id]: rec };
}

function Board({ p, all }) {
  const ent = p.entity;
  const filter = `pipeline == ${quote(p.name)}`;
  const money = ent.fields.find((f) => f.name === 'amount' && f.type === 'money') || ent.fields.find((f) => f.type === 'money');
  const contact = ent.fields.find((f) => f.type === 'ref' && f.name === 'contact') || ent.fields.find((f) => f.type === 'ref');
  const [cards, setCards] = useState(null); // id -> record
  const [error, setError] = useState(null);
  const [truncated, setTruncated] = useState(false);
  const [totals, setTotals] = useState({ counts: null, sums: {} });
  const [refs, setRefs] = useState({}); // id of a referenced record -> its title
  const [moving, setMoving] = useState('');
  const [focusId, setFocusId] = useState('');
  const [said, setSaid] = useState('');
  const cardsRef = useRef(null);
  cardsRef.current = cards;
  const painted = useRef(false);
  useState(() => performance.mark('kanban-start'));
  const totalsTimer = useRef(0);

  const loadTotals = async () => {
    try {
      const [c, s] = await Promise.all([
        api('GET', recordPath(ent.name), null, { query: { filter, group: 'stage', limit: 1 } }),
        money ? api('GET', recordPath(ent.name), null, { query: { filter, group: 'stage', totals: money.name, limit: 1 } }) : null,
      ]);
      const counts = {};
      for (const r of c?.totals || []) counts[r.group] = r.count;
      const sums = {};
      for (const r of s?.totals || []) if (r.currency) (sums[r.group] ||= []).push({ amount: r.sum, currency: r.currency });
      setTotals({ counts, sums });
    } catch {
      setTotals({ counts: null, sums: {} }); // counted from the cards instead
    }
  };
  const refreshTotals = () => {
    clearTimeout(totalsTimer.current);
    totalsTimer.current = setTimeout(loadTotals, 400);
  };

  useEffect(() => {
    let cancelled = false;
    (async () => {
      try {
        let map = {};
        let cursor = '';
        do {
          const r = await api('GET', recordPath(ent.name), null, { query: { filter, sort: '-updated_at', limit: PAGE, cursor } });
          if (cancelled) return;
          for (const rec of r.items || []) map[rec.id] = rec;
          cursor = r.next_cursor || '';
        } while (cursor && Object.keys(map).length < MAX);
        setTruncated(!!cursor);
        setCards((cur) => {
          // Changes that came over the socket meanwhile are kept when newer.
          for (const rec of Object.values(cur || {})) map = upsert(map, rec);
          return map;
        });
      } catch (x) {
        if (!cancelled) {
          setError(x);
          setCards({});
        }
      }
    })();
    loadTotals();
    const unsub = subscribe({ entity: ent.name, filter }, (m) => {
      if (m.type === 'snapshot') {
        setCards((cur) => (m.items || []).reduce(upsert, cur || {}));
        return;
      }
      if (m.type !== 'change' || !m.record) return;
      const rec = m.record;
      setCards((cur) => {
        if (!cur && m.op !== 'created' && m.op !== 'updated') return cur;
        if (m.op === 'deleted' || m.op === 'left') {
          if (!cur?.[rec.id]) return cur;
          const next = { ...cur };
          delete next[rec.id];
          return next;
        }
        return upsert(cur || {}, rec);
      });
      refreshTotals();
    });
    return () => {
      cancelled = true;
      clearTimeout(totalsTimer.current);
      unsub();
    };
  }, [ent.name, p.name]);

  // The titles of the referenced records (the deal's contact), in batches.
  useEffect(() => {
    if (!cards || !contact) return;
    const missing = [...new Set(Object.values(cards).map((r) => r[contact.name]).filter((id) => id && refs[id] === undefined))];
    if (!missing.length) return;
    setRefs((cur) => Object.fromEntries([...Object.entries(cur), ...missing.map((id) => [id, ''])]));
    for (let i = 0; i < missing.length; i += BATCH) {
      const ids = missing.slice(i, i + BATCH);
      api('GET', recordPath(contact.to), null, { query: { filter: idsFilter(ids), limit: ids.length } })
        .then((r) => {
          const got = {};
          for (const rec of r.items || []) {
            remember(contact.to, rec);
            got[rec.id] = titleOf(contact.to, rec);
          }
          setRefs((cur) => ({ ...cur, ...got }));
        })
        .catch(() => {});
    }
  }, [cards]);

  // First paint of the loaded board, for the benchmark and the curious.
  useEffect(() => {
    if (cards && !painted.current) {
      painted.current = true;
      performance.mark('kanban-painted');
    }
  }, [cards]);

  // After a keyboard move the focus follows the card to its new column.
  useEffect(() => {
    if (!focusId) return;
    document.querySelector(`.kcard[data-id="${CSS.escape(focusId)}"]`)?.focus();
    setFocusId('');
  }, [focusId, cards]);

  const move = async (id, stage, { keyboard = false } = {}) => {
    const before = cardsRef.current?.[id];
    if (!before || before.stage === stage) return;
    const title = titleOf(ent.name, before);
    setCards((cur) => ({ ...cur, [id]: { ...before, stage } }));
    if (keyboard) setFocusId(id);
    try {
      const saved = await api('PATCH', recordPath(ent.name, id), { stage }, { ifMatch: before.version });
      remember(ent.name, saved);
      setCards((cur) => upsert(cur, saved));
      setSaid(t('pipeline.moved', { title, stage: stageLabel(p, stage) }));
    } catch (x) {
      setCards((cur) => (cur[id]?.version === before.version ? { ...cur, [id]: before } : cur));
      if (x.status === 409) {
        toast(t('pipeline.conflict', { title }), 'error');
        api('GET', recordPath(ent.name, id)).then((r) => setCards((cur) => upsert(cur, r))).catch(() => {});
      } else {
        toast(t('pipeline.move_failed', { title, message: x.message }), 'error');
      }
      if (keyboard) setFocusId(id);
    }
    refreshTotals();
  };
  const moveRef = useRef(move);
  moveRef.current = move;

  if (cards === null) return html`<section class="page"><${Spinner} /></section>`;
  const byStage = {};
  for (const s of p.stages) byStage[s] = [];
  for (const rec of Object.values(cards)) byStage[rec.stage]?.push(rec);
  for (const s of p.stages) byStage[s].sort((a, b) => (a.updated_at < b.updated_at ? 1 : a.updated_at > b.updated_at ? -1 : 0));
  const empty = Object.keys(cards).length === 0;
  return html`<section class="page pipeline-page">
    <header class="page-head">
      <h1 dir="auto">${t('pipeline.title', { name: label(p) })}</h1>
      <div class="actions">
        ${all.length > 1 && html`<label class="sr-only" for="pipeline-select">${t('pipeline.choose')}</label>
          <select id="pipeline-select" class="auto-width" value=${p.entity.name + '/' + p.name}
            onChange=${(e) => setQuery({ pipeline: all.find((x) => x.entity.name + '/' + x.name === e.currentTarget.value)?.name })}>
            ${all.map((x) => html`<option value=${x.entity.name + '/' + x.name}>${label(x)} (${label(x.entity)})</option>`)}
          </select>`}
        ${ent.can_write !== false && html`<a class="button primary" href=${recordURL(ent.name, 'new')} onClick=${link}>${t('list.new', { entity: label(ent) })}</a>`}
      </div>
    </header>
    <p class="muted small">${t('pipeline.keyboard_hint')}</p>
    <${ErrorBox} error=${error} />
    ${truncated && html`<p class="alert">${t('pipeline.truncated', { max: formatNumber(MAX) })}</p>`}
    ${empty && !error && html`<${Empty} title=${t('pipeline.empty')} hint=${t('pipeline.empty_hint')} />`}
    <div class="kanban" role="list" aria-label=${t('pipeline.board', { name: label(p) })}>
      ${p.stages.map((s) => html`<${Column} key=${s} p=${p} stage=${s} cards=${byStage[s]}
        count=${totals.counts ? totals.counts[s] || 0 : byStage[s].length} sums=${totals.sums[s] || []}
        money=${money} contact=${contact} refs=${refs} moveRef=${moveRef} moving=${moving} setMoving=${setMoving}
        canWrite=${ent.can_write !== false} />`)}
    </div>
    <div class="sr-only" aria-live="polite">${said}</div>
  </section>`;
}

function Column({ p, stage, cards, count, sums, money, contact, refs, moveRef, moving, setMoving, canWrite }) {
  const list = useRef(null);
  useEffect(() => {
    if (!canWrite) return undefined;
    const s = Sortable.create(list.current, {
      group: 'kanban-' + p.name,
      sort: false,
      draggable: '.kcard',
      filter: 'select, button, a',
      preventOnFilter: false,
      animation: 150,
      // Pointer events rather than HTML5 drag and drop: the same on touch
      // screens, where a short hold starts the drag so a swipe still scrolls.
      forceFallback: true,
      fallbackTolerance: 4,
      delay: 250,
      delayOnTouchOnly: true,
      ghostClass: 'kcard-ghost',
      chosenClass: 'kcard-chosen',
      onEnd: (evt) => {
        if (evt.from === evt.to) return;
        // Put the node back where Preact left it; the state then moves the card.
        evt.from.insertBefore(evt.item, evt.from.children[evt.oldIndex] || null);
        moveRef.current(evt.item.dataset.id, evt.to.dataset.stage);
      },
    });
    return () => s.destroy();
  }, [p.name, canWrite]);
  const name = stageLabel(p, stage);
  return html`<section class="kcol" role="listitem" aria-label=${name} data-stage=${stage}>
    <header class="kcol-head">
      <h2 dir="auto">${name} <span class="badge kcount" title=${t('pipeline.count', { count })}>${formatNumber(count)}</span></h2>
      ${money && html`<p class="ktotal">${sums.length ? sums.map((m) => html`<span class="num">${formatMoney(m)}</span>`) : html`<span class="muted">—</span>`}</p>`}
    </header>
    <div class="kcards" ref=${list} data-stage=${stage}>
      ${cards.map((rec) => html`<${Card} key=${rec.id} p=${p} rec=${rec} money=${money} contact=${contact} refs=${refs}
        moveRef=${moveRef} open=${moving === rec.id} setMoving=${setMoving} canWrite=${canWrite} />`)}
    </div>
  </section>`;
}

function Card({ p, rec, money, contact, refs, moveRef, open, setMoving, canWrite }) {
  const ent = p.entity;
  const title = titleOf(ent.name, rec);
  const sel = useRef(null);
  useEffect(() => {
    if (open) sel.current?.focus();
  }, [open]);
  const onKey = (e) => {
    if (e.target !== e.currentTarget) return;
    if ((e.key === 'm' || e.key === 'M') && canWrite) {
      e.preventDefault();
      setMoving(rec.id);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      navigate(recordURL(ent.name, rec.id));
    }
  };
  const close = () => {
    setMoving('');
    document.querySelector(`.kcard[data-id="${CSS.escape(rec.id)}"]`)?.focus();
  };
  const ref = contact && rec[contact.name];
  return html`<article class="kcard" tabindex="0" data-id=${rec.id} onKeyDown=${onKey}
    aria-label=${t('pipeline.card', { title, stage: stageLabel(p, rec.stage) })}>
    <a class="kcard-title" href=${recordURL(ent.name, rec.id)} onClick=${link} dir="auto" tabindex="-1">${title}</a>
    ${money && rec[money.name] && html`<div class="num kcard-amount">${formatMoney(rec[money.name])}</div>`}
    ${ref && refs[ref] && html`<div class="muted small" dir="auto">${refs[ref]}</div>`}
    ${canWrite && (open
      ? html`<div class="kmove-menu"><label class="sr-only" for=${'move-' + rec.id}>${t('pipeline.move_to')}</label>
          <select id=${'move-' + rec.id} ref=${sel} value=${rec.stage}
            onChange=${(e) => { const s = e.currentTarget.value; setMoving(''); moveRef.current(rec.id, s, { keyboard: true }); }}
            onKeyDown=${(e) => e.key === 'Escape' && (e.preventDefault(), close())} onBlur=${() => setMoving('')}>
            ${p.stages.map((s) => html`<option value=${s}>${stageLabel(p, s)}</option>`)}
          </select></div>`
      : html`<button type="button" class="kmove" id=${'move-button-' + rec.id} onClick=${() => setMoving(rec.id)}
          aria-label=${t('pipeline.move_label', { title })} title=${t('pipeline.move_to')}>⇄</button>`)}
  </article>`;
}

register('/pipeline', Pipeline);
addNav({ href: '/pipeline', key: 'pipeline.nav', order: 10 });
