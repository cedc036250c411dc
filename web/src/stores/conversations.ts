import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { ApiError, api } from '../api/client'
import type { Conversation, Member, Message, MessageStatus, ServerEvent, User } from '../api/types'
import { useSession } from './session'
import { useMessages } from './messages'
import { usePresence } from './presence'

/** A conversation as the app keeps it. */
export interface Conv extends Conversation {
  /** I was removed or left: history stays readable up to then. */
  left?: boolean
  /** `unread_count` is the server's count as of this seq; only later events change it. */
  unread_base_seq: number
}

export type SendTransport = (frame: Record<string, unknown>) => boolean

function activity(c: Conversation): number {
  const t = c.last_message?.created_at ?? c.created_at
  return Date.parse(t) || 0
}

export const useConversations = defineStore('conversations', () => {
  const byId = reactive(new Map<string, Conv>())
  /** The seq up to which events of each conversation were applied, without gaps. */
  const applied = reactive(new Map<string, number>())
  const loaded = ref(false)
  const error = ref<string | null>(null)
  const catchUps = new Map<string, Promise<void>>()
  const catchUpAgain = new Set<string>()
  const pendingFetch = new Map<string, Promise<Conv | null>>()
  const unseen = new Map<string, number>()
  const deliveredTimers = new Map<string, ReturnType<typeof setTimeout>>()
  const deliveredWanted = new Map<string, number>()
  /** Counters for tests and diagnostics. */
  const stats = reactive({ gaps: 0, duplicates: 0, catchUps: 0, reloads: 0 })

  const list = computed(() => [...byId.values()].sort((a, b) => activity(b) - activity(a)))
  const totalUnread = computed(() => [...byId.values()].reduce((n, c) => n + (c.left ? 0 : c.unread_count), 0))

  const meId = () => useSession().user?.id ?? ''

  function myMember(c: Conversation): Member | undefined {
    return c.members.find((m) => m.user.id === meId())
  }

  function seeUsers(c: Conversation) {
    const p = usePresence()
    for (const m of c.members) p.seeUser(m.user)
  }

  /** Adds or refreshes a conversation from a REST answer (which has the per-user fields). */
  function upsert(c: Conversation): Conv {
    const cur = byId.get(c.id)
    const next: Conv = {
      ...c,
      my_role: c.my_role ?? myRole(c),
      unread_count: c.unread_count ?? 0,
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
    seeUsers(c)
    return byId.get(c.id)!
  }

  function myRole(c: Conversation) {
    return c.members.find((m) => m.user.id === meId())?.role ?? null
  }

  async function load() {
    error.value = null
    try {
      await resync()
      loaded.value = true
    } catch (e) {
      error.value = (e as Error).message
      throw e
    }
  }

  /**
   * Fetches the list; conversations we did not know start at the server's state, known ones
   * whose seq moved on catch up through `/events` (so open threads get every change in order).
   */
  async function resync() {
    const { conversations } = await api.conversations()
    const behind: string[] = []
    for (const c of conversations) {
      const had = applied.get(c.id)
      upsert(c)
      if (had === undefined) applied.set(c.id, c.last_seq)
      else if (c.last_seq > had) behind.push(c.id)
      maybeDelivered(byId.get(c.id)!)
    }
    loaded.value = true
    await Promise.all(behind.map((id) => catchUp(id)))
  }

  async function fetchOne(id: string): Promise<Conv | null> {
    const inflight = pendingFetch.get(id)
    if (inflight) return inflight
    const p = (async () => {
      try {
        const c = await api.conversation(id)
        const had = applied.get(id)
        const conv = upsert(c)
        if (had === undefined) applied.set(id, c.last_seq)
        else if (c.last_seq > had) await catchUp(id)
        const missed = unseen.get(id) ?? 0
        unseen.delete(id)
        if (missed > (applied.get(id) ?? 0)) await catchUp(id)
        maybeDelivered(conv)
        return byId.get(id) ?? null
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return null
        throw e
      } finally {
        pendingFetch.delete(id)
      }
    })()
    pendingFetch.set(id, p)
    return p
  }

  /** Entry point for every server event (WebSocket or catch-up). */
  function ingest(ev: ServerEvent) {
    const cid = ev.conversation_id
    if (ev.seq === undefined || ev.seq === null) {
      ephemeral(ev)
      return
    }
    if (!cid) return
    const cur = applied.get(cid)
    if (cur === undefined) {
      // A conversation we do not know yet (new, or I was just added): its REST view has
      // everything including my unread count and role. Events that arrive while it loads are
      // remembered, so whatever the snapshot missed is caught up after it.
      unseen.set(cid, Math.max(unseen.get(cid) ?? 0, ev.seq))
      void fetchOne(cid).catch(() => {})
      return
    }
    if (ev.seq <= cur) {
      stats.duplicates++
      return
    }
    if (ev.seq > cur + 1) {
      stats.gaps++
      void catchUp(cid)
      return
    }
    applied.set(cid, ev.seq)
    apply(cid, ev)
  }

  /** Fetches `/events?after=` until caught up; on 410 reloads the conversation. */
  function catchUp(cid: string): Promise<void> {
    const running = catchUps.get(cid)
    if (running) {
      catchUpAgain.add(cid)
      return running
    }
    const p = (async () => {
      try {
        do {
          catchUpAgain.delete(cid)
          stats.catchUps++
          for (;;) {
            const after = applied.get(cid) ?? 0
            let page
            try {
              page = await api.events(cid, after)
            } catch (e) {
              if (e instanceof ApiError && e.status === 410) {
                await reload(cid)
                return
              }
              if (e instanceof ApiError && e.status === 404) return
              throw e
            }
            let progressed = false
            for (const ev of page.events) {
              if (ev.seq == null) continue
              const a = applied.get(cid) ?? 0
              if (ev.seq <= a) continue
              if (ev.seq !== a + 1) break
              applied.set(cid, ev.seq)
              apply(cid, ev)
              progressed = true
            }
            if (!page.has_more || !progressed) break
          }
        } while (catchUpAgain.has(cid))
      } finally {
        catchUps.delete(cid)
      }
    })()
    catchUps.set(cid, p)
    return p
  }

  /** The server no longer has the events: start over from the conversation's current state. */
  async function reload(cid: string) {
    stats.reloads++
    applied.delete(cid)
    const c = await api.conversation(cid)
    upsert(c)
    applied.set(cid, c.last_seq)
    await useMessages().reset(cid, true)
  }

  function apply(cid: string, ev: ServerEvent) {
    const c = byId.get(cid)
    const seq = ev.seq as number
    const msgs = useMessages()
    const data = ev.data ?? {}
    if (c) c.last_seq = Math.max(c.last_seq, seq)
    switch (ev.type) {
      case 'message.created': {
        const m = data as Message
        const prev = msgs.find(cid, m.seq)
        msgs.applyMessage(cid, m)
        if (!c) return
        if (!c.last_message || m.seq >= c.last_message.seq) c.last_message = m
        const mine = m.sender_id === meId()
        if (!mine && !m.deleted && !prev && seq > c.unread_base_seq && m.seq > (myMember(c)?.read_seq ?? 0)) {
          c.unread_count++
        }
        if (!mine) {
          usePresence().stopTyping(cid, m.sender_id)
          scheduleDelivered(cid, m.seq)
        }
        return
      }
      case 'message.updated': {
        const m = data as Message
        const prev = msgs.find(cid, m.seq) ?? (c?.last_message?.id === m.id ? c.last_message : undefined)
        msgs.applyMessage(cid, m)
        if (!c) return
        if (c.last_message?.id === m.id) c.last_message = m
        if (
          m.deleted &&
          prev && !prev.deleted &&
          m.sender_id !== meId() &&
          seq > c.unread_base_seq &&
          m.seq > (myMember(c)?.read_seq ?? 0) &&
          c.unread_count > 0
        ) {
          c.unread_count--
        }
        return
      }
      case 'conversation.created':
      case 'conversation.updated': {
        if (!c) return
        const d = data as Partial<Conversation>
        if (d.kind === 'group' || c.kind === 'group') {
          if (d.name !== undefined && d.name !== null) c.name = d.name
          if (d.photo_url !== undefined) c.photo_url = d.photo_url
        }
        if (Array.isArray(d.members)) mergeMembers(c, d.members)
        if (d.updated_at) c.updated_at = d.updated_at
        return
      }
      case 'member.added': {
        if (!c) return
        for (const m of membersOf(data)) {
          if (!c.members.some((x) => x.user.id === m.user.id)) c.members.push(m)
          usePresence().seeUser(m.user)
        }
        if (Array.isArray(data.members)) mergeMembers(c, data.members)
        return
      }
      case 'member.removed': {
        if (!c) return
        const ids = removedIds(data)
        if (Array.isArray(data.members) && ids.length === 0) {
          const keep = new Set((data.members as Member[]).map((m) => m.user.id))
          for (const m of c.members) if (!keep.has(m.user.id)) ids.push(m.user.id)
        }
        c.members = c.members.filter((m) => !ids.includes(m.user.id))
        if (ids.includes(meId())) {
          c.left = true
          c.my_role = null
        }
        return
      }
    }
  }

  function membersOf(data: any): Member[] {
    if (!data) return []
    if (data.user && data.role) return [data as Member]
    if (data.member?.user) return [data.member as Member]
    if (Array.isArray(data.added)) return data.added
    return []
  }
  function removedIds(data: any): string[] {
    if (!data) return []
    if (typeof data.user_id === 'string') return [data.user_id]
    if (data.user?.id) return [data.user.id]
    if (data.member?.user?.id) return [data.member.user.id]
    if (Array.isArray(data.user_ids)) return [...data.user_ids]
    return []
  }

  function mergeMembers(c: Conv, members: Member[]) {
    c.members = members.map((m) => {
      const old = c.members.find((o) => o.user.id === m.user.id)
      return old
        ? { ...m, delivered_seq: Math.max(m.delivered_seq ?? 0, old.delivered_seq), read_seq: Math.max(m.read_seq ?? 0, old.read_seq) }
        : m
    })
    c.my_role = myRole(c)
    for (const m of members) usePresence().seeUser(m.user)
  }

  function ephemeral(ev: ServerEvent) {
    const d = ev.data ?? {}
    switch (ev.type) {
      case 'receipt.updated': {
        const c = ev.conversation_id ? byId.get(ev.conversation_id) : undefined
        if (!c) return
        const m = c.members.find((x) => x.user.id === d.user_id)
        if (!m) return
        if (typeof d.delivered_seq === 'number') m.delivered_seq = Math.max(m.delivered_seq, d.delivered_seq)
        if (typeof d.read_seq === 'number') m.read_seq = Math.max(m.read_seq, d.read_seq)
        if (d.user_id === meId()) recountUnread(c)
        return
      }
      case 'typing': {
        if (ev.conversation_id && d.user_id && d.user_id !== meId()) usePresence().setTyping(ev.conversation_id, d.user_id)
        return
      }
      case 'presence': {
        if (d.user_id) usePresence().setPresence(d.user_id, !!d.online, d.last_seen_at ?? null)
        return
      }
      case 'user.updated': {
        const u = (d.user ?? d) as User
        if (!u?.id) return
        for (const c of byId.values()) {
          for (const m of c.members) if (m.user.id === u.id) m.user = { ...m.user, ...u }
        }
        usePresence().seeUser(u)
        useSession().setUser(u)
        return
      }
    }
  }

  /** Recomputes my unread count from the loaded thread when it covers everything after my mark. */
  function recountUnread(c: Conv) {
    const read = myMember(c)?.read_seq ?? 0
    if (read >= c.last_seq) {
      c.unread_count = 0
    } else {
      const n = useMessages().countUnread(c.id, read, meId())
      if (n !== null) c.unread_count = n
      else if (!c.last_message || c.last_message.seq <= read) c.unread_count = 0
    }
    c.unread_base_seq = c.last_seq
  }

  /** Marks read up to `seq` (the newest message I actually saw). */
  async function markRead(cid: string, seq: number) {
    const c = byId.get(cid)
    if (!c || c.left) return
    const me = myMember(c)
    if (!me || seq <= me.read_seq) return
    me.read_seq = seq
    me.delivered_seq = Math.max(me.delivered_seq, seq)
    recountUnread(c)
    try {
      await api.markRead(cid, seq)
    } catch {
      // The next visible message or reconnect marks again; marks only move forward.
      me.read_seq = Math.min(me.read_seq, seq - 1)
    }
  }

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
    applied.clear()
    loaded.value = false
    error.value = null
  }

  return {
    byId, applied, loaded, error, list, totalUnread, stats,
    load, resync, fetchOne, upsert, ingest, catchUp, markRead, statusOf, myMember, noteOwnMessage, reset,
  }
})
