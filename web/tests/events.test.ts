import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { api } from '../src/api/client'
import type { EventType, ServerEvent } from '../src/api/types'
import { useConversations } from '../src/stores/conversations'
import { useEvents } from '../src/stores/events'
import { useMessages } from '../src/stores/messages'
import { usePresence } from '../src/stores/presence'
import { useSession } from '../src/stores/session'
import { conv, member, msg, snapshot, user } from './helpers'

const C = 'c1'

function setup() {
  setActivePinia(createPinia())
  useSession().user = user('me')
  const events = useEvents()
  events.adopt(conv(C, [member('me'), member('bob')], 1))
  vi.spyOn(api, 'markDelivered').mockResolvedValue(undefined)
  return { events, convs: useConversations(), msgs: useMessages(), presence: usePresence(), session: useSession() }
}

beforeEach(() => {
  vi.restoreAllMocks()
})

const m2 = msg(C, 2, 'bob')
const group = conv(C, [member('me'), member('bob'), member('ann')], 2, { kind: 'group', name: 'Renamed' })
const space = {
  id: 's1',
  name: 'Club',
  description: '',
  photo_url: null,
  member_count: 2,
  created_at: '2026-01-01T00:00:00.000Z',
}

/**
 * One event of every type the server documents. A `Record` over `EventType`: a new event in
 * `openapi.d.ts` fails the type check here (as in `dispatch`) until it has a case and a test.
 */
const sample: Record<EventType, ServerEvent> = {
  'message.created': { type: 'message.created', conversation_id: C, seq: 2, data: m2 },
  'message.updated': { type: 'message.updated', conversation_id: C, seq: 2, data: { ...m2, text: 'edited' } },
  'member.added': { type: 'member.added', conversation_id: C, seq: 2, data: member('ann') },
  'member.removed': { type: 'member.removed', conversation_id: C, seq: 2, data: { user_id: 'bob' } },
  'conversation.created': { type: 'conversation.created', conversation_id: C, seq: 2, data: snapshot(group) },
  'conversation.updated': { type: 'conversation.updated', conversation_id: C, seq: 2, data: snapshot(group) },
  'receipt.updated': { type: 'receipt.updated', conversation_id: C, data: { user_id: 'bob', delivered_seq: 1, read_seq: 1 } },
  typing: { type: 'typing', conversation_id: C, data: { user_id: 'bob' } },
  presence: { type: 'presence', data: { user_id: 'bob', online: true, last_seen_at: null } },
  'user.updated': { type: 'user.updated', data: user('me', 'New Me') },
  'member.updated': { type: 'member.updated', conversation_id: C, seq: 2, data: { user_id: 'me', role: 'admin' } },
  'conversation.deleted': { type: 'conversation.deleted', conversation_id: C, seq: 2, data: { deleted_by: 'bob' } },
  'settings.updated': {
    type: 'settings.updated',
    data: { conversation_id: C, settings: { archived: true, pinned: false, muted_until: null, notify: 'all' } },
  },
  'space.created': { type: 'space.created', data: space },
  'space.updated': { type: 'space.updated', data: { ...space, name: 'Renamed' } },
  'space.deleted': { type: 'space.deleted', data: { space_id: 's1', deleted_by: 'bob' } },
  'space.member_added': {
    type: 'space.member_added',
    data: { space_id: 's1', member: { user: user('ann'), role: 'member', joined_at: '2026-01-01T00:00:00.000Z' } },
  },
  'space.member_removed': { type: 'space.member_removed', data: { space_id: 's1', user_id: 'ann' } },
}

