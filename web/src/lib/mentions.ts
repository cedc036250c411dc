// The composer's `@` suggestions: where a mention is being typed, who it may name (the
// conversation's members, and `@channel`/`@all` where `policy.allowsMentionAll`), and the
// text once one is picked. Pure functions; `Composer.vue` holds the state.

/** A mention being typed: the `@` at `start`, and what follows it up to the caret. */
export interface MentionQuery {
  start: number
  query: string
}

/** One suggestion: a member (`id`) or everyone (`id` null). */
export interface MentionOption {
  username: string
  label: string
  id: string | null
}

const NAME_CHAR = /[A-Za-z0-9_.]/

/** The mention being typed at `caret`, if any: an `@` where a word starts, then name characters. */
export function mentionQuery(text: string, caret: number): MentionQuery | null {
  let i = caret
  while (i > 0 && NAME_CHAR.test(text[i - 1])) i--
  if (i === 0 || text[i - 1] !== '@') return null
  const before = text[i - 2]
  if (before !== undefined && (NAME_CHAR.test(before) || before === '@')) return null
  return { start: i - 1, query: text.slice(i, caret) }
}

/** Whether `query` starts the username or a word of the display name, ignoring case. */
function matches(query: string, username: string, displayName: string): boolean {
  const q = query.toLowerCase()
  if (!q) return true
  return username.toLowerCase().startsWith(q) || displayName.toLowerCase().split(/\s+/).some((w) => w.startsWith(q))
}

/** Who `query` may mean, at most `max`: other members first (in the order given), then everyone. */
export function mentionOptions(
  query: string,
  members: { id: string; username: string; display_name: string }[],
  myId: string,
  allowsAll: boolean,
  max = 8,
): MentionOption[] {
  const out: MentionOption[] = members
    .filter((m) => m.id !== myId && matches(query, m.username, m.display_name))
    .map((m) => ({ username: m.username, label: m.display_name || m.username, id: m.id }))
  if (allowsAll) {
    for (const [username, label] of [['channel', 'Everyone in this chat'], ['all', 'Everyone in this chat']]) {
      if (username.startsWith(query.toLowerCase())) out.push({ username, label, id: null })
    }
  }
  return out.slice(0, max)
}

/** The text with the mention at `q` (typed up to `caret`) replaced by `@username `, and where the caret goes. */
export function insertMention(text: string, q: MentionQuery, caret: number, username: string): { text: string; caret: number } {
  const inserted = `@${username} `
  const rest = text.slice(caret).replace(/^ /, '')
  return { text: text.slice(0, q.start) + inserted + rest, caret: q.start + inserted.length }
}
