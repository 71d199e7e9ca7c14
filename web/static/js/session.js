// The signed-in session: the user, their permissions, the schema, and the
// language and calendar they chose. Everything here comes from the API;
// screens read these signals.

import { signal, computed } from '@preact/signals';
import { api, unauthenticated } from './api.js';
import { setLanguage, LANGUAGES } from './locale/i18n.js';
import { calendar, setTimezone } from './locale/format.js';
import * as ws from './ws.js';

/** me is {user, permissions} from GET /auth/me, or null when signed out. */
export const me = signal(null);

/** schema is GET /schema: {entities:[...], locale?}. */
export const schema = signal({ entities: [] });

/** entities maps an entity name to its schema entry. */
export const entities = computed(() => {
  const m = new Map();
  for (const e of schema.value.entities || []) m.set(e.name, e);
  return m;
});

/** entity returns the schema entry of name, or undefined. */
export function entity(name) {
  return entities.value.get(name);
}

/** field returns the field of an entity by name, including system fields. */
export function field(ent, name) {
  return ent?.fields?.find((f) => f.name === name) || SYSTEM_FIELDS.find((f) => f.name === name);
}

/** SYSTEM_FIELDS are the fields every record has, with their types. */
export const SYSTEM_FIELDS = [
  { name: 'id', type: 'string', system: true },
  { name: 'owner', type: 'user', system: true },
  { name: 'created_at', type: 'datetime', system: true },
  { name: 'updated_at', type: 'datetime', system: true },
  { name: 'created_by', type: 'user', system: true },
  { name: 'version', type: 'int', system: true },
];

/**
 * withPipelineLabels gives the pipeline and stage fields of an entity with
 * pipelines the labels of its pipelines and stages as value_labels, so that
 * lists, record pages and history show "Test drive" rather than test_drive.
 */
function withPipelineLabels(s) {
  for (const e of s.entities || []) {
    if (!e.pipelines?.length) continue;
    const names = {};
    const stages = {};
    for (const p of e.pipelines) {
      names[p.name] = { en: p.label, ...p.labels };
      Object.assign(stages, p.stage_labels);
    }
    for (const f of e.fields) {
      if (f.type !== 'string') continue;
      if (f.name === 'pipeline') f.value_labels = names;
      if (f.name === 'stage') f.value_labels = stages;
    }
  }
  return s;
}

/** ready is true once the first session check is done (signed in or not). */
export const ready = signal(false);

function browserLanguage(allowed) {
  for (const l of navigator.languages || [navigator.language]) {
    const code = (l || '').slice(0, 2);
    if (allowed.includes(code)) return code;
  }
  return '';
}

// The choices are also kept in this browser, for the sign-in screen and for
// a server that does not store them.
function stored(key) {
  try {
    return localStorage.getItem('crm.' + key) || '';
  } catch {
    return '';
  }
}

function store(key, value) {
  try {
    localStorage.setItem('crm.' + key, value);
  } catch {
    /* private mode: the choice lasts for the page */
  }
}

/**
 * applyPrefs sets the UI language, calendar and time zone from the user and
 * the locale: date-times are shown and typed in the user's time zone, else
 * the CRM's (locale.timezone), never silently in the browser's.
 */
export async function applyPrefs() {
  const loc = schema.value.locale || {};
  const u = me.value?.user || {};
  const codes = LANGUAGES.map((l) => l.code);
  const code = u.language || stored('language') || loc.default || browserLanguage(codes) || 'en';
  calendar.value = u.calendar || stored('calendar') || loc.calendar || 'gregorian';
  setTimezone(u.timezone || loc.timezone);
  try {
    await setLanguage(code);
  } catch (e) {
    console.warn('language', e);
  }
}

/**
 * load checks the session (GET /auth/me) and, when signed in, loads the
 * schema, applies the preferences and opens the websocket.
 */
export async function load() {
  try {
    me.value = await api('GET', '/auth/me', null, { quiet401: true });
    schema.value = withPipelineLabels(await api('GET', '/schema'));
    unauthenticated.value = false;
    ws.start();
  } catch (e) {
    me.value = null;
    if (e.status !== 401) console.warn('session', e);
  }
  await applyPrefs();
  ready.value = true;
}

/** signIn logs in with e-mail and password, then loads the session. */
export async function signIn(email, password) {
  await api('POST', '/auth/login', { email, password }, { quiet401: true });
  await load();
}

/** signOut ends the session on the server and in the page. */
export async function signOut() {
  try {
    await api('POST', '/auth/logout', {}, { quiet401: true });
  } finally {
    ws.stop();
    me.value = null;
  }
}

/** chooseLanguage switches the language before sign-in (kept in this browser). */
export async function chooseLanguage(code) {
  store('language', code);
  await setLanguage(code);
}

/**
 * savePrefs changes the user's language or calendar: at once in the page,
 * then on the server (PATCH /auth/me). A server without the route (404) is
 * tolerated: the choice then lasts for the page.
 */
export async function savePrefs(prefs) {
  if (me.value) me.value = { ...me.value, user: { ...me.value.user, ...prefs } };
  if (prefs.calendar) {
    calendar.value = prefs.calendar;
    store('calendar', prefs.calendar);
  }
  if (prefs.language) {
    store('language', prefs.language);
    await setLanguage(prefs.language);
  }
  try {
    const res = await api('PATCH', '/auth/me', prefs);
    if (res?.user && me.value) me.value = { ...me.value, user: { ...me.value.user, ...res.user } };
  } catch (e) {
    if (e.status !== 404 && e.status !== 405) throw e;
  }
}
