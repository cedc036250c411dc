/* Hubbub's service worker: Web Push when no tab of the app is open.
 *
 * Served at /sw.js (scope: the whole app). The server pushes only to users with no live socket,
 * so with a tab open the page notifies by itself (src/stores/notifications.ts); both tag a
 * notification by conversation, so a newer one replaces the older instead of stacking.
 * The payload is the server's JSON {title, body, conversation_id, message_id, url}.
 * A classic script with no imports (every browser runs those as workers); the payload's
 * shaping is a pure function, tested in web/tests/notify.test.ts by running this file.
 */
'use strict'

/** The notification for one push payload (anything unexpected still shows something). */
function notificationFromPush(payload) {
  const p = payload && typeof payload === 'object' ? payload : {}
  const str = (v) => (typeof v === 'string' ? v : '')
  const cid = str(p.conversation_id)
  const url = str(p.url).startsWith('/') ? str(p.url) : cid ? '/c/' + encodeURIComponent(cid) : '/'
  return {
    title: str(p.title) || 'Hubbub',
    options: {
      body: str(p.body) || 'New message',
      tag: cid ? 'hubbub-' + cid : 'hubbub',
      icon: '/favicon.svg',
      data: { conversation_id: cid, message_id: str(p.message_id), url: url },
    },
  }
}

function parsePush(data) {
  if (!data) return {}
  try {
    return data.json()
  } catch (e) {
    return { body: data.text() }
  }
}

self.addEventListener('install', () => self.skipWaiting())
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()))

self.addEventListener('push', (event) => {
  const n = notificationFromPush(parsePush(event.data))
  event.waitUntil(self.registration.showNotification(n.title, n.options))
})

self.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const url = (event.notification.data && event.notification.data.url) || '/'
  event.waitUntil(
    self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((list) => {
      // An open tab of the app: bring it forward on the chat; else open one.
      const client = list.find((c) => new URL(c.url).origin === self.location.origin)
      // The page routes to the chat itself (no reload): see lib/push.ts, `onOpenRequest`.
      if (client) {
        client.postMessage({ type: 'hubbub.open', url: url })
        return client.focus()
      }
      return self.clients.openWindow(url)
    }),
  )
})
