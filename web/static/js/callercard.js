// The caller's card: while a call rings at the signed-in user's phone
// extension, a card over the page names the caller (a link to the contact),
// the number, the company, the owner, the open deals (title, stage, amount)
// and the last activities (date, kind, subject). The call tracking plugin
// keeps one phone_call record per call and writes the caller's card into
// its card field at the first event, as a JSON object of typed fields
// (docs/calltracking.md, "The caller's card"); this module keeps one live
// subscription to the user's ringing calls (extension == '<mine>' &&
// status == 'ringing'), so a card comes with the call's record and goes
// when the call leaves the view (answered, ended, missed). Every value is
// shown as it is, under a label of the user's language: no text of a
// record is read as structure.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from './locale/i18n.js';
import { formatDateTime, formatMoney } from './locale/format.js';
import { me, entity, field } from './session.js';
import { subscribe } from './ws.js';
import { recordURL } from './records.js';
import { link } from './router.js';
import { topbar } from './shell.js';
import { userName } from './fields/user.js';
import { valueLabel } from './fields/enum.js';

/** CALLS is the plugin's entity of calls. */
const CALLS = 'phone_call';

/** CARD_VERSION is the version of the card's shape this module reads. */
const CARD_VERSION = 1;

/** DATE_OPTS show an activity's day, in the user's calendar and zone. */
const DATE_OPTS = { year: 'numeric', month: 'short', day: 'numeric' };

/**
 * parseCard reads the card field of a call: the plugin's JSON object
 * {v, name, lead, number, record: {entity, id}, company?: {entity, id,
 * name}, owner?, deals: [{id, title, stage, amount?}], activities: [{id,
 * at, kind, subject}]}. A field that is no card of this version gives an
 * empty card (the call's own number still shows).
 */
export function parseCard(text) {
  const empty = { name: '', lead: false, number: '', record: null, company: null, owner: '', deals: [], activities: [] };
  let c;
  try {
    c = typeof text === 'string' ? JSON.parse(text) : text;
  } catch {
    return empty;
  }
  if (!c || typeof c !== 'object' || c.v !== CARD_VERSION) return empty;
  const str = (x) => (typeof x === 'string' ? x : '');
  const ref = (r) => (r && typeof r === 'object' && str(r.entity) && str(r.id) ? { entity: r.entity, id: r.id, name: str(r.name) } : null);
  const list = (x) => (Array.isArray(x) ? x.filter((i) => i && typeof i === 'object') : []);
  return {
    name: str(c.name),
    lead: c.lead === true,
    number: str(c.number),
    record: ref(c.record),
    company: ref(c.company),
    owner: str(c.owner),
    deals: list(c.deals).map((d) => ({ id: str(d.id), title: str(d.title), stage: str(d.stage),
      amount: d.amount && typeof d.amount === 'object' && str(d.amount.amount) ? d.amount : null })),
    activities: list(c.activities).map((a) => ({ id: str(a.id), at: str(a.at), kind: str(a.kind), subject: str(a.subject) })),
  };
}

/** enumLabel is the label of an enum value of a built-in entity's field. */
function enumLabel(ent, name, v) {
  return v ? valueLabel(field(entity(ent), name)?.value_labels, v) : '';
}

