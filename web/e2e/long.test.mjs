// End-to-end, issue 17: a 1,100-message chat in real Chromium against a real server, on a
// desktop and on a phone-sized touch screen (390×844).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { launch, startServer } from './harness.mjs'
import { register, seedLongChat } from './seed.mjs'

const T = 20000
const COUNT = 1100
let server, browser, alice, bob, chat, messages, quote
const contexts = []

async function expectSoon(fn, what, timeout = T) {
  const end = Date.now() + timeout
  let last
  for (;;) {
    try {
      const v = await fn()
      if (v !== false && v !== undefined && v !== null) return v
      last = new Error(`${what}: got ${v}`)
    } catch (e) {
      last = e
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${last?.message ?? last}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function open(options) {
  const context = await browser.newContext({ baseURL: server.base, colorScheme: 'light', ...options })
  contexts.push(context)
  const page = await context.newPage()
  const problems = []
  page.on('pageerror', (e) => problems.push(e.message))
  await page.goto('/login')
  await page.locator('#username').fill('alice')
  await page.locator('#password').fill(alice.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByTestId('conversation-list').waitFor({ timeout: T })
  return { page, problems }
}
const desktop = () => open({ viewport: { width: 1280, height: 800 } })
const phone = () => open({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true })

/** Where the element with this text / id is relative to the message list, or null. */
function place(page, sel) {
  return page.evaluate((sel) => {
    const sc = document.querySelector('[data-testid="messages"]')
    const el = sel.text
      ? [...sc.querySelectorAll('[data-testid="message-text"]')].find((e) => e.textContent === sel.text)
      : sc.querySelector(`[data-id="${sel.id}"]`)
    if (!el) return null
    const a = sc.getBoundingClientRect()
    const b = el.getBoundingClientRect()
    return { inView: b.top >= a.top - 1 && b.bottom <= a.bottom + 1, centreOffset: b.top + b.height / 2 - (a.top + a.height / 2), height: a.height }
  }, sel)
}
const listElements = (page) => page.getByTestId('messages').evaluate((el) => el.querySelectorAll('*').length)
const last = `long message ${COUNT}`

describe('the long chat', { concurrency: false }, () => {
  before(async () => {
    server = await startServer()
    browser = await launch()
    alice = await register(server.base, 'alice', 'Alice Liddell')
    bob = await register(server.base, 'bob', 'Bob Builder')
    ;({ chat, messages } = await seedLongChat(alice, bob, COUNT))
    quote = await bob.call('POST', `/api/conversations/${chat.id}/messages`, {
      text: 'about an old one',
      reply_to: messages[40].id,
      client_id: crypto.randomUUID(),
    })
    await bob.call('POST', `/api/conversations/${chat.id}/messages`, { text: last.replace(String(COUNT), String(COUNT + 1)), client_id: crypto.randomUUID() })
    await alice.call('POST', '/api/conversations', { name: 'Other chat', member_ids: [bob.user.id] })
    await alice.call('PUT', `/api/conversations/${chat.id}/read`, { seq: quote.seq + 1 })
  })

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close()
    await server?.stop()
  })

  test('the DOM stays small, and scrolling to the top loads the whole history', async () => {
    const { page, problems } = await desktop()
    await page.getByTestId('conv-Bob Builder').click()
    const newest = `long message ${COUNT + 1}`
    await expectSoon(async () => (await place(page, { text: newest }))?.inView, 'the newest message in view')
    assert.ok((await listElements(page)) < 1500)
    const scroller = page.getByTestId('messages')
    let most = 0
    await expectSoon(
      async () => {
        await scroller.evaluate((el) => el.scrollTo({ top: 0 }))
        most = Math.max(most, await listElements(page))
        return page.evaluate(() => !!document.querySelector('[data-testid="messages"] .start'))
      },
      'the start of the conversation',
      60000,
    )
    // The last page came in above what was on screen, which kept its place: to the top once more.
    await expectSoon(async () => {
      await scroller.evaluate((el) => el.scrollTo({ top: 0 }))
      return (await place(page, { text: 'long message 1' }))?.inView
    }, 'the first message in view')
    // The floating date shows while scrolling only: at rest it covers nothing.
    await expectSoon(async () => (await page.getByTestId('floating-date').evaluate((el) => getComputedStyle(el).opacity)) === '0', 'the floating date faded')
    const n = await listElements(page)
    assert.ok(n < 1500 && most < 1500, `elements in the message list: ${n}, at most ${most}`)
    // Back at the bottom, the newest message is there and the DOM is still small.
    await page.getByTestId('new-messages-pill').click()
    await expectSoon(async () => (await place(page, { text: newest }))?.inView, 'the newest message after the pill')
    assert.ok((await listElements(page)) < 1500)
    assert.deepEqual(problems, [])
  })

  test('jumping to a quoted message that is not loaded yet shows it centred and highlighted', async () => {
    const { page, problems } = await desktop()
    await page.getByTestId('conv-Bob Builder').click()
    const q = page.getByTestId('message').filter({ hasText: 'about an old one' })
    await q.getByTestId('reply-quote').click()
    const target = messages[40].id
    const at = await expectSoon(async () => {
      const p = await place(page, { id: target })
      const hl = await page.locator(`[data-id="${target}"][data-highlighted]`).count()
      return p && p.inView && hl && Math.abs(p.centreOffset) < p.height * 0.2 ? p : null
    }, 'the quoted message centred and highlighted')
    assert.ok(Math.abs(at.centreOffset) < at.height * 0.2)
    const bg = await page.locator(`[data-id="${target}"]`).evaluate((el) => getComputedStyle(el).backgroundColor)
    assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'the highlight is visible')
    assert.deepEqual(problems, [])
  })

  test('on a phone, Enter makes a new line and the send button sends', async () => {
    const { page } = await phone()
    await page.getByTestId('conv-Other chat').click()
    const box = page.getByTestId('composer-input')
    await box.click()
    await box.type('line one')
    await box.press('Enter')
    await box.type('line two')
    assert.equal(await box.inputValue(), 'line one\nline two')
    assert.equal(await page.getByTestId('message-text').filter({ hasText: 'line one' }).count(), 0)
    await page.getByTestId('send').tap()
    await page.getByTestId('message-text').filter({ hasText: 'line two' }).waitFor({ timeout: T })
    assert.equal(await page.getByTestId('message-text').filter({ hasText: 'line two' }).textContent(), 'line one\nline two')
    assert.equal(await box.inputValue(), '')
  })

  test('on a phone, the newest message stays in view when the keyboard shrinks the viewport', async () => {
    const { page } = await phone()
    await page.getByTestId('conv-Bob Builder').click()
    const newest = `long message ${COUNT + 1}`
    await expectSoon(async () => (await place(page, { text: newest }))?.inView, 'the newest message in view')
    await page.getByTestId('composer-input').tap()
    await page.setViewportSize({ width: 390, height: 450 }) // the on-screen keyboard takes the rest
    await expectSoon(async () => (await place(page, { text: newest }))?.inView, 'the newest message with the keyboard up')
    await bob.call('POST', `/api/conversations/${chat.id}/messages`, { text: 'while typing', client_id: crypto.randomUUID() })
    await expectSoon(async () => (await place(page, { text: 'while typing' }))?.inView, 'a new message with the keyboard up')
    await page.setViewportSize({ width: 390, height: 844 })
    await expectSoon(async () => (await place(page, { text: 'while typing' }))?.inView, 'the newest message with the keyboard down')
  })

  test('on the desktop, Shift+Enter makes a new line and Enter sends', async () => {
    const { page } = await desktop()
    await page.getByTestId('conv-Other chat').click()
    const box = page.getByTestId('composer-input')
    await box.click()
    await box.type('desk one')
    await box.press('Shift+Enter')
    await box.type('desk two')
    await box.press('Enter')
    await page.getByTestId('message-text').filter({ hasText: 'desk two' }).waitFor({ timeout: T })
    assert.equal(await page.getByTestId('message-text').filter({ hasText: 'desk two' }).textContent(), 'desk one\ndesk two')
  })
})
