// The notifications panel: a bell in the top bar with the number of unread
// notifications, a list of the latest ones (GET /notifications), marking one
// or all read, and new ones arriving live over the websocket
// ({"type":"notification"}), as does their read state when another tab or
// device marks them ({"type":"notification_read"}).
import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from './locale/i18n.js';
import { api } from './api.js';
import { navigate } from './router.js';
import { entity } from './session.js';
import { recordURL } from './records.js';
import { onNotification, onNotificationRead } from './ws.js';
import { topbar } from './shell.js';
import { toast } from './components.js';
import { formatDateTime, formatRelative, formatNumber } from './locale/format.js';

const PAGE = 20;

/** Bell is the top bar's notifications button and its panel. */
export function Bell() {
  const [items, setItems] = useState([]);
  const [unread, setUnread] = useState(0);
  const [next, setNext] = useState('');
  const [open, setOpen] = useState(false);
  const [available, setAvailable] = useState(true);
  const root = useRef(null);
  const seen = useRef(items);
  seen.current = items;

  const load = async (cursor = '') => {
    try {
      const r = await api('GET', '/notifications', null, { query: { limit: PAGE, cursor } });
      setItems((cur) => (cursor ? [...cur, ...(r.items || []).filter((n) => !cur.some((x) => x.id === n.id))] : r.items || []));
      setUnread(r.unread || 0);
      setNext(r.next_cursor || '');
    } catch (x) {
      if (x.status === 404) setAvailable(false);
    }
  };
  useEffect(() => {
    load();
    const offNew = onNotification((n) => {
      if (!n?.id || seen.current.some((x) => x.id === n.id)) return;
      setItems((cur) => (cur.some((x) => x.id === n.id) ? cur : [n, ...cur]));
      if (!n.read) setUnread((u) => u + 1); // the shell shows it as a toast
    });
    // Read here or elsewhere: this tab may have counted them already, so
    // the count is asked again rather than decremented.
    const offRead = onNotificationRead((m) => {
      const ids = new Set(m.ids || []);
      setItems((cur) => cur.map((x) => (m.all || ids.has(x.id) ? { ...x, read: true } : x)));
      api('GET', '/notifications', null, { query: { limit: 1 } })
        .then((r) => setUnread(r.unread || 0))
        .catch(() => {});
    });
    return () => {
      offNew();
      offRead();
    };
  }, []);
  // Escape or a click elsewhere closes the panel.
  useEffect(() => {
    if (!open) return undefined;
    const away = (e) => root.current && !root.current.contains(e.target) && setOpen(false);
    const esc = (e) => e.key === 'Escape' && (setOpen(false), root.current?.querySelector('.bell')?.focus());
    document.addEventListener('pointerdown', away);
    document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('pointerdown', away);
      document.removeEventListener('keydown', esc);
    };
  }, [open]);

  const markRead = async (n) => {
    if (n.read) return;
    setItems((cur) => cur.map((x) => (x.id === n.id ? { ...x, read: true } : x)));
    setUnread((u) => Math.max(0, u - 1));
    try {
      await api('POST', '/notifications/' + encodeURIComponent(n.id) + '/read', {});
    } catch (x) {
      toast(x.message, 'error');
      load();
    }
  };
  const markAll = async () => {
    setItems((cur) => cur.map((x) => ({ ...x, read: true })));
    setUnread(0);
    try {
      await api('POST', '/notifications/read', {});
    } catch (x) {
      toast(x.message, 'error');
      load();
    }
  };
  const openItem = (n) => {
    markRead(n);
    if (n.entity && n.record && entity(n.entity)) {
      setOpen(false);
      navigate(recordURL(n.entity, n.record));
    }
  };

  if (!available) return null;
  return html`<div class="bell-wrap" ref=${root}>
    <button type="button" class="icon bell" aria-expanded=${open} aria-controls="notif-panel"
      aria-label=${t('notifications.bell', { count: unread })} onClick=${() => setOpen(!open)}>
      <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true" focusable="false"><path fill="currentColor" d="M12 22a2.2 2.2 0 0 0 2.2-2.2H9.8A2.2 2.2 0 0 0 12 22zm6.5-6.2V11a6.5 6.5 0 0 0-5-6.3V4a1.5 1.5 0 0 0-3 0v.7a6.5 6.5 0 0 0-5 6.3v4.8L3.6 17.7V19h16.8v-1.3z"/></svg>${unread > 0 && html`<span class="bell-count" aria-hidden="true">${formatNumber(unread)}</span>`}
    </button>
    ${open && html`<div id="notif-panel" class="notif-panel" role="region" aria-label=${t('notifications.title')}>
      <header><h2>${t('notifications.title')}</h2>
        <button type="button" id="notif-read-all" disabled=${unread === 0} onClick=${markAll}>${t('notifications.read_all')}</button></header>
      ${items.length === 0 ? html`<p class="empty muted">${t('notifications.empty')}</p>`
        : html`<ul class="notif-list">${items.map((n) => html`<li key=${n.id} class=${n.read ? '' : 'unread'} data-id=${n.id}>
            <div>
              <p class="notif-title" dir="auto">${n.entity && n.record && entity(n.entity)
                ? html`<a href=${recordURL(n.entity, n.record)} onClick=${(e) => { e.preventDefault(); openItem(n); }}>${n.title}</a>` : n.title}</p>
              ${n.message && html`<p dir="auto">${n.message}</p>`}
              <time datetime=${n.at} title=${formatDateTime(n.at)}>${formatRelative(n.at)}</time>
            </div>
            ${!n.read && html`<button type="button" class="icon notif-read" aria-label=${t('notifications.mark_read', { title: n.title })}
              title=${t('notifications.mark_read', { title: n.title })} onClick=${() => markRead(n)}>✓</button>`}
          </li>`)}</ul>`}
      ${next && html`<div class="more"><button type="button" onClick=${() => load(next)}>${t('list.more')}</button></div>`}
    </div>`}
  </div>`;
}

topbar.push(Bell);
