// Basic formatting of message text, parsed into a tree and rendered as VNodes whose every
// leaf is a text node (never `v-html`): `*bold*`, `_italic_`, `~strike~`, `` `code` ``,
// ``` ```code blocks``` ``` and http(s) links. Markers that do not pair up stay as they
// were typed; nothing inside code is formatted; a link is never formatted inside. Mentions
// (`@name` of someone the message mentions, as the server resolved them) are marked too,
// mine more strongly; as on the server, nothing inside code is a mention.
import { h, type VNode } from 'vue'

export type Mark = 'bold' | 'italic' | 'strike'
export type MarkupNode =
  | { kind: 'text'; text: string }
  | { kind: 'link'; text: string; href: string }
  | { kind: 'code'; text: string }
  | { kind: 'pre'; text: string }
  | { kind: 'mention'; text: string; mine: boolean }
  | { kind: Mark; children: MarkupNode[] }

const MARKS: Record<string, Mark> = { '*': 'bold', _: 'italic', '~': 'strike' }
/** Deeper nesting than this is left as text (`*_~*_~...`). */
const MAX_DEPTH = 4
const LINK = /^https?:\/\/[^\s<>"'`]+/i

/** The href of a link, only if it is an http(s) URL; anything else gets no link at all. */
export function safeHref(url: string): string | null {
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.href : null
  } catch {
    return null
  }
}

/**
 * The names a message's mentions are written as: lowercase username (or `all`/`channel`)
 * → whether it is me.
 */
export type MentionNames = Map<string, boolean>

const MENTION = /^@([A-Za-z0-9_.]+)/

/**
 * The names to mark in a message: the usernames of whom it mentions (`usernameOf` gives
 * them), and `@all`/`@channel` when it mentions everyone (`everyone`), mine marked as mine.
 */
export function mentionNames(
  mentions: readonly string[],
  myId: string,
  usernameOf: (id: string) => string | undefined,
  everyone: boolean,
): MentionNames {
  const names: MentionNames = new Map()
  for (const id of mentions) {
    const name = usernameOf(id)
    if (name) names.set(name.toLowerCase(), id === myId)
  }
  if (everyone && mentions.length > 0) {
    const mine = mentions.includes(myId)
    names.set('all', mine)
    names.set('channel', mine)
  }
  return names
}

let mentionsNow: MentionNames | undefined

export function parseMarkup(text: string, mentions?: MentionNames): MarkupNode[] {
  mentionsNow = mentions
  try {
    return parseBlocks(text)
  } finally {
    mentionsNow = undefined
  }
}

function parseBlocks(text: string): MarkupNode[] {
  const out: MarkupNode[] = []
  let rest = text
  // Code blocks first: their inside is taken as it is.
  for (;;) {
    const open = rest.indexOf('```')
    const close = open < 0 ? -1 : rest.indexOf('```', open + 3)
    if (close < 0) break
    push(out, parseInline(rest.slice(0, open), 0))
    let inner = rest.slice(open + 3, close)
    if (inner.startsWith('\n')) inner = inner.slice(1)
    if (inner.endsWith('\n')) inner = inner.slice(0, -1)
    out.push({ kind: 'pre', text: inner })
    rest = rest.slice(close + 3)
    if (rest.startsWith('\n')) rest = rest.slice(1)
  }
  push(out, parseInline(rest, 0))
  return out
}

function push(out: MarkupNode[], nodes: MarkupNode[]) {
  for (const n of nodes) {
    const last = out[out.length - 1]
    if (n.kind === 'text' && last?.kind === 'text') last.text += n.text
    else if (n.kind !== 'text' || n.text) out.push(n)
  }
}

const isSpace = (c: string | undefined) => c === undefined || /\s/.test(c)
const isWordChar = (c: string | undefined) => c !== undefined && /[\p{L}\p{N}]/u.test(c)

/** The closing marker for an opener at `i`, on the same line; -1 if there is none. */
function closer(s: string, i: number, marker: string): number {
  for (let j = i + 2; j < s.length; j++) {
    const c = s[j]
    if (c === '\n') return -1
    if (c === '`') {
      // Inline code in between is opaque: a marker inside it closes nothing.
      const end = s.indexOf('`', j + 1)
      if (end > 0 && !s.slice(j, end).includes('\n')) j = end
      continue
    }
    if (c === marker && !isSpace(s[j - 1]) && !isWordChar(s[j + 1])) return j
  }
  return -1
}

function parseInline(s: string, depth: number): MarkupNode[] {
  const out: MarkupNode[] = []
  let text = ''
  const flush = () => {
    if (text) out.push({ kind: 'text', text })
    text = ''
  }
  let i = 0
  while (i < s.length) {
    const c = s[i]
    // Inline code: up to the next backtick on the same line.
    if (c === '`') {
      const end = s.indexOf('`', i + 1)
      if (end > i + 1 && !s.slice(i, end).includes('\n')) {
        flush()
        out.push({ kind: 'code', text: s.slice(i + 1, end) })
        i = end + 1
        continue
      }
    }
    // A mention, where a word starts, of someone the message mentions.
    if (c === '@' && mentionsNow?.size && !/[A-Za-z0-9_.@]/.test(s[i - 1] ?? ' ')) {
      const m = MENTION.exec(s.slice(i))
      const name = m?.[1].replace(/\.+$/, '')
      if (name && mentionsNow.has(name.toLowerCase())) {
        flush()
        out.push({ kind: 'mention', text: '@' + name, mine: mentionsNow.get(name.toLowerCase())! })
        i += name.length + 1
        continue
      }
    }
    // A link, where a word starts.
    if ((c === 'h' || c === 'H') && !isWordChar(s[i - 1])) {
      const m = LINK.exec(s.slice(i))
      if (m) {
        const url = m[0].replace(/[.,!?;:)\]}'*_~]+$/, '')
        const href = url.split('://')[1] ? safeHref(url) : null
        if (href) {
          flush()
          out.push({ kind: 'link', text: url, href })
          i += url.length
          continue
        }
      }
    }
    // Emphasis: an opener where a word starts, followed by a non-space, with its closer.
    const mark = MARKS[c]
    if (mark && depth < MAX_DEPTH && !isWordChar(s[i - 1]) && !isSpace(s[i + 1]) && s[i + 1] !== c) {
      const end = closer(s, i, c)
      if (end > 0) {
        flush()
        out.push({ kind: mark, children: parseInline(s.slice(i + 1, end), depth + 1) })
        i = end + 1
        continue
      }
    }
    text += c
    i++
  }
  flush()
  return out
}

const TAGS: Record<Mark, string> = { bold: 'strong', italic: 'em', strike: 's' }

/** VNodes of a parsed text: elements for the formatting, strings (text nodes) for the rest. */
export function renderMarkup(nodes: MarkupNode[]): (VNode | string)[] {
  return nodes.map((n) => {
    switch (n.kind) {
      case 'text':
        return n.text
      case 'link':
        return h('a', { href: n.href, target: '_blank', rel: 'noopener noreferrer nofollow' }, n.text)
      case 'code':
        return h('code', n.text)
      case 'pre':
        return h('pre', h('code', n.text))
      case 'mention':
        return h('span', { class: n.mine ? 'mention mine' : 'mention', 'data-testid': 'mention' }, n.text)
      default:
        return h(TAGS[n.kind], renderMarkup(n.children))
    }
  })
}

/** The text as typed, without its markers (for previews and notifications). */
export function plainText(nodes: MarkupNode[]): string {
  return nodes.map((n) => ('children' in n ? plainText(n.children) : n.text)).join('')
}
