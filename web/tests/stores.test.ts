import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError, api } from '../src/api/client'
import { useConversations } from '../src/stores/conversations'
import { useEvents } from '../src/stores/events'
import { useMessages } from '../src/stores/messages'
import { useSession } from '../src/stores/session'
import { usePresence } from '../src/stores/presence'
import { conv, created, deferred, flush, member, msg, snapshot, updated, user } from './helpers'
import type { Message } from '../src/api/types'

const C = 'c1'

function setup(lastSeq = 0, extra = {}) {
  setActivePinia(createPinia())
  useSession().user = user('me')
  const convs = useConversations()
  const events = useEvents()
  events.adopt(conv(C, [member('me'), member('bob')], lastSeq, extra))
  return { convs, events, msgs: useMessages() }
}

beforeEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('optimistic send', () => {
  it('shows the message at once and reconciles it with the server copy by client_id', async () => {
    const { convs, msgs, events } = setup(0)
    const answer = deferred<Message>()
    const send = vi.spyOn(api, 'send').mockReturnValue(answer.promise)
    const p = msgs.send(C, 'hello')
    expect(msgs.visiblePending(C)).toHaveLength(1)
    expect(msgs.visiblePending(C)[0].state).toBe('sending')
    const clientId = p.client_id
    expect(send).toHaveBeenCalledWith(C, expect.objectContaining({ text: 'hello', client_id: clientId }))

    // The WebSocket event comes before the POST answer: the pending copy hides, no double.
    const m = msg(C, 1, 'me', 'hello')
    events.ingest(created(m))
    expect(msgs.ordered(C).map((x) => x.id)).toEqual([m.id])
    expect(msgs.visiblePending(C)).toHaveLength(0)

    answer.resolve(m)
    await flush()
    expect(msgs.thread(C).pending).toHaveLength(0)
    expect(msgs.ordered(C)).toHaveLength(1)
    expect(convs.byId.get(C)!.last_message?.id).toBe(m.id)
  })

  it('uses client_id from the event when the server includes it', () => {
    const { convs, msgs, events } = setup(0)
    vi.spyOn(api, 'send').mockReturnValue(new Promise(() => {}))
    msgs.send(C, 'same')
    const p2 = msgs.send(C, 'same')
    events.ingest(created({ ...msg(C, 1, 'me', 'same'), client_id: p2.client_id } as Message))
    expect(msgs.thread(C).pending.find((p) => p.client_id === p2.client_id)!.matched_id).toBe(`${C}-msg-1`)
    expect(msgs.thread(C).pending[0].matched_id).toBeNull()
  })

  it('queues while offline and sends in order with the same client_id when back', async () => {
    const { msgs, events } = setup(0)
    const calls: string[] = []
    let online = false
    vi.spyOn(api, 'send').mockImplementation(async (_cid, body) => {
      calls.push(`${body.text}:${body.client_id}`)
      if (!online) throw new ApiError(0, 'network', 'offline')
      return msg(C, calls.length, 'me', body.text)
    })
    const a = msgs.send(C, 'one')
    await flush()
    const b = msgs.send(C, 'two')
    await flush()
    expect(msgs.thread(C).pending.map((p) => p.state)).toEqual(['queued', 'queued'])
    online = true
    await msgs.flushAll()
    expect(msgs.thread(C).pending).toHaveLength(0)
    const sent = calls.slice(-2)
    expect(sent).toEqual([`one:${a.client_id}`, `two:${b.client_id}`])
    expect(msgs.ordered(C).map((m) => m.text)).toEqual(['one', 'two'])
  })

  it('a refused send shows as failed; retry reuses the client_id and never duplicates', async () => {
    const { msgs, events } = setup(0)
    const ids: string[] = []
    let fail = true
    vi.spyOn(api, 'send').mockImplementation(async (_cid, body) => {
      ids.push(body.client_id)
      if (fail) throw new ApiError(500, 'internal', 'The server had a problem. Try again.')
      return msg(C, 1, 'me', body.text)
    })
    const p = msgs.send(C, 'x')
    await flush()
    expect(msgs.thread(C).pending[0].state).toBe('failed')
    expect(msgs.thread(C).pending[0].error).toMatch(/server had a problem/)
    fail = false
    msgs.retry(C, p.client_id)
    msgs.retry(C, p.client_id) // a double click sends once
    await flush()
    await flush()
    expect(ids).toEqual([p.client_id, p.client_id])
    expect(msgs.ordered(C)).toHaveLength(1)
    expect(msgs.thread(C).pending).toHaveLength(0)
  })
})

