// The steps the browser tests share: waiting for a condition, signing up, finding a chat in
// the list, sending, and taking a screenshot for docs/screenshots.
import fs from 'node:fs'
import path from 'node:path'
import { shots } from './harness.mjs'

/** How long a step waits for the page by default. */
export const T = 15000

/** Polls `fn` until it returns something other than false/undefined/null, or throws after `timeout`. */
export async function expectSoon(fn, what, timeout = T) {
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

/** Signs a new person up through the sign-up form and waits for their list. */
export async function signup(p, username, displayName) {
  await p.page.goto('/signup')
  await p.page.locator('#username').fill(username)
  await p.page.locator('#display_name').fill(displayName)
  await p.page.locator('#password').fill('correct horse battery')
  await p.page.getByRole('button', { name: 'Sign up' }).click()
  await p.page.getByTestId('conversation-list').waitFor({ timeout: T })
}

/** A conversation's row in the list, by the name it shows. */
export const conv = (p, name) => p.page.getByTestId('conversation-list').getByTestId(`conv-${name}`)
/** Waits until the open chat's header shows `name`. */
export const title = (p, name) => p.page.getByTestId('chat-title').filter({ hasText: name }).waitFor({ timeout: T })
export const messageText = (p, text) => p.page.getByTestId('message-text').filter({ hasText: text })

/** Types a message into the composer and sends it with Enter. */
export async function send(p, text) {
  const box = p.page.getByTestId('composer-input')
  await box.fill(text)
  await box.press('Enter')
}

/** Saves a screenshot to docs/screenshots/NAME.png (with `dark`, in the dark scheme). */
export async function shot(p, name, dark = false) {
  fs.mkdirSync(shots, { recursive: true })
  if (dark) await p.page.emulateMedia({ colorScheme: 'dark' })
  await p.page.mouse.move(1, 1)
  await p.page.waitForTimeout(250)
  await p.page.screenshot({ path: path.join(shots, `${name}.png`) })
  if (dark) await p.page.emulateMedia({ colorScheme: 'light' })
}
