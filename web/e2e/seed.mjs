// Seeding through the API (bearer tokens, no browser): people, a long chat, many conversations.

/** A signed-up person: `{ user, token, call(method, path, body) }`. */
export async function register(base, username, displayName = username, password = 'correct horse battery') {
  const r = await fetch(`${base}/api/users`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password, display_name: displayName }),
  })
  if (!r.ok) throw new Error(`signup ${username}: ${r.status} ${await r.text()}`)
  const { user, token } = await r.json()
  async function call(method, path, body) {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    })
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`)
    return res.status === 204 ? undefined : res.json()
  }
  return { user, token, username, password, call }
}

/** Runs `f(i)` for i in 0..n with at most `width` at once, results in order. */
export async function pool(n, width, f) {
  const out = new Array(n)
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(width, n) }, async () => {
      for (;;) {
        const i = next++
        if (i >= n) return
        out[i] = await f(i)
      }
    }),
  )
  return out
}

/**
 * The long chat: `count` messages between `a` and `b` in a direct chat, sent in order (so seq
 * order is text order), every 7th by `a`, every 50th (from the 25th) a few lines long. Returns the chat and
 * the messages.
 */
export async function seedLongChat(a, b, count = 1100, text = (i) => `long message ${i}`) {
  const chat = await a.call('POST', `/api/users/${b.user.id}/conversation`)
  const sent = []
  for (let i = 1; i <= count; i++) {
    const who = i % 7 === 0 ? a : b
    const body = i % 50 === 25 ? `${text(i)}\nwith a second line\nand a third` : text(i)
    sent.push(await who.call('POST', `/api/conversations/${chat.id}/messages`, { text: body, client_id: crypto.randomUUID() }))
  }
  return { chat, messages: sent }
}

/** `n` groups of `a` with `others`, named `${prefix} n`, each with one message. */
export async function seedGroups(a, others, n = 200, prefix = 'Group') {
  return pool(n, 8, async (i) => {
    const g = await a.call('POST', '/api/conversations', { name: `${prefix} ${i + 1}`, member_ids: others.map((o) => o.user.id) })
    await a.call('POST', `/api/conversations/${g.id}/messages`, { text: `hello ${i + 1}`, client_id: crypto.randomUUID() })
    return g
  })
}
