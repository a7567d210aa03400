// Colloque's service worker, served from the site's root (`/sw.js`, scope `/`) and registered
// by the app at start (src/services/push.rs). docs/notifications.md, "Web Push".
//
// A push carries {"title", "body", "url"}, content-free by construction (the server's
// notify::push): the notice shows that title and body and nothing else. The worker also keeps
// the app shell for a start without network (below); never an answer of the API.
'use strict';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

// A path of this site: a push's `url` may only lead into the app.
function inApp(url) {
  try {
    const parsed = new URL(url, self.location.origin);
    if (parsed.origin === self.location.origin) return parsed.href;
  } catch (e) {
    // Not a URL: the app's root instead.
  }
  return new URL('/', self.location.origin).href;
}

self.addEventListener('push', (event) => {
  let notice = {};
  try {
    notice = (event.data && event.data.json()) || {};
  } catch (e) {
    notice = {};
  }
  const title = typeof notice.title === 'string' && notice.title ? notice.title : 'Colloque';
  const body = typeof notice.body === 'string' ? notice.body : '';
  event.waitUntil(
    self.registration.showNotification(title, {
      body,
      tag: 'colloque-message',
      data: { url: inApp(notice.url) },
    }),
  );
});

// A click focuses an open Colloque tab, or opens the app.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = inApp(event.notification.data && event.notification.data.url);
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((tabs) => {
      for (const tab of tabs) {
        if (new URL(tab.url).origin === self.location.origin && 'focus' in tab) {
          return tab.focus();
        }
      }
      return self.clients.openWindow(url);
    }),
  );
});

// The offline app shell. The pages (index.html, and medecin.html for SECOND_BUILD below),
// config.json and en.json (the first load's English words): network first, falling back to
// the copy kept at the last load. The content-hashed files (`colloque-<hex>_bg.wasm`,
// `app-<hex>.css`…): cache first, since a name never changes its bytes. Never the API or the
// socket, nor any other origin: what they answer is health data, and no answer marked
// `no-store` is ever kept.
const SHELL = 'colloque-shell-v1';
const PAGES = ['/index.html', '/medecin.html'];
// The pages of the second build, medecin.html: colloque_protocol::SECOND_BUILD_PATHS.
const SECOND_BUILD = ['/medecin', '/patient/securite', '/patient/documents', '/login/code'];
// trunk's `name-<hex>.ext`, `name-<hex>_bg.wasm`, and its initializer's `<hex>-first-paint.mjs`.
const HASHED = /(-[0-9a-f]{8,16}(_[a-z]+)?\.[a-z0-9]+|\/[0-9a-f]{16}-[^/]+)$/;

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys().then((names) =>
      Promise.all(names.filter((name) => name !== SHELL).map((name) => caches.delete(name))),
    ),
  );
});

function storable(response) {
  return (
    response.ok &&
    response.type === 'basic' &&
    !response.redirected &&
    !/no-store/i.test(response.headers.get('Cache-Control') || '')
  );
}

// Keeps a page, then drops the hashed files that no kept page names any more (an older build's).
async function keepPage(key, response) {
  const cache = await caches.open(SHELL);
  await cache.put(key, response);
  const texts = await Promise.all(
    PAGES.map((page) => cache.match(page).then((kept) => (kept ? kept.text() : ''))),
  );
  const named = texts.join('\n');
  for (const request of await cache.keys()) {
    const path = new URL(request.url).pathname;
    if (HASHED.test(path) && !named.includes(path.slice(1))) {
      await cache.delete(request);
    }
  }
}

async function networkFirst(event, key, isPage) {
  try {
    const response = await fetch(event.request);
    const type = response.headers.get('Content-Type') || '';
    if (storable(response) && (!isPage || type.startsWith('text/html'))) {
      const copy = response.clone();
      event.waitUntil(
        isPage ? keepPage(key, copy) : caches.open(SHELL).then((c) => c.put(key, copy)),
      );
    }
    return response;
  } catch (error) {
    const kept = await caches.match(key, { cacheName: SHELL });
    if (kept) return kept;
    // A page of the second build never loaded on this device: the first-load build starts
    // instead (it says the page is not here rather than the browser's error, and keeps the
    // outbox in view).
    if (isPage && key !== '/index.html') {
      const first = await caches.match('/index.html', { cacheName: SHELL });
      if (first) return first;
    }
    throw error;
  }
}

async function cacheFirst(event) {
  const cache = await caches.open(SHELL);
  const kept = await cache.match(event.request, { ignoreVary: true });
  if (kept) return kept;
  const response = await fetch(event.request);
  if (storable(response)) {
    event.waitUntil(cache.put(event.request, response.clone()));
  }
  return response;
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (path.startsWith('/api/') || path === '/api' || path === '/ws' || path.startsWith('/ws/')) {
    return;
  }
  if (request.mode === 'navigate') {
    const second = SECOND_BUILD.some((page) => path === page || path.startsWith(page + '/'));
    event.respondWith(networkFirst(event, second ? '/medecin.html' : '/index.html', true));
  } else if (path === '/config.json' || path === '/en.json') {
    event.respondWith(networkFirst(event, path, false));
  } else if (HASHED.test(path)) {
    event.respondWith(cacheFirst(event));
  }
});
