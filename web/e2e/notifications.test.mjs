// End-to-end (issue 12): notifications in real Chromium against a real `hubbub serve`.
// The page title counts what is unread; with the notification permission granted by the test
// and the page hidden, a message from someone else shows a desktop notification with the
// sender, the chat and the text (none in a muted chat, per-chat levels respected); the
// permission is asked only after a first message, from a banner's button; the service worker
// registers at /sw.js and shows a push delivered through DevTools' protocol; the push
// subscription reaches the server (see the last test for what
// headless Chromium cannot do there).
//
// Headless Chromium reports every page as visible whatever is in front (Playwright keeps all
// pages "active"; new tabs, minimising through CDP and lifecycle states change nothing), so the
// test overrides `document.visibilityState` with an init script and fires `visibilitychange`
// itself. Notifications are observed by a subclass of the real `Notification` that records each
// one and then constructs the real one: the app's own code path runs unchanged.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import crypto from 'node:crypto'
import { launch, person, startServer } from './harness.mjs'
import { T, conv, expectSoon, messageText, send, shot, signup, title } from './steps.mjs'

let server, browser, alice, bob, carol

/** Runs in the page before the app: a switchable visibility and a recording Notification. */
function observe() {
  let hidden = false
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') })
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden })
  window.__setHidden = (v) => {
    hidden = v
    document.dispatchEvent(new Event('visibilitychange'))
  }
  window.__notes = []
  if ('Notification' in window) {
    const Real = window.Notification
    class Recorded extends Real {
      constructor(title, options = {}) {
        super(title, options)
        window.__notes.push({ title, body: options.body, tag: options.tag, url: options.data?.url })
      }
    }
    window.Notification = Recorded
  }
}

const notes = (p) => p.page.evaluate(() => window.__notes)
const hide = (p, v) => p.page.evaluate((x) => window.__setHidden(x), v)
const pageTitle = (p) => p.page.title()

/** Opens the chat's menu (once the previous one has closed: it stays until its PATCH answers). */
async function chatMenu(p, item) {
  const button = p.page.getByTestId('chat-menu-button')
  await expectSoon(async () => (await button.getAttribute('aria-expanded')) === 'false', 'the menu closed')
  await button.click()
  await p.page.getByTestId(item).click()
}

