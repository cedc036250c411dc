// End-to-end (issue 12): mentions, pins and edit history in real Chromium against a real
// `hubbub serve`. Bob types `@al`, picks Alice from the suggestions with the keyboard and
// sends; Alice sees the `@` badge in her list and the mention marked as hers; the Mentions
// view opens the chat at the message; a pin shows in the other side's pinned bar; "edited"
// opens the earlier versions.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { launch, person, startServer } from './harness.mjs'
import { T, conv, expectSoon, messageText, send, signup, title } from './steps.mjs'

let server, browser, alice, bob, carol

const message = (p, text) => p.page.getByTestId('message').filter({ has: messageText(p, text) })
async function openConv(p, name) {
  await conv(p, name).click()
  await title(p, name)
}
async function menu(p, text, item) {
  const m = message(p, text).last()
  await m.hover()
  await m.getByTestId('message-menu').click()
  await p.page.getByRole('menuitem', { name: item, exact: true }).click()
}

describe('Mentions, pins and edit history', { concurrency: false }, () => {
  before(async () => {
    server = await startServer()
    browser = await launch()
    alice = await person(browser, server.base, 'alice')
    bob = await person(browser, server.base, 'bob')
    carol = await person(browser, server.base, 'carol')
    await signup(alice, 'alice', 'Alice Liddell')
    await signup(bob, 'bob', 'Bob Builder')
    await signup(carol, 'carol', 'Carol Danvers')
    await alice.page.getByTestId('new-group').click()
    await alice.page.getByTestId('group-name').fill('Crew')
    await alice.page.getByTestId('user-search').fill('b')
    await alice.page.getByTestId('user-bob').click()
    await alice.page.getByTestId('user-search').fill('car')
    await alice.page.getByTestId('user-carol').click()
    await alice.page.getByTestId('create-group').click()
    await title(alice, 'Crew')
    // Alice leaves the chat, so what arrives is unread for her.
    await alice.page.goto('/')
    await alice.page.getByTestId('conversation-list').waitFor({ timeout: T })
  })
  after(async () => {
    for (const p of [alice, bob, carol]) {
      if (p?.problems.length) console.log(`${p.name} page problems:\n  ${p.problems.join('\n  ')}`)
    }
    await browser?.close()
    if (process.env.HUBBUB_E2E_LOGS) console.log(server?.logs())
    await server?.stop()
  })

  test('Bob types @al, picks Alice with the keyboard and sends', async () => {
    await openConv(bob, 'Crew')
    const box = bob.page.getByTestId('composer-input')
    await box.pressSequentially('look @al')
    const options = bob.page.getByTestId('mention-option')
    await expectSoon(async () => (await options.count()) >= 2, 'alice and @all offered')
    assert.deepEqual(await options.locator('.mu').allTextContents(), ['@alice', '@all'])
    await box.press('ArrowDown')
    assert.equal(await options.nth(1).getAttribute('aria-selected'), 'true', '↓ moves down')
    await box.press('ArrowUp')
    await box.press('Enter')
    assert.equal(await box.inputValue(), 'look @alice ', 'Enter inserts the username and a space')
    assert.equal(await bob.page.getByTestId('mention-list').count(), 0, 'the suggestions close')
    await box.pressSequentially('here')
    await box.press('Escape')
    await box.press('Enter')
    await messageText(bob, 'look @alice here').waitFor({ timeout: T })
  })

  test('Alice sees the @ badge and the mention marked as hers; reading clears the badge', async () => {
    const badge = conv(alice, 'Crew').getByTestId('mention-badge')
    await badge.waitFor({ timeout: T })
    assert.equal(await conv(carol, 'Crew').getByTestId('mention-badge').count(), 0, 'not carol’s')
    await openConv(alice, 'Crew')
    const mention = message(alice, 'look @alice here').getByTestId('mention')
    await mention.waitFor({ timeout: T })
    assert.equal(await mention.textContent(), '@alice')
    assert.match(await mention.getAttribute('class'), /\bmine\b/)
    await expectSoon(async () => (await badge.count()) === 0, 'the badge clears once read')
    // Carol sees the same mention, not as hers.
    await openConv(carol, 'Crew')
    const hers = message(carol, 'look @alice here').getByTestId('mention')
    await hers.waitFor({ timeout: T })
    assert.doesNotMatch(await hers.getAttribute('class'), /\bmine\b/)
  })

  test('the Mentions view lists it and opens the chat at the message', async () => {
    await alice.page.goto('/')
    await alice.page.getByTestId('open-mentions').click()
    const item = alice.page.getByTestId('mention-item')
    await item.filter({ hasText: 'look @alice here' }).waitFor({ timeout: T })
    await item.first().click()
    await title(alice, 'Crew')
    await messageText(alice, 'look @alice here').waitFor({ timeout: T })
  })

  test('Alice pins a message and Bob sees the pinned bar; a click jumps to it', async () => {
    await send(bob, 'the plan is on the wiki')
    await messageText(alice, 'the plan is on the wiki').waitFor({ timeout: T })
    await menu(alice, 'the plan is on the wiki', 'Pin')
    const bar = bob.page.getByTestId('pinned-bar')
    await bar.waitFor({ timeout: T })
    await expectSoon(async () => /the plan is on the wiki/.test(await bob.page.getByTestId('pinned-text').textContent()), 'the pin in the bar')
    await bar.click()
    // Bob, a member of a group, may not pin: the menu does not offer it.
    const m = message(bob, 'the plan is on the wiki').last()
    await m.hover()
    await m.getByTestId('message-menu').click()
    assert.equal(await bob.page.getByTestId('menu-pin').count(), 0)
    await bob.page.keyboard.press('Escape')
    await menu(alice, 'the plan is on the wiki', 'Unpin')
    await expectSoon(async () => (await bar.count()) === 0, 'the bar goes with the last pin')
  })

  test('an edited message opens its earlier versions', async () => {
    await send(carol, 'meet at 5')
    await messageText(carol, 'meet at 5').waitFor({ timeout: T })
    await menu(carol, 'meet at 5', 'Edit')
    const box = carol.page.getByTestId('composer-input')
    await box.fill('meet at 6')
    await box.press('Enter')
    const edited = message(alice, 'meet at 6').getByTestId('edited')
    await edited.waitFor({ timeout: T })
    await edited.click()
    const versions = alice.page.getByTestId('history-version')
    await versions.first().waitFor({ timeout: T })
    assert.deepEqual(await versions.locator('blockquote').allTextContents(), ['meet at 5'])
    assert.equal(await alice.page.getByTestId('history-current').locator('blockquote').textContent(), 'meet at 6')
  })
})
