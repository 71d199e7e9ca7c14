// The answer of a plugin action, as a person reads it. A table answer
// ({"table": {"title", "columns": [{name, label, labels, type, to}],
// "rows": [{...}], "totals": [{...}], "figures": [{name, label, labels,
// type, value}]}}, the SDK's sdk.Table) is a table: its columns labelled
// in the user's language, each cell shown as a field of the column's type
// shows (money in the locale's format, a list of sums one under another,
// a user by name, a record as a link), numbers aligned at the end, the
// totals under a rule; the report-wide figures (an SLA, counts) above it,
// each under its label; it scrolls sideways inside its box on a narrow
// screen. A record
// answer, or records among the answer's values, are links to them. The
// JSON stays available, folded away.
import { html } from 'htm/preact';
import { label, t } from '../locale/i18n.js';
import { link } from '../router.js';
import { typeOf } from '../fields/index.js';
import { recordURL, remember, titleOf } from '../records.js';

const NUMERIC = new Set(['int', 'decimal', 'money']);

/** isRecord reports whether v is a record as the API answers one. */
function isRecord(v) {
  return v && typeof v === 'object' && !Array.isArray(v) && typeof v.entity === 'string' && typeof v.id === 'string';
}

/** records are the records an answer is or holds (one level down, lists too). */
function records(result) {
  if (isRecord(result)) return [result];
  if (!result || typeof result !== 'object' || Array.isArray(result)) return [];
  const out = [];
  for (const v of Object.values(result)) {
    if (isRecord(v)) out.push(v);
    else if (Array.isArray(v)) out.push(...v.filter(isRecord));
  }
  return out;
}

/** Cell shows a table's cell, or a figure's value, as a field of its type; a list (sums in several currencies) one value a line. */
function Cell({ col, value }) {
  if (value === null || value === undefined || value === '') return '';
  const field = { ...col, label: label(col) };
  if (Array.isArray(value)) {
    return value.map((v, i) => html`${i > 0 && html`<br />`}${typeOf(col).display({ field, value: v, record: null })}`);
  }
  return typeOf(col).display({ field, value, record: null });
}

/** Figures show a table's report-wide figures, each value under its label. */
function Figures({ figures }) {
  return html`<dl class="result-figures">${figures.map((f) => html`<div key=${f.name} data-figure=${f.name}>
    <dt dir="auto">${label(f)}</dt>
    <dd class=${NUMERIC.has(f.type) ? 'num' : undefined}><${Cell} col=${f} value=${f.value} /></dd></div>`)}</dl>`;
}

/** ResultTable shows a table answer. */
export function ResultTable({ table }) {
  const cols = table.columns || [];
  const title = label({ label: table.title, labels: table.title_labels });
  // A totals row that leaves its first column empty says "Total" there.
  const cell = (c, r, j, total) => (total && j === 0 && (r[c.name] === undefined || r[c.name] === null || r[c.name] === '')
    ? t('actions.total') : html`<${Cell} col=${c} value=${r[c.name]} />`);
  const row = (r, i, total) => html`<tr key=${i} class=${total ? 'total' : undefined}>
    ${cols.map((c, j) => html`<td class=${NUMERIC.has(c.type) ? 'num' : undefined} data-col=${c.name} dir=${NUMERIC.has(c.type) ? undefined : 'auto'}>${cell(c, r, j, total)}</td>`)}
  </tr>`;
  const figures = Array.isArray(table.figures) ? table.figures : [];
  return html`${figures.length > 0 && html`<${Figures} figures=${figures} />`}<div class="result-table" role="region" aria-label=${title || t('actions.result')} tabindex="0">
    <table class="report">
      ${title && html`<caption dir="auto">${title}</caption>`}
      <thead><tr>${cols.map((c) => html`<th scope="col" class=${NUMERIC.has(c.type) ? 'num' : undefined} data-col=${c.name}>${label(c)}</th>`)}</tr></thead>
      <tbody>
        ${(table.rows || []).length === 0 && html`<tr><td colspan=${cols.length || 1} class="muted">${t('actions.no_rows')}</td></tr>`}
        ${(table.rows || []).map((r, i) => row(r, i, false))}
      </tbody>
      ${(table.totals || []).length > 0 && html`<tfoot>${table.totals.map((r, i) => row(r, i, true))}</tfoot>`}
    </table></div>`;
}

/** ActionResult shows an action's answer. */
export function ActionResult({ result }) {
  const recs = records(result);
  for (const r of recs) remember(r.entity, r);
  const table = result && typeof result === 'object' && result.table && Array.isArray(result.table.columns) ? result.table : null;
  return html`<div class="result" role="status"><h3>${t('actions.result')}</h3>
    ${table && html`<${ResultTable} table=${table} />`}
    ${recs.length > 0 && html`<ul class="result-records">${recs.map((r) => html`<li key=${r.id}>
      <a href=${recordURL(r.entity, r.id)} onClick=${link} dir="auto">${t('actions.open', { title: titleOf(r.entity, r) })}</a></li>`)}</ul>`}
    ${table || recs.length > 0
      ? html`<details class="raw"><summary>${t('actions.raw')}</summary><pre dir="ltr">${JSON.stringify(result, null, 2)}</pre></details>`
      : html`<pre dir="ltr">${JSON.stringify(result, null, 2)}</pre>`}
  </div>`;
}
