// The router: the History API, one signal holding the current location, and
// a table of routes that screens add themselves to (register), so a new
// screen is one module and one register() call.

import { signal, computed } from '@preact/signals';

/** location is {path, query} of the current page (a signal). */
export const location = signal(read());

function read() {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

window.addEventListener('popstate', () => {
  location.value = read();
});

/** navigate goes to url (a path with an optional query) without a reload. */
export function navigate(url, { replace = false } = {}) {
  if (url === window.location.pathname + window.location.search) return;
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  location.value = read();
  window.scrollTo(0, 0);
}

/** setQuery replaces the current query parameters (null deletes one). */
export function setQuery(params) {
  const q = new URLSearchParams(window.location.search);
  for (const [k, v] of Object.entries(params)) {
    if (v === null || v === undefined || v === '') q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  navigate(window.location.pathname + (s ? '?' + s : ''), { replace: true });
}

/**
 * link is an onClick handler for <a href>: a plain click navigates in the
 * app; a modified click (new tab) is left to the browser.
 */
export function link(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.currentTarget;
  if (a.target || a.origin !== window.location.origin) return;
  e.preventDefault();
  navigate(a.pathname + a.search);
}

const routes = [];

/**
 * register adds a route: pattern is a path with :params
 * ("/records/:entity/:id"); component receives {params, query}. A route
 * with fewer :params wins over one with more ("/records/deal/kanban" over
 * "/records/:entity/:id"), whatever the order of registration; among
 * equals, the first registered.
 */
export function register(pattern, component) {
  const names = [];
  const re = new RegExp(
    '^' +
      pattern.replace(/\/:(\w+)/g, (_, n) => {
        names.push(n);
        return '/([^/]+)';
      }) +
      '/?$',
  );
  routes.push({ re, names, component });
  routes.sort((a, b) => a.names.length - b.names.length);
}

/** current is the matched route of location: {component, params, query}. */
export const current = computed(() => {
  const { path, query } = location.value;
  for (const r of routes) {
    const m = r.re.exec(path);
    if (m) {
      const params = {};
      r.names.forEach((n, i) => (params[n] = decodeURIComponent(m[i + 1])));
      return { component: r.component, params, query };
    }
  }
  return null;
});
