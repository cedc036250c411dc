import type { Conversation, ConversationSnapshot, Member, Message, ServerEvent, User } from '../src/api/types'

export const t0 = Date.parse('2026-11-24T10:00:00.000Z')
export const iso = (s: number) => new Date(t0 + s * 1000).toISOString()

export function user(id: string, name = id): User {
  return { id, username: id, display_name: name, photo_url: null, about: '', last_seen_at: null, online: false }
}
export function member(id: string, role: 'admin' | 'member' = 'member', delivered = 0, read = 0): Member {
  return { user: user(id), role, joined_at: iso(0), delivered_seq: delivered, read_seq: read }
}
export function msg(cid: string, seq: number, sender: string, text = `m${seq}`, extra: Partial<Message> = {}): Message {
  return {
    id: `${cid}-msg-${seq}`,
    conversation_id: cid,
    seq,
    sender_id: sender,
    text,
    photo: null,
    file: null,
    reply_to: null,
    forwarded: false,
    reactions: [],
    status: null,
    created_at: iso(seq),
    edited_at: null,
    deleted: false,
    link_preview: null,
    mentions: [],
    pinned: false,
    ...extra,
  }
}
export function conv(id: string, members: Member[], last_seq = 0, extra: Partial<Conversation> = {}): Conversation {
  return {
    id,
    kind: members.length > 2 ? 'group' : 'direct',
    name: members.length > 2 ? 'Group' : null,
    photo_url: null,
    members,
    last_message: null,
    last_seq,
    unread_count: 0,
    my_role: 'member',
    created_at: iso(0),
    updated_at: iso(0),
    ...extra,
  }
}
export const created = (m: Message): ServerEvent => ({ type: 'message.created', conversation_id: m.conversation_id, seq: m.seq, data: m })
export const updated = (seq: number, m: Message): ServerEvent => ({ type: 'message.updated', conversation_id: m.conversation_id, seq, data: m })
/** A conversation as events carry it (no per-user fields). */
export function snapshot(c: Conversation): ConversationSnapshot {
  const { id, kind, name, photo_url, members, last_seq, created_at, updated_at } = c
  const room = { space_id: null, visibility: 'private' as const, topic: '', has_password: false, member_count: members.length }
  return { id, kind, name, photo_url, members, last_seq, created_at, updated_at, ...room }
}

export function deferred<T>() {
  let resolve!: (v: T) => void
  let reject!: (e: unknown) => void
  const promise = new Promise<T>((a, b) => {
    resolve = a
    reject = b
  })
  return { promise, resolve, reject }
}
export const flush = () => new Promise((r) => setTimeout(r, 0))
