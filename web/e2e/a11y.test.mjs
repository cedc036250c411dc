// Accessibility: axe-core (pinned in devDependencies) on every main screen, light and dark
// (Chromium's prefers-color-scheme emulation). Fails on any violation of impact serious or
// critical, printing rule id, impact and targets.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import { createRequire } from 'node:module'
import { launch, startServer } from './harness.mjs'
import { register } from './seed.mjs'

const T = 15000
const axeSource = fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8')
let server, browser, alice, bob
const contexts = []

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true }

async function context(device = { viewport: { width: 1280, height: 800 } }) {
  // The app's CSP (script-src 'self') would refuse the injected axe script.
  const c = await browser.newContext({ ...device, baseURL: server.base, colorScheme: 'light', bypassCSP: true })
  contexts.push(c)
  return c.newPage()
}

async function login(page) {
  await page.goto('/login')
  await page.locator('#username').fill('alice')
  await page.locator('#password').fill(alice.password)
  await page.getByRole('button', { name: 'Log in' }).click()
  await page.getByTestId('conversation-list').waitFor({ timeout: T })
}

/** Runs axe on the page as it is; returns the serious and critical violations, described. */
async function audit(page) {
  return (await violations(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical')
}

/** Every violation axe finds on the page as it is, of any impact, described. */
async function violations(page) {
  await page.mouse.move(1, 1)
  await page.waitForTimeout(300) // transitions settle
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.addScriptTag({ content: axeSource })
  const violations = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ['violations'] })
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.map((n) => `${n.target.join(' ')}${n.failureSummary ? ` (${n.failureSummary.split('\n').slice(1).join(' ').trim()})` : ''}`) }))
  })
  return violations
}

function report(screen, scheme, found) {
  const lines = found.flatMap((v) => [`${screen} (${scheme}): ${v.id} [${v.impact}] ${v.help}`, ...v.targets.map((t) => `    ${t}`)])
  if (lines.length) console.log(lines.join('\n'))
  return lines
}

const screens = {
  login: async (page) => {
    await page.goto('/login')
    await page.getByRole('button', { name: 'Log in' }).waitFor()
  },
  'sign-up': async (page) => {
    await page.goto('/signup')
    await page.getByRole('button', { name: 'Sign up' }).waitFor()
  },
  'conversation list': async (page) => {
    await login(page)
    await page.getByTestId('conv-Team').waitFor({ timeout: T })
  },
  chat: async (page) => {
    await login(page)
    await page.getByTestId('conv-Team').click()
    await page.getByTestId('message-text').filter({ hasText: 'welcome to the team' }).waitFor({ timeout: T })
  },
  'group info': async (page) => {
    await login(page)
    await page.getByTestId('conv-Team').click()
    await page.getByTestId('group-info').click()
    await page.getByRole('dialog').waitFor({ timeout: T })
  },
  'chat menu, notification levels': async (page) => {
    await login(page)
    await page.getByTestId('conv-Team').click()
    await page.getByTestId('chat-menu-button').click()
    await page.getByTestId('menu-notify').click()
    await page.getByTestId('notify-mentions').waitFor({ timeout: T })
  },
  'settings, notifications': async (page) => {
    await login(page)
    await page.getByTestId('open-profile').click()
    await page.getByTestId('notification-settings').waitFor({ timeout: T })
  },
  'notifications banner': async (page) => {
    await login(page)
    // As after a first message sent from this device (the banner's only trigger).
    await page.evaluate(() => localStorage.setItem('hubbub.notify.sent', '1'))
    await page.reload()
    await page.getByTestId('notify-banner').waitFor({ timeout: T })
  },
}

describe('accessibility (axe-core)', { concurrency: false }, () => {
  before(async () => {
    server = await startServer()
    browser = await launch()
    alice = await register(server.base, 'alice', 'Alice Liddell')
    bob = await register(server.base, 'bob', 'Bob Builder')
    const g = await alice.call('POST', '/api/conversations', { name: 'Team', member_ids: [bob.user.id] })
    await alice.call('POST', `/api/conversations/${g.id}/messages`, { text: 'welcome to the team', client_id: crypto.randomUUID() })
    await bob.call('POST', `/api/conversations/${g.id}/messages`, { text: 'thanks, glad to be here', client_id: crypto.randomUUID() })
    const d = await bob.call('POST', `/api/users/${alice.user.id}/conversation`)
    await bob.call('POST', `/api/conversations/${d.id}/messages`, { text: 'unread hello', client_id: crypto.randomUUID() })
  })

  after(async () => {
    for (const c of contexts) await c.close().catch(() => {})
    await browser?.close()
    await server?.stop()
  })

  // A phone shows the list alone, without the main pane and its heading. The missing h1
  // is only "moderate" for axe, so it is checked by name, with the serious and critical.
  for (const scheme of ['light', 'dark']) {
    test(`conversation list on a phone, ${scheme}: an h1, no serious or critical violations`, async () => {
      const page = await context(PHONE)
      await page.emulateMedia({ colorScheme: scheme })
      await screens['conversation list'](page)
      const found = await violations(page)
      const wanted = found.filter((v) => v.impact === 'serious' || v.impact === 'critical' || v.id === 'page-has-heading-one')
      assert.deepEqual(report('conversation list on a phone', scheme, wanted), [])
      assert.equal(await page.getByRole('heading', { level: 1 }).count(), 1, 'one h1 on the list screen')
    })
  }

  for (const [screen, go] of Object.entries(screens)) {
    for (const scheme of ['light', 'dark']) {
      test(`${screen}, ${scheme}: no serious or critical violations`, async () => {
        const page = await context()
        await page.emulateMedia({ colorScheme: scheme })
        await go(page)
        const lines = report(screen, scheme, await audit(page))
        assert.deepEqual(lines, [])
      })
    }
  }
})
