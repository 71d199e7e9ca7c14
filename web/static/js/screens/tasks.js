// The user's tasks: three tabs over the task entity (mine: open tasks
// assigned to me; today: due today in my time zone; overdue: due before
// now), each a filter of the list API kept live over the websocket. A task
// is completed (done = true) or given to someone else (assignee) with
// If-Match, at once on screen and rolled back with a message on refusal.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { t, label } from '../locale/i18n.js';
import { api, recordPath } from '../api.js';
import { register, link, setQuery } from '../router.js';
import { entity, me } from '../session.js';
import { typeOf, quote } from '../fields/index.js';
import { RefLink } from '../fields/ref.js';
import { recordURL, remember, titleOf } from '../records.js';
import { subscribe } from '../ws.js';
import { addNav } from '../shell.js';
import { Spinner, ErrorBox, Empty, toast } from '../components.js';
import { formatDateTime, formatRelative, wallClock, zonedToInstant } from '../locale/format.js';

const TABS = ['mine', 'today', 'overdue'];
const TAB_TEXT = { mine: () => t('tasks.tab_mine'), today: () => t('tasks.tab_today'), overdue: () => t('tasks.tab_overdue') };
const EMPTY_TEXT = { mine: () => t('tasks.empty_mine'), today: () => t('tasks.empty_today'), overdue: () => t('tasks.empty_overdue') };

// instant is an expr datetime literal.
const instant = (d) => 'date(' + quote(d.toISOString()) + ')';

/** taskFilter is the expr filter of a tab for the user, at time now. */
export function taskFilter(tab, userId, now = new Date()) {
  const base = `assignee == ${quote(userId)} && done != true`;
  if (tab === 'overdue') return `${base} && due < ${instant(now)}`;
  if (tab === 'today') {
    const w = wallClock(now);
    const start = zonedToInstant(w.y, w.m, w.d, 0, 0);
    const tomorrow = new Date(Date.UTC(w.y, w.m - 1, w.d + 1));
    const end = zonedToInstant(tomorrow.getUTCFullYear(), tomorrow.getUTCMonth() + 1, tomorrow.getUTCDate(), 0, 0);
    return `${base} && due >= ${instant(start)} && due < ${instant(end)}`;
  }
  return base;
}

function Tasks({ query }) {
  const ent = entity('task');
  const tab = TABS.includes(query.get('tab')) ? query.get('tab') : 'mine';
  if (!ent) return html`<section class="page"><${Empty} title=${t('tasks.no_entity')} /></section>`;
  return html`<section class="page tasks-page">
    <header class="page-head">
      <h1>${t('tasks.title')}</h1>
      ${ent.can_write !== false && html`<div class="actions"><a class="button primary" href=${recordURL('task', 'new')} onClick=${link}>${t('tasks.new')}</a></div>`}
    </header>
    <div class="tabs" role="tablist" aria-label=${t('tasks.title')}>
      ${TABS.map((x) => html`<button type="button" role="tab" id=${'tab-' + x} aria-selected=${tab === x} aria-controls="task-panel"
        onClick=${() => setQuery({ tab: x === 'mine' ? null : x })}>${TAB_TEXT[x]()}</button>`)}
    </div>
    <div id="task-panel" role="tabpanel" aria-labelledby=${'tab-' + tab}>
      <${TaskList} key=${tab} ent=${ent} tab=${tab} />
    </div>
  </section>`;
}

