// End-to-end: three people in three browser contexts against a real `hubbub serve`.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { launch, person, samples, shots, startServer } from './harness.mjs'
import { T, expectSoon, send, signup } from './steps.mjs'

let server, browser, alice, bob, carol
const shotList = []

const conv = (p, name) => p.page.getByTestId(`conv-${name}`)
const exact = (text) => (text instanceof RegExp ? text : new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`))
/** The message bubbles whose text is exactly `text` (or matches a RegExp). */
const messages = (p, text) => p.page.getByTestId('message').filter({ has: p.page.getByTestId('message-text').filter({ hasText: exact(text) }) })
async function openConv(p, name) {
  await conv(p, name).click()
  await p.page.getByTestId('chat-title').filter({ hasText: name }).waitFor({ timeout: T })
}
async function status(p, text) {
  return messages(p, text).last().locator('.ticks').getAttribute('data-status')
}
async function menu(p, text, item) {
  const m = messages(p, text).last()
  await m.hover()
  await m.getByTestId('message-menu').click()
  await p.page.getByRole('menuitem', { name: item, exact: true }).click()
}
async function shot(p, name) {
  fs.mkdirSync(shots, { recursive: true })
  const file = path.join(shots, `${name}.png`)
  await p.page.mouse.move(1, 1)
  await p.page.waitForTimeout(250)
  await p.page.screenshot({ path: file })
  shotList.push(file)
}
async function count(p, text) {
  return p.page.getByTestId('message-text').filter({ hasText: new RegExp(`^${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }).count()
}

