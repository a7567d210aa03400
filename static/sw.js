// Colloque's service worker, served from the site's root (`/sw.js`, scope `/`) and registered
// by the app at start (src/services/push.rs). docs/notifications.md, "Web Push".
//
// A push carries {"title", "body", "url"}, content-free by construction (the server's
// notify::push): the notice shows that title and body and nothing else.
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