describe('outbox', () => {
  it('unsent text messages survive a reload and go out with the same client_id', async () => {
    localStorage.clear()
    const { msgs, events } = setup(0)
    vi.spyOn(api, 'send').mockRejectedValue(new ApiError(0, 'network', 'offline'))
    const p = msgs.send(C, 'kept')
    await flush()
    // A new tab for the same user.
    setActivePinia(createPinia())
    useSession().user = user('me')
    const again = useMessages()
    again.restoreOutbox()
    expect(again.thread(C).pending.map((x) => [x.client_id, x.text, x.state])).toEqual([[p.client_id, 'kept', 'queued']])
    const send = vi.spyOn(api, 'send').mockResolvedValue(msg(C, 1, 'me', 'kept'))
    await again.flushAll()
    expect(send).toHaveBeenCalledWith(C, expect.objectContaining({ client_id: p.client_id }))
    expect(localStorage.getItem('hubbub.outbox.me')).toBeNull()
  })
})

describe('sequence gate', () => {
  it('applies in order, drops duplicates and catches up through /events on a gap', async () => {
    const { convs, msgs, events } = setup(5)
    const eventsApi = vi.spyOn(api, 'events').mockResolvedValue({
      events: [created(msg(C, 7, 'bob')), updated(8, { ...msg(C, 6, 'bob'), text: 'edited', edited_at: 'x' }), created(msg(C, 9, 'bob'))],
      has_more: false,
    })
    events.ingest(created(msg(C, 6, 'bob')))
    expect(events.applied.get(C)).toBe(6)
    events.ingest(created(msg(C, 6, 'bob'))) // duplicate
    expect(events.stats.duplicates).toBe(1)
    events.ingest(created(msg(C, 9, 'bob'))) // gap: 7 and 8 missing
    expect(events.stats.gaps).toBe(1)
    await vi.waitFor(() => expect(events.applied.get(C)).toBe(9))
    expect(eventsApi).toHaveBeenCalledWith(C, 6)
    expect(msgs.ordered(C).map((m) => [m.seq, m.text])).toEqual([
      [6, 'edited'],
      [7, 'm7'],
      [9, 'm9'],
    ])
  })

  it('pages through /events while has_more', async () => {
    const { convs, events } = setup(0)
    const pages = [
      { events: [created(msg(C, 1, 'bob')), created(msg(C, 2, 'bob'))], has_more: true },
      { events: [created(msg(C, 3, 'bob'))], has_more: false },
    ]
    const eventsApi = vi.spyOn(api, 'events').mockImplementation(async () => pages.shift()!)
    await events.catchUp(C)
    expect(eventsApi.mock.calls.map((c) => c[1])).toEqual([0, 2])
    expect(events.applied.get(C)).toBe(3)
  })

  it('reloads the conversation when the server says 410 gone', async () => {
    const { convs, msgs, events } = setup(3)
    msgs.thread(C).loaded = true
    vi.spyOn(api, 'events').mockRejectedValue(new ApiError(410, 'gone', 'gone'))
    vi.spyOn(api, 'conversation').mockResolvedValue(conv(C, [member('me'), member('bob')], 40))
    vi.spyOn(api, 'messages').mockResolvedValue({ messages: [msg(C, 39, 'bob'), msg(C, 40, 'bob')], has_more: true })
    await events.catchUp(C)
    expect(events.stats.reloads).toBe(1)
    expect(events.applied.get(C)).toBe(40)
    expect(msgs.ordered(C).map((m) => m.seq)).toEqual([39, 40])
  })

  it('resync after a reconnect catches up only conversations that moved, without double counting', async () => {
    const { convs, events } = setup(2, { unread_count: 1 })
    convs.upsert(conv('c2', [member('me'), member('ann')], 4))
    events.applied.set('c2', 4)
    const snapshot = [
      conv(C, [member('me'), member('bob')], 5, { unread_count: 3, last_message: msg(C, 5, 'bob') }),
      conv('c2', [member('me'), member('ann')], 4),
      conv('c3', [member('me'), member('zed')], 1, { unread_count: 1, last_message: msg('c3', 1, 'zed') }),
    ]
    vi.spyOn(api, 'conversations').mockResolvedValue({ conversations: snapshot })
    const eventsApi = vi.spyOn(api, 'events').mockResolvedValue({
      events: [created(msg(C, 3, 'bob')), created(msg(C, 4, 'bob')), created(msg(C, 5, 'bob'))],
      has_more: false,
    })
    vi.spyOn(api, 'markDelivered').mockResolvedValue(undefined)
    await events.resync()
    expect(eventsApi).toHaveBeenCalledTimes(1)
    expect(eventsApi).toHaveBeenCalledWith(C, 2)
    expect(events.applied.get(C)).toBe(5)
    expect(convs.byId.get(C)!.unread_count).toBe(3)
    expect(events.applied.get('c3')).toBe(1)
    expect(convs.totalUnread).toBe(4)
  })

  it('events that arrive while a new conversation loads are caught up after it', async () => {
    const { convs, msgs, events } = setup(0)
    const answer = deferred<ReturnType<typeof conv>>()
    vi.spyOn(api, 'conversation').mockReturnValue(answer.promise)
    const eventsApi = vi.spyOn(api, 'events').mockResolvedValue({ events: [created(msg('n', 2, 'x'))], has_more: false })
    vi.spyOn(api, 'markDelivered').mockResolvedValue(undefined)
    events.ingest({ type: 'conversation.created', conversation_id: 'n', seq: 1, data: snapshot(conv('n', [member('me'), member('x')], 1)) })
    events.ingest(created(msg('n', 2, 'x'))) // while the snapshot is on its way
    answer.resolve(conv('n', [member('me'), member('x')], 1)) // a snapshot from before seq 2
    await vi.waitFor(() => expect(events.applied.get('n')).toBe(2))
    expect(eventsApi).toHaveBeenCalledWith('n', 1)
    expect(msgs.ordered('n').map((m) => m.seq)).toEqual([2])
  })

  it('fetches a conversation it does not know when an event names it', async () => {
    const { convs, events } = setup(0)
    const get = vi.spyOn(api, 'conversation').mockResolvedValue(conv('new', [member('me'), member('x'), member('y')], 1, { unread_count: 0 }))
    events.ingest({ type: 'conversation.created', conversation_id: 'new', seq: 1, data: snapshot(conv('new', [member('me'), member('x'), member('y')], 1)) })
    await vi.waitFor(() => expect(convs.byId.has('new')).toBe(true))
    expect(get).toHaveBeenCalledWith('new')
    expect(events.applied.get('new')).toBe(1)
  })
})

