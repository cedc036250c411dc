// End-to-end (issue 12): notifications in real Chromium against a real `hubbub serve`.
// The page title counts what is unread; with the notification permission granted by the test
// and the page hidden, a message from someone else shows a desktop notification with the
// sender, the chat and the text (none in a muted chat, per-chat levels respected); the
// permission is asked only after a first message, from a banner's button; the service worker
// registers at /sw.js and this browser's push subscription reaches the server.
//
// Headless Chromium reports every page as visible whatever is in front (Playwright keeps all
// pages "active"; new tabs, minimising through CDP and lifecycle states change nothing), so the
// test overrides `document.visibilityState` with an init script and fires `visibilitychange`
// itself. Notifications are observed by a subclass of the real `Notification` that records each
// one and then constructs the real one: the app's own code path runs unchanged.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { launch, person, startServer } from './harness.mjs'
import { T, conv, expectSoon, messageText, send, signup, title } from './steps.mjs'

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

async function chatMenu(p, item) {
  await p.page.getByTestId('chat-menu-button').click()
  await p.page.getByTestId(item).click()
}

describe('Notifications', { concurrency: false }, () => {
  before(async () => {
    server = await startServer()
    browser = await launch()
    alice = await person(browser, server.base, 'alice')
    bob = await person(browser, server.base, 'bob')
    carol = await person(browser, server.base, 'carol')
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
    await alice.page.getByTestId('notify-mentions').click()
    await alice.page.getByTestId('chat-menu-button').click()
    await alice.page.getByTestId('menu-notify').click()
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
    await sound.uncheck()
    assert.equal(await carol.page.evaluate(() => localStorage.getItem('hubbub.notify.sound')), '0', 'the sound choice is kept')
    await sound.check()
    await carol.page.keyboard.press('Escape')
  })

  test('"Not now" is remembered across reloads', async () => {
    const dave = await person(browser, server.base, 'dave')
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

  test('the service worker registers at /sw.js and the push subscription reaches the server', async () => {
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
    // A fresh sign-in subscribes; the POST is watched on the wire.
    const key = await fetch(`${server.base}/api/push/key`)
    if (key.status === 404) {
      console.log('push: the server has no /api/push/key yet; subscription not tested')
      return
    }
    const posted = alice.page.waitForResponse((r) => r.url().endsWith('/api/push/subscriptions') && r.request().method() === 'POST', { timeout: T }).catch(() => null)
    await alice.page.reload()
    await alice.page.getByTestId('conversation-list').waitFor({ timeout: T })
    const res = await posted
    if (!res) {
      // What the browser says when asked directly (headless Chromium may have no push service).
      const why = await alice.page.evaluate(async (k) => {
        const r = await navigator.serviceWorker.ready
        try {
          const b = Uint8Array.from(atob(k.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (k.length % 4)) % 4)), (c) => c.charCodeAt(0))
          await r.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: b })
          return 'subscribed'
        } catch (e) {
          return `${e.name}: ${e.message}`
        }
      }, (await key.json()).public_key)
      assert.fail(`no subscription was posted; pushManager.subscribe says: ${why}`)
    }
    assert.equal(res.status(), 201, 'the server took the subscription')
    const body = res.request().postDataJSON()
    assert.match(body.endpoint, /^https:\/\//)
    assert.ok(body.keys.p256dh && body.keys.auth)
    // Signing out removes it from the server.
    const deleted = alice.page.waitForResponse((r) => r.url().endsWith('/api/push/subscriptions') && r.request().method() === 'DELETE', { timeout: T })
    await alice.page.getByTestId('open-profile').click()
    await alice.page.getByTestId('logout').click()
    assert.equal((await deleted).status(), 204)
  })
})
