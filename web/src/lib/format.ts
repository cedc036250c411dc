import type { Conversation, Member, Message, User } from '../api/types'

export function otherMember(c: Conversation, meId: string): Member | undefined {
  return c.members.find((m) => m.user.id !== meId)
}

/** A direct conversation is named after the other person (events carry no per-user name). */
export function convName(c: Conversation, meId: string): string {
  if (c.kind === 'group') return c.name || 'Group'
  if (c.kind === 'channel') return c.name || 'Room'
  const o = otherMember(c, meId)
  return o ? userName(o.user) : c.name || 'Chat'
}

export function convPhoto(c: Conversation, meId: string): string | null {
  if (c.kind !== 'direct') return c.photo_url
  return otherMember(c, meId)?.user.photo_url ?? c.photo_url ?? null
}

/**
/**
 * What a conversation's avatar colour is derived from, the same everywhere (list, header,
 * dialogs): the other person for a direct chat (their colour as in every other place they
 * appear), the conversation itself otherwise.
 */
export function avatarSeed(c: Conversation, meId: string): string {
  return (c.kind === 'direct' ? otherMember(c, meId)?.user.id : undefined) ?? c.id
}

/**
 * My alias for a person, seen only by me and everywhere in the app (the contacts store
 * registers its lookup, `useAliases`; it reads a reactive map, so names follow changes).
 */
let aliasOf: (userId: string) => string | null = () => null
export function useAliases(lookup: (userId: string) => string | null) {
  aliasOf = lookup
}

type Named = Pick<User, 'display_name' | 'username'> & { id?: string }

/** How I call a person: my alias for them, else their display name, else their username. */
export function userName(u: Named | undefined | null): string {
  return u ? (u.id ? aliasOf(u.id) : null) || realName(u) : 'Someone'
}

/** A person's own name (display name, else username), for where my alias is shown beside it. */
export function realName(u: Named | undefined | null): string {
  return u ? u.display_name || u.username : 'Someone'
}

export function initials(name: string): string {
  // Whole code points only (never half an emoji), and words that start with a letter or digit.
  const words = name.trim().split(/\s+/).filter((w) => /^[\p{L}\p{N}]/u.test(w))
  if (words.length === 0) return [...name.trim()][0] ?? '?'
  const first = [...words[0]]
  const s = words.length > 1 ? first[0] + [...words[words.length - 1]][0] : first.slice(0, 2).join('')
  return s.toUpperCase()
}

/** CSS variables of main.css, a palette per colour scheme with enough contrast for text. */
const COLORS = ['var(--c0)', 'var(--c1)', 'var(--c2)', 'var(--c3)', 'var(--c4)', 'var(--c5)', 'var(--c6)', 'var(--c7)']
export function colorFor(key: string): string {
  let h = 0
  for (const ch of key) h = (h * 31 + ch.charCodeAt(0)) >>> 0
  return COLORS[h % COLORS.length]
}

export function timeOf(iso: string): string {
  const d = new Date(iso)
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
}

function startOfDay(d: Date) {
  return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime()
}

/** "14:05" today, "Yesterday", a weekday this week, else a date. */
export function listTime(iso: string, now = new Date()): string {
  const d = new Date(iso)
  const days = Math.round((startOfDay(now) - startOfDay(d)) / 86400000)
  if (days <= 0) return timeOf(iso)
  if (days === 1) return 'Yesterday'
  if (days < 7) return d.toLocaleDateString([], { weekday: 'long' })
  return d.toLocaleDateString()
}

export function dayLabel(iso: string, now = new Date()): string {
  const d = new Date(iso)
  const days = Math.round((startOfDay(now) - startOfDay(d)) / 86400000)
  if (days <= 0) return 'Today'
  if (days === 1) return 'Yesterday'
  if (days < 7) return d.toLocaleDateString([], { weekday: 'long' })
  return d.toLocaleDateString([], { year: 'numeric', month: 'long', day: 'numeric' })
}

export function sameDay(a: string, b: string): boolean {
  return startOfDay(new Date(a)) === startOfDay(new Date(b))
}

export function lastSeenText(online: boolean, lastSeen: string | null, now = new Date()): string {
  if (online) return 'online'
  if (!lastSeen) return ''
  const d = new Date(lastSeen)
  const days = Math.round((startOfDay(now) - startOfDay(d)) / 86400000)
  if (days <= 0) return `last seen today at ${timeOf(lastSeen)}`
  if (days === 1) return `last seen yesterday at ${timeOf(lastSeen)}`
  return `last seen ${d.toLocaleDateString()} at ${timeOf(lastSeen)}`
}

/** The preview line of the conversation list. */
export function preview(m: Message | null, meId: string, senderName: (id: string) => string, group: boolean): { prefix: string; text: string; photo: boolean; deleted: boolean } {
  if (!m) return { prefix: '', text: '', photo: false, deleted: false }
  const prefix = m.sender_id === meId ? 'You: ' : group ? `${senderName(m.sender_id)}: ` : ''
  if (m.deleted) return { prefix, text: 'This message was deleted', photo: false, deleted: true }
  return { prefix, text: m.text || (m.photo ? 'Photo' : m.file ? m.file.name : ''), photo: !!m.photo, deleted: false }
}

export type Segment = { kind: 'text'; text: string } | { kind: 'link'; text: string; href: string }

/** Splits text into plain parts and http(s) links; the view renders both as text nodes. */
export function linkify(text: string): Segment[] {
  const out: Segment[] = []
  const re = /\bhttps?:\/\/[^\s<>"']+/gi
  let last = 0
  for (const m of text.matchAll(re)) {
    let url = m[0]
    const trail = /[.,!?;:)\]]+$/.exec(url)
    if (trail) url = url.slice(0, -trail[0].length)
    const i = m.index ?? 0
    if (i > last) out.push({ kind: 'text', text: text.slice(last, i) })
    out.push({ kind: 'link', text: url, href: url })
    last = i + url.length
  }
  if (last < text.length) out.push({ kind: 'text', text: text.slice(last) })
  return out
}

/** Scales a photo to fit in a box, never up. */
export function fitBox(w: number, h: number, maxW: number, maxH: number): { width: number; height: number } {
  const s = Math.min(1, maxW / w, maxH / h)
  return { width: Math.max(1, Math.round(w * s)), height: Math.max(1, Math.round(h * s)) }
}

export function typingText(names: string[]): string {
  if (names.length === 0) return ''
  if (names.length === 1) return `${names[0]} is typing…`
  return `${names.length} people are typing…`
}
