// Generates src/api/openapi.d.ts from the server's /api/openapi.json, or checks that the
// committed file still matches what the server serves (CI: `npm run api:check`).
//
// The server comes from HUBBUB_URL (already running) or is started from HUBBUB_BIN (as the
// e2e suite does). `src/api/contract-check.ts` then makes `npm run typecheck` fail when the
// app's wire types and the generated schema disagree.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import openapiTS, { astToString } from 'openapi-typescript'
import { startServer } from '../e2e/harness.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const target = path.resolve(here, '../src/api/openapi.d.ts')
const mode = process.argv[2] ?? 'check'

const server = await startServer()
let spec
try {
  const res = await fetch(`${server.base}/api/openapi.json`)
  if (!res.ok) throw new Error(`GET /api/openapi.json: ${res.status}`)
  spec = await res.json()
} finally {
  await server.stop()
}
// OpenAPI wants unique operationIds; the generated types do not use them, so duplicates are
// reported and dropped rather than failing the generation.
const seen = new Map()
for (const [p, item] of Object.entries(spec.paths ?? {})) {
  for (const [method, op] of Object.entries(item)) {
    if (!op || typeof op !== 'object' || !op.operationId) continue
    const list = seen.get(op.operationId) ?? []
    list.push(`${method.toUpperCase()} ${p}`)
    seen.set(op.operationId, list)
  }
}
const dupes = [...seen].filter(([, l]) => l.length > 1)
if (dupes.length) {
  console.warn(`warning: the server's OpenAPI repeats operationIds: ${dupes.map(([id, l]) => `${id} (${l.join(', ')})`).join('; ')}`)
  for (const item of Object.values(spec.paths)) for (const op of Object.values(item)) if (op && typeof op === 'object') delete op.operationId
}
const header =
  '// Generated from the server\'s /api/openapi.json by `npm run api:gen`. Do not edit.\n' +
  '// `npm run api:check` fails when this file and the server disagree.\n\n'
const out = header + astToString(await openapiTS(spec))

if (mode === 'generate') {
  fs.writeFileSync(target, out)
  console.log(`wrote ${path.relative(process.cwd(), target)} (${out.length} bytes)`)
} else {
  const cur = fs.existsSync(target) ? fs.readFileSync(target, 'utf8') : ''
  if (cur === out) {
    console.log('api types: src/api/openapi.d.ts matches the server’s /api/openapi.json')
  } else {
    const tmp = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'api-')), 'openapi.d.ts')
    fs.writeFileSync(tmp, out)
    try {
      execFileSync('diff', ['-u', target, tmp], { stdio: 'inherit' })
    } catch {
      /* diff exits 1 when files differ */
    }
    console.error('api types: src/api/openapi.d.ts is out of date with the server; run `npm run api:gen` and fix the app where the types changed')
    process.exit(1)
  }
}
