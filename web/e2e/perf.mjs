// Issue 17: measures the long chat in real Chromium against a real server. Not part of
// `npm run e2e`; run by hand: `node e2e/perf.mjs` (HUBBUB_BIN as for the e2e tests;
// PERF_RUNS=5 by default). Prints a JSON summary and the Markdown rows for docs/PERFORMANCE.md.
//
// Seeds (through the API) a 1,100-message direct chat alice–bob, read by alice, and 200
// groups; then, as alice in one browser context (1280×800):
//  - list: a fresh load of `/` (navigation start → the first conversation row on screen,
//    taken by a MutationObserver installed before any script, as `performance.mark`);
//  - fetches: how many times `GET /api/conversations` goes out during that load;
//  - dom: elements inside the message list with the whole history loaded (scrolled to the top
//    until "This is the start" shows), and again back at the bottom;
//  - return: from another chat, click the long chat → its newest message is visible
//    (rAF polling inside the page), with the long tasks (PerformanceObserver) in between.
import { launch, startServer } from './harness.mjs'
import { register, seedGroups, seedLongChat } from './seed.mjs'

const RUNS = Number(process.env.PERF_RUNS ?? 5)
const COUNT = Number(process.env.PERF_MESSAGES ?? 1100)
const GROUPS = Number(process.env.PERF_GROUPS ?? 200)
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

const INIT = () => {
  window.__longTasks = []
  try {
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration })
    }).observe({ type: 'longtask', buffered: true })
  } catch {}
  const mo = new MutationObserver(() => {
    if (document.querySelector('[data-testid="conversation-list"] [data-testid^="conv-"]')) {
      performance.mark('perf:list-visible')
      mo.disconnect()
    }
  })
  mo.observe(document, { childList: true, subtree: true })
}

