// Issue 17, defect 1: a group change (rename, member added or removed) sends member snapshots
// that carry no live presence; they must not wipe what the presence store knows.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { useEvents } from '../src/stores/events'
import { usePresence } from '../src/stores/presence'
import { useSession } from '../src/stores/session'
import { conv, member, snapshot, user } from './helpers'
import type { ServerEvent } from '../src/api/types'

const G = 'g1'

function setup() {
  setActivePinia(createPinia())
  useSession().user = user('me')
  const bob = member('bob')
  bob.user = { ...bob.user, online: true, last_seen_at: '2026-11-24T09:00:00.000Z' }
  const c = conv(G, [member('me', 'admin'), bob, member('carol')], 3, { kind: 'group', name: 'Team' })
  useEvents().adopt(c)
  return { c, presence: usePresence(), events: useEvents() }
}

beforeEach(() => vi.restoreAllMocks())

describe('presence comes from presence events and REST answers only', () => {
  it('a rename whose snapshot says online: false keeps the online dot', () => {
    const { c, presence, events } = setup()
    expect(presence.isOnline('bob')).toBe(true)
    const snap = snapshot({ ...c, name: 'Renamed', last_seq: 4 })
    // What the server used to put in event snapshots: a fake, viewer-independent presence.
    snap.members = snap.members.map((m) => ({ ...m, user: { ...m.user, online: false, last_seen_at: null } }))
    events.ingest({ type: 'conversation.updated', conversation_id: G, seq: 4, data: snap } as ServerEvent)
    expect(useEvents().applied.get(G)).toBe(4)
    expect(presence.isOnline('bob')).toBe(true)
    expect(presence.lastSeen('bob')).toBe('2026-11-24T09:00:00.000Z')
  })

  it('snapshots and member.added without presence fields change nothing of it either', () => {
    const { c, presence, events } = setup()
    const snap = snapshot({ ...c, last_seq: 4 })
    // Exactly what the server now sends: `EventMember`s, no presence fields at all.
    snap.members = c.members.map((m) => {
      const { online: _o, last_seen_at: _l, ...u } = m.user
      return { ...m, user: u }
    })
    events.ingest({ type: 'conversation.updated', conversation_id: G, seq: 4, data: snap } as ServerEvent)
    const { online: _o, last_seen_at: _l, ...dave } = user('dave', 'Dave')
    events.ingest({ type: 'member.added', conversation_id: G, seq: 5, data: { ...member('dave'), user: dave } } as unknown as ServerEvent)
    expect(presence.isOnline('bob')).toBe(true)
    expect(presence.isOnline('dave')).toBe(false)
    // A presence event still moves it.
    events.ingest({ type: 'presence', data: { user_id: 'bob', online: false, last_seen_at: '2026-11-24T10:00:00.000Z' } } as ServerEvent)
    expect(presence.isOnline('bob')).toBe(false)
  })

  it('a profile change (user.updated) is not a presence change', () => {
    const { presence, events } = setup()
    events.ingest({ type: 'user.updated', data: { ...user('bob', 'Robert'), online: false } } as ServerEvent)
    expect(presence.isOnline('bob')).toBe(true)
  })
})
