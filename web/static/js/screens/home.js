// The first page: how many records each entity has, with a way in, and
// what to do first on an empty CRM.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { t, label } from '../locale/i18n.js';
import { api, recordPath } from '../api.js';
import { register, link } from '../router.js';
import { schema, me } from '../session.js';
import { listURL, recordURL } from '../records.js';
import { formatNumber } from '../locale/format.js';
import { valueLabel } from '../fields/enum.js';

function Home() {
  const ents = schema.value.entities || [];
  const [counts, setCounts] = useState({});
  useEffect(() => {
    for (const e of ents) {
      api('GET', recordPath(e.name), null, { query: { limit: 1, count: true } })
        .then((r) => setCounts((c) => ({ ...c, [e.name]: r.total ?? (r.items?.length ? '…' : 0) })))
        .catch(() => {});
    }
  }, [ents]);
  const total = Object.values(counts).reduce((a, n) => a + (typeof n === 'number' ? n : 1), 0);
  const first = ents.find((e) => e.name === 'contact') || ents[0];
  const pipelines = ents.flatMap((e) => (e.pipelines || []).map((p) => ({ entity: e, ...p })));
  return html`<section class="page">
    <h1>${t('home.title', { name: me.value?.user?.name || '' })}</h1>
    ${Object.keys(counts).length === ents.length && total === 0 &&
      html`<div class="card hint"><p>${t('home.empty')}</p>
        ${first && first.can_write !== false && html`<a class="button primary" href=${recordURL(first.name, 'new')} onClick=${link}>${t('home.start')}</a>`}</div>`}
    <ul class="tiles">
      ${ents.map((e) => html`<li><a class="tile" href=${listURL(e.name)} onClick=${link}>
        <span class="tile-count">${counts[e.name] === undefined ? '·' : typeof counts[e.name] === 'number' ? formatNumber(counts[e.name]) : counts[e.name]}</span>
        <span class="tile-label" dir="auto">${label(e)}</span></a></li>`)}
    </ul>
    ${pipelines.map((p) => html`<div class="card"><h2 dir="auto">${t('home.pipeline', { name: label(p) })}</h2>
      <ol class="stages">${p.stages.map((s) => html`<li dir="auto">${valueLabel(p.stage_labels, s)}</li>`)}</ol></div>`)}
  </section>`;
}

register('/', Home);