describe('dispatch: every event type reaches its store action', () => {
  it('member.updated changes a role, mine included; conversation.deleted drops it; settings.updated sets mine', () => {
    const { events, convs } = setup()
    events.dispatch(sample['member.updated'])
    expect(convs.byId.get(C)!.my_role).toBe('admin')
    expect(convs.byId.get(C)!.members.find((m) => m.user.id === 'me')!.role).toBe('admin')
    events.dispatch(sample['settings.updated'])
    expect(convs.byId.get(C)!.settings).toEqual({ archived: true, pinned: false, muted_until: null, notify: 'all' })
    events.dispatch(sample['conversation.deleted'])
    expect(convs.byId.has(C)).toBe(false)
  })

  it('message.created: into the thread, then the conversation (unread, last message), typing stops', () => {
    const { events, convs, msgs, presence } = setup()
    const apply = vi.spyOn(msgs, 'applyMessage')
    const created = vi.spyOn(convs, 'messageCreated')
    const stop = vi.spyOn(presence, 'stopTyping')
    events.ingest(sample['message.created'])
    expect(apply).toHaveBeenCalledWith(C, m2)
    expect(created).toHaveBeenCalledWith(C, 2, m2, false)
    expect(stop).toHaveBeenCalledWith(C, 'bob')
    expect(convs.byId.get(C)!.last_seq).toBe(2)
    expect(convs.byId.get(C)!.unread_count).toBe(1)
  })

  it('message.updated: the conversation gets the thread’s copy from before the update', () => {
    const { events, convs, msgs } = setup()
    msgs.merge(C, [m2])
    const updated = vi.spyOn(convs, 'messageUpdated')
    events.ingest(sample['message.updated'])
    expect(updated).toHaveBeenCalledWith(C, 2, expect.objectContaining({ text: 'edited' }), m2)
    expect(msgs.find(C, 2)!.text).toBe('edited')
  })

  it('member.added and member.removed carry a Member and a user id', () => {
    const { events, convs } = setup()
    const added = vi.spyOn(convs, 'memberAdded')
    events.dispatch(sample['member.added'])
    expect(added).toHaveBeenCalledWith(C, member('ann'))
    expect(convs.byId.get(C)!.members.map((m) => m.user.id)).toEqual(['me', 'bob', 'ann'])
    const removed = vi.spyOn(convs, 'memberRemoved')
    events.dispatch(sample['member.removed'])
    expect(removed).toHaveBeenCalledWith(C, 'bob')
    expect(convs.byId.get(C)!.members.map((m) => m.user.id)).toEqual(['me', 'ann'])
  })

  it('conversation.created and conversation.updated carry the snapshot', () => {
    for (const type of ['conversation.created', 'conversation.updated'] as const) {
      const { events, convs } = setup()
      convs.byId.get(C)!.kind = 'group'
      const changed = vi.spyOn(convs, 'snapshotChanged')
      events.dispatch(sample[type])
      expect(changed).toHaveBeenCalledWith(C, snapshot(group))
      expect(convs.byId.get(C)!.name).toBe('Renamed')
      expect(convs.byId.get(C)!.members).toHaveLength(3)
    }
  })

  it('a topic changed elsewhere arrives with conversation.updated', () => {
    const { events, convs } = setup()
    const data = { ...snapshot(group), topic: 'Board games on Friday', has_password: true, member_count: 3 }
    events.dispatch({ type: 'conversation.updated', conversation_id: C, seq: 2, data })
    expect(convs.byId.get(C)!.topic).toBe('Board games on Friday')
    expect(convs.byId.get(C)!.has_password).toBe(true)
  })

  it('space events (no seq) change nothing yet: the space UI will use them', () => {
    for (const type of ['space.created', 'space.updated', 'space.deleted', 'space.member_added', 'space.member_removed'] as const) {
      const { events, convs } = setup()
      const before = JSON.stringify([...convs.byId.entries()])
      events.ingest(sample[type])
      expect(JSON.stringify([...convs.byId.entries()])).toBe(before)
      expect(events.applied.get(C)).toBe(1)
    }
  })

  it('receipt.updated (no seq) moves the member’s marks, with the thread’s unread counter', () => {
    const { events, convs } = setup()
    const marks = vi.spyOn(convs, 'marksChanged')
    events.ingest(sample['receipt.updated'])
    expect(marks).toHaveBeenCalledWith(C, { user_id: 'bob', delivered_seq: 1, read_seq: 1 }, expect.any(Function))
    expect(convs.statusOf(C, 1)).toBe('read')
    expect(events.applied.get(C)).toBe(1) // ephemeral: the seq gate did not move
  })

  it('typing and presence reach the presence store; my own typing is ignored', () => {
    const { events, presence } = setup()
    const typing = vi.spyOn(presence, 'setTyping')
    const online = vi.spyOn(presence, 'setPresence')
    events.ingest(sample.typing)
    events.ingest({ type: 'typing', conversation_id: C, data: { user_id: 'me' } })
    expect(typing).toHaveBeenCalledTimes(1)
    expect(typing).toHaveBeenCalledWith(C, 'bob')
    events.ingest(sample.presence)
    expect(online).toHaveBeenCalledWith('bob', true, null)
  })

  it('user.updated reaches conversations and the session, not presence (a profile is no presence)', () => {
    const { events, convs, presence, session } = setup()
    const conversations = vi.spyOn(convs, 'userUpdated')
    const seen = vi.spyOn(presence, 'seeUser')
    events.ingest(sample['user.updated'])
    expect(conversations).toHaveBeenCalledWith(user('me', 'New Me'))
    expect(seen).not.toHaveBeenCalled()
    expect(session.user!.display_name).toBe('New Me')
    expect(convs.byId.get(C)!.members[0].user.display_name).toBe('New Me')
  })

  it('persisted events without a seq or conversation are ignored, unknown types too', () => {
    const { events, convs, msgs } = setup()
    const apply = vi.spyOn(msgs, 'applyMessage')
    const removed = vi.spyOn(convs, 'memberRemoved')
    events.dispatch({ type: 'message.created', conversation_id: C, data: m2 })
    events.dispatch({ type: 'member.removed', seq: 2, data: { user_id: 'bob' } })
    // A newer server's event this build does not know.
    events.ingest({ type: 'something.new', conversation_id: C, data: {} } as unknown as ServerEvent)
    expect(apply).not.toHaveBeenCalled()
    expect(removed).not.toHaveBeenCalled()
  })

  it('the sample covers every event type', () => {
    for (const [type, ev] of Object.entries(sample)) expect(ev.type).toBe(type)
  })
})

describe('store imports', () => {
  it('form no cycle (conversations imports neither messages nor events)', async () => {
    const fs = await import('node:fs')
    const path = await import('node:path')
    const dir = path.resolve(__dirname, '../src/stores')
    const deps = new Map<string, string[]>()
    for (const f of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const src = fs.readFileSync(path.join(dir, f), 'utf8')
      deps.set(f.replace(/\.ts$/, ''), [...src.matchAll(/from '\.\/([a-z]+)'/g)].map((m) => m[1]))
    }
    const visiting = new Set<string>()
    const done = new Set<string>()
    const cycles: string[] = []
    const visit = (n: string, trail: string[]) => {
      if (done.has(n)) return
      if (visiting.has(n)) {
        cycles.push([...trail, n].join(' → '))
        return
      }
      visiting.add(n)
      for (const d of deps.get(n) ?? []) visit(d, [...trail, n])
      visiting.delete(n)
      done.add(n)
    }
    for (const n of deps.keys()) visit(n, [])
    expect(cycles).toEqual([])
    expect(deps.get('conversations')).not.toContain('messages')
    expect(deps.get('conversations')).not.toContain('events')
  })
})