function TaskList({ ent, tab }) {
  const uid = me.value?.user?.id || '';
  const [filter] = useState(() => taskFilter(tab, uid));
  const [items, setItems] = useState(null);
  const [error, setError] = useState(null);
  const [next, setNext] = useState('');

  useEffect(() => {
    let cancelled = false;
    api('GET', recordPath(ent.name), null, { query: { filter, sort: 'due', limit: 100 } })
      .then((r) => {
        if (cancelled) return;
        for (const rec of r.items || []) remember(ent.name, rec);
        setItems((cur) => merge(r.items || [], cur || []));
        setNext(r.next_cursor || '');
      })
      .catch((x) => !cancelled && (setError(x), setItems([])));
    const unsub = subscribe({ entity: ent.name, filter, sort: 'due' }, (m) => {
      if (m.type === 'snapshot') return setItems((cur) => merge(cur || [], m.items || []));
      if (m.type !== 'change' || !m.record) return;
      const rec = m.record;
      remember(ent.name, rec);
      setItems((cur) => {
        const list = cur || [];
        if (m.op === 'deleted' || m.op === 'left') return list.filter((x) => x.id !== rec.id);
        return merge(list, [rec]);
      });
    });
    return () => {
      cancelled = true;
      unsub();
    };
  }, [filter]);

  const loadMore = async () => {
    try {
      const r = await api('GET', recordPath(ent.name), null, { query: { filter, sort: 'due', limit: 100, cursor: next } });
      setItems((cur) => merge(cur || [], r.items || []));
      setNext(r.next_cursor || '');
    } catch (x) {
      toast(x.message, 'error');
    }
  };

  // patch writes one change of a task, shown at once; leaving the tab is
  // the socket's business, a refusal puts the task back as it was.
  const patch = async (rec, values, done) => {
    setItems((cur) => cur.map((x) => (x.id === rec.id ? { ...x, ...values } : x)));
    try {
      const saved = await api('PATCH', recordPath(ent.name, rec.id), values, { ifMatch: rec.version });
      setItems((cur) => (leaves(saved, uid) ? cur.filter((x) => x.id !== saved.id) : merge(cur, [saved])));
      toast(done(saved));
    } catch (x) {
      setItems((cur) => cur.map((y) => (y.id === rec.id ? rec : y)));
      toast(x.status === 409 ? t('tasks.conflict', { title: titleOf(ent.name, rec) }) : x.message, 'error');
    }
  };

  if (items === null) return html`<${Spinner} />`;
  const shown = [...items].sort(byDue);
  return html`<${ErrorBox} error=${error} />
    ${shown.length === 0 && !error && html`<${Empty} title=${EMPTY_TEXT[tab]()} hint=${t('tasks.empty_hint')} />`}
    <ul class="task-list">
      ${shown.map((rec) => html`<${TaskRow} key=${rec.id} ent=${ent} rec=${rec} patch=${patch} />`)}
    </ul>
    ${next && html`<div class="more"><button type="button" onClick=${loadMore}>${t('list.more')}</button></div>`}`;
}

// A task leaves "my open tasks" when it is done or given to someone else.
function leaves(rec, uid) {
  return rec.done === true || rec.assignee !== uid;
}

function byDue(a, b) {
  if (!a.due) return b.due ? 1 : 0;
  if (!b.due) return -1;
  return a.due < b.due ? -1 : a.due > b.due ? 1 : 0;
}

// merge adds or replaces records by id, a newer version winning.
function merge(list, recs) {
  const out = [...list];
  for (const rec of recs) {
    const i = out.findIndex((x) => x.id === rec.id);
    if (i < 0) out.push(rec);
    else if (!(out[i].version > rec.version)) out[i] = rec;
  }
  return out;
}

function TaskRow({ ent, rec, patch }) {
  const title = titleOf(ent.name, rec);
  const overdue = rec.due && !rec.done && new Date(rec.due) < new Date();
  const assignee = ent.fields.find((f) => f.name === 'assignee') || { name: 'assignee', type: 'user' };
  const refs = ent.fields.filter((f) => f.type === 'ref' && rec[f.name]);
  const canWrite = ent.can_write !== false;
  return html`<li class=${'task' + (rec.done ? ' done' : '')} data-id=${rec.id}>
    <label class="task-check"><span class="sr-only">${t('tasks.complete', { title })}</span>
      <input type="checkbox" class="task-done" checked=${!!rec.done} disabled=${!canWrite || rec.done}
        onChange=${() => patch(rec, { done: true }, () => t('tasks.completed', { title }))} /></label>
    <div class="task-main">
      <a class="task-title" href=${recordURL(ent.name, rec.id)} onClick=${link} dir="auto">${title}</a>
      <span class="small">
        ${rec.due ? html`<time datetime=${rec.due} title=${formatDateTime(rec.due)} class=${overdue ? 'overdue' : ''}>
          ${overdue ? t('tasks.overdue_since', { when: formatRelative(rec.due) }) : t('tasks.due', { when: formatDateTime(rec.due) })}</time>`
          : html`<span class="muted">${t('tasks.no_due')}</span>`}
        ${refs.map((f) => html` · <span class="muted">${label(f)}:</span> <${RefLink} to=${f.to} id=${rec[f.name]} />`)}
      </span>
    </div>
    ${canWrite && html`<div class="task-assign">
      <label class="sr-only" for=${'assign-' + rec.id}>${t('tasks.reassign', { title })}</label>
      ${typeOf(assignee).input({ field: assignee, value: rec.assignee, id: 'assign-' + rec.id,
        onChange: (v) => v && v !== rec.assignee && patch(rec, { assignee: v }, (s) => t('tasks.reassigned', { title, who: typeOf(assignee).text(s.assignee, assignee) })) })}
    </div>`}
  </li>`;
}

register('/tasks', Tasks);
addNav({ href: '/tasks', key: 'tasks.nav', order: 20 });
