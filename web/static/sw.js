// The service worker caches the app shell only: the page and the files
// under the current asset path. It never touches /api/, /hooks/ or the
// websocket: records are always fetched live. The server fills in
// {{base}} (the hashed asset path), {{version}} and {{assets}} (the shell's
// scripts, styles and catalogues) when it serves this file.
const BASE = '{{base}}';
const CACHE = 'crm-shell-{{version}}';
const ASSETS = {{assets}};

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(['/', '/manifest.webmanifest', ...ASSETS])).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('crm-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/hooks/') ||
      url.pathname === '/healthz' || url.pathname === '/metrics') return;
  if (url.pathname.startsWith(BASE)) {
    // Hashed assets never change: cache first.
    event.respondWith(caches.open(CACHE).then(async (c) => {
      const hit = await c.match(req);
      if (hit) return hit;
      const res = await fetch(req);
      if (res.ok) c.put(req, res.clone());
      return res;
    }));
    return;
  }
  if (req.mode === 'navigate') {
    // The page: network first (it names the current assets), the cached
    // shell when offline.
    event.respondWith(fetch(req).then((res) => {
      if (res.ok) {
        const copy = res.clone();
        caches.open(CACHE).then((c) => c.put('/', copy));
      }
      return res;
    }).catch(() => caches.match('/')));
  }
});
