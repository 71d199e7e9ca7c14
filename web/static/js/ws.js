// The websocket client: one socket per tab to /api/v1/ws, shared by every
// live query. Each subscription remembers the last position it saw; after a
// reconnect it subscribes again with "after" that position, so nothing is
// missed and nothing comes twice. On "resync" (the position is too old to
// replay) it subscribes afresh and the caller gets a new snapshot.

import { signal } from '@preact/signals';

/** connected is whether the socket is open (a signal, for a status dot). */
export const connected = signal(false);

const subs = new Map(); // sub id -> {msg, onEvent, position}
const listeners = new Set(); // notification listeners
const readListeners = new Set(); // notification_read listeners
let sock = null;
let seq = 0;
let retry = 0;
let timer = null;
let stopped = true;

function url() {
  return (window.location.protocol === 'https:' ? 'wss://' : 'ws://') + window.location.host + '/api/v1/ws';
}

function send(obj) {
  if (sock && sock.readyState === WebSocket.OPEN) sock.send(JSON.stringify(obj));
}

function subscribeMsg(id, s) {
  const m = { type: 'subscribe', sub: id, ...s.msg };
  if (s.position !== undefined && s.position !== null) m.after = s.position;
  return m;
}

function open() {
  if (stopped || sock) return;
  let ws;
  try {
    ws = new WebSocket(url());
  } catch {
    schedule();
    return;
  }
  sock = ws;
  ws.onopen = () => {
    retry = 0;
    connected.value = true;
    for (const [id, s] of subs) send(subscribeMsg(id, s));
  };
  ws.onmessage = (ev) => {
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      return;
    }
    dispatch(m);
  };
  ws.onclose = () => {
    sock = null;
    connected.value = false;
    schedule();
  };
  ws.onerror = () => {};
}

function schedule() {
  if (stopped || timer) return;
  // Exponential backoff with jitter, capped at 15 s.
  const delay = Math.min(15000, 500 * 2 ** retry) * (0.5 + Math.random() / 2);
  retry = Math.min(retry + 1, 6);
  timer = setTimeout(() => {
    timer = null;
    open();
  }, delay);
}

function dispatch(m) {
  if (m.type === 'notification') {
    for (const l of listeners) l(m.notification);
    return;
  }
  if (m.type === 'notification_read') {
    for (const l of readListeners) l(m);
    return;
  }
  const s = m.sub && subs.get(m.sub);
  if (!s) return;
  if (m.type === 'error' && m.error?.code === 'resync') {
    s.position = null;
    send(subscribeMsg(m.sub, s));
    return;
  }
  if (typeof m.position === 'number') s.position = m.position;
  s.onEvent(m);
}

/** start opens the socket (after sign-in); stop closes it (sign-out). */
export function start() {
  stopped = false;
  open();
}

export function stop() {
  stopped = true;
  clearTimeout(timer);
  timer = null;
  if (sock) sock.close();
  sock = null;
  subs.clear();
}

/**
 * subscribe keeps a live query: {entity, filter?, sort?, limit?}. onEvent
 * receives every snapshot, change and error message of it. Returns the
 * function that unsubscribes.
 */
export function subscribe(query, onEvent) {
  const id = 's' + ++seq;
  const msg = { entity: query.entity };
  if (query.filter) msg.filter = query.filter;
  if (query.sort) msg.sort = query.sort;
  if (query.limit) msg.limit = query.limit;
  const s = { msg, onEvent, position: null };
  subs.set(id, s);
  send(subscribeMsg(id, s));
  return () => {
    if (subs.delete(id)) send({ type: 'unsubscribe', sub: id });
  };
}

/** onNotification registers fn for in-app notifications; returns a remover. */
export function onNotification(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/**
 * onNotificationRead registers fn for notifications marked read (in this
 * tab or another: {ids, all?}); returns a remover.
 */
export function onNotificationRead(fn) {
  readListeners.add(fn);
  return () => readListeners.delete(fn);
}
