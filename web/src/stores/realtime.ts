import { defineStore } from 'pinia'
import { ref } from 'vue'
import { ApiError, api } from '../api/client'
import { Socket, type SocketStatus } from '../lib/socket'
import { useConversations } from './conversations'
import { useMessages } from './messages'

/** The tab's single WebSocket and what happens when it (re)connects. */
export const useRealtime = defineStore('realtime', () => {
  const status = ref<SocketStatus>('idle')
  const syncing = ref(false)
  const syncError = ref<string | null>(null)
  let socket: Socket | null = null
  let lastTyping = new Map<string, number>()

  function wsUrl(ticket: string) {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:'
    return `${proto}//${location.host}/api/ws?ticket=${encodeURIComponent(ticket)}`
  }

  function start(onSessionEnded: () => void) {
    if (socket) return
    const convs = useConversations()
    const msgs = useMessages()
    socket = new Socket({
      url: async () => wsUrl((await api.wsTicket()).ticket),
      isFatal: (e) => e instanceof ApiError && e.status === 401,
      onFatal: onSessionEnded,
      onStatus: (s) => (status.value = s),
      onEvent: (ev) => convs.ingest(ev),
      onOpen: async () => {
        // Whether first connect or reconnect: anything between our last state and now comes
        // through /events for every conversation that moved, then queued sends go out.
        syncing.value = true
        try {
          await convs.resync()
          syncError.value = null
        } catch (e) {
          syncError.value = (e as Error).message
        } finally {
          syncing.value = false
        }
        await msgs.flushAll()
      },
    })
    socket.start()
    if (typeof window !== 'undefined') window.addEventListener('online', onOnline)
  }

  function onOnline() {
    void useMessages().flushAll()
  }

  function stop() {
    socket?.stop()
    socket = null
    status.value = 'idle'
    lastTyping = new Map()
    if (typeof window !== 'undefined') window.removeEventListener('online', onOnline)
  }

  /** Tells the others I am typing, at most every 3 s per conversation. */
  function typing(cid: string) {
    const now = Date.now()
    if ((lastTyping.get(cid) ?? 0) + 3000 > now) return
    if (socket?.send({ type: 'typing', conversation_id: cid })) lastTyping.set(cid, now)
  }

  function stopTypingThrottle(cid: string) {
    lastTyping.delete(cid)
  }

  /** For tests and the e2e suite's offline scenario. */
  function drop() {
    socket?.drop()
  }

  return { status, syncing, syncError, start, stop, typing, stopTypingThrottle, drop }
})
