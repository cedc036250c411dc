// A measurement, not a test (run by hand: `node e2e/perf-list.mjs`, with HUBBUB_BIN set as
// for the e2e tests): the first render of the conversation list for someone in 50 spaces
// and 500 conversations (the 50 spaces' general channels, 450 groups, each with a message),
// in real Chromium against a real server. Prints one JSON line per run.
import { launch, person, startServer } from './harness.mjs'
import { pool, register } from './seed.mjs'

const SPACES = Number(process.env.SPACES ?? 50)
const GROUPS = Number(process.env.GROUPS ?? 450)
const RUNS = Number(process.env.RUNS ?? 5)

async function seed(base) {
  const alice = await register(base, 'alice', 'Alice')
  const bob = await register(base, 'bob', 'Bob')
  await pool(SPACES, SPACES, (i) => alice.call('POST', '/api/spaces', { name: `Space ${i}`, member_ids: [bob.user.id] }))
  await pool(GROUPS, 25, async (i) => {
    const g = await alice.call('POST', '/api/conversations', { name: `Group ${i}`, member_ids: [bob.user.id] })
    await bob.call('POST', `/api/conversations/${g.id}/messages`, { text: `hello ${i}`, client_id: crypto.randomUUID() })
  })
  return { password: alice.password }
}

const server = await startServer()
const browser = await launch()
try {
  const { password } = await seed(server.base)
  const p = await person(browser, server.base, 'alice')
  await p.page.goto('/login')
  await p.page.locator('#username').fill('alice')
  await p.page.locator('#password').fill(password)
  await p.page.getByRole('button', { name: 'Log in' }).click()
  await p.page.getByTestId('conversation-list').locator('button.item').first().waitFor({ timeout: 30000 })
  // Each run: a fresh load of `/`, timed in the page from navigation start to the moment the
  // list shows its rows and the rail its 50 spaces (a MutationObserver set up before any script).
  await p.page.addInitScript(`
    window.__marks = {}
    new MutationObserver(() => {
      const rows = document.querySelectorAll('[data-testid=conversation-list] button.item').length
      const rail = document.querySelectorAll('nav[aria-label=Spaces] button').length
      if (rows && !window.__marks.rows) window.__marks.rows = performance.now()
      if (rail >= ${SPACES} && !window.__marks.rail) window.__marks.rail = performance.now()
    }).observe(document, { childList: true, subtree: true })
  `)
  for (let run = 0; run < RUNS; run++) {
    await p.page.goto('/')
    await p.page.waitForFunction(() => window.__marks?.rows && window.__marks?.rail, null, { timeout: 30000 })
    const m = await p.page.evaluate(() => ({
      rows_ms: Math.round(window.__marks.rows),
      rail_ms: Math.round(window.__marks.rail),
      rows: document.querySelectorAll('[data-testid=conversation-list] button.item').length,
      dom: document.getElementsByTagName('*').length,
      // When the list's answer had arrived (the rest of rows_ms is the app's own work).
      conversations_response_end_ms: Math.round(
        performance.getEntriesByType('resource').find((e) => e.name.endsWith('/api/conversations'))?.responseEnd ?? -1,
      ),
    }))
    console.log(JSON.stringify({ run, spaces: SPACES, conversations: SPACES + GROUPS, ...m }))
  }
} finally {
  await browser.close()
  await server.stop()
}
