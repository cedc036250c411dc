import { afterEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError, api } from '../src/api/client'
import { useConversations } from '../src/stores/conversations'
import { useEvents } from '../src/stores/events'
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
  /** The server's first frame. */
  sync(conversations: { id: string; last_seq: number }[]) {
    this.onmessage?.({ data: JSON.stringify({ type: 'sync', data: { conversations } }) })
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
  it('fetches /api/conversations once, at once: it does not wait for the socket', async () => {
    const { list, events, rt, convs } = setup()
    rt.start(() => {}) // App.vue, once the session is known
    const loaded = events.load() // HomeView.vue's onMounted
    await loaded
    expect(list).toHaveBeenCalledTimes(1)
    expect(convs.loaded).toBe(true)
    expect(FakeWS.all.length <= 1 && FakeWS.all.every((ws) => ws.readyState === 0)).toBe(true)
    await flush()
    FakeWS.all[0].open()
    FakeWS.all[0].sync([{ id: 'c1', last_seq: 3 }])
    await flush()
    expect(list).toHaveBeenCalledTimes(1)
    expect(convs.byId.has('c1')).toBe(true)
  })

  it('catches up what moved between the list and the socket, and fetches what is new', async () => {
    const { list, events, rt, convs } = setup()
    const missed = vi.spyOn(api, 'events').mockResolvedValue({ events: [], has_more: false } as never)
    const one = vi.spyOn(api, 'conversation').mockResolvedValue(conv('c2', [member('me'), member('carol')], 1))
    rt.start(() => {})
    await events.load()
    await flush()
    FakeWS.all[0].open()
    FakeWS.all[0].sync([
      { id: 'c1', last_seq: 5 },
      { id: 'c2', last_seq: 1 },
    ])
    await flush()
    expect(list).toHaveBeenCalledTimes(1)
    expect(missed).toHaveBeenCalledWith('c1', 3)
    expect(one).toHaveBeenCalledWith('c2')
    expect(convs.byId.has('c2')).toBe(true)
  })

  it('drops a known conversation the sync no longer lists when it is gone', async () => {
    const { events, rt, convs } = setup()
    vi.spyOn(api, 'conversation').mockRejectedValue(new ApiError(404, 'not_found', 'gone'))
    rt.start(() => {})
    await events.load()
    await flush()
    FakeWS.all[0].open()
    FakeWS.all[0].sync([])
    await flush()
    expect(convs.byId.has('c1')).toBe(false)
  })

  it('loads the list from the sync when nobody asked for it yet', async () => {
    const { list, rt, convs } = setup()
    rt.start(() => {})
    await flush()
    FakeWS.all[0].open()
    FakeWS.all[0].sync([{ id: 'c1', last_seq: 3 }])
    await vi.waitFor(() => expect(convs.loaded).toBe(true))
    expect(list).toHaveBeenCalledTimes(1)
  })

  it('a reconnect still resyncs (events missed while away)', async () => {
    const { list, events, rt } = setup()
    rt.start(() => {})
    await events.load()
    await flush()
    FakeWS.all[0].open()
    FakeWS.all[0].sync([{ id: 'c1', last_seq: 3 }])
    await flush()
    FakeWS.all[0].close(1006)
    await vi.waitFor(() => expect(FakeWS.all.length).toBe(2), { timeout: 3000 })
    FakeWS.all[1].open()
    FakeWS.all[1].sync([{ id: 'c1', last_seq: 3 }])
    await flush()
    expect(list).toHaveBeenCalledTimes(2)
  })
})
