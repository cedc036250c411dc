// End-to-end: rooms and the directory, the chat menu (archive, pin, mute), contacts and
// aliases, roles, and the audit log, with two people against a real `hubbub serve`.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { launch, person, startServer } from './harness.mjs'
import { T, conv, expectSoon, messageText, send, shot, signup, title } from './steps.mjs'

let server, browser, alice, bob

async function listOrder(p) {
  return p.page.getByTestId('conversation-list').locator('button.item').evaluateAll((els) => els.map((e) => e.dataset.testid.slice(5)))
}
async function more(p, item) {
  await p.page.getByTestId('list-more').click()
  await p.page.getByTestId(item).click()
}
/** Opens a list item's context menu (right click) and picks an entry. */
async function itemMenu(p, name, item) {
  await conv(p, name).click({ button: 'right' })
  await p.page.getByTestId('chat-menu').getByTestId(item).click()
}

describe('Rooms, chat settings, contacts and the audit log', { concurrency: false }, () => {
  before(async () => {
    server = await startServer()
    browser = await launch()
    alice = await person(browser, server.base, 'alice')
    bob = await person(browser, server.base, 'bob')
  })
  after(async () => {
    for (const p of [alice, bob]) {
      if (p?.problems.length) console.log(`${p.name} page problems:\n  ${p.problems.join('\n  ')}`)
    }
    await browser?.close()
    if (process.env.HUBBUB_E2E_LOGS) console.log(server?.logs())
    await server?.stop()
  })

  test('two people sign up', async () => {
    await signup(alice, 'alice', 'Alice Liddell')
    await signup(bob, 'bob', 'Bob Builder')
  })

  test('a public room with a password: created, found in the directory, joined after a wrong password', async () => {
    await more(alice, 'new-room')
    await alice.page.getByTestId('room-name').fill('Chess club')
    await alice.page.getByTestId('room-topic-input').fill('Openings, endgames and Friday blitz')
    await alice.page.getByTestId('room-public').check()
    await alice.page.getByTestId('room-password-new').fill('knight42')
    await shot(alice, 'room-new-desktop-light')
    await alice.page.getByTestId('room-create').click()
    await title(alice, 'Chess club')
    await expectSoon(async () => (await alice.page.getByTestId('chat-subtitle').textContent()) === 'Openings, endgames and Friday blitz', 'the topic in the header')
    await send(alice, 'Welcome to the chess club!')
    await messageText(alice, 'Welcome to the chess club!').waitFor({ timeout: T })

    await more(bob, 'find-rooms')
    await bob.page.getByTestId('room-search').fill('chess')
    const room = bob.page.getByTestId('room-Chess club')
    await room.waitFor({ timeout: T })
    await shot(bob, 'room-directory-desktop-light')
    await room.getByTestId('room-join').click()
    await room.getByTestId('room-password').fill('bishop')
    await room.getByTestId('room-password-submit').click()
    await expectSoon(async () => /wrong password/i.test(await room.getByTestId('join-error').textContent()), 'wrong password shown')
    await shot(bob, 'room-wrong-password-desktop-light')
    await room.getByTestId('room-password').fill('knight42')
    await room.getByTestId('room-password-submit').click()
    await title(bob, 'Chess club')
    // A newcomer's history starts at the join (the server's membership window); what comes
    // after arrives live.
    await send(alice, 'Bob is here, welcome!')
    await messageText(bob, 'Bob is here, welcome!').waitFor({ timeout: T })
    await send(bob, 'Glad to be here')
    await messageText(alice, 'Glad to be here').waitFor({ timeout: T })
    await shot(bob, 'room-chat-desktop-light')
  })

  test('roles in the room info: the owner makes a member an admin', async () => {
    await alice.page.getByTestId('group-info').click()
    const pick = alice.page.getByTestId('role-bob')
    await pick.waitFor({ timeout: T })
    assert.equal(await pick.inputValue(), 'member')
    await pick.selectOption('admin')
    await expectSoon(async () => (await pick.inputValue()) === 'admin', 'bob is an admin')
    await alice.page.getByTestId('room-topic').waitFor({ timeout: T })
    await shot(alice, 'room-info-roles-desktop-light')
    await alice.page.keyboard.press('Escape')
    // Bob, now an admin, may edit the topic from the chat menu.
    await bob.page.getByTestId('chat-menu-button').click()
    await bob.page.getByTestId('menu-topic').waitFor({ timeout: T })
    await shot(bob, 'chat-menu-desktop-light')
    await bob.page.keyboard.press('Escape')
  })

  test('archive a chat; a new message brings it back', async () => {
    await alice.page.getByTestId('new-chat').click()
    await alice.page.getByTestId('user-search').fill('bo')
    await alice.page.getByTestId('user-bob').click()
    await title(alice, 'Bob Builder')
    await send(alice, 'Are you coming on Friday?')
    await conv(bob, 'Alice Liddell').waitFor({ timeout: T })
    await itemMenu(bob, 'Alice Liddell', 'menu-archive')
    await expectSoon(async () => (await conv(bob, 'Alice Liddell').count()) === 0, 'archived chat leaves the list')
    await bob.page.getByTestId('archived-open').click()
    await conv(bob, 'Alice Liddell').waitFor({ timeout: T })
    await shot(bob, 'archived-desktop-light')
    await bob.page.getByTestId('archived-back').click()
    await send(alice, 'Hello? Friday?')
    await conv(bob, 'Alice Liddell').waitFor({ timeout: T })
    await expectSoon(async () => (await bob.page.getByTestId('archived-open').count()) === 0, 'nothing archived any more')
  })

  test('pinned chats come first; mute shows in the list', async () => {
    // Alice's direct chat is the newest; pinning the room puts it first.
    await expectSoon(async () => (await listOrder(bob))[0] === 'Alice Liddell', 'newest first')
    await itemMenu(bob, 'Chess club', 'menu-pin')
    await expectSoon(async () => JSON.stringify(await listOrder(bob)) === JSON.stringify(['Chess club', 'Alice Liddell']), 'pinned room first')
    await conv(bob, 'Chess club').getByTestId('pinned').waitFor({ timeout: T })
    await itemMenu(bob, 'Chess club', 'menu-mute')
    await bob.page.getByTestId('mute-8 hours').click()
    await conv(bob, 'Chess club').getByTestId('muted').waitFor({ timeout: T })
    // A new message in the direct chat does not move it above the pinned room.
    await send(alice, 'See you there')
    await messageText(alice, 'See you there').waitFor({ timeout: T })
    await bob.page.waitForTimeout(300)
    assert.deepEqual(await listOrder(bob), ['Chess club', 'Alice Liddell'])
    await shot(bob, 'list-pinned-muted-desktop-light')
    await itemMenu(bob, 'Chess club', 'menu-pin')
    await expectSoon(async () => (await listOrder(bob))[0] === 'Alice Liddell', 'unpinned room back in activity order')
  })

  test('an alias for a contact is shown in the list; block and unblock', async () => {
    await conv(bob, 'Alice Liddell').click()
    await title(bob, 'Alice Liddell')
    await bob.page.getByTestId('person-info').click()
    await bob.page.getByTestId('alias-edit').click()
    await bob.page.getByTestId('alias-input').fill('Ally')
    await bob.page.getByTestId('alias-save').click()
    await expectSoon(async () => (await bob.page.getByTestId('alias-display').textContent()) === 'Ally', 'alias saved')
    await shot(bob, 'contact-info-desktop-light')
    await bob.page.getByTestId('block').click()
    await bob.page.getByTestId('confirm').click()
    await bob.page.getByTestId('unblock').waitFor({ timeout: T })
    await bob.page.getByTestId('unblock').click()
    await bob.page.getByTestId('block').waitFor({ timeout: T })
    await bob.page.keyboard.press('Escape')
    await conv(bob, 'Ally').waitFor({ timeout: T })
    await title(bob, 'Ally')
    await more(bob, 'open-contacts')
    await bob.page.getByTestId('contact-alice').waitFor({ timeout: T })
    await shot(bob, 'contacts-desktop-light')
    await bob.page.keyboard.press('Escape')
    // The alias survives a reload (the server names the direct chat with it).
    await bob.page.reload()
    await conv(bob, 'Ally').waitFor({ timeout: T })
  })

  test('the audit log: refused to a non-administrator, a table for an administrator', async () => {
    await bob.page.goto('/admin/audit')
    await bob.page.getByTestId('audit-forbidden').waitFor({ timeout: T })
    await shot(bob, 'audit-forbidden-desktop-light')
    execFileSync(server.bin, ['admin', 'grant', 'alice', '--data-dir', server.dataDir], { stdio: 'pipe' })
    await alice.page.goto('/admin/audit')
    await alice.page.getByTestId('audit-table').waitFor({ timeout: T })
    await alice.page.getByTestId('audit-member.role_changed').first().waitFor({ timeout: T })
    await alice.page.getByTestId('audit-action').selectOption('admin.granted')
    await expectSoon(
      async () => (await alice.page.getByTestId('audit-member.role_changed').count()) === 0 && (await alice.page.getByTestId('audit-admin.granted').count()) === 1,
      'filtered to admin grants',
    )
    await alice.page.getByTestId('audit-action').selectOption('')
    await alice.page.getByTestId('audit-member.role_changed').first().waitFor({ timeout: T })
    await shot(alice, 'audit-desktop-light')
    await alice.page.goto('/')
    await alice.page.getByTestId('conversation-list').waitFor({ timeout: T })
  })

  test('the owner deletes the room for everyone', async () => {
    await conv(alice, 'Chess club').click()
    await title(alice, 'Chess club')
    await alice.page.getByTestId('chat-menu-button').click()
    await alice.page.getByTestId('menu-delete').click()
    await alice.page.getByTestId('confirm').click()
    await expectSoon(async () => (await conv(alice, 'Chess club').count()) === 0, 'room gone for alice')
    await expectSoon(async () => (await conv(bob, 'Chess club').count()) === 0, 'room gone for bob')
  })

  test('no page errors', () => {
    for (const p of [alice, bob]) {
      // Refused requests (401 before signing up, 403 on a wrong password or the audit log) are expected.
      const bad = p.problems.filter((x) => !/Failed to load resource|WebSocket connection/.test(x))
      assert.deepEqual(bad, [], `${p.name} had page problems`)
    }
  })
})