describe('Notifications', { concurrency: false }, () => {
  before(async () => {
    server = await startServer()
    browser = await launch()
    alice = await person(browser, server.base, 'alice')
    bob = await person(browser, server.base, 'bob')
    carol = await person(browser, server.base, 'carol', undefined, { notifyBanner: true })
    await alice.context.grantPermissions(['notifications'], { origin: server.base })
    for (const p of [alice, carol]) await p.context.addInitScript(observe)
    await signup(alice, 'alice', 'Alice Liddell')
    await signup(bob, 'bob', 'Bob Builder')
    await signup(carol, 'carol', 'Carol Danvers')
    await bob.page.getByTestId('new-group').click()
    await bob.page.getByTestId('group-name').fill('Crew')
    await bob.page.getByTestId('user-search').fill('ali')
    await bob.page.getByTestId('user-alice').click()
    await bob.page.getByTestId('user-search').fill('car')
    await bob.page.getByTestId('user-carol').click()
    await bob.page.getByTestId('create-group').click()
    await title(bob, 'Crew')
  })
  after(async () => {
    for (const p of [alice, bob, carol]) {
      if (p?.problems.length) console.log(`${p.name} page problems:\n  ${p.problems.join('\n  ')}`)
    }
    await browser?.close()
    if (process.env.HUBBUB_E2E_LOGS) console.log(server?.logs())
    await server?.stop()
  })

  test('the page title shows the unread total, live', async () => {
    await conv(alice, 'Crew').waitFor({ timeout: T })
    assert.equal(await pageTitle(alice), 'Hubbub')
    await send(bob, 'first')
    await send(bob, 'second')
    await expectSoon(async () => (await pageTitle(alice)) === '(2) Hubbub', 'two unread in the title')
    await conv(alice, 'Crew').click()
    await title(alice, 'Crew')
    await expectSoon(async () => (await pageTitle(alice)) === 'Hubbub', 'read: no count')
  })

  test('a hidden page shows a desktop notification for a message from someone else', async () => {
    assert.equal(await alice.page.evaluate(() => Notification.permission), 'granted')
    await hide(alice, true)
    await send(bob, 'lunch at noon?')
    const n = await expectSoon(async () => (await notes(alice)).find((x) => x.body === 'lunch at noon?'), 'the notification')
    assert.equal(n.title, 'Bob Builder in Crew')
    assert.match(n.tag, /^hubbub-/)
    assert.match(n.url, /^\/c\//)
    // The unread count of the open but hidden chat shows in the title too.
    await expectSoon(async () => (await pageTitle(alice)) === '(1) Hubbub', 'unread while hidden')
    // Visible again: nothing new is notified.
    await hide(alice, false)
    const before = (await notes(alice)).length
    await send(bob, 'seen live')
    await messageText(alice, 'seen live').waitFor({ timeout: T })
    await alice.page.waitForTimeout(300)
    assert.equal((await notes(alice)).length, before, 'no notification while visible')
  })

  test('a muted chat notifies nothing, and the level "Mentions only" lets a mention through', async () => {
    await chatMenu(alice, 'menu-mute')
    await alice.page.getByTestId('mute-8 hours').click()
    await conv(alice, 'Crew').getByTestId('muted').waitFor({ timeout: T })
    await hide(alice, true)
    const before = (await notes(alice)).length
    await send(bob, 'while muted')
    await messageText(alice, 'while muted').waitFor({ timeout: T })
    await alice.page.waitForTimeout(300)
    assert.equal((await notes(alice)).length, before, 'muted: no notification')
    await hide(alice, false)
    await chatMenu(alice, 'menu-unmute')

    await chatMenu(alice, 'menu-notify')
    assert.equal(await alice.page.getByTestId('notify-all').getAttribute('aria-checked'), 'true', 'a group notifies of everything by default')
    await shot(alice, 'chat-notify-menu-desktop-light')
    await alice.page.getByTestId('notify-mentions').click()
    await chatMenu(alice, 'menu-notify')
    await expectSoon(async () => (await alice.page.getByTestId('notify-mentions').getAttribute('aria-checked')) === 'true', 'the level is saved')
    await alice.page.keyboard.press('Escape')
    await hide(alice, true)
    await send(bob, 'not for you')
    await messageText(alice, 'not for you').waitFor({ timeout: T })
    await send(bob, 'hey @alice look')
    const n = await expectSoon(async () => (await notes(alice)).find((x) => x.body === 'hey @alice look'), 'the mention notifies')
    assert.equal(n.title, 'Bob Builder in Crew')
    assert.equal((await notes(alice)).filter((x) => x.body === 'not for you').length, 0, 'the rest does not')
    await hide(alice, false)
  })

  test('the permission is asked only after a first message, from the banner’s button', async () => {
    await conv(carol, 'Crew').click()
    await title(carol, 'Crew')
    assert.equal(await carol.page.getByTestId('notify-banner').count(), 0, 'never on load')
    await send(carol, 'hi all')
    await carol.page.getByTestId('notify-banner').waitFor({ timeout: T })
    await shot(carol, 'notify-banner-desktop-light')
    // The browser grants what the page asks inside the click.
    await carol.context.grantPermissions(['notifications'], { origin: server.base })
    await carol.page.getByTestId('notify-enable').click()
    await expectSoon(async () => (await carol.page.getByTestId('notify-banner').count()) === 0, 'the banner goes once answered')
    await carol.page.getByTestId('open-profile').click()
    const toggle = carol.page.getByTestId('desktop-toggle')
    await toggle.waitFor({ timeout: T })
    assert.equal(await toggle.isChecked(), true, 'the settings show them on')
    const sound = carol.page.getByTestId('sound-toggle')
    assert.equal(await sound.isChecked(), true)
    await carol.page.getByTestId('notification-settings').scrollIntoViewIfNeeded()
    await shot(carol, 'notification-settings-desktop-light')
    await sound.uncheck()
    assert.equal(await carol.page.evaluate(() => localStorage.getItem('hubbub.notify.sound')), '0', 'the sound choice is kept')
    await sound.check()
    await carol.page.keyboard.press('Escape')
  })

  test('"Not now" is remembered across reloads', async () => {
    const dave = await person(browser, server.base, 'dave', undefined, { notifyBanner: true })
    await dave.context.addInitScript(observe)
    await signup(dave, 'dave', 'Dave Grohl')
    await dave.page.getByTestId('new-chat').click()
    await dave.page.getByTestId('user-search').fill('bob')
    await dave.page.getByTestId('user-bob').click()
    await title(dave, 'Bob Builder')
    await send(dave, 'hello bob')
    await dave.page.getByTestId('notify-banner').waitFor({ timeout: T })
    await dave.page.getByTestId('notify-dismiss').click()
    await expectSoon(async () => (await dave.page.getByTestId('notify-banner').count()) === 0, 'dismissed')
    await dave.page.reload()
    await dave.page.getByTestId('composer-input').waitFor({ timeout: T })
    await send(dave, 'again')
    await messageText(dave, 'again').waitFor({ timeout: T })
    assert.equal(await dave.page.getByTestId('notify-banner').count(), 0)
    await dave.context.close()
  })

  test('the service worker registers at /sw.js, from the root scope', async () => {
    const sw = await fetch(`${server.base}/sw.js`)
    assert.equal(sw.status, 200)
    assert.match(sw.headers.get('content-type'), /^text\/javascript/)
    assert.match(await sw.text(), /addEventListener\('push'/)
    // Alice has the permission: the app registered the worker after sign-in.
    const reg = await expectSoon(
      () => alice.page.evaluate(async () => {
        const r = await navigator.serviceWorker.getRegistration('/')
        return r?.active ? { script: r.active.scriptURL, scope: r.scope } : null
      }),
      'an active service worker',
    )
    assert.equal(reg.script, `${server.base}/sw.js`)
    assert.equal(reg.scope, `${server.base}/`)
    assert.deepEqual(alice.problems.filter((x) => x.startsWith('pageerror')), [], 'a browser that cannot subscribe degrades quietly')
  })

  test('a push message delivered to the worker shows its notification', async () => {
    // DevTools' own way to deliver a push (no push service needed): the real sw.js in Chromium.
    const cdp = await alice.context.newCDPSession(alice.page)
    const regs = []
    cdp.on('ServiceWorker.workerRegistrationUpdated', (e) => regs.push(...e.registrations))
    await cdp.send('ServiceWorker.enable')
    const reg = await expectSoon(() => regs.find((r) => r.scopeURL === `${server.base}/` && !r.isDeleted), 'the registration id')
    const payload = { title: 'Bob Builder in Crew', body: 'pushed while away', conversation_id: 'c-1', message_id: 'm-1', url: '/c/c-1' }
    await cdp.send('ServiceWorker.deliverPushMessage', { origin: server.base, registrationId: reg.registrationId, data: JSON.stringify(payload) })
    const shown = await expectSoon(
      () => alice.page.evaluate(async () => {
        const r = await navigator.serviceWorker.ready
        const list = await r.getNotifications()
        return list.length ? list.map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data?.url })) : null
      }),
      'the worker’s notification',
    )
    assert.deepEqual(shown, [{ title: 'Bob Builder in Crew', body: 'pushed while away', tag: 'hubbub-c-1', url: '/c/c-1' }])
    await alice.page.evaluate(async () => (await (await navigator.serviceWorker.ready).getNotifications()).forEach((n) => n.close()))
    await cdp.detach()
  })

  // Headless Chromium has no push service to subscribe with: in Playwright's (incognito)
  // contexts `pushManager.subscribe` rejects with "AbortError: Registration failed - permission
  // denied", and in a persistent profile it never settles (it waits for Google's push
  // service). So this test replaces only `PushManager.prototype.subscribe`/`getSubscription`
  // with a subscription as a push service would return it (an https endpoint, a real P-256 key);
  // the app's own code (worker registration, the key from /api/push/key, the POST, the DELETE
  // on sign-out) runs unchanged against the real server.
  test('the push subscription reaches the server, and leaves it on sign-out', async (t) => {
    const key = await alice.page.evaluate(async () => {
      const r = await fetch('/api/push/key')
      return { status: r.status, body: r.ok ? await r.json() : null }
    })
    if (key.status === 404) {
      t.skip('the server has no /api/push/key (push endpoints not built)')
      return
    }
    assert.equal(key.status, 200)
    assert.match(key.body.public_key, /^[A-Za-z0-9_-]{86,88}$/, 'a 65-byte P-256 point, base64url')
    const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' })
    const p256dh = Buffer.concat([Buffer.from([4]), Buffer.from(ec.x, 'base64url'), Buffer.from(ec.y, 'base64url')]).toString('base64url')
    const fake = { endpoint: `https://push.example.net/send/${crypto.randomUUID()}`, p256dh, auth: crypto.randomBytes(16).toString('base64url') }
    const erin = await person(browser, server.base, 'erin')
    await erin.context.grantPermissions(['notifications'], { origin: server.base })
    await erin.context.addInitScript((f) => {
      let current = null
      const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4)), (c) => c.charCodeAt(0)).buffer
      PushManager.prototype.getSubscription = async () => current
      PushManager.prototype.subscribe = async (opts) => {
        window.__subscribeOptions = { userVisibleOnly: opts.userVisibleOnly, keyBytes: new Uint8Array(opts.applicationServerKey).length }
        current = {
          endpoint: f.endpoint,
          options: { userVisibleOnly: true, applicationServerKey: opts.applicationServerKey },
          getKey: (n) => b64(n === 'auth' ? f.auth : f.p256dh),
          toJSON: () => ({ endpoint: f.endpoint, expirationTime: null, keys: { p256dh: f.p256dh, auth: f.auth } }),
          unsubscribe: async () => ((current = null), (window.__unsubscribed = true), true),
        }
        return current
      }
    }, fake)
    const posted = erin.page.waitForResponse((r) => r.url().endsWith('/api/push/subscriptions') && r.request().method() === 'POST', { timeout: T })
    await signup(erin, 'erin', 'Erin Brockovich')
    const res = await posted
    assert.equal(res.status(), 201, 'the server took the subscription')
    assert.deepEqual(res.request().postDataJSON(), { endpoint: fake.endpoint, keys: { p256dh: fake.p256dh, auth: fake.auth } })
    assert.deepEqual(await erin.page.evaluate(() => window.__subscribeOptions), { userVisibleOnly: true, keyBytes: 65 }, 'the VAPID key as 65 raw bytes')
    // Signing out removes it from the server first, then from the browser.
    const deleted = erin.page.waitForResponse((r) => r.url().endsWith('/api/push/subscriptions') && r.request().method() === 'DELETE', { timeout: T })
    await erin.page.getByTestId('open-profile').click()
    await erin.page.getByTestId('logout').click()
    const del = await deleted
    assert.equal(del.status(), 204)
    assert.deepEqual(del.request().postDataJSON(), { endpoint: fake.endpoint })
    await expectSoon(() => erin.page.evaluate(() => window.__unsubscribed === true), 'the browser subscription dropped')
    await erin.context.close()
  })
})
