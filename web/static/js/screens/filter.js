// The filter editor of a list: a builder of conditions (field, operator,
// value) that writes the expr filter, and the expr text itself, editable,
// with the API's positioned error under it (line, column and a caret).
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { t, label } from '../locale/i18n.js';
import { typeOf, quote } from '../fields/index.js';

/** toExpr writes builder rows as one expr condition joined by &&. */
export function toExpr(ent, rows) {
  const parts = [];
  for (const r of rows) {
    const f = ent.fields.find((x) => x.name === r.field);
    if (!f || r.value === null || r.value === undefined || r.value === '') continue;
    const ty = typeOf(f);
    const path = ty.path ? ty.path(f) : f.name;
    const v = typeof r.value === 'object' && r.value.amount !== undefined ? r.value.amount : r.value;
    const lit = ty.literal(v, f);
    if (r.op === 'contains' || r.op === 'startsWith') parts.push(`${path} ${r.op} ${quote(v)}`);
    else parts.push(`${path} ${r.op} ${lit}`);
  }
  return parts.join(' && ');
}

/** Caret shows the line of src an error points at, with a ^ under the column. */
function Caret({ src, error }) {
  if (!error?.line) return null;
  const line = src.split('\n')[error.line - 1] ?? '';
  return html`<pre class="caret" dir="ltr" aria-hidden="true">${line}\n${' '.repeat(Math.max(0, error.column - 1))}^</pre>`;
}

/**
 * FilterEditor edits a filter. value is the applied expr; onApply(expr)
 * applies a new one; error is the API's error for the applied one.
 */
export function FilterEditor({ ent, value, onApply, error }) {
  const [rows, setRows] = useState([]);
  const [text, setText] = useState(value || '');
  const fields = ent.fields.filter((f) => typeOf(f).ops.length > 0);
  const setRow = (i, patch) => {
    const next = rows.map((r, j) => (j === i ? { ...r, ...patch } : r));
    setRows(next);
    setText(toExpr(ent, next));
  };
  const add = () => {
    const f = fields[0];
    if (!f) return;
    setRows([...rows, { field: f.name, op: typeOf(f).ops[0], value: null }]);
  };
  const apply = (e) => {
    e.preventDefault();
    onApply(text.trim());
  };
  return html`<form class="filter card" onSubmit=${apply} aria-label=${t('list.filter')}>
    ${rows.map((r, i) => {
      const f = ent.fields.find((x) => x.name === r.field) || fields[0];
      const ty = typeOf(f);
      const id = 'flt-' + i;
      return html`<div class="filter-row">
        <select aria-label=${t('list.filter_field')} value=${r.field}
          onChange=${(e) => { const nf = ent.fields.find((x) => x.name === e.currentTarget.value); setRow(i, { field: nf.name, op: typeOf(nf).ops[0], value: null }); }}>
          ${fields.map((x) => html`<option value=${x.name}>${label(x)}</option>`)}
        </select>
        <select aria-label=${t('list.filter_op')} value=${r.op} onChange=${(e) => setRow(i, { op: e.currentTarget.value })}>
          ${ty.ops.map((op) => html`<option value=${op}>${t('op.' + op)}</option>`)}
        </select>
        ${ty.choices
          ? html`<select aria-label=${t('list.filter_value')} value=${r.value ?? ''} onChange=${(e) => setRow(i, { value: e.currentTarget.value })}>
              <option value=""></option>
              ${ty.choices(f).map((c) => html`<option value=${c.value}>${c.label}</option>`)}</select>`
          : ty.input({ field: f, value: r.value, id, onChange: (v) => setRow(i, { value: v }) })}
        <button type="button" class="icon" aria-label=${t('list.filter_remove')}
          onClick=${() => { const next = rows.filter((_, j) => j !== i); setRows(next); setText(toExpr(ent, next)); }}>×</button>
      </div>`;
    })}
    <div class="row">
      <button type="button" id="filter-add" onClick=${add}>${t('list.filter_add')}</button>
    </div>
    <label for="filter-expr">${t('list.filter_expr')}</label>
    <textarea id="filter-expr" class="code" dir="ltr" rows="2" spellcheck="false" value=${text}
      aria-invalid=${error ? 'true' : undefined} aria-describedby=${error ? 'filter-error' : undefined}
      placeholder="stage == 'won' && amount.amount > 1000" onInput=${(e) => setText(e.currentTarget.value)}></textarea>
    ${error && html`<div id="filter-error" class="error" role="alert">
      ${error.line ? t('list.filter_error_at', { line: error.line, column: error.column }) + ' ' : ''}${error.message}
      <${Caret} src=${value || ''} error=${error} /></div>`}
    <div class="row">
      <button type="submit" id="filter-apply" class="primary">${t('list.filter_apply')}</button>
      ${value && html`<button type="button" onClick=${() => { setRows([]); setText(''); onApply(''); }}>${t('list.filter_clear')}</button>`}
    </div>
  </form>`;
}
