// The API client: JSON over fetch with the session cookie. The browser
// sends Origin with every write, which the server checks (no CSRF token
// needed). Every failure becomes an ApiError carrying the API's
// {"error": {code, message, field?, line?, column?}} so screens can put a
// message next to its field.

import { signal } from '@preact/signals';

/** ApiError is a failed API call: status plus the API's error object. */
export class ApiError extends Error {
  constructor(status, err) {
    super(err?.message || `HTTP ${status}`);
    this.status = status;
    this.code = err?.code || 'http_' + status;
    this.field = err?.field || '';
    this.line = err?.line || 0;
    this.column = err?.column || 0;
    this.detail = err || {};
  }
}

/** unauthenticated is set when a call answers 401: the shell shows sign-in. */
export const unauthenticated = signal(false);

/**
 * api calls the API: api('GET', '/records/contact', null, {query}). path is
 * under /api/v1. Resolves to the parsed JSON (null for 204) and the
 * response headers as {data, headers}; rejects with an ApiError.
 */
export async function call(method, path, body, opts = {}) {
  let url = '/api/v1' + path;
  if (opts.query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += (url.includes('?') ? '&' : '?') + s;
  }
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', signal: opts.signal };
  if (body instanceof FormData) {
    init.body = body;
  } else if (body !== undefined && body !== null) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (opts.ifMatch !== undefined) headers['If-Match'] = String(opts.ifMatch);
  let res;
  try {
    res = await fetch(url, init);
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, { code: 'network', message: e.message });
  }
  let data = null;
  if (res.status !== 204) {
    const text = await res.text();
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.quiet401) unauthenticated.value = true;
    throw new ApiError(res.status, data?.error);
  }
  return { data, headers: res.headers };
}

/** api is call() resolving to the JSON body only. */
export async function api(method, path, body, opts) {
  return (await call(method, path, body, opts)).data;
}

/** recordPath is the API path of an entity's records, or of one record. */
export function recordPath(entity, id) {
  return '/records/' + encodeURIComponent(entity) + (id ? '/' + encodeURIComponent(id) : '');
}
