import type { Conversation, Message } from '../api/types'

/**
 * What the app decides about notifications, as pure functions (the notifications store and
 * App.vue use them; the service worker, `public/sw.js`, has its own copy of the payload's
 * shaping, tested against this file's expectations in tests/notify.test.ts).
 */

/** My per-conversation choice (`settings.notify`): every message, mentions of me only, nothing. */
export type NotifyLevel = 'all' | 'mentions' | 'none'

export const NOTIFY_LEVELS: { value: NotifyLevel; label: string }[] = [
  { value: 'all', label: 'All messages' },
  { value: 'mentions', label: 'Mentions only' },
  { value: 'none', label: 'Nothing' },
]

/**
 * The level in force: the server always resolves it, but a server without the setting (or a
 * snapshot from before it) leaves it out, and then its defaults hold here too: every message
 * of a direct chat or group, mentions only in a channel.
 */
export function notifyLevel(c: Pick<Conversation, 'kind' | 'settings'>): NotifyLevel {
  const n = (c.settings as { notify?: unknown } | undefined)?.notify
  if (n === 'all' || n === 'mentions' || n === 'none') return n
  return c.kind === 'channel' ? 'mentions' : 'all'
}

function mutedNow(c: Pick<Conversation, 'settings'>, now: number): boolean {
  const u = c.settings?.muted_until
  return !!u && Date.parse(u) > now
}

/** The page title: the unread total of the conversations I did not mute, none at 0. */
export function pageTitle(total: number, base = 'Hubbub'): string {
  return total > 0 ? `(${total}) ${base}` : base
}

/** The unread total the title shows: every conversation I am still in and did not mute. */
export function unreadTotal(convs: Iterable<Conversation & { left?: boolean }>, now = Date.now()): number {
  let n = 0
  for (const c of convs) if (!c.left && !mutedNow(c, now)) n += c.unread_count
  return n
}

/**
 * Whether a new message should alert me at all (a desktop notification, a sound): someone
 * else's, not deleted, in a conversation I did not mute, and allowed by my level there
 * (`mentions`: only when the message mentions me, `@all` included, as the server resolves it).
 * Whether the tab is hidden and the permission was granted are the caller's to check.
 */
export function wantsAlert(c: Conversation & { left?: boolean }, m: Message, meId: string, now = Date.now()): boolean {
  if (!meId || m.sender_id === meId || m.deleted || c.left) return false
  if (mutedNow(c, now)) return false
  const level = notifyLevel(c)
  if (level === 'none') return false
  if (level === 'mentions') return (m.mentions ?? []).includes(meId)
  return true
}

/** The text a notification shows for a message: its text, else what it carries. */
export function notificationBody(m: Pick<Message, 'text' | 'photo' | 'file'>): string {
  const t = m.text?.trim()
  if (t) return t.length > 200 ? `${t.slice(0, 199)}…` : t
  if (m.photo) return 'Photo'
  if (m.file) return 'File'
  return 'New message'
}

/** The tag of a conversation's notifications: a newer one replaces the older (page and worker alike). */
export const notificationTag = (conversationId: string) => `hubbub-${conversationId}`

/** Where a notification leads: the chat. */
export const chatUrl = (conversationId: string) => `/c/${encodeURIComponent(conversationId)}`

export interface NotificationContent {
  title: string
  options: NotificationOptions & { data: { conversation_id: string; message_id: string; url: string } }
}

/**
 * A desktop notification for a message: the sender's name as the title (with " in <name>" for
 * groups and channels), the text (or "Photo"/"File") as the body, tagged by conversation.
 */
export function notificationFor(c: Conversation, m: Message, senderName: string, convTitle: string): NotificationContent {
  const title = c.kind === 'direct' ? senderName : `${senderName} in ${convTitle}`
  return {
    title,
    options: {
      body: notificationBody(m),
      tag: notificationTag(c.id),
      icon: '/favicon.svg',
      data: { conversation_id: c.id, message_id: m.id, url: chatUrl(c.id) },
    },
  }
}
