import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { api, ApiError } from '../api/client'
import type { ChatSettings, Conversation, ConversationSnapshot, EventMember, EventUser, Marks, Member, Message, MessageStatus, Role, User } from '../api/types'
import { useSession } from './session'
import { usePresence } from './presence'
import type { NotifyLevel } from '../lib/notify'

/** A conversation as the app keeps it. */
export interface Conv extends Conversation {
  /** I was removed or left: history stays readable up to then. */
  left?: boolean
  /** `unread_count` is the server's count as of this seq; only later events change it. */
  unread_base_seq: number
}

/** A user's profile without presence (what events carry, and what the user cache keeps). */
export type Profile = EventUser

/** An event's member as the app keeps it; presence fields stay as they were (the store's own). */
function asMember(m: EventMember, old?: Member): Member {
  const { id, username, display_name, photo_url, about } = m.user
  const user: User = { online: false, last_seen_at: null, ...old?.user, id, username, display_name, photo_url, about }
  return { ...m, user }
}

export type SendTransport = (frame: Record<string, unknown>) => boolean

/**
 * Others' unread messages after a read mark, counted in the loaded thread, or null when the
 * loaded pages do not reach back that far (the messages store knows; this store does not
 * import it, see `stores/events.ts`).
 */
export type UnreadCounter = (readSeq: number) => number | null

/** At most this many pinned conversations per user (the server answers 409 beyond). */
export const MAX_PINS = 5
/** `muted_until` for "mute forever". */
export const MUTE_FOREVER = '9999-12-31T23:59:59.999Z'

/** True while my mute of the conversation lasts. */
export function isMuted(c: Conversation, now = Date.now()): boolean {
  const u = c.settings?.muted_until
  return !!u && Date.parse(u) > now
}

function activity(c: Conversation): number {
  const t = c.last_message?.created_at ?? c.created_at
  return Date.parse(t) || 0
}