describe('unread counting', () => {
  it('counts others’ messages, not mine; a deleted unread message stops counting; reading clears', async () => {
    const { convs, msgs, events } = setup(0)
    vi.spyOn(api, 'markDelivered').mockResolvedValue(undefined)
    const read = vi.spyOn(api, 'markRead').mockResolvedValue(undefined)
    events.ingest(created(msg(C, 1, 'bob')))
    events.ingest(created(msg(C, 2, 'me')))
    events.ingest(created(msg(C, 3, 'bob')))
    events.ingest(created(msg(C, 4, 'bob')))
    const c = convs.byId.get(C)!
    expect(c.unread_count).toBe(3)
    events.ingest(updated(5, { ...msg(C, 3, 'bob'), deleted: true, text: '' }))
    expect(c.unread_count).toBe(2)
    msgs.thread(C).loaded = true
    msgs.thread(C).hasMoreOlder = false
    await events.markRead(C, 4)
    expect(read).toHaveBeenCalledWith(C, 4)
    expect(c.unread_count).toBe(0)
    expect(convs.totalUnread).toBe(0)
  })

  it('a read mark from my other device updates the count', () => {
    const { convs, msgs, events } = setup(0)
    vi.spyOn(api, 'markDelivered').mockResolvedValue(undefined)
    for (const s of [1, 2, 3]) events.ingest(created(msg(C, s, 'bob')))
    msgs.thread(C).loaded = true
    msgs.thread(C).hasMoreOlder = false
    events.ingest({ type: 'receipt.updated', conversation_id: C, data: { user_id: 'me', delivered_seq: 3, read_seq: 2 } })
    expect(convs.byId.get(C)!.unread_count).toBe(1)
  })

  it('marks delivered when a message from someone else arrives', async () => {
    await new Promise((r) => setTimeout(r, 300)) // let earlier tests' debounced marks fire
    vi.useFakeTimers()
    const { convs, events } = setup(0)
    const d = vi.spyOn(api, 'markDelivered').mockResolvedValue(undefined)
    events.ingest(created(msg(C, 1, 'bob')))
    events.ingest(created(msg(C, 2, 'bob')))
    events.ingest(created(msg(C, 3, 'me')))
    await vi.advanceTimersByTimeAsync(500)
    expect(d).toHaveBeenCalledTimes(1)
    expect(d).toHaveBeenCalledWith(C, 2)
  })
})

