// End-to-end (issue 17): what makes Hubbub pleasant every day, in real Chromium against a
// real `hubbub serve`: presence that survives group changes, group events in the timeline
// (live and after a reload), the keyboard (composer focus, ↑ to edit, Ctrl+K, list arrows,
// dialogs that keep Tab inside), drafts across reloads, the theme switch, people in search.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { launch, person, startServer } from './harness.mjs'
import { T, conv, expectSoon, messageText, send, signup, title } from './steps.mjs'

let server, browser, alice, bob, carol

const systemLine = (p, text) => p.page.getByTestId('system-line').filter({ hasText: text })
const focusedTestId = (p) => p.page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? null)
async function openConv(p, name) {
  await conv(p, name).click()
  await title(p, name)
}
const online = (p, name) => conv(p, name).locator('[aria-label="online"]').count()

describe('Daily use: presence, group events, keyboard, drafts, theme', { concurrency: false }, () => {
  before(async () => {
    server = await startServer()
    browser = await launch()
    alice = await person(browser, server.base, 'alice')
    bob = await person(browser, server.base, 'bob')
    carol = await person(browser, server.base, 'carol')
  })
  after(async () => {
    for (const p of [alice, bob, carol]) {
      if (p?.problems.length) console.log(`${p.name} page problems:\n  ${p.problems.join('\n  ')}`)
    }
    await browser?.close()
    if (process.env.HUBBUB_E2E_LOGS) console.log(server?.logs())
    await server?.stop()
  })

  test('sign-up shows the username as it will be stored', async () => {
    await alice.page.goto('/signup')
    await alice.page.locator('#username').fill('Alice')
    await expectSoon(async () => /alice/.test(await alice.page.getByTestId('username-normalized').textContent()), 'the normalised username')
    await signup(alice, 'alice', 'Alice Liddell')
    await signup(bob, 'bob', 'Bob Builder')
    await signup(carol, 'carol', 'Carol Danvers')
  })

  test('the search box finds people and starts a direct chat; the composer has focus', async () => {
    await alice.page.getByTestId('list-search').fill('bob')
    await alice.page.getByTestId('person-bob').click()
    await title(alice, 'Bob Builder')
    await expectSoon(async () => (await focusedTestId(alice)) === 'composer-input', 'the composer has focus')
    await alice.page.getByTestId('list-search').fill('')
    await send(alice, 'Hi Bob')
    await conv(bob, 'Alice Liddell').waitFor({ timeout: T })
    await expectSoon(async () => (await online(alice, 'Bob Builder')) === 1, 'bob online in alice’s list')
  })

  test('a group change keeps everyone’s online dot (defect 1); the events show in the timeline', async () => {
    await alice.page.getByTestId('new-group').click()
    await alice.page.getByTestId('group-name').fill('Crew')
    await alice.page.getByTestId('user-search').fill('b')
    await alice.page.getByTestId('user-bob').click()
    await alice.page.getByTestId('user-search').fill('car')
    await alice.page.getByTestId('user-carol').click()
    await alice.page.getByTestId('create-group').click()
    await title(alice, 'Crew')
    await conv(carol, 'Crew').click()
    await title(carol, 'Crew')
    await send(carol, 'Carol was here')
    await messageText(alice, 'Carol was here').waitFor({ timeout: T })
    await expectSoon(async () => (await online(bob, 'Alice Liddell')) === 1, 'alice online in bob’s list')

    // Rename: the field takes focus.
    await alice.page.getByTestId('group-info').click()
    await alice.page.getByTestId('rename').click()
    await expectSoon(async () => (await focusedTestId(alice)) === 'rename-input', 'the rename field has focus')
    await alice.page.getByTestId('rename-input').fill('Crew 2')
    await alice.page.getByTestId('rename-input').press('Enter')
    await alice.page.getByTestId('group-name-display').filter({ hasText: 'Crew 2' }).waitFor({ timeout: T })
    await conv(bob, 'Crew 2').waitFor({ timeout: T })
    // Bob's list still shows alice online, alice's list still shows bob online.
    await bob.page.waitForTimeout(500)
    assert.equal(await online(bob, 'Alice Liddell'), 1, 'alice’s dot survives the rename in bob’s list')
    assert.equal(await online(alice, 'Bob Builder'), 1, 'bob’s dot survives the rename in alice’s list')

    // Remove carol; the line names her, and her earlier message keeps her name.
    await alice.page.getByRole('button', { name: 'Remove Carol Danvers' }).click()
    await alice.page.getByTestId('confirm').click()
    await expectSoon(async () => !/Carol/.test(await alice.page.getByTestId('members').textContent()), 'carol gone from the members')
    await alice.page.keyboard.press('Escape')
    // The lines say who made the change: me, in my own timeline.
    await systemLine(alice, 'You renamed the group to “Crew 2”').waitFor({ timeout: T })
    await systemLine(alice, 'You removed Carol Danvers').waitFor({ timeout: T })
    assert.equal(await online(alice, 'Bob Builder'), 1, 'bob’s dot survives the removal')

    await openConv(bob, 'Crew 2')
    await systemLine(bob, 'Alice Liddell renamed the group to “Crew 2”').waitFor({ timeout: T })
    await systemLine(bob, 'Alice Liddell removed Carol Danvers').waitFor({ timeout: T })
    await expectSoon(async () => /Carol Danvers/.test(await bob.page.getByTestId('messages').textContent()), 'carol’s name on her message')
    // After a reload the lines come back from the event log.
    await bob.page.reload()
    await title(bob, 'Crew 2')
    await systemLine(bob, 'Alice Liddell renamed the group to “Crew 2”').waitFor({ timeout: T })
    await systemLine(bob, 'Alice Liddell removed Carol Danvers').waitFor({ timeout: T })
    assert.ok(!/Someone/.test(await bob.page.getByTestId('messages').textContent()), 'no “Someone” for a former member')
  })

  test('keyboard: ↑ edits my last message, Ctrl+K switches chats, arrows move in the list, Tab stays in dialogs', async () => {
    await openConv(alice, 'Bob Builder')
    await send(alice, 'a typo mesage')
    await messageText(alice, 'a typo mesage').waitFor({ timeout: T })
    await alice.page.getByTestId('composer-input').press('ArrowUp')
    await alice.page.getByTestId('composer-context').filter({ hasText: 'Edit message' }).waitFor({ timeout: T })
    assert.equal(await alice.page.getByTestId('composer-input').inputValue(), 'a typo mesage')
    await alice.page.getByTestId('composer-input').fill('a typo message')
    await alice.page.getByTestId('composer-input').press('Enter')
    await messageText(alice, 'a typo message').waitFor({ timeout: T })

    await alice.page.keyboard.press('Control+k')
    await alice.page.getByTestId('quick-switcher-input').waitFor({ timeout: T })
    await expectSoon(async () => (await focusedTestId(alice)) === 'quick-switcher-input', 'the switcher’s field has focus')
    await alice.page.keyboard.type('crew')
    await alice.page.keyboard.press('Enter')
    await title(alice, 'Crew 2')

    await alice.page.getByTestId('conversation-list').locator('[data-list-item]').first().focus()
    const first = await focusedTestId(alice)
    await alice.page.keyboard.press('ArrowDown')
    const second = await focusedTestId(alice)
    assert.ok(second?.startsWith('conv-') && second !== first, `ArrowDown moved from ${first} to ${second}`)
    await alice.page.keyboard.press('ArrowUp')
    assert.equal(await focusedTestId(alice), first)

    await alice.page.getByTestId('open-profile').click()
    await alice.page.locator('.modal').waitFor({ timeout: T })
    for (let i = 0; i < 25; i++) {
      await alice.page.keyboard.press(i % 5 === 4 ? 'Shift+Tab' : 'Tab')
      const inside = await alice.page.evaluate(() => !!document.activeElement?.closest('.modal'))
      assert.ok(inside, `focus left the dialog after ${i + 1} presses`)
    }
    await alice.page.keyboard.press('Escape')
  })

  test('drafts stay per chat across a reload and are marked in the list', async () => {
    await openConv(alice, 'Bob Builder')
    await alice.page.getByTestId('composer-input').fill('unfinished thought')
    await openConv(alice, 'Crew 2')
    await expectSoon(async () => /Draft:\s*unfinished thought/.test(await conv(alice, 'Bob Builder').textContent()), 'the draft in the list')
    await alice.page.reload()
    await conv(alice, 'Bob Builder').waitFor({ timeout: T })
    await expectSoon(async () => /Draft:\s*unfinished thought/.test(await conv(alice, 'Bob Builder').textContent()), 'the draft after a reload')
    await openConv(alice, 'Bob Builder')
    assert.equal(await alice.page.getByTestId('composer-input').inputValue(), 'unfinished thought')
    // Sent: the draft is gone.
    await alice.page.getByTestId('composer-input').press('Enter')
    await messageText(alice, 'unfinished thought').waitFor({ timeout: T })
    await openConv(alice, 'Crew 2')
    assert.ok(!/Draft:/.test(await conv(alice, 'Bob Builder').textContent()))
  })

  test('the theme switch: dark, kept across a reload, then the system’s', async () => {
    const bg = () => alice.page.evaluate(() => getComputedStyle(document.body).backgroundColor)
    const light = await bg()
    await alice.page.getByTestId('open-profile').click()
    await alice.page.getByTestId('theme-dark').check()
    await expectSoon(async () => (await alice.page.evaluate(() => document.documentElement.dataset.theme)) === 'dark', 'data-theme dark')
    const dark = await bg()
    assert.notEqual(dark, light)
    await alice.page.keyboard.press('Escape')
    await alice.page.reload()
    await conv(alice, 'Crew 2').waitFor({ timeout: T })
    assert.equal(await bg(), dark, 'dark after a reload')
    await alice.page.getByTestId('open-profile').click()
    assert.equal(await alice.page.getByTestId('theme-dark').isChecked(), true)
    await alice.page.getByTestId('theme-system').check()
    await expectSoon(async () => (await bg()) === light, 'back to the (light) system theme')
    await alice.page.keyboard.press('Escape')
  })
})
