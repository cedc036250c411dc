// End-to-end: spaces. A space with two channels created in the browser, a second person
// finding it in their rail and joining a public channel from the channel browser (a private
// one stays hidden), roles in the space's member list, and the same screens on a phone.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { launch, person, startServer } from './harness.mjs'
import { T, conv, expectSoon, messageText, send, shot, signup, title } from './steps.mjs'

let server, browser, alice, bob, carol

async function listNames(p) {
  return p.page.getByTestId('conversation-list').locator('button.item').evaluateAll((els) => els.map((e) => e.dataset.testid.slice(5)))
}

describe('Spaces', { concurrency: false }, () => {
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

  test('three people sign up', async () => {
    await signup(alice, 'alice', 'Alice Liddell')
    await signup(bob, 'bob', 'Bob Builder')
    await signup(carol, 'carol', 'Carol Danvers')
  })

  test('Alice creates a space with Bob; it starts with general', async () => {
    await alice.page.getByTestId('new-space').click()
    await alice.page.getByTestId('space-name').fill('Chess club')
    await alice.page.getByTestId('space-description').fill('Friday blitz and Sunday classics')
    await alice.page.getByTestId('user-search').fill('bo')
    await alice.page.getByTestId('user-bob').click()
    await shot(alice, 'space-new-desktop-light')
    await alice.page.getByTestId('space-create').click()
    await alice.page.getByTestId('space-head').filter({ hasText: 'Chess club' }).waitFor({ timeout: T })
    await conv(alice, 'general').waitFor({ timeout: T })
    // Bob hears of it live: the space appears in his rail, its general channel in its list.
    await bob.page.getByTestId('space-Chess club').waitFor({ timeout: T })
    await bob.page.getByTestId('space-Chess club').click()
    await conv(bob, 'general').waitFor({ timeout: T })
    // The chats outside the space are not in the space's list, and the other way round.
    await bob.page.getByTestId('space-home').click()
    await expectSoon(async () => (await conv(bob, 'general').count()) === 0, 'general only inside the space')
  })

  test('Alice creates two channels, a public and a private one', async () => {
    await alice.page.getByTestId('space-new-channel').click()
    await alice.page.getByTestId('channel-name').fill('openings')
    await alice.page.getByTestId('channel-topic').fill('Sicilian or French?')
    await alice.page.getByTestId('channel-public').check()
    await alice.page.getByTestId('channel-create').click()
    await title(alice, 'openings')
    await send(alice, 'Which opening this week?')
    await messageText(alice, 'Which opening this week?').waitFor({ timeout: T })
    await alice.page.getByTestId('space-new-channel').click()
    await alice.page.getByTestId('channel-name').fill('organisers')
    await alice.page.getByTestId('channel-private').check()
    await alice.page.getByTestId('channel-create').click()
    await title(alice, 'organisers')
    await expectSoon(async () => (await listNames(alice)).sort().join() === 'general,openings,organisers', 'three channels in the list')
    await shot(alice, 'space-desktop-light')
    await shot(alice, 'space-desktop-dark', true)
  })

  test('Bob browses the channels and joins the public one; the private one stays hidden', async () => {
    await bob.page.getByTestId('space-Chess club').click()
    await bob.page.getByTestId('space-browse').click()
    const openings = bob.page.getByTestId('channel-openings')
    await openings.waitFor({ timeout: T })
    assert.equal(await bob.page.getByTestId('channel-organisers').count(), 0, 'a private channel is not listed to a plain member')
    await shot(bob, 'space-channels-desktop-light')
    await openings.getByTestId('channel-join-openings').click()
    await title(bob, 'openings')
    await conv(alice, 'openings').click()
    await title(alice, 'openings')
    await send(bob, 'The Sicilian, obviously')
    await messageText(alice, 'The Sicilian, obviously').waitFor({ timeout: T })
    await conv(bob, 'openings').waitFor({ timeout: T })
  })

  test('roles: Alice makes Bob an admin; he then sees the private channel and may join it', async () => {
    await alice.page.getByTestId('space-info').click()
    const role = alice.page.getByTestId('space-role-bob')
    await role.waitFor({ timeout: T })
    await role.selectOption('admin')
    await expectSoon(async () => (await role.inputValue()) === 'admin', 'bob is an admin of the space')
    await shot(alice, 'space-info-desktop-light')
    // Alice adds Carol (who is on a phone) to the space from the same screen.
    await alice.page.getByTestId('space-add-people').click()
    await alice.page.getByTestId('user-search').fill('car')
    await alice.page.getByTestId('user-carol').click()
    await alice.page.getByTestId('space-member-carol').waitFor({ timeout: T })
    await alice.page.keyboard.press('Escape')
    // Bob's role came by the server: the channel browser now lists the private channel.
    await bob.page.reload()
    await bob.page.getByTestId('space-browse').click()
    await bob.page.getByTestId('channel-organisers').getByTestId('channel-join-organisers').click()
    await title(bob, 'organisers')
  })

  test('on a phone: the rail, the space list and the channel browser', async () => {
    await carol.page.getByTestId('space-Chess club').waitFor({ timeout: T })
    await shot(carol, 'space-rail-phone-light')
    await carol.page.getByTestId('space-Chess club').click()
    await conv(carol, 'general').waitFor({ timeout: T })
    await carol.page.getByTestId('space-browse').click()
    await carol.page.getByTestId('channel-openings').waitFor({ timeout: T })
    await shot(carol, 'space-channels-phone-light')
    await carol.page.getByTestId('channel-join-openings').click()
    await title(carol, 'openings')
    await conv(bob, 'openings').click()
    await title(bob, 'openings')
    await send(carol, 'Hi from my phone')
    await messageText(bob, 'Hi from my phone').waitFor({ timeout: T })
    await shot(carol, 'space-chat-phone-dark', true)
    // Back to the list on a phone: the rail and the space's channels, with no horizontal scroll.
    await carol.page.goBack()
    await conv(carol, 'openings').waitFor({ timeout: T })
    const overflow = await carol.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)
    assert.ok(overflow <= 0, `the phone layout scrolls sideways by ${overflow}px`)
    await shot(carol, 'space-phone-light')
  })

  test('the owner deletes the space: it leaves every rail and its channels every list', async () => {
    await alice.page.getByTestId('space-info').click()
    await alice.page.getByTestId('space-delete').click()
    await alice.page.getByTestId('confirm').click()
    for (const p of [alice, bob, carol]) {
      await expectSoon(async () => (await p.page.getByTestId('space-Chess club').count()) === 0, `space gone for ${p.name}`)
    }
    await expectSoon(async () => (await conv(bob, 'openings').count()) === 0, 'channels gone for bob')
    await bob.page.getByTestId('space-home').waitFor({ timeout: T })
  })

  test('no page errors', () => {
    for (const p of [alice, bob, carol]) {
      const bad = p.problems.filter((x) => !/Failed to load resource|WebSocket connection/.test(x))
      assert.deepEqual(bad, [], `${p.name} had page problems`)
    }
  })
})