describe('receipt status', () => {
  function group() {
    setActivePinia(createPinia())
    useSession().user = user('me')
    const convs = useConversations()
    const events = useEvents()
    events.adopt(conv('g', [member('me', 'admin'), member('bob'), member('ann')], 10))
    return { convs, events }
  }
  it('sent → delivered only when every other member has it → read when every other member read it', () => {
    const { convs, events } = group()
    expect(convs.statusOf('g', 5)).toBe('sent')
    events.ingest({ type: 'receipt.updated', conversation_id: 'g', data: { user_id: 'bob', delivered_seq: 5, read_seq: 5 } })
    expect(convs.statusOf('g', 5)).toBe('sent')
    events.ingest({ type: 'receipt.updated', conversation_id: 'g', data: { user_id: 'ann', delivered_seq: 6, read_seq: 0 } })
    expect(convs.statusOf('g', 5)).toBe('delivered')
    expect(convs.statusOf('g', 7)).toBe('sent')
    events.ingest({ type: 'receipt.updated', conversation_id: 'g', data: { user_id: 'ann', delivered_seq: 6, read_seq: 5 } })
    expect(convs.statusOf('g', 5)).toBe('read')
  })
  it('marks never move backwards', () => {
    const { convs, events } = group()
    events.ingest({ type: 'receipt.updated', conversation_id: 'g', data: { user_id: 'bob', delivered_seq: 8, read_seq: 8 } })
    events.ingest({ type: 'receipt.updated', conversation_id: 'g', data: { user_id: 'bob', delivered_seq: 3, read_seq: 2 } })
    const bob = convs.byId.get('g')!.members.find((m) => m.user.id === 'bob')!
    expect([bob.delivered_seq, bob.read_seq]).toEqual([8, 8])
  })
  it('a server status higher than the marks wins (history loaded before the marks)', () => {
    const { convs, events } = group()
    expect(convs.statusOf('g', 5, 'read')).toBe('read')
  })
})

describe('membership and presence events', () => {
  it('member.removed for me makes the conversation read-only', () => {
    const { convs, events } = setup(1)
    events.ingest({ type: 'member.removed', conversation_id: C, seq: 2, data: { user_id: 'me' } })
    expect(convs.byId.get(C)!.left).toBe(true)
  })
  it('typing and presence', () => {
    const { convs, events } = setup(0)
    events.ingest({ type: 'typing', conversation_id: C, data: { user_id: 'bob' } })
    events.ingest({ type: 'presence', data: { user_id: 'bob', online: true, last_seen_at: null } })
    const p = usePresence()
    expect(p.typers(C)).toEqual(['bob'])
    expect(p.isOnline('bob')).toBe(true)
    vi.spyOn(api, 'markDelivered').mockResolvedValue(undefined)
    events.ingest(created(msg(C, 1, 'bob')))
    expect(p.typers(C)).toEqual([])
  })
})
