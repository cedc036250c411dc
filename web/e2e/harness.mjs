// Starts a real `hubbub serve` on a free port with a fresh data dir, and Debian's Chromium.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const here = path.dirname(fileURLToPath(import.meta.url))
export const repo = path.resolve(here, '../..')
export const samples = process.env.HUBBUB_MEDIA_SAMPLES ?? path.resolve(repo, 'testdata/media-samples')
export const shots = path.join(repo, 'docs/screenshots')

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.unref()
    s.on('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

async function waitHealthy(base, proc, ms = 30000) {
  const end = Date.now() + ms
  let last = ''
  while (Date.now() < end) {
    if (proc && proc.exitCode !== null) throw new Error(`hubbub exited with ${proc.exitCode}`)
    try {
      const r = await fetch(`${base}/api/health`)
      if (r.ok) return
      last = `status ${r.status}`
    } catch (e) {
      last = String(e)
    }
    await new Promise((r) => setTimeout(r, 150))
  }
  throw new Error(`hubbub did not become healthy at ${base}: ${last}`)
}

/** Starts the server (or uses HUBBUB_URL) and returns { base, stop, logs }. */
export async function startServer() {
  if (process.env.HUBBUB_URL) return { base: process.env.HUBBUB_URL.replace(/\/$/, ''), stop: async () => {}, logs: () => '' }
  const bin = process.env.HUBBUB_BIN ?? path.join(process.env.CARGO_TARGET_DIR ?? path.join(repo, 'target'), 'debug/hubbub')
  if (!fs.existsSync(bin)) throw new Error(`hubbub binary not found at ${bin}; build it (cargo build -p hubbub) or set HUBBUB_BIN`)
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hubbub-e2e-'))
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  let out = ''
  const proc = spawn(bin, ['serve', '--listen', `127.0.0.1:${port}`, '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RUST_LOG: process.env.RUST_LOG ?? 'warn' },
  })
  proc.stdout.on('data', (d) => (out += d))
  proc.stderr.on('data', (d) => (out += d))
  await waitHealthy(base, proc)
  const home = await fetch(`${base}/`)
  if (home.status === 503 && /web app not built/.test(await home.text())) {
    proc.kill('SIGKILL')
    throw new Error(`${bin} was built without web/dist: run \`npm --prefix web run build\` first, then \`cargo build -p hubbub\``)
  }
  return {
    base,
    bin,
    dataDir,
    logs: () => out,
    stop: async () => {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM')
        await new Promise((r) => {
          const t = setTimeout(() => {
            proc.kill('SIGKILL')
            r()
          }, 5000)
          proc.once('exit', () => {
            clearTimeout(t)
            r()
          })
        })
      }
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: CHROMIUM_ARGS,
  })
}

/** A browser context as one person, with everything the page says collected for failures. */
export async function person(browser, base, name, viewport = { width: 1280, height: 800 }, { notifyBanner = false } = {}) {
  const context = await browser.newContext({ viewport, baseURL: base, colorScheme: 'light' })
  // The "Turn on desktop notifications" banner (after a first message sent) stays out of the
  // other suites' screens and screenshots; e2e/notifications.test.mjs asks for it.
  if (!notifyBanner) {
    await context.addInitScript(() => {
      try {
        localStorage.setItem('hubbub.notify.dismissed', '1')
      } catch {
        /* about:blank has no storage */
      }
    })
  }
  const page = await context.newPage()
  const problems = []
  const dialogs = []
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`))
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`)
  })
  page.on('dialog', async (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`)
    if (d.type() === 'confirm') await d.accept()
    else await d.dismiss()
  })
  return { name, context, page, problems, dialogs }
}
