// The caller's card: while a call rings at the signed-in user's phone
// extension, a card over the page names the caller (a link to the contact),
// the number, the owner, the open deals and the last activities. The call
// tracking plugin keeps one phone_call record per call and writes the
// caller's card into its card field at the first event; this module keeps
// one live subscription to the user's ringing calls (extension == '<mine>'
// && status == 'ringing'), so a card comes with the call's record and goes
// when the call leaves the view (answered, ended, missed).
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { t } from './locale/i18n.js';
import { me } from './session.js';
import { subscribe } from './ws.js';
import { recordURL } from './records.js';
import { link } from './router.js';
import { topbar } from './shell.js';
import { userName } from './fields/user.js';

/** CALLS is the plugin's entity of calls. */
const CALLS = 'phone_call';

/**
 * parseCard reads the plugin's card text (see docs/calltracking.md): the
 * caller's name on the first line (" (new lead)" after a lead's), then
 * "Owner: <user id>", "Open deals:" and "Last activities:", each list a
 * "- " line per item.
 */
export function parseCard(text) {
  const lines = String(text || '').split('\n');
  const card = { name: lines[0] || '', lead: false, owner: '', deals: [], activities: [] };
  if (card.name.endsWith(' (new lead)')) {
    card.lead = true;
    card.name = card.name.slice(0, -' (new lead)'.length);
  }
  let list = null;
  for (const l of lines.slice(1)) {
    if (l.startsWith('Owner: ')) card.owner = l.slice('Owner: '.length);
    else if (l === 'Open deals:') list = card.deals;
    else if (l === 'Last activities:') list = card.activities;
    else if (list && l.startsWith('- ')) list.push(l.slice(2));
  }
  return card;
}

function Card({ call, onHide }) {
  const c = parseCard(call.card);
  const [ent, id] = call.contact ? ['contact', call.contact] : call.company ? ['company', call.company] : [];
  const name = c.name || t('calls.unknown');
  const list = (key, items, cls) => items.length > 0 && html`<h3>${t(key)}</h3>
    <ul class=${cls}>${items.map((x) => html`<li dir="auto">${x}</li>`)}</ul>`;
  return html`<section class="caller-card" role="alert" aria-label=${t('calls.incoming')} data-call=${call.call_id} data-id=${call.id}>
    <header><h2>${t('calls.incoming')}</h2>
      <button type="button" class="icon" aria-label=${t('calls.hide')} title=${t('calls.hide')} onClick=${onHide}>×</button></header>
    <p class="caller-name" dir="auto">${id ? html`<a href=${recordURL(ent, id)} onClick=${link}>${name}</a>` : name}
      ${c.lead && html` <span class="badge">${t('calls.new_lead')}</span>`}</p>
    ${call.number && html`<p class="caller-number" dir="ltr">${call.number}</p>`}
    ${c.owner && html`<p class="caller-owner">${t('calls.owner')}: <span dir="auto">${userName(c.owner)}</span></p>`}
    ${list('calls.open_deals', c.deals, 'caller-deals')}
    ${list('calls.last_activities', c.activities, 'caller-activities')}
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
