// End-to-end (issue 12): message search in real Chromium against a real `hubbub serve`.
// Alice types in the list's search box (the same box that finds people); the "Messages"
// section lists matches newest first with the matched words marked; a click on an old one,
// far beyond the first page of history, opens the chat with the history around it loaded and
// the message highlighted; the filters narrow the results.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { launch, person, startServer } from './harness.mjs'
import { register, seedLongChat } from './seed.mjs'
import { T, expectSoon, title } from './steps.mjs'

const COUNT = 300
let server, browser, alice, bob, carol, p, chat, messages

async function login(page, who) {
  await page.goto('/login')
  await page.locator('#username').fill(who.username)
  await page.locator('#password').fill(who.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByTestId('conversation-list').waitFor({ timeout: T })
}
const results = () => p.page.getByTestId('search-result')

describe('Message search', { concurrency: false }, () => {
  before(async () => {
    server = await startServer()
    browser = await launch()
    alice = await register(server.base, 'alice', 'Alice Liddell')
    bob = await register(server.base, 'bob', 'Bob Builder')
    carol = await register(server.base, 'carol', 'Carol Danvers')
    // The needle is the 5th of 300 messages: far above the first page of history.
    ;({ chat, messages } = await seedLongChat(alice, bob, COUNT, (i) => (i === 5 ? 'the Zanzibar café <b>plan</b>' : `filler message ${i}`)))
    const group = await alice.call('POST', '/api/conversations', { name: 'Trip', member_ids: [bob.user.id, carol.user.id] })
    await carol.call('POST', `/api/conversations/${group.id}/messages`, { text: 'zanzibar tickets booked', client_id: crypto.randomUUID() })
    // A chat Alice is not in: never found.
    const other = await bob.call('POST', `/api/users/${carol.user.id}/conversation`)
    await bob.call('POST', `/api/conversations/${other.id}/messages`, { text: 'zanzibar secret', client_id: crypto.randomUUID() })
    p = await person(browser, server.base, 'alice')
    await login(p.page, alice)
  })
  after(async () => {
    if (p?.problems.length) console.log(`page problems:\n  ${p.problems.join('\n  ')}`)
    await browser?.close()
    if (process.env.HUBBUB_E2E_LOGS) console.log(server?.logs())
    await server?.stop()
  })

  test('typing lists matching messages newest first, words marked, beside the people found', async () => {
    const box = p.page.getByTestId('list-search')
    await box.pressSequentially('zanz')
    await p.page.getByTestId('search-messages-section').waitFor({ timeout: T })
    await expectSoon(async () => (await results().count()) === 2, 'two results')
    const texts = await results().locator('.snip').allTextContents()
    assert.match(texts[0], /^Carol Danvers: zanzibar tickets booked$/, 'newest first, with the sender')
    assert.match(texts[1], /^Bob Builder: the Zanzibar café <b>plan<\/b>$/, 'the text as typed, not as HTML')
    assert.deepEqual(await results().nth(1).locator('mark').allTextContents(), ['Zanzibar'])
    assert.equal(await results().nth(1).locator('.snip b').count(), 1, 'only the sender is bold: the text made no element')
    assert.deepEqual(await results().locator('.name').allTextContents(), ['Trip', 'Bob Builder'], 'the conversation shown')
    await box.fill('cafe zan')
    await expectSoon(async () => (await results().count()) === 1, 'diacritics ignored, both words')
    assert.deepEqual(await results().first().locator('mark').allTextContents(), ['Zanzibar', 'café'])
  })

  test('a click jumps to the old message with its history loaded, highlighted', async () => {
    await results().first().click()
    await title(p, 'Bob Builder')
    const target = p.page.locator(`[data-id="${messages[4].id}"]`)
    await target.waitFor({ timeout: T })
    await expectSoon(async () => (await target.getAttribute('data-highlighted')) === '1', 'the message highlighted')
    assert.match(p.page.url(), new RegExp(`/c/${chat.id}\\?m=${messages[4].id}`))
    // The messages around it came with it.
    await p.page.locator(`[data-id="${messages[5].id}"]`).waitFor({ timeout: T })
    const inView = await target.evaluate((el) => {
      const sc = document.querySelector('[data-testid="messages"]').getBoundingClientRect()
      const b = el.getBoundingClientRect()
      return b.top >= sc.top - 1 && b.bottom <= sc.bottom + 1
    })
    assert.ok(inView, 'scrolled into view')
  })

  test('filters narrow the results: this chat, a sender, a date range', async () => {
    const box = p.page.getByTestId('list-search')
    await box.fill('zanzibar')
    await expectSoon(async () => (await results().count()) === 2, 'both again')
    await p.page.getByTestId('search-in-chat').check()
    await expectSoon(async () => (await results().count()) === 1, 'only this chat')
    await p.page.getByTestId('search-in-chat').uncheck()
    await expectSoon(async () => (await results().count()) === 2, 'everywhere again')
    await p.page.getByTestId('search-from').selectOption({ label: 'Carol Danvers' })
    await expectSoon(async () => (await results().count()) === 1, 'from Carol')
    assert.match(await results().first().locator('.snip').textContent(), /tickets/)
    await p.page.getByTestId('search-from').selectOption({ label: 'From anyone' })
    await p.page.getByTestId('search-has-photo').check()
    await p.page.getByTestId('search-none').waitFor({ timeout: T })
    await p.page.getByTestId('search-has-photo').uncheck()
    await p.page.getByTestId('search-after').fill('2999-01-01')
    await p.page.getByTestId('search-none').waitFor({ timeout: T })
    await p.page.getByTestId('search-after').fill('')
    await expectSoon(async () => (await results().count()) === 2, 'no date range')
  })
})