describe('Hubbub in the browser', { concurrency: false }, () => {
  before(async () => {
    server = await startServer()
    browser = await launch()
    alice = await person(browser, server.base, 'alice')
    bob = await person(browser, server.base, 'bob')
    carol = await person(browser, server.base, 'carol', { width: 390, height: 844 })
  })

  after(async () => {
    for (const p of [alice, bob, carol]) {
      if (p?.problems.length) console.log(`${p.name} page problems:\n  ${p.problems.join('\n  ')}`)
    }
    await browser?.close()
    if (process.env.HUBBUB_E2E_LOGS) console.log(server?.logs())
    await server?.stop()
  })

  test('login page, then three people sign up', async () => {
    await alice.page.goto('/')
    await alice.page.waitForURL(/\/login/)
    await shot(alice, 'login-desktop-light')
    await alice.page.emulateMedia({ colorScheme: 'dark' })
    await shot(alice, 'login-desktop-dark')
    await alice.page.emulateMedia({ colorScheme: 'light' })
    await carol.page.goto('/login')
    await shot(carol, 'login-phone-light')
    // A wrong password is explained in words.
    await alice.page.locator('#username').fill('nobody')
    await alice.page.locator('#password').fill('wrong password')
    await alice.page.getByRole('button', { name: 'Log in' }).click()
    await alice.page.getByTestId('auth-error').waitFor({ timeout: T })
    await signup(alice, 'alice', 'Alice Liddell')
    await signup(bob, 'bob', 'Bob Builder')
    await signup(carol, 'carol', 'Carol Danvers')
  })

  test('a direct chat: messages appear live on the other side, ticks go to read', async () => {
    await alice.page.getByTestId('new-chat').click()
    await alice.page.getByTestId('user-search').fill('bo')
    await alice.page.getByTestId('user-bob').click()
    await alice.page.getByTestId('chat-title').filter({ hasText: 'Bob Builder' }).waitFor({ timeout: T })
    await send(alice, 'Hi Bob!')
    await messages(alice, 'Hi Bob!').waitFor({ timeout: T })
    await expectSoon(async () => (await status(alice, 'Hi Bob!')) === 'sent' || (await status(alice, 'Hi Bob!')) === 'delivered', 'one tick')
    // Bob sees the conversation appear with an unread badge, without reloading.
    await conv(bob, 'Alice Liddell').waitFor({ timeout: T })
    await expectSoon(async () => (await conv(bob, 'Alice Liddell').getByTestId('unread-badge').textContent()) === '1', 'unread badge 1')
    await expectSoon(async () => (await bob.page.title()) === '(1) Hubbub', 'unread in the tab title')
    await expectSoon(async () => (await status(alice, 'Hi Bob!')) === 'delivered', 'two ticks (delivered)')
    await openConv(bob, 'Alice Liddell')
    await messages(bob, 'Hi Bob!').waitFor({ timeout: T })
    await expectSoon(async () => (await status(alice, 'Hi Bob!')) === 'read', 'blue ticks (read)')
    await expectSoon(async () => (await conv(bob, 'Alice Liddell').getByTestId('unread-badge').count()) === 0, 'badge cleared')
    await send(bob, 'Hello Alice, how are you?')
    await messages(alice, 'Hello Alice, how are you?').waitFor({ timeout: T })
    await expectSoon(async () => (await status(bob, 'Hello Alice, how are you?')) === 'read', 'bob’s message read by alice')
  })

  test('typing indicator and online status in a direct chat', async () => {
    await expectSoon(async () => (await alice.page.getByTestId('chat-subtitle').textContent()) === 'online', 'bob online in header')
    await bob.page.getByTestId('composer-input').pressSequentially('typing something', { delay: 20 })
    await expectSoon(async () => (await alice.page.getByTestId('chat-subtitle').textContent()) === 'typing…', 'typing… in header')
    await bob.page.getByTestId('composer-input').fill('')
  })

  test('reply, react, edit and delete', async () => {
    await menu(bob, 'Hi Bob!', 'Reply')
    await bob.page.getByTestId('composer-context').waitFor()
    await send(bob, 'This is a reply')
    const reply = messages(alice, 'This is a reply')
    await reply.waitFor({ timeout: T })
    assert.match(await reply.getByTestId('reply-quote').textContent(), /Hi Bob!/)
    // Clicking the quote brings the original into view.
    await alice.page.getByTestId('messages').evaluate((el) => (el.scrollTop = el.scrollHeight))
    await reply.getByTestId('reply-quote').click()
    await expectSoon(() => messages(alice, 'Hi Bob!').isVisible(), 'original in view')

    await menu(alice, 'This is a reply', 'React')
    await alice.page.getByRole('menuitem', { name: 'React 👍' }).click()
    await expectSoon(async () => (await messages(bob, 'This is a reply').getByTestId('reaction').textContent())?.includes('👍'), 'reaction on bob’s side')
    assert.match(await messages(bob, 'This is a reply').getByTestId('reaction').getAttribute('title'), /Alice/)
    // Tapping the chip says who reacted.
    await messages(bob, 'This is a reply').getByTestId('reaction').click()
    assert.match(await bob.page.getByTestId('reaction-who').textContent(), /Alice Liddell/)
    await bob.page.keyboard.press('Escape')
    await bob.page.getByTestId('reaction-who').waitFor({ state: 'detached' })

    await send(alice, 'Typo mesage')
    await messages(bob, 'Typo mesage').waitFor({ timeout: T })
    await menu(alice, 'Typo mesage', 'Edit')
    const box = alice.page.getByTestId('composer-input')
    await box.fill('Fixed message')
    await box.press('Enter')
    await expectSoon(async () => (await messages(bob, 'Fixed message').textContent())?.includes('edited'), 'edited on bob’s side')
    assert.equal(await count(bob, 'Typo mesage'), 0)

    await send(alice, 'Delete me')
    await messages(bob, 'Delete me').waitFor({ timeout: T })
    await menu(alice, 'Delete me', 'Delete')
    await alice.page.getByTestId('confirm').click()
    await expectSoon(async () => (await count(bob, 'Delete me')) === 0, 'deleted text gone on bob’s side')
    await expectSoon(async () => (await bob.page.getByTestId('deleted').count()) === 1, 'tombstone on bob’s side')
    await alice.page.getByTestId('deleted').waitFor({ timeout: T })
  })

  test('text is rendered as text: no HTML, no script', async () => {
    const evil = '<img src=x onerror=alert(1)> <b>bold</b> <script>alert(2)</script>'
    await send(bob, evil)
    const m = messages(alice, evil)
    await m.waitFor({ timeout: T })
    assert.equal(await m.getByTestId('message-text').textContent(), evil)
    assert.equal(await alice.page.locator('[data-testid=message-text] img, [data-testid=message-text] b, [data-testid=message-text] script').count(), 0)
    await alice.page.waitForTimeout(300)
    assert.deepEqual(alice.dialogs.filter((d) => d.startsWith('alert')), [])
    assert.deepEqual(bob.dialogs.filter((d) => d.startsWith('alert')), [])
  })

  test('send a photo', async (t) => {
    const file = path.join(samples, 'photo-medium.jpg')
    if (!fs.existsSync(file)) return t.skip(`no ${file}`)
    await alice.page.getByTestId('attach-input').setInputFiles(file)
    const box = alice.page.getByTestId('composer-input')
    await box.fill('Cups!')
    await box.press('Enter')
    const failed = alice.page.getByTestId('message').filter({ hasText: 'Cups!' }).getByTestId('retry')
    const got = await expectSoon(
      async () => ((await failed.count()) > 0 ? 'failed' : (await messages(bob, 'Cups!').getByTestId('message-photo').count()) > 0 ? 'ok' : false),
      'photo on bob’s side',
      30000,
    )
    if (got === 'failed') {
      const why = await alice.page.getByTestId('message').filter({ hasText: 'Cups!' }).locator('div.failed').textContent()
      throw new Error(`photo send failed: ${why}`)
    }
    const img = messages(bob, 'Cups!').getByTestId('message-photo')
    // Shown at its final size before it loads: width/height come from the message.
    const w = Number(await img.getAttribute('width'))
    const h = Number(await img.getAttribute('height'))
    assert.ok(w > 0 && h > 0)
    assert.ok(Math.abs(w / h - 1200 / 750) < 0.02, `aspect ${w}x${h}`)
    await expectSoon(() => img.evaluate((el) => el.complete && el.naturalWidth > 0), 'photo loaded', 20000)
    await img.click()
    await bob.page.getByTestId('photo-viewer').waitFor()
    await bob.page.keyboard.press('Escape')
    await bob.page.getByTestId('photo-viewer').waitFor({ state: 'detached' })
  })

  test('desktop screenshots of the list and the chat', async () => {
    await shot(alice, 'chat-desktop-light')
    await alice.page.emulateMedia({ colorScheme: 'dark' })
    await shot(alice, 'chat-desktop-dark')
    await alice.page.emulateMedia({ colorScheme: 'light' })
  })

  test('a group of three: typing, ticks in groups and who read it', async () => {
    await alice.page.getByTestId('new-group').click()
    await alice.page.getByTestId('group-name').fill('Weekend trip')
    await alice.page.getByTestId('user-search').fill('b')
    await alice.page.getByTestId('user-bob').click()
    await alice.page.getByTestId('user-search').fill('car')
    await alice.page.getByTestId('user-carol').click()
    await alice.page.getByTestId('create-group').click()
    await alice.page.getByTestId('chat-title').filter({ hasText: 'Weekend trip' }).waitFor({ timeout: T })
    await conv(bob, 'Weekend trip').waitFor({ timeout: T })
    await conv(carol, 'Weekend trip').waitFor({ timeout: T })

    await send(alice, 'Who is in for Saturday?')
    await messages(alice, 'Who is in for Saturday?').waitFor()
    await expectSoon(async () => (await status(alice, 'Who is in for Saturday?')) === 'delivered', 'delivered to both')
    await openConv(bob, 'Weekend trip')
    await messages(bob, 'Who is in for Saturday?').waitFor({ timeout: T })
    await bob.page.waitForTimeout(500)
    assert.equal(await status(alice, 'Who is in for Saturday?'), 'delivered', 'read only once everyone read it')
    await openConv(carol, 'Weekend trip')
    await messages(carol, 'Who is in for Saturday?').waitFor({ timeout: T })
    await expectSoon(async () => (await status(alice, 'Who is in for Saturday?')) === 'read', 'read by both')

    await carol.page.getByTestId('composer-input').pressSequentially('Me!', { delay: 30 })
    await expectSoon(async () => (await alice.page.getByTestId('chat-subtitle').textContent()) === 'Carol is typing…', 'Carol is typing… (alice)')
    await expectSoon(async () => (await bob.page.getByTestId('chat-subtitle').textContent()) === 'Carol is typing…', 'Carol is typing… (bob)')
    await bob.page.getByTestId('composer-input').pressSequentially('Count me in', { delay: 30 })
    await expectSoon(async () => (await alice.page.getByTestId('chat-subtitle').textContent()) === '2 people are typing…', '2 people are typing…')
    await carol.page.getByTestId('composer-input').press('Enter')
    await bob.page.getByTestId('composer-input').press('Enter')
    await messages(alice, 'Me!').waitFor({ timeout: T })
    await messages(alice, 'Count me in').waitFor({ timeout: T })

    await menu(alice, 'Who is in for Saturday?', 'Info')
    const read = alice.page.getByTestId('receipts-read')
    await expectSoon(async () => /Bob Builder/.test(await read.textContent()) && /Carol Danvers/.test(await read.textContent()), 'both in “Read by”')
    await alice.page.keyboard.press('Escape')

    await shot(carol, 'chat-phone-light')
    await carol.page.emulateMedia({ colorScheme: 'dark' })
    await shot(carol, 'chat-phone-dark')
    await carol.page.emulateMedia({ colorScheme: 'light' })
    await carol.page.getByRole('button', { name: 'Back to conversations' }).click()
    await carol.page.getByTestId('conversation-list').waitFor()
    await shot(carol, 'list-phone-light')
    await carol.page.emulateMedia({ colorScheme: 'dark' })
    await shot(carol, 'list-phone-dark')
    await carol.page.emulateMedia({ colorScheme: 'light' })

    await alice.page.getByTestId('group-info').click()
    await alice.page.getByTestId('group-info-dialog').waitFor()
    await shot(alice, 'group-info-desktop-light')
    await alice.page.emulateMedia({ colorScheme: 'dark' })
    await shot(alice, 'group-info-desktop-dark')
    await alice.page.emulateMedia({ colorScheme: 'light' })
    await alice.page.getByTestId('rename').click()
    await alice.page.locator('#g-name').fill('Weekend trip 🏕')
    await alice.page.getByRole('button', { name: 'Save' }).click()
    await alice.page.keyboard.press('Escape')
    await conv(bob, 'Weekend trip 🏕').waitFor({ timeout: T })
  })

  test('offline and back: nothing lost, nothing doubled', async () => {
    await openConv(bob, 'Alice Liddell')
    await openConv(alice, 'Bob Builder')
    await bob.context.setOffline(true)
    await bob.page.getByTestId('connection-banner').waitFor({ timeout: T })
    for (const s of ['offline one', 'offline two', 'offline three']) await send(alice, s)
    await send(bob, 'written while offline')
    // Bob's message waits with a clock.
    await expectSoon(async () => (await status(bob, 'written while offline')) === 'sending', 'clock while offline')
    await bob.page.waitForTimeout(1000)
    await bob.context.setOffline(false)
    await bob.page.getByTestId('connection-banner').waitFor({ state: 'detached', timeout: 30000 })
    for (const s of ['offline one', 'offline two', 'offline three']) {
      await expectSoon(async () => (await count(bob, s)) === 1, `bob sees “${s}” once`, 30000)
    }
    await expectSoon(async () => (await count(alice, 'written while offline')) === 1, 'alice gets the queued message once', 30000)
    await bob.page.waitForTimeout(1000)
    for (const s of ['offline one', 'offline two', 'offline three']) assert.equal(await count(bob, s), 1, `no double “${s}”`)
    assert.equal(await count(bob, 'written while offline'), 1)
    assert.equal(await count(alice, 'written while offline'), 1)
    // Order is kept.
    const texts = await bob.page.getByTestId('message-text').allTextContents()
    const idx = ['offline one', 'offline two', 'offline three'].map((s) => texts.indexOf(s))
    assert.deepEqual([...idx].sort((a, b) => a - b), idx)
  })

  test('a dropped socket with a gap is caught up through /events', async () => {
    // Close only Bob's socket (the page stays online) while Alice sends; he must catch up.
    await bob.page.evaluate(() => window.dispatchEvent(new Event('offline')))
    await send(alice, 'sent while bob’s socket was down')
    await bob.page.waitForTimeout(300)
    await bob.page.evaluate(() => window.dispatchEvent(new Event('online')))
    await expectSoon(async () => (await count(bob, 'sent while bob’s socket was down')) === 1, 'caught up')
  })

  test('long history: jump to the first unread, infinite scroll keeps the position, new-messages pill', async () => {
    // Bob writes 130 messages to Carol through the API (same origin, his cookie).
    const carolId = await carol.page.evaluate(async () => (await (await fetch('/api/users?q=carol')).json()).users[0].id)
    await bob.page.evaluate(async (uid) => {
      const c = await (await fetch(`/api/users/${uid}/conversation`, { method: 'POST' })).json()
      for (let i = 1; i <= 130; i++) {
        const r = await fetch(`/api/conversations/${c.id}/messages`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ text: `history ${i}`, client_id: crypto.randomUUID() }),
        })
        if (!r.ok) throw new Error(`send ${i}: ${r.status}`)
      }
    }, carolId)
    await expectSoon(async () => (await conv(carol, 'Bob Builder').getByTestId('unread-badge').textContent()) === '130', 'carol has 130 unread')
    await openConv(carol, 'Bob Builder')
    // All unread: the view opens at the first unread message, with the separator.
    await carol.page.locator('[data-unread-sep]').waitFor({ timeout: T })
    await expectSoon(() => messages(carol, 'history 1').isVisible(), 'history 1 on screen')
    assert.equal(await carol.page.getByTestId('message-text').filter({ hasText: /^history 1$/ }).isVisible(), true)

    // A fresh load, so Bob's tab holds only what it fetches (not the 130 live events).
    await bob.page.reload()
    await openConv(bob, 'Carol Danvers')
    await messages(bob, 'history 130').waitFor({ timeout: T })
    const scroller = bob.page.getByTestId('messages')
    // The list is virtualised: only the rows on screen (and a margin) are in the DOM, so what is
    // loaded is read from the sequence numbers of the rows rendered at the top.
    const oldestRendered = () => scroller.evaluate((el) => Math.min(...[...el.querySelectorAll('[data-testid="message"][data-seq]')].map((e) => Number(e.dataset.seq))))
    const oldest = 'history 81' // the newest page is 50 messages: 81..130
    await scroller.evaluate((el) => (el.scrollTop = 0))
    const anchor = bob.page.getByTestId('message-text').filter({ hasText: exact(oldest) })
    await anchor.waitFor({ timeout: T }) // rendered once the scroll has moved the window
    const top0 = (await anchor.boundingBox()).y
    await expectSoon(async () => (await oldestRendered()) < 81, 'older page loaded')
    await bob.page.waitForTimeout(200)
    const top1 = (await anchor.boundingBox()).y
    assert.ok(Math.abs(top1 - top0) < 60, `scroll position kept (${top0} → ${top1})`)
    for (let i = 0; i < 10 && !(await bob.page.getByTestId('message-text').filter({ hasText: /^history 1$/ }).count()); i++) {
      await scroller.evaluate((el) => (el.scrollTop = 0))
      await bob.page.waitForTimeout(400)
    }
    assert.equal(await bob.page.getByTestId('message-text').filter({ hasText: /^history 1$/ }).count(), 1)
    assert.equal(await bob.page.locator('[data-testid="messages"] .start').count(), 1, 'the whole history is loaded')
    // Scrolled up, a new message shows the pill instead of jumping.
    await send(carol, 'pill test')
    await expectSoon(async () => ((await bob.page.getByTestId('new-messages-pill').textContent()) ?? '').trim() === '1 new message', 'new messages pill says 1 new message')
    await bob.page.getByTestId('new-messages-pill').click()
    await expectSoon(() => messages(bob, 'pill test').isVisible(), 'scrolled to the new message')
  })

  test('forward a message to the group', async () => {
    await openConv(alice, 'Bob Builder')
    await menu(alice, 'Hi Bob!', 'Forward')
    await alice.page.getByRole('dialog').getByText('Weekend trip 🏕').click()
    await alice.page.getByRole('button', { name: 'Forward', exact: true }).click()
    await openConv(bob, 'Weekend trip 🏕')
    await expectSoon(async () => (await messages(bob, 'Hi Bob!').textContent())?.includes('Forwarded'), 'forwarded message in the group')
  })

  test('profile change shows up for the others', async () => {
    await bob.page.getByTestId('open-profile').click()
    await bob.page.locator('#p-about').fill('Can we fix it?')
    await bob.page.locator('#p-name').fill('Bob the Builder')
    await bob.page.getByRole('button', { name: 'Save', exact: true }).click()
    await bob.page.getByText('Saved.').waitFor()
    // A profile photo: previewed at once, stored, and seen by Alice.
    await bob.page.getByTestId('photo-input').setInputFiles(path.join(samples, 'photo.webp'))
    await expectSoon(async () => (await bob.page.getByTestId('open-profile').locator('img').count()) === 1, 'bob’s avatar shows his photo')
    await bob.page.keyboard.press('Escape')
    await conv(alice, 'Bob the Builder').waitFor({ timeout: T })
    await expectSoon(
      () => conv(alice, 'Bob the Builder').locator('img').evaluate((el) => el.complete && el.naturalWidth > 0).catch(() => false),
      'alice sees bob’s photo in her list',
    )
  })

  test('an admin removes a member; the removed member can read but not send', async () => {
    await openConv(alice, 'Weekend trip 🏕')
    await alice.page.getByTestId('group-info').click()
    await alice.page.getByRole('button', { name: 'Remove Carol Danvers' }).click()
    await alice.page.getByTestId('confirm').click()
    await expectSoon(async () => !/Carol/.test(await alice.page.getByTestId('members').textContent()), 'carol gone from the members')
    await alice.page.keyboard.press('Escape')
    await openConv(carol, 'Weekend trip 🏕').catch(async () => {
      await carol.page.getByRole('button', { name: 'Back to conversations' }).click()
      await openConv(carol, 'Weekend trip 🏕')
    })
    await carol.page.getByText('no longer a member').first().waitFor({ timeout: T })
    assert.equal(await carol.page.getByTestId('composer-input').count(), 0)
    await messages(carol, 'Who is in for Saturday?').waitFor()
  })

  test('desktop list screenshot, light and dark', async () => {
    await bob.page.goto('/')
    await bob.page.getByTestId('conversation-list').waitFor()
    await shot(bob, 'list-desktop-light')
    await bob.page.emulateMedia({ colorScheme: 'dark' })
    await shot(bob, 'list-desktop-dark')
  })

  test('change the password, log out, log in with the new one', async () => {
    await carol.page.goto('/')
    await carol.page.getByTestId('open-profile').click()
    await carol.page.locator('summary', { hasText: 'Change password' }).click()
    await carol.page.locator('#p-cur').fill('correct horse battery')
    await carol.page.locator('#p-new').fill('battery staple horse')
    await carol.page.getByRole('button', { name: 'Change password', exact: true }).click()
    await carol.page.getByText('Password changed.').waitFor({ timeout: T })
    await carol.page.getByTestId('logout').click()
    await carol.page.waitForURL(/\/login/)
    await carol.page.locator('#username').fill('carol')
    await carol.page.locator('#password').fill('correct horse battery')
    await carol.page.getByRole('button', { name: 'Log in' }).click()
    await carol.page.getByTestId('auth-error').waitFor({ timeout: T })
    await carol.page.locator('#password').fill('battery staple horse')
    await carol.page.getByRole('button', { name: 'Log in' }).click()
    await carol.page.getByTestId('conversation-list').waitFor({ timeout: T })
    await conv(carol, 'Bob the Builder').waitFor({ timeout: T })
  })

  test('no page errors', () => {
    for (const p of [alice, bob, carol]) {
      const bad = p.problems.filter((x) => !/Failed to load resource|net::ERR_INTERNET_DISCONNECTED|WebSocket connection/.test(x))
      assert.deepEqual(bad, [], `${p.name}`)
    }
  })
})