function Card({ call, onHide }) {
  const c = parseCard(call.card);
  const rec = c.record || (call.contact ? { entity: 'contact', id: call.contact } : call.company ? { entity: 'company', id: call.company } : null);
  const name = c.name || t('calls.unknown');
  const number = c.number || call.number || '';
  return html`<section class="caller-card" role="alert" aria-label=${t('calls.incoming')} data-call=${call.call_id} data-id=${call.id}>
    <header><h2>${t('calls.incoming')}</h2>
      <button type="button" class="icon" aria-label=${t('calls.hide')} title=${t('calls.hide')} onClick=${onHide}>×</button></header>
    <p class="caller-name" dir="auto">${rec ? html`<a href=${recordURL(rec.entity, rec.id)} onClick=${link}>${name}</a>` : name}
      ${c.lead && html` <span class="badge">${t('calls.new_lead')}</span>`}</p>
    <dl class="caller-facts">
      ${number && html`<div class="caller-number-row"><dt>${t('calls.number')}</dt><dd class="caller-number" dir="ltr">${number}</dd></div>`}
      ${c.company && html`<div><dt>${t('calls.company')}</dt><dd class="caller-company" dir="auto">
        <a href=${recordURL(c.company.entity, c.company.id)} onClick=${link}>${c.company.name || t('calls.unknown')}</a></dd></div>`}
      ${c.owner && html`<div><dt>${t('calls.owner')}</dt><dd class="caller-owner" dir="auto">${userName(c.owner)}</dd></div>`}
    </dl>
    ${c.deals.length > 0 && html`<h3>${t('calls.open_deals')}</h3>
      <table class="caller-deals">
        <thead><tr><th scope="col">${t('calls.deal')}</th><th scope="col">${t('calls.stage')}</th><th scope="col">${t('calls.amount')}</th></tr></thead>
        <tbody>${c.deals.map((d) => html`<tr data-id=${d.id}>
          <td class="deal-title" dir="auto">${d.id ? html`<a href=${recordURL('deal', d.id)} onClick=${link}>${d.title}</a>` : d.title}</td>
          <td class="deal-stage">${enumLabel('deal', 'stage', d.stage)}</td>
          <td class="deal-amount num">${d.amount ? formatMoney(d.amount) : ''}</td></tr>`)}</tbody>
      </table>`}
    ${c.activities.length > 0 && html`<h3>${t('calls.last_activities')}</h3>
      <table class="caller-activities">
        <thead><tr><th scope="col">${t('calls.date')}</th><th scope="col">${t('calls.subject')}</th></tr></thead>
        <tbody>${c.activities.map((a) => html`<tr data-id=${a.id}>
          <td class="activity-date">${a.at ? formatDateTime(a.at, DATE_OPTS) : ''}</td>
          <td><span class="activity-kind badge">${enumLabel('activity', 'kind', a.kind)}</span>
            <span class="activity-subject" dir="auto">${a.subject}</span></td></tr>`)}</tbody>
      </table>`}
  </section>`;
}

/**
 * CallerCards subscribes, when the user has an extension and may read
 * phone_call, to the calls ringing there and shows each one's card.
 */
export function CallerCards() {
  const ext = me.value?.user?.extension || '';
  const may = (me.value?.permissions?.read || []).includes(CALLS);
  const [calls, setCalls] = useState([]);
  const [hidden, setHidden] = useState([]);
  useEffect(() => {
    setCalls([]);
    // An extension is digits only (the server checks it), so it is safe in
    // the filter.
    if (!may || !/^[0-9]{1,10}$/.test(ext)) return undefined;
    return subscribe({ entity: CALLS, filter: `extension == '${ext}' && status == 'ringing'` }, (m) => {
      if (m.type === 'snapshot') {
        setCalls(m.items || []);
        return;
      }
      if (m.type !== 'change' || !m.record) return;
      const r = m.record;
      if (m.op === 'left' || m.op === 'deleted' || r.status !== 'ringing') {
        setCalls((cur) => cur.filter((x) => x.id !== r.id));
      } else {
        setCalls((cur) => [r, ...cur.filter((x) => x.id !== r.id)]);
      }
    });
  }, [ext, may]);
  const shown = calls.filter((c) => !hidden.includes(c.id));
  return html`<div class="caller-cards" data-extension=${ext || undefined}>
    ${shown.map((c) => html`<${Card} key=${c.id} call=${c} onHide=${() => setHidden((h) => [...h, c.id])} />`)}
  </div>`;
}

topbar.push(CallerCards);
