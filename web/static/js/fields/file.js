// file: {"id","name","size","content_type","sha256"}; uploaded with
// POST /api/v1/files (on write the value is the file's id) and downloaded
// from GET /api/v1/files/{id}.
import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { register } from './registry.js';
import { api } from '../api.js';
import { formatNumber } from '../locale/format.js';
import { t } from '../locale/i18n.js';

function FileLink({ value }) {
  if (!value) return '';
  const f = typeof value === 'string' ? { id: value, name: value } : value;
  return html`<a href=${'/api/v1/files/' + encodeURIComponent(f.id)} download=${f.name} dir="auto">${f.name || f.id}</a>
    ${f.size ? html` <small class="muted">(${formatNumber(Math.ceil(f.size / 1024))} KB)</small>` : ''}`;
}

function FileInput({ field, value, onChange, id, invalid }) {
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState('');
  const upload = async (e) => {
    const file = e.currentTarget.files?.[0];
    if (!file) return;
    const body = new FormData();
    body.append('file', file, file.name);
    setBusy(true);
    setErr('');
    try {
      onChange(await api('POST', '/files', body));
    } catch (x) {
      setErr(x.message);
    } finally {
      setBusy(false);
    }
  };
  return html`<div class="file-input">
    ${value && html`<${FileLink} value=${value} />`}
    <input id=${id} type="file" name=${field.name} aria-invalid=${invalid ? 'true' : undefined} onChange=${upload} disabled=${busy} />
    ${busy && html`<span class="muted" role="status">${t('file.uploading')}</span>`}
    ${err && html`<span class="error" role="alert">${err}</span>`}
  </div>`;
}

register('file', {
  display: ({ value }) => html`<${FileLink} value=${value} />`,
  text: (v) => (v?.name ? v.name : ''),
  input: (p) => html`<${FileInput} ...${p} />`,
  // A file is written as its id; the record answers the file object.
  toWrite: (v) => (v && typeof v === 'object' ? v.id : v),
  ops: [],
  blank: null,
});
