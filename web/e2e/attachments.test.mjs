// End-to-end: attachments in real Chromium against a real `hubbub serve`: a file and two
// photos dropped onto the chat, the file bubble and its download headers, a file refused
// before sending with the reason, and the photo viewer going next and previous.
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { launch, person, samples, startServer } from './harness.mjs'
import { T, expectSoon, signup } from './steps.mjs'

let server, browser, alice, bob

/** Drops files onto the chat as a desktop drag would: dragenter, dragover, drop. */
async function dropFiles(p, files) {
  await p.page.evaluate((files) => {
    const dt = new DataTransfer()
    for (const f of files) {
      const bytes = Uint8Array.from(atob(f.b64), (c) => c.charCodeAt(0))
      dt.items.add(new File([bytes], f.name, { type: f.type }))
    }
    const target = document.querySelector('[data-testid=chat]')
    for (const type of ['dragenter', 'dragover', 'drop']) {
      target.dispatchEvent(new DragEvent(type, { bubbles: true, cancelable: true, dataTransfer: dt }))
    }
  }, files)
}
const fileOf = (name, type, bytes) => ({ name, type, b64: Buffer.from(bytes).toString('base64') })

describe('attachments in the browser', { concurrency: false }, () => {
  const fileName = 'notes "v2" é.txt'
  const fileBody = 'hello from a file\n'

  before(async () => {
    server = await startServer()
    browser = await launch()
    alice = await person(browser, server.base, 'alice')
    bob = await person(browser, server.base, 'bob')
    await signup(alice, 'alice', 'Alice Liddell')
    await signup(bob, 'bob', 'Bob Builder')
    await alice.page.getByTestId('new-chat').click()
    await alice.page.getByTestId('user-search').fill('bo')
    await alice.page.getByTestId('user-bob').click()
    await alice.page.getByTestId('chat-title').filter({ hasText: 'Bob Builder' }).waitFor({ timeout: T })
  })

  after(async () => {
    for (const p of [alice, bob]) {
      if (p?.problems.length) console.log(`${p.name} page problems:\n  ${p.problems.join('\n  ')}`)
    }
    await browser?.close()
    if (process.env.HUBBUB_E2E_LOGS) console.log(server?.logs())
    await server?.stop()
  })

  test('a file and two photos dropped onto the chat go as three messages', async (t) => {
    const cups = path.join(samples, 'photo-medium.jpg')
    const leaves = path.join(samples, 'photo.webp')
    if (!fs.existsSync(cups) || !fs.existsSync(leaves)) return t.skip('no media samples')
    await dropFiles(alice, [
      fileOf(fileName, 'text/plain', Buffer.from(fileBody)),
      fileOf('cups.jpg', 'image/jpeg', fs.readFileSync(cups)),
      fileOf('leaves.webp', 'image/webp', fs.readFileSync(leaves)),
    ])
    await expectSoon(async () => (await alice.page.getByTestId('staged-item').count()) === 3, 'three staged')
    const kinds = await alice.page.getByTestId('staged-item').evaluateAll((els) => els.map((e) => e.dataset.kind))
    assert.deepEqual(kinds, ['file', 'photo', 'photo'])
    await alice.page.getByTestId('composer-input').fill('three things')
    await alice.page.getByTestId('send').click()
    await expectSoon(
      async () => (await alice.page.locator('[data-testid=message][data-state=stored] [data-testid=message-photo]').count()) === 2,
      'both photos stored',
      30000,
    )
    await alice.page.locator('[data-testid=message][data-state=stored] [data-testid=message-file]').waitFor({ timeout: T })
  })

  test('the other side sees the file bubble, and the download is an attachment that cannot run', async () => {
    await bob.page.getByTestId('conv-Alice Liddell').click()
    const bubble = bob.page.getByTestId('message-file')
    await bubble.waitFor({ timeout: T })
    assert.equal(await bubble.getByTestId('file-name').textContent(), fileName)
    assert.equal(await bubble.getByTestId('file-size').textContent(), `${Buffer.byteLength(fileBody)} B`)
    const link = bubble.getByTestId('file-download')
    const href = await link.getAttribute('href')
    assert.match(href, /^\/media\//)
    const response = await bob.page.request.get(href)
    assert.equal(response.status(), 200)
    const headers = response.headers()
    assert.equal(headers['content-type'], 'text/plain')
    assert.equal(headers['x-content-type-options'], 'nosniff')
    assert.equal(headers['content-disposition'], `attachment; filename="notes _v2_ _.txt"; filename*=UTF-8''notes%20%22v2%22%20%C3%A9.txt`)
    assert.equal(await response.text(), fileBody)
    // A real click downloads it under its name (Chromium itself turns `"` into `_` in the
    // name it saves under; the é shows the UTF-8 name got through).
    const [download] = await Promise.all([bob.page.waitForEvent('download'), link.click()])
    assert.equal(download.suggestedFilename(), fileName.replaceAll('"', '_'))
    // Someone outside the chat gets nothing (a fresh context is not signed in).
    const stranger = await browser.newContext({ baseURL: server.base })
    assert.equal((await stranger.request.get(href)).status(), 401)
    await stranger.close()
  })

  test('a too-large or empty file is refused before sending, with the reason', async () => {
    const before = await alice.page.getByTestId('message').count()
    const big = Buffer.alloc(21 * 1024 * 1024, 1)
    await alice.page.getByTestId('attach-input').setInputFiles({ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: big })
    const error = alice.page.getByTestId('composer-error')
    await error.waitFor({ timeout: T })
    assert.match(await error.textContent(), /“huge\.bin” is 21 MB; files and photos can be at most 20 MB/)
    assert.equal(await alice.page.getByTestId('staged-item').count(), 0)
    await dropFiles(alice, [fileOf('empty.txt', 'text/plain', Buffer.alloc(0))])
    await expectSoon(async () => /“empty\.txt” is empty/.test(await error.textContent()), 'the empty file refused')
    await alice.page.waitForTimeout(300)
    assert.equal(await alice.page.getByTestId('message').count(), before, 'nothing was sent')
    assert.equal(await alice.page.getByTestId('retry').count(), 0, 'no Retry that could never work')
  })

  test('the viewer zooms, goes next and previous, downloads, and closes with Escape', async () => {
    const photos = bob.page.getByTestId('message-photo')
    await expectSoon(async () => (await photos.count()) === 2, 'two photos on bob’s side')
    await photos.first().click()
    const viewer = bob.page.getByTestId('photo-viewer')
    await viewer.waitFor()
    const position = viewer.getByTestId('viewer-position')
    assert.equal(await position.textContent(), '1 / 2')
    const first = await viewer.getByTestId('viewer-image').getAttribute('src')
    await bob.page.keyboard.press('ArrowRight')
    await expectSoon(async () => (await position.textContent()) === '2 / 2', 'next with the arrow key')
    assert.notEqual(await viewer.getByTestId('viewer-image').getAttribute('src'), first)
    assert.equal(await viewer.getByTestId('viewer-next').count(), 0, 'no next after the last')
    await viewer.getByTestId('viewer-prev').click()
    await expectSoon(async () => (await position.textContent()) === '1 / 2', 'previous with the button')
    const image = viewer.getByTestId('viewer-image')
    await image.click()
    await expectSoon(async () => (await image.getAttribute('data-scale')) === '2.50', 'a click zooms in')
    const box = await image.boundingBox()
    await bob.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    await bob.page.mouse.down()
    await bob.page.mouse.move(box.x + box.width / 2 + 80, box.y + box.height / 2 + 40, { steps: 5 })
    await bob.page.mouse.up()
    assert.match(await image.getAttribute('style'), /translate\(80px, 40px\)/, 'a drag pans')
    await image.click()
    await expectSoon(async () => (await image.getAttribute('data-scale')) === '1.00', 'a second click zooms out')
    await bob.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2)
    await bob.page.mouse.wheel(0, -300)
    await expectSoon(async () => Number(await image.getAttribute('data-scale')) > 1, 'the wheel zooms in')
    assert.match(await viewer.getByTestId('viewer-download').getAttribute('href'), /^\/media\//)
    await bob.page.keyboard.press('Escape')
    await viewer.waitFor({ state: 'detached' })
  })
})