export const useConversations = defineStore('conversations', () => {
  const byId = reactive(new Map<string, Conv>())
  /** Set by the events store once the list was fetched (or failed to be). */
  const loaded = ref(false)
  const error = ref<string | null>(null)
  const deliveredTimers = new Map<string, ReturnType<typeof setTimeout>>()
  const deliveredWanted = new Map<string, number>()

  /** Pinned first (in the order pinned: the server's), then by the newest activity. */
  const ordered = computed(() => {
    const all = [...byId.values()]
    const pinned = all.filter((c) => c.settings?.pinned)
    pinned.sort((a, b) => (pinOrder.get(a.id) ?? 0) - (pinOrder.get(b.id) ?? 0))
    const rest = all.filter((c) => !c.settings?.pinned).sort((a, b) => activity(b) - activity(a))
    return [...pinned, ...rest]
  })
  /** The main list: everything but archived conversations. */
  const list = computed(() => ordered.value.filter((c) => !c.settings?.archived))
  const archived = computed(() => ordered.value.filter((c) => c.settings?.archived))
  /** The order pinned conversations were pinned in (the server's list order, then mine). */
  const pinOrder = reactive(new Map<string, number>())
  let pinCounter = 0
  function notePinned(c: Conversation) {
    if (c.settings?.pinned && !pinOrder.has(c.id)) pinOrder.set(c.id, ++pinCounter)
    if (!c.settings?.pinned) pinOrder.delete(c.id)
  }
  const totalUnread = computed(() => [...byId.values()].reduce((n, c) => n + (c.left ? 0 : c.unread_count), 0))

  const meId = () => useSession().user?.id ?? ''

  function myMember(c: Conversation): Member | undefined {
    return c.members.find((m) => m.user.id === meId())
  }

  /**
   * Everyone this device has seen, by id: a profile outlives a membership, so former members
   * keep their names on their earlier messages and in the list's preview. Profile fields only;
   * presence is the presence store's, from REST answers and `presence` events.
   */
  const users = reactive(new Map<string, Profile>())
  const asked = new Set<string>()
  function noteUser(u: Profile) {
    const { id, username, display_name, photo_url, about } = u
    users.set(id, { id, username, display_name, photo_url, about })
  }
  /** A user's profile, fetched once if no list showed it (someone who left before this load). */
  function userOf(id: string): Profile | undefined {
    const u = users.get(id)
    if (u || !id || asked.has(id)) return u
    asked.add(id)
    api.user(id).then(noteUser, () => {})
    return undefined
  }

  /** A REST answer (the initial load, a fetch): its members' presence is as of that answer. */
  function seeUsers(c: Conversation) {
    const p = usePresence()
    for (const m of c.members) {
      p.seeUser(m.user)
      noteUser(m.user)
    }
  }

  /** Adds or refreshes a conversation from a REST answer (which has the per-user fields). */
  function upsert(c: Conversation): Conv {
    const cur = byId.get(c.id)
    const next: Conv = {
      ...c,
      my_role: c.my_role ?? myRole(c),
      unread_count: c.unread_count ?? 0,
      unread_mentions: c.unread_mentions ?? 0,
      unread_base_seq: c.last_seq,
      left: !c.members.some((m) => m.user.id === meId()) || undefined,
    }
    if (cur) {
      // Keep marks that moved further here than in the snapshot.
      for (const m of next.members) {
        const old = cur.members.find((o) => o.user.id === m.user.id)
        if (old) {
          m.delivered_seq = Math.max(m.delivered_seq, old.delivered_seq)
          m.read_seq = Math.max(m.read_seq, old.read_seq)
        }
      }
      if (cur.last_message && next.last_message && cur.last_message.seq > next.last_message.seq) {
        next.last_message = cur.last_message
      }
      next.last_seq = Math.max(next.last_seq, cur.last_seq)
    }
    byId.set(c.id, next)
    notePinned(next)
    seeUsers(c)
    return byId.get(c.id)!
  }

  function myRole(c: Conversation) {
    return c.members.find((m) => m.user.id === meId())?.role ?? null
  }

  /** Every persisted event moves the conversation's `last_seq`. */
  function noteSeq(cid: string, seq: number) {
    const c = byId.get(cid)
    if (c) c.last_seq = Math.max(c.last_seq, seq)
  }

  /** `message.created` (after the messages store took it); `known`: the thread had it already. */
  function messageCreated(cid: string, seq: number, m: Message, known: boolean) {
    const c = byId.get(cid)
    if (!c) return
    if (!c.last_message || m.seq >= c.last_message.seq) c.last_message = m
    const mine = m.sender_id === meId()
    // WhatsApp's rule (the server's too): a new message brings an archived chat back unless muted.
    if (!known && c.settings?.archived && !isMuted(c)) c.settings = { ...c.settings, archived: false }
    if (!mine && !m.deleted && !known && seq > c.unread_base_seq && m.seq > (myMember(c)?.read_seq ?? 0)) {
      c.unread_count++
      // A new message that mentions me (by name or `@all`): the `@` badge.
      if (m.mentions?.includes(meId() ?? '')) c.unread_mentions = (c.unread_mentions ?? 0) + 1
    }
    if (!mine) scheduleDelivered(cid, m.seq)
  }

  /** `message.updated`; `prev`: the thread's copy before the update, if it had one. */
  function messageUpdated(cid: string, seq: number, m: Message, prev: Message | undefined) {
    const c = byId.get(cid)
    if (!c) return
    const before = prev ?? (c.last_message?.id === m.id ? c.last_message : undefined)
    if (c.last_message?.id === m.id) c.last_message = m
    if (
      m.deleted &&
      before && !before.deleted &&
      m.sender_id !== meId() &&
      seq > c.unread_base_seq &&
      m.seq > (myMember(c)?.read_seq ?? 0) &&
      c.unread_count > 0
    ) {
      c.unread_count--
      if (before.mentions?.includes(meId() ?? '') && (c.unread_mentions ?? 0) > 0) c.unread_mentions!--
    }
  }

  /** `conversation.created` / `conversation.updated`: the snapshot every member gets. */
  function snapshotChanged(cid: string, d: ConversationSnapshot) {
    const c = byId.get(cid)
    if (!c) return
    // A direct conversation's name and photo are the other person's, never in the snapshot.
    if (d.kind !== 'direct' || c.kind !== 'direct') {
      if (d.name !== null) c.name = d.name
      c.photo_url = d.photo_url
    }
    mergeMembers(c, d.members)
    c.updated_at = d.updated_at
    // What channels and rooms add travels in the snapshot too (the same for everyone).
    c.space_id = d.space_id
    c.visibility = d.visibility
    c.topic = d.topic
    c.has_password = d.has_password
    c.member_count = d.member_count
  }

  function memberAdded(cid: string, m: EventMember) {
    const c = byId.get(cid)
    if (!c) return
    // Events carry no presence (`EventMember`): the presence store keeps what it knows.
    if (!c.members.some((x) => x.user.id === m.user.id)) c.members.push(asMember(m))
    noteUser(m.user)
  }

  function memberRemoved(cid: string, userId: string) {
    const c = byId.get(cid)
    if (!c) return
    c.members = c.members.filter((m) => m.user.id !== userId)
    if (userId === meId()) {
      c.left = true
      c.my_role = null
    }
  }

  /** `member.updated`: a member's role changed (mine too: then what I may do changes). */
  function memberUpdated(cid: string, userId: string, role: Role) {
    const c = byId.get(cid)
    if (!c) return
    const m = c.members.find((x) => x.user.id === userId)
    if (m) m.role = role
    if (userId === meId()) c.my_role = role
  }

  /** `conversation.deleted`: it leaves the list (its history is gone on the server too). */
  function conversationDeleted(cid: string) {
    byId.delete(cid)
  }

  /** `settings.updated`: my own settings changed, from this device or another. */
  function settingsUpdated(cid: string, settings: ChatSettings) {
    const c = byId.get(cid)
    if (!c) return
    c.settings = settings
    notePinned(c)
  }

  /** Changes my settings of a conversation (archive, pin, mute); 409 means too many pins. */
  async function updateSettings(cid: string, patch: Partial<ChatSettings> & { notify?: NotifyLevel }) {
    try {
      const s = await api.updateSettings(cid, patch)
      settingsUpdated(cid, s)
      return s
    } catch (e) {
      if (e instanceof ApiError && e.status === 409 && patch.pinned) {
        throw new ApiError(409, e.code, `You can pin at most ${MAX_PINS} chats. Unpin one first.`)
      }
      throw e
    }
  }

  /** Clears my history of a conversation; `hide` also takes it out of my list ("delete for me"). */
  async function clearHistory(cid: string, hide = false) {
    await api.clear(cid, hide)
    const c = byId.get(cid)
    if (!c) return
    c.unread_count = 0
    c.unread_mentions = 0
    c.unread_base_seq = c.last_seq
    c.last_message = null
    if (hide) byId.delete(cid)
  }

  /** `receipt.updated`: a member's marks moved (mine too, from another device). */
  function marksChanged(cid: string, d: Marks, countUnread: UnreadCounter) {
    const c = byId.get(cid)
    if (!c) return
    const m = c.members.find((x) => x.user.id === d.user_id)
    if (!m) return
    m.delivered_seq = Math.max(m.delivered_seq, d.delivered_seq)
    m.read_seq = Math.max(m.read_seq, d.read_seq)
    if (d.user_id === meId()) recountUnread(c, countUnread)
  }

  /** `user.updated`: a profile changed; every conversation listing that user sees it. */
  function userUpdated(u: User) {
    noteUser(u)
    for (const c of byId.values()) {
      for (const m of c.members) if (m.user.id === u.id) m.user = { ...m.user, ...u }
    }
  }

  /** An event's members (no presence in them: the presence store is not touched). */
  function mergeMembers(c: Conv, members: EventMember[]) {
    c.members = members.map((m) => {
      const old = c.members.find((o) => o.user.id === m.user.id)
      const next = asMember(m, old)
      return old
        ? { ...next, delivered_seq: Math.max(m.delivered_seq ?? 0, old.delivered_seq), read_seq: Math.max(m.read_seq ?? 0, old.read_seq) }
        : next
    })
    c.my_role = myRole(c)
    for (const m of members) noteUser(m.user)
  }

  /** Recomputes my unread count from the loaded thread when it covers everything after my mark. */
  function recountUnread(c: Conv, countUnread: UnreadCounter) {
    const read = myMember(c)?.read_seq ?? 0
    if (read >= c.last_seq) {
      c.unread_count = 0
    } else {
      const n = countUnread(read)
      if (n !== null) c.unread_count = n
      else if (!c.last_message || c.last_message.seq <= read) c.unread_count = 0
    }
    // My read mark resets the `@` badge once nothing is unread (a partial read leaves it:
    // the next list load counts it exactly).
    if (c.unread_count === 0) c.unread_mentions = 0
    c.unread_base_seq = c.last_seq
  }

  /**
   * Marks read up to `seq` (the newest message I actually saw); `countUnread` recounts what
   * stays unread from the loaded thread.
   */
  async function markRead(cid: string, seq: number, countUnread: UnreadCounter = () => null) {
    const c = byId.get(cid)
    if (!c || c.left) return
    const me = myMember(c)
    if (!me || seq <= me.read_seq) return
    me.read_seq = seq
    me.delivered_seq = Math.max(me.delivered_seq, seq)
    recountUnread(c, countUnread)
    try {
      await api.markRead(cid, seq)
    } catch {
      // The next visible message or reconnect marks again; marks only move forward.
      me.read_seq = Math.min(me.read_seq, seq - 1)
    }
  }

  /** Tells the server this device got the conversation's newest message, if it is someone else's. */
  function maybeDelivered(c: Conv) {
    const me = myMember(c)
    if (!me || c.left) return
    if (c.last_message && c.last_message.sender_id !== me.user.id && me.delivered_seq < c.last_message.seq) {
      scheduleDelivered(c.id, c.last_message.seq)
    }
  }

  function scheduleDelivered(cid: string, seq: number) {
    deliveredWanted.set(cid, Math.max(deliveredWanted.get(cid) ?? 0, seq))
    if (deliveredTimers.has(cid)) return
    deliveredTimers.set(
      cid,
      setTimeout(async () => {
        deliveredTimers.delete(cid)
        const want = deliveredWanted.get(cid) ?? 0
        deliveredWanted.delete(cid)
        const c = byId.get(cid)
        const me = c && myMember(c)
        if (!me || want <= me.delivered_seq) return
        try {
          await api.markDelivered(cid, want)
          me.delivered_seq = Math.max(me.delivered_seq, want)
        } catch {
          /* retried on the next message or resync */
        }
      }, 150),
    )
  }

  /**
   * The status of my message `seq` from the members' marks: read once every other member read
   * it, delivered once every other member's device got it.
   */
  function statusOf(cid: string, seq: number, fallback: MessageStatus | null = null): MessageStatus {
    const c = byId.get(cid)
    const rank = { sent: 0, delivered: 1, read: 2 } as const
    let s: MessageStatus = 'sent'
    if (c) {
      const others = c.members.filter((m) => m.user.id !== meId())
      if (others.length > 0) {
        if (others.every((m) => m.read_seq >= seq)) s = 'read'
        else if (others.every((m) => Math.max(m.delivered_seq, m.read_seq) >= seq)) s = 'delivered'
      }
    }
    if (fallback && rank[fallback] > rank[s]) s = fallback
    return s
  }

  /** A message I sent got its REST answer: show it in the list even if the socket is down. */
  function noteOwnMessage(m: Message) {
    const c = byId.get(m.conversation_id)
    if (!c) return
    if (!c.last_message || m.seq >= c.last_message.seq) c.last_message = m
    c.last_seq = Math.max(c.last_seq, m.seq)
    // The message's seq will come through the gate as a message.created event.
  }

  function reset() {
    byId.clear()
    users.clear()
    asked.clear()
    pinOrder.clear()
    loaded.value = false
    error.value = null
  }

  return {
    byId, loaded, error, list, archived, totalUnread, users,
    upsert, userOf, updateSettings, clearHistory, markRead, maybeDelivered, statusOf, myMember, noteOwnMessage, reset,
    // What events do to conversations; only `stores/events.ts` calls these.
    noteSeq, messageCreated, messageUpdated, snapshotChanged, memberAdded, memberRemoved, marksChanged, userUpdated,
    memberUpdated, conversationDeleted, settingsUpdated,
  }
})
