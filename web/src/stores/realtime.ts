import { defineStore } from 'pinia'
import { ref } from 'vue'
import { ApiError, api } from '../api/client'
import { Socket, type SocketStatus } from '../lib/socket'
import { useEvents } from './events'
import { useMessages } from './messages'

const TYPING_INTERVAL = 2500

/** The tab's single WebSocket and what happens when it (re)connects. */
export const useRealtime = defineStore('realtime', () => {
  const status = ref<SocketStatus>('idle')
  const syncing = ref(false)
  const syncError = ref<string | null>(null)
  let socket: Socket | null = null
  let lastTyping = new Map<string, number>()
  const typingTimers = new Map<string, ReturnType<typeof setTimeout>>()

  function wsUrl(ticket: string) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
    return `${proto}//${location.host}/api/ws?ticket=${encodeURIComponent(ticket)}`
  }

  function start(onSessionEnded: () => void) {
    if (socket) return
    const events = useEvents()
    socket = new Socket({
      url: async () => wsUrl((await api.wsTicket()).ticket),
      isFatal: (e) => e instanceof ApiError && e.status === 401,
      onFatal: onSessionEnded,
      onStatus: (s) => (status.value = s),
      onEvent: (ev) => events.ingest(ev),
      // The first socket: the list is being fetched already (`events.load`, at once, not
      // after the socket), and the socket's `sync` frame says what moved since. A reconnect:
      // anything between our last state and now comes through /events for every
      // conversation that moved. Either way, queued sends go out after.
      onOpen: (reconnect) => {
        if (reconnect) void catchUpWith(() => events.resync())
        else syncing.value = true
      },
      onSync: (frame, reconnect) => {
        if (!reconnect) void catchUpWith(() => events.syncTo(frame.conversations))
      },
    })
    socket.start()
    if (typeof window !== 'undefined') window.addEventListener('online', onOnline)
  }

  async function catchUpWith(sync: () => Promise<void>) {
    syncing.value = true
    try {
      await sync()
      syncError.value = null
    } catch (e) {
      syncError.value = (e as Error).message
    } finally {
      syncing.value = false
    }
    await useMessages().flushAll()
  }

  function onOnline() {
    void useMessages().flushAll()
  }

  function stop() {
    socket?.stop()
    socket = null
    status.value = 'idle'
    lastTyping = new Map()
    for (const t of typingTimers.values()) clearTimeout(t)
    typingTimers.clear()
    if (typeof window !== 'undefined') window.removeEventListener('online', onOnline)
  }

  /**
   * Tells the others I am typing: at once, then at most every 2.5 s (the server drops typing
   * frames closer than 2 s apart), with one trailing notice so a burst of keys right after the
   * previous notice is not lost.
   */
  function typing(cid: string) {
    const now = Date.now()
    const last = lastTyping.get(cid) ?? 0
    if (now - last >= TYPING_INTERVAL) {
      if (socket?.send({ type: 'typing', conversation_id: cid })) lastTyping.set(cid, now)
      return
    }
    if (typingTimers.has(cid)) return
    typingTimers.set(
      cid,
      setTimeout(() => {
        typingTimers.delete(cid)
        if (socket?.send({ type: 'typing', conversation_id: cid })) lastTyping.set(cid, Date.now())
      }, last + TYPING_INTERVAL - now),
    )
  }

  /** A message went out: no trailing typing notice for it. */
  function stopTypingThrottle(cid: string) {
    const t = typingTimers.get(cid)
    if (t) clearTimeout(t)
    typingTimers.delete(cid)
  }

  /** For tests and the e2e suite's offline scenario. */
  function drop() {
    socket?.drop()
  }

  return { status, syncing, syncError, start, stop, typing, stopTypingThrottle, drop }
})
