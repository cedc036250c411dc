import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { api } from '../src/api/client'
import { useConversations } from '../src/stores/conversations'
import { SOCKET_SYNC_WAIT_MS, useEvents } from '../src/stores/events'
import { useRealtime } from '../src/stores/realtime'
import { useSession } from '../src/stores/session'
import { conv, flush, member, user } from './helpers'

/** A WebSocket that opens when the test says so. */
class FakeWS {
  static all: FakeWS[] = []
  readyState = 0
  onopen: (() => void) | null = null
  onmessage: ((m: { data: string }) => void) | null = null
  onclose: ((e: { code: number }) => void) | null = null
  onerror: (() => void) | null = null
  constructor(public url: string) {
    FakeWS.all.push(this)
  }
  open() {
    this.readyState = 1
    this.onopen?.()
  }
  send() {}
  close(code = 1000) {
    this.readyState = 3
    this.onclose?.({ code })
  }
}

function setup() {
  setActivePinia(createPinia())
  useSession().user = user('me')
  FakeWS.all = []
  vi.stubGlobal('WebSocket', FakeWS)
  vi.spyOn(api, 'wsTicket').mockResolvedValue({ ticket: 't' })
  vi.spyOn(api, 'markDelivered').mockResolvedValue(undefined)
  const list = vi.spyOn(api, 'conversations').mockResolvedValue({ conversations: [conv('c1', [member('me'), member('bob')], 3)] })
  return { list, events: useEvents(), rt: useRealtime(), convs: useConversations() }
}

afterEach(() => {
  useRealtime().stop()
  vi.unstubAllGlobals()
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('loading the app', () => {
  it('fetches /api/conversations once: the home view waits for the socket’s sync', async () => {
    const { list, events, rt, convs } = setup()
    rt.start(() => {}) // App.vue, once the session is known
    const loaded = events.load() // HomeView.vue's onMounted
    await flush()
    FakeWS.all[0].open()
    await loaded
    await flush()
    expect(list).toHaveBeenCalledTimes(1)
    expect(convs.loaded).toBe(true)
    expect(convs.byId.has('c1')).toBe(true)
  })

  it('fetches the list itself when the socket does not open', async () => {
    vi.useFakeTimers()
    const { list, events, rt, convs } = setup()
    rt.start(() => {})
    const loaded = events.load()
    await vi.advanceTimersByTimeAsync(SOCKET_SYNC_WAIT_MS + 10)
    await loaded
    expect(list).toHaveBeenCalledTimes(1)
    expect(convs.loaded).toBe(true)
  })

  it('a reconnect still resyncs (events missed while away)', async () => {
    const { list, events, rt } = setup()
    rt.start(() => {})
    const loaded = events.load()
    await flush()
    FakeWS.all[0].open()
    await loaded
    await events.resync()
    expect(list).toHaveBeenCalledTimes(2)
  })
})
