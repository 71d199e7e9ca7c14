// Helpers about records that every screen shares: a record's title, the
// cache of titles of referenced records, and the URLs of record screens.

import { signal } from '@preact/signals';
import { api, recordPath } from './api.js';
import { entity } from './session.js';

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

/** remember stores a record's title (from a list, a search or a page). */
export function remember(entityName, rec) {
  if (!rec?.id) return;
  const k = entityName + '/' + rec.id;
  const v = titleOf(entityName, rec);
  if (titles.value[k] !== v) titles.value = { ...titles.value, [k]: v };
}

/**
 * titleFor is the title of a referenced record, fetched once (the id until
 * it arrives, or when the user may not read it).
 */
export function titleFor(entityName, id) {
  const k = entityName + '/' + id;
  const v = titles.value[k];
  if (v !== undefined) return v;
  if (!pending.has(k) && entity(entityName)) {
    pending.add(k);
    api('GET', recordPath(entityName, id))
      .then((rec) => remember(entityName, rec))
      .catch(() => (titles.value = { ...titles.value, [k]: id }));
  }
  return id;
}