async function main() {
  process.env.HUBBUB_REGISTRATION_LIMIT ??= '0'
  const server = await startServer()
  const browser = await launch()
  try {
    const t = Date.now()
    const alice = await register(server.base, 'alice', 'Alice Liddell')
    const bob = await register(server.base, 'bob', 'Bob Builder')
    const { chat, messages } = await seedLongChat(alice, bob, COUNT)
    await alice.call('PUT', `/api/conversations/${chat.id}/read`, { seq: messages.at(-1).seq })
    await seedGroups(alice, [bob], GROUPS)
    const seedMs = Date.now() - t
    console.error(`seeded in ${seedMs} ms`)
    const lastText = `long message ${COUNT}`

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, baseURL: server.base, colorScheme: 'light' })
    await context.addInitScript(INIT)
    const page = await context.newPage()
    await page.goto('/login')
    await page.locator('#username').fill('alice')
    await page.locator('#password').fill(alice.password)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByTestId('conversation-list').waitFor()

    const list = []
    // When the app asks for its list (navigation start → the request goes out), and how long
    // the server takes to answer it: the first render is the sum of these and the app's work.
    const listRequestStart = []
    const listAnswer = []
    const fetches = []
    for (let i = 0; i < RUNS; i++) {
      let n = 0
      const onReq = (r) => {
        if (r.method() === 'GET' && new URL(r.url()).pathname === '/api/conversations') n++
      }
      page.on('request', onReq)
      await page.goto('/')
      await page.getByTestId('conv-Bob Builder').waitFor()
      await page.waitForFunction(() => performance.getEntriesByName('perf:list-visible').length > 0)
      await page.waitForTimeout(1500) // the socket opens and anything it does on open is done
      page.off('request', onReq)
      const timing = await page.evaluate(() => {
        const req = performance
          .getEntriesByType('resource')
          .find((e) => new URL(e.name).pathname === '/api/conversations')
        return {
          visible: performance.getEntriesByName('perf:list-visible')[0].startTime,
          requestStart: req ? req.startTime : NaN,
          answer: req ? req.responseEnd - req.startTime : NaN,
        }
      })
      list.push(timing.visible)
      listRequestStart.push(timing.requestStart)
      listAnswer.push(timing.answer)
      fetches.push(n)
    }

    // Open the long chat and load all of its history.
    await page.getByTestId('conv-Bob Builder').click()
    await page.getByTestId('message-text').filter({ hasText: lastText }).first().waitFor()
    const scroller = page.getByTestId('messages')
    for (let i = 0; i < 80; i++) {
      const done = await page.evaluate(() => !!document.querySelector('[data-testid="messages"] .start'))
      if (i % 10 === 0) console.error(`loading history: ${await page.getByTestId('message').count()} rows rendered`)
      if (done) break
      await scroller.evaluate((el) => el.scrollTo({ top: 0 }))
      await page.waitForTimeout(250)
    }
    const domCount = () => scroller.evaluate((el) => el.querySelectorAll('*').length)
    const domTop = await domCount()
    await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }))
    await page.waitForTimeout(400)
    const domBottom = await domCount()
    const docCount = await page.evaluate(() => document.querySelectorAll('*').length)

    const back = []
    const longTasks = []
    for (let i = 0; i < RUNS; i++) {
      await page.getByTestId('conv-Group 1').click()
      await page.getByTestId('chat-title').filter({ hasText: 'Group 1' }).waitFor()
      await page.waitForTimeout(300)
      const r = await page.evaluate(async (text) => {
        const btn = document.querySelector('[data-testid="conv-Bob Builder"]')
        const t0 = performance.now()
        const before = window.__longTasks.length
        btn.click()
        const visible = () => {
          const sc = document.querySelector('[data-testid="messages"]')
          if (!sc) return false
          const box = sc.getBoundingClientRect()
          for (const el of sc.querySelectorAll('[data-testid="message-text"]')) {
            if (el.textContent !== text) continue
            const r = el.getBoundingClientRect()
            return r.height > 0 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1
          }
          return false
        }
        const ok = await new Promise((resolve) => {
          const tick = () => (visible() ? resolve(true) : performance.now() - t0 > 30000 ? resolve(false) : requestAnimationFrame(tick))
          tick()
        })
        if (!ok) throw new Error(`"${text}" did not become visible`)
        const t1 = performance.now()
        await new Promise((r) => setTimeout(r, 200)) // long tasks are reported a little later
        const lt = window.__longTasks.slice(before).filter((e) => e.start >= t0 - 1 && e.start <= t1)
        return { ms: t1 - t0, longTasks: lt.length, longMs: lt.reduce((s, e) => s + e.duration, 0) }
      }, lastText)
      back.push(r.ms)
      longTasks.push(r)
    }

    const summary = {
      runs: RUNS,
      seed: { messages: COUNT, groups: GROUPS, ms: seedMs },
      listVisibleMs: { median: median(list), all: list.map(Math.round) },
      listRequestStartMs: { median: median(listRequestStart), all: listRequestStart.map(Math.round) },
      listAnswerMs: { median: median(listAnswer), all: listAnswer.map(Math.round) },
      conversationsFetchesOnLoad: fetches,
      messageListElements: { historyLoadedAtTop: domTop, atBottom: domBottom },
      documentElements: docCount,
      returnToLongChatMs: { median: median(back), all: back.map(Math.round) },
      longTasksOnReturn: {
        countMedian: median(longTasks.map((x) => x.longTasks)),
        msMedian: median(longTasks.map((x) => x.longMs)),
      },
    }
    console.log(JSON.stringify(summary, null, 2))
    console.log(`| first render of the list (ms, median of ${RUNS}) | ${Math.round(summary.listVisibleMs.median)} |`)
    console.log(`| the list request goes out (ms after navigation start, median) | ${Math.round(summary.listRequestStartMs.median)} |`)
    console.log(`| the server answers it (ms, median) | ${Math.round(summary.listAnswerMs.median)} |`)
    console.log(`| GET /api/conversations per load | ${median(fetches)} |`)
    console.log(`| elements in the message list, whole history loaded (top) | ${domTop} |`)
    console.log(`| elements in the message list, at the bottom | ${domBottom} |`)
    console.log(`| elements in the document | ${docCount} |`)
    console.log(`| return to the long chat (ms, median of ${RUNS}) | ${Math.round(summary.returnToLongChatMs.median)} |`)
    console.log(`| long tasks on return (count / ms, median) | ${summary.longTasksOnReturn.countMedian} / ${Math.round(summary.longTasksOnReturn.msMedian)} |`)
  } finally {
    await browser.close()
    await server.stop()
  }
}

await main()
