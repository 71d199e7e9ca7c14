// Helpers about records that every screen shares: a record's title, the
// cache of titles of referenced records, and the URLs of record screens.

import { signal } from '@preact/signals';
import { api, recordPath } from './api.js';
import { entity } from './session.js';
import { quote } from './fields/registry.js';

const TITLE_FIELDS = ['name', 'title', 'subject', 'vin', 'number', 'email'];

/** titleOf is how a record is named on screen: its name, title... or id. */
export function titleOf(entityName, rec) {
  if (!rec) return '';
  for (const f of TITLE_FIELDS) {
    if (typeof rec[f] === 'string' && rec[f]) return rec[f];
  }
  const ent = entity(entityName);
  const first = ent?.fields?.find((f) => f.type === 'string' && rec[f.name]);
  return first ? rec[first.name] : rec.id;
}

/** listURL and recordURL are the app paths of the record screens. */
export function listURL(entityName) {
  return '/records/' + encodeURIComponent(entityName);
}

export function recordURL(entityName, id) {
  return listURL(entityName) + '/' + encodeURIComponent(id);
}

// "entity/id" -> title; a signal so references re-render when a title arrives.
const titles = signal({});
const pending = new Set();
// entity -> ids whose titles the next batch fetches.
const queued = new Map();
let flushing = 0;

/**
 * BATCH is how many ids one request asks for: `id in [...]` of 100 ULIDs
 * is about 3 KB, under the API's 4 KB filter limit.
 */
export const BATCH = 100;

/** idsFilter is the expr filter of the records with the given ids. */
export function idsFilter(ids) {
  return 'id in [' + ids.map(quote).join(', ') + ']';
}

/** remember stores a record's title (from a list, a search or a page). */
export function remember(entityName, rec) {
  if (!rec?.id) return;
  const k = entityName + '/' + rec.id;
  const v = titleOf(entityName, rec);
  if (titles.value[k] !== v) titles.value = { ...titles.value, [k]: v };
}

/**
 * titleFor is the title of a referenced record, fetched once (the id until
 * it arrives, or when the user may not read it). The ids asked for while a
 * screen renders are fetched together: one request per referenced entity
 * (GET /records/{entity}?filter=id in [...], which reads those records by
 * their keys), and kept for every later screen and page.
 */
export function titleFor(entityName, id) {
  const k = entityName + '/' + id;
  const v = titles.value[k];
  if (v !== undefined) return v;
  if (!pending.has(k) && entity(entityName)) {
    pending.add(k);
    if (!queued.has(entityName)) queued.set(entityName, new Set());
    queued.get(entityName).add(String(id));
    if (!flushing) flushing = setTimeout(flush, 0);
  }
  return id;
}

// flush fetches the queued titles, a request per entity (and per BATCH ids).
function flush() {
  flushing = 0;
  const work = [...queued];
  queued.clear();
  for (const [ent, set] of work) {
    const ids = [...set];
    for (let i = 0; i < ids.length; i += BATCH) fetchTitles(ent, ids.slice(i, i + BATCH));
  }
}

async function fetchTitles(ent, ids) {
  const got = {};
  try {
    const r = await api('GET', recordPath(ent), null, { query: { filter: idsFilter(ids), limit: ids.length } });
    for (const rec of r.items || []) got[ent + '/' + rec.id] = titleOf(ent, rec);
  } catch {
    /* shown by their ids */
  }
  // An id not answered (deleted, or not the user's to read) shows as itself.
  for (const id of ids) if (got[ent + '/' + id] === undefined) got[ent + '/' + id] = id;
  titles.value = { ...titles.value, ...got };
}
