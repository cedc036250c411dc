import { defineStore } from 'pinia'
import { reactive } from 'vue'
import { ApiError, api } from '../api/client'
import type { Conversation, ServerEvent } from '../api/types'
import { useConversations, type Conv } from './conversations'
import { useMessages } from './messages'
import { usePresence } from './presence'
import { useSession } from './session'
import { useSpaces } from './spaces'
import { useContacts } from './contacts'
import { useTimeline } from './timeline'
import { useNotifications } from './notifications'

/**
 * The way in for every server event (WebSocket or `/events` catch-up) and the one place that
 * knows what each event does: the seq gate (apply in order, drop duplicates, catch up gaps,
 * reload on 410), and `dispatch`, an exhaustive `switch` over the server's event union that
 * calls the other stores. The data stores import none of this: conversations knows nothing of
 * messages, messages tells conversations only of its own sends.
 */
/** One conversation of the socket's `sync` frame: the seq its view shows now. */
export interface SyncEntry {
  id: string
  last_seq: number
}

export const useEvents = defineStore('events', () => {
  /** The seq up to which events of each conversation were applied, without gaps. */
  const applied = reactive(new Map<string, number>())
  const catchUps = new Map<string, Promise<void>>()
  const catchUpAgain = new Set<string>()
  const pendingFetch = new Map<string, Promise<Conv | null>>()
  /** The highest seq seen for a conversation while its snapshot was on its way. */
  const unseen = new Map<string, number>()
  /** Counters for tests and diagnostics. */
  const stats = reactive({ gaps: 0, duplicates: 0, catchUps: 0, reloads: 0 })

  const meId = () => useSession().user?.id ?? ''
  const unreadCounter = (cid: string) => (readSeq: number) => useMessages().countUnread(cid, readSeq, meId())

  /**
   * What one event does to the stores. Persisted events get here in seq order, once. `live`:
   * it came over the socket as it happened (only those notify, see `stores/notifications.ts`).
   */
  function dispatch(ev: ServerEvent, live = false) {
    const convs = useConversations()
    const msgs = useMessages()
    const presence = usePresence()
    const timeline = useTimeline()
    const cid = ev.conversation_id ?? null
    const seq = ev.seq ?? null
    if (cid !== null && seq !== null) convs.noteSeq(cid, seq)
    switch (ev.type) {
      case 'message.created': {
        if (cid === null || seq === null) return
        const m = ev.data
        const known = msgs.find(cid, m.seq) !== undefined
        msgs.applyMessage(cid, m)
        convs.messageCreated(cid, seq, m, known)
        if (!known) useNotifications().incoming(cid, m, live)
        if (m.sender_id !== meId()) presence.stopTyping(cid, m.sender_id)
        return
      }
      case 'message.updated': {
        if (cid === null || seq === null) return
        const m = ev.data
        const prev = msgs.find(cid, m.seq)
        msgs.applyMessage(cid, m)
        convs.messageUpdated(cid, seq, m, prev)
        return
      }
      case 'conversation.created':
      case 'conversation.updated':
        if (cid === null || seq === null) return
        // The timeline's line ("renamed to …") compares with the conversation before the change.
        timeline.record(cid, seq, ev, convs.byId.get(cid))
        convs.snapshotChanged(cid, ev.data)
        return
      case 'member.added':
        if (cid === null || seq === null) return
        convs.memberAdded(cid, ev.data)
        timeline.record(cid, seq, ev, undefined)
        return
      case 'member.removed':
        if (cid === null || seq === null) return
        convs.memberRemoved(cid, ev.data.user_id)
        timeline.record(cid, seq, ev, undefined)
        return
      case 'member.updated':
        if (cid === null || seq === null) return
        convs.memberUpdated(cid, ev.data.user_id, ev.data.role)
        timeline.record(cid, seq, ev, undefined)
        return
      case 'conversation.deleted':
        if (cid === null || seq === null) return
        convs.conversationDeleted(cid)
        return
      case 'settings.updated':
        convs.settingsUpdated(ev.data.conversation_id, ev.data.settings)
        return
      case 'receipt.updated':
        if (cid === null) return
        convs.marksChanged(cid, ev.data, unreadCounter(cid))
        return
      case 'typing':
        if (cid !== null && ev.data.user_id !== meId()) presence.setTyping(cid, ev.data.user_id)
        return
      case 'presence':
        presence.setPresence(ev.data.user_id, ev.data.online, ev.data.last_seen_at ?? null)
        return
      case 'user.updated':
        // A profile change; presence comes in `presence` events only.
        convs.userUpdated(ev.data)
        useSession().setUser(ev.data)
        return
      // A space's own events; its channels' events (conversation.created/deleted, member.*)
      // keep the conversation list right by themselves.
      case 'space.created':
        useSpaces().spaceCreated(ev.data)
        return
      case 'space.updated':
        useSpaces().spaceUpdated(ev.data)
        return
      case 'space.deleted':
        useSpaces().spaceDeleted(ev.data)
        return
      case 'space.member_added':
        useSpaces().memberAdded(ev.data)
        return
      case 'space.member_removed':
        useSpaces().memberRemoved(ev.data)
        return
      default: {
        // A new event in the server's OpenAPI document fails the type check here until it is
        // handled above. At run time an event this build does not know is ignored.
        const unhandled: never = ev
        return unhandled
      }
    }
  }

  /** Entry point for every server event of the WebSocket. */
  function ingest(ev: ServerEvent) {
    const cid = ev.conversation_id
    if (ev.seq === undefined || ev.seq === null) {
      dispatch(ev)
      return
    }
    if (!cid) return
    const cur = applied.get(cid)
    if (cur === undefined) {
      // A conversation we do not know yet (new, or I was just added): its REST view has
      // everything including my unread count and role. Events that arrive while it loads are
      // remembered, so whatever the snapshot missed is caught up after it.
      unseen.set(cid, Math.max(unseen.get(cid) ?? 0, ev.seq))
      const fetched = fetchOne(cid)
      // The first message of a conversation new to me (someone writes to me for the first
      // time) arrives this way: it notifies once the conversation is known.
      if (ev.type === 'message.created') void fetched.then((c) => c && useNotifications().incoming(cid, ev.data, true), () => {})
      else void fetched.catch(() => {})
      return
    }
    if (ev.seq <= cur) {
      stats.duplicates++
      return
    }
    if (ev.seq > cur + 1) {
      stats.gaps++
      void catchUp(cid, true)
      return
    }
    applied.set(cid, ev.seq)
    dispatch(ev, true)
  }

  /**
   * Fetches `/events?after=` until caught up; on 410 reloads the conversation. `live`: a gap
   * of the live socket (the server did not push those: the socket was up).
   */
  function catchUp(cid: string, live = false): Promise<void> {
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
              dispatch(ev, live)
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
    useTimeline().forget(cid)
    useTimeline().seed(cid, c)
    useConversations().upsert(c)
    applied.set(cid, c.last_seq)
    await useMessages().reset(cid, true)
  }

  /** A conversation from a REST answer (created or opened here): events apply after its seq. */
  function adopt(c: Conversation): Conv {
    useTimeline().seed(c.id, c)
    const conv = useConversations().upsert(c)
    if (!applied.has(c.id)) applied.set(c.id, c.last_seq)
    return conv
  }

  /** The first fetch of the list, shared by `load` and the socket's first `sync`. */
  let firstLoad: Promise<void> | null = null

  /**
   * Fetches the conversation list for the first time, at once: it does not wait for the
   * socket, whose first frame (`sync`) then says what changed since (`syncTo`), so the list
   * is fetched once and drawn as soon as it arrives. `conversations.error` says why not.
   */
  function load(): Promise<void> {
    const convs = useConversations()
    if (convs.loaded) return Promise.resolve()
    if (firstLoad) return firstLoad
    convs.error = null
    const p = resync().catch((e) => {
      convs.error = (e as Error).message
      throw e
    })
    firstLoad = p
    p.catch(() => {}).finally(() => {
      if (firstLoad === p) firstLoad = null
    })
    return p
  }

  /**
   * The socket's `sync` frame: every conversation of my list and the seq its view shows now
   * that this socket receives events. Whatever moved between the list's fetch and that moment
   * is caught up through `/events`; one I did not know is fetched; one I knew that is not
   * there any more (deleted, hidden) is fetched again, and dropped if it is gone.
   */
  async function syncTo(seqs: SyncEntry[]) {
    try {
      await load()
    } catch {
      await resync() // the first fetch failed; the socket is up now, so try once more
    }
    const listed = new Set<string>()
    const work: Promise<unknown>[] = []
    for (const { id, last_seq } of seqs) {
      listed.add(id)
      const had = applied.get(id)
      if (had === undefined) work.push(fetchOne(id))
      else if (last_seq > had) work.push(catchUp(id))
    }
    const convs = useConversations()
    for (const id of [...applied.keys()]) {
      if (listed.has(id) || !convs.byId.has(id)) continue
      work.push(
        fetchOne(id).then((c) => {
          if (!c) convs.conversationDeleted(id)
        }),
      )
    }
    await Promise.all(work)
  }

  /**
   * Fetches the list; conversations we did not know start at the server's state, known ones
   * whose seq moved on catch up through `/events` (so open threads get every change in order).
   */
  async function resync() {
    const convs = useConversations()
    // Spaces and contacts have no seq to catch up by: they are read again with the list.
    const [{ conversations }] = await Promise.all([api.conversations(), useSpaces().load(), useContacts().load()])
    const behind: string[] = []
    for (const c of conversations) {
      const had = applied.get(c.id)
      useTimeline().seed(c.id, c)
      convs.upsert(c)
      if (had === undefined) applied.set(c.id, c.last_seq)
      else if (c.last_seq > had) behind.push(c.id)
      convs.maybeDelivered(convs.byId.get(c.id)!)
    }
    convs.loaded = true
    await Promise.all(behind.map((id) => catchUp(id)))
  }

  /** Loads one conversation (opened by URL, or named by an event); null when I cannot see it. */
  async function fetchOne(id: string): Promise<Conv | null> {
    const inflight = pendingFetch.get(id)
    if (inflight) return inflight
    const convs = useConversations()
    const p = (async () => {
      try {
        const c = await api.conversation(id)
        const had = applied.get(id)
        useTimeline().seed(id, c)
        const conv = convs.upsert(c)
        if (had === undefined) applied.set(id, c.last_seq)
        else if (c.last_seq > had) await catchUp(id)
        const missed = unseen.get(id) ?? 0
        unseen.delete(id)
        if (missed > (applied.get(id) ?? 0)) await catchUp(id)
        convs.maybeDelivered(conv)
        return convs.byId.get(id) ?? null
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

  /** Marks read up to `seq`, recounting what stays unread from the loaded thread. */
  function markRead(cid: string, seq: number) {
    return useConversations().markRead(cid, seq, unreadCounter(cid))
  }

  function reset() {
    applied.clear()
    unseen.clear()
    useTimeline().reset()
    firstLoad = null
  }

  return { applied, stats, dispatch, ingest, catchUp, adopt, load, syncTo, resync, fetchOne, markRead, reset }
})
