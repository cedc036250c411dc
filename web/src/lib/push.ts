import { api } from '../api/client'

/**
 * Web Push for when no tab is open: the service worker (`public/sw.js`, served at `/sw.js` so
 * its scope is the whole app) shows what the server pushes. With a tab open the server does
 * not push (the socket is live) and the page notifies by itself. Every step degrades quietly:
 * a browser without service workers or push, a server without the push endpoints, a push
 * service that refuses (headless browsers have none) leave desktop notifications of the open
 * tab working.
 */
export const SW_URL = '/sw.js'

/** What happened on the last attempt (shown nowhere; for tests and diagnostics). */
export const pushState = { registered: false, subscribed: false, error: null as string | null }

export function pushSupported(): boolean {
  return typeof navigator !== 'undefined' && 'serviceWorker' in navigator && typeof window !== 'undefined' && 'PushManager' in window
}

/** A base64url string (the VAPID key) as the bytes `applicationServerKey` takes. */
export function base64UrlToBytes(s: string): Uint8Array<ArrayBuffer> {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4)
  const bin = atob(b64)
  const out = new Uint8Array(new ArrayBuffer(bin.length))
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

function bytesToBase64Url(b: ArrayBuffer | null): string {
  if (!b) return ''
  let s = ''
  for (const x of new Uint8Array(b)) s += String.fromCharCode(x)
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** The body the server takes, from a browser subscription. */
export function subscriptionBody(sub: PushSubscription) {
  const j = sub.toJSON?.() as { endpoint?: string; keys?: { p256dh?: string; auth?: string } } | undefined
  return {
    endpoint: sub.endpoint,
    keys: {
      p256dh: j?.keys?.p256dh ?? bytesToBase64Url(sub.getKey('p256dh')),
      auth: j?.keys?.auth ?? bytesToBase64Url(sub.getKey('auth')),
    },
  }
}

/** Whether the stored subscription was made with this key (a new server key needs a new one). */
function sameKey(sub: PushSubscription, key: Uint8Array): boolean {
  const k = sub.options?.applicationServerKey
  if (!k) return true
  const a = new Uint8Array(k)
  return a.length === key.length && a.every((x, i) => x === key[i])
}

/**
 * Registers the worker and subscribes this browser, then tells the server. Called after
 * sign-in when the permission is granted, and when it just was.
 */
export async function enablePush(): Promise<boolean> {
  if (!pushSupported()) return false
  try {
    const reg = await navigator.serviceWorker.register(SW_URL, { scope: '/' })
    pushState.registered = true
    await navigator.serviceWorker.ready
    const { public_key } = await api.pushKey()
    const key = base64UrlToBytes(public_key)
    let sub = await reg.pushManager.getSubscription()
    if (sub && !sameKey(sub, key)) {
      await sub.unsubscribe().catch(() => false)
      sub = null
    }
    sub ??= await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key })
    await api.pushSubscribe(subscriptionBody(sub))
    pushState.subscribed = true
    pushState.error = null
    return true
  } catch (e) {
    pushState.error = (e as Error).message ?? String(e)
    return false
  }
}

/**
 * Signing out (or turning notifications off): the server forgets this browser's endpoint and
 * the browser drops the subscription, so the next person on this device gets nothing of mine.
 */
export async function disablePush(): Promise<void> {
  pushState.subscribed = false
  if (!pushSupported()) return
  try {
    const reg = await navigator.serviceWorker.getRegistration(SW_URL)
    const sub = await reg?.pushManager.getSubscription()
    if (!sub) return
    await api.pushUnsubscribe(sub.endpoint).catch(() => {})
    await sub.unsubscribe().catch(() => false)
  } catch {
    /* nothing registered */
  }
}

/** A click on a pushed notification while a tab is open: the worker asks that tab to open the chat. */
export function onOpenRequest(open: (url: string) => void) {
  if (typeof navigator === 'undefined' || !('serviceWorker' in navigator)) return
  navigator.serviceWorker.addEventListener('message', (e: MessageEvent) => {
    const d = e.data as { type?: string; url?: string } | null
    if (d?.type === 'hubbub.open' && typeof d.url === 'string' && d.url.startsWith('/')) open(d.url)
  })
}
