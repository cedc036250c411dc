// Issue 17: group events in the timeline, the theme switch, the screen-reader announcements.
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { nextTick } from 'vue'
import { mount } from '@vue/test-utils'
import { api } from '../src/api/client'
import { useConversations } from '../src/stores/conversations'
import { useEvents } from '../src/stores/events'
import { useMessages } from '../src/stores/messages'
import { useSession } from '../src/stores/session'
import { systemText, useTimeline, type SystemLine } from '../src/stores/timeline'
import { initTheme, setTheme, theme } from '../src/lib/theme'
import Announcer from '../src/components/NewMessageAnnouncer.vue'
import { conv, created, member, msg, snapshot, user } from './helpers'
import type { ServerEvent } from '../src/api/types'

const G = 'g1'
const D = 'd1'

function setup() {
  setActivePinia(createPinia())
  useSession().user = user('me', 'Me Myself')
  return { convs: useConversations(), events: useEvents(), msgs: useMessages() }
}
function group() {
  const members = [member('me', 'admin'), { ...member('carol'), user: user('carol', 'Carol Danvers') }, member('bob')]
  return conv(G, members, 3, { kind: 'group', name: 'Team' })
}

beforeEach(() => {
  vi.restoreAllMocks()
  localStorage.clear()
})

describe('group events in the timeline', () => {
  it('a rename, an addition, a removal and a role change each make a line', async () => {
    const { events } = setup()
    const c = group()
    events.adopt(c)
    events.ingest({ type: 'conversation.updated', conversation_id: G, seq: 4, data: snapshot({ ...c, name: 'Dream team', last_seq: 4 }) } as ServerEvent)
    events.ingest({ type: 'member.added', conversation_id: G, seq: 5, data: { ...member('dave'), user: user('dave', 'Dave') } } as ServerEvent)
    events.ingest({ type: 'member.removed', conversation_id: G, seq: 6, data: { user_id: 'carol' } } as ServerEvent)
    events.ingest({ type: 'member.updated', conversation_id: G, seq: 7, data: { user_id: 'bob', role: 'admin' } } as ServerEvent)
    events.ingest({ type: 'conversation.updated', conversation_id: G, seq: 8, data: snapshot({ ...c, name: 'Dream team', photo_url: '/media/x.jpg', last_seq: 8 }) } as ServerEvent)
    const convs = useConversations()
    const nameOf = (id: string) => (id === 'me' ? 'You' : (convs.userOf(id)?.display_name ?? id))
    expect(useTimeline().of(G).map((l) => systemText(l, nameOf))).toEqual([
      'The group was renamed to “Dream team”',
      'Dave was added',
      'Carol Danvers is no longer a member',
      'bob is now an admin',
      'The group photo was changed',
    ])
  })

  it('say who made the change, and “You” when it was me', () => {
    const { events } = setup()
    const c = group()
    events.adopt(c)
    const by = (actor_id: string) => ({ conversation_id: G, actor_id })
    events.ingest({ ...by('carol'), type: 'conversation.updated', seq: 4, data: snapshot({ ...c, name: 'Dream team', last_seq: 4 }) } as ServerEvent)
    events.ingest({ ...by('me'), type: 'conversation.updated', seq: 5, data: snapshot({ ...c, name: 'Ours', last_seq: 5 }) } as ServerEvent)
    events.ingest({ ...by('bob'), type: 'conversation.updated', seq: 6, data: snapshot({ ...c, name: 'Ours', photo_url: '/media/x.jpg', last_seq: 6 }) } as ServerEvent)
    events.ingest({ ...by('bob'), type: 'member.added', seq: 7, data: { ...member('dave'), user: user('dave', 'Dave') } } as ServerEvent)
    events.ingest({ ...by('dave'), type: 'member.removed', seq: 8, data: { user_id: 'dave' } } as ServerEvent)
    events.ingest({ ...by('me'), type: 'member.removed', seq: 9, data: { user_id: 'carol' } } as ServerEvent)
    events.ingest({ ...by('carol'), type: 'member.updated', seq: 10, data: { user_id: 'bob', role: 'admin' } } as ServerEvent)
    events.ingest({ ...by('bob'), type: 'member.removed', seq: 11, data: { user_id: 'me' } } as ServerEvent)
    const convs = useConversations()
    const nameOf = (id: string) => (id === 'me' ? 'You' : (convs.userOf(id)?.display_name ?? id))
    expect(useTimeline().of(G).map((l) => systemText(l, nameOf))).toEqual([
      'Carol Danvers renamed the group to “Dream team”',
      'You renamed the group to “Ours”',
      'bob changed the group photo',
      'bob added Dave',
      'Dave left',
      'You removed Carol Danvers',
      'Carol Danvers made bob an admin',
      'bob removed you',
    ])
  })

  it('phrase every kind of change with its actor, and without one for old events', () => {
    const nameOf = (id: string) => ({ me: 'You', a: 'Alice', b: 'Bob' })[id] ?? id
    const line = (l: object) => ({ key: 'k', seq: 1, ...l }) as SystemLine
    expect(systemText(line({ kind: 'topic', topic: 'Plans', by: 'a' }), nameOf, 'channel')).toBe('Alice set the topic to “Plans”')
    expect(systemText(line({ kind: 'topic', topic: '', by: 'a' }), nameOf)).toBe('Alice removed the topic')
    expect(systemText(line({ kind: 'photo', removed: true, by: 'me' }), nameOf)).toBe('You removed the group photo')
    expect(systemText(line({ kind: 'renamed', name: 'R', by: 'a' }), nameOf, 'channel')).toBe('Alice renamed the room to “R”')
    expect(systemText(line({ kind: 'added', userId: 'b', by: 'b' }), nameOf, 'channel')).toBe('Bob joined')
    expect(systemText(line({ kind: 'added', userId: 'me', by: 'a' }), nameOf)).toBe('Alice added you')
    expect(systemText(line({ kind: 'removed', userId: 'me', by: 'me' }), nameOf)).toBe('You left')
    expect(systemText(line({ kind: 'role', userId: 'me', role: 'owner', by: 'a' }), nameOf)).toBe('Alice made you the owner')
    expect(systemText(line({ kind: 'role', userId: 'a', role: 'admin', by: 'a' }), nameOf)).toBe('Alice is now an admin')
    // Events stored before the server named the actor.
    expect(systemText(line({ kind: 'renamed', name: 'R' }), nameOf)).toBe('The group was renamed to “R”')
    expect(systemText(line({ kind: 'removed', userId: 'b' }), nameOf)).toBe('Bob is no longer a member')
    expect(systemText(line({ kind: 'added', userId: 'b' }), nameOf)).toBe('Bob was added')
  })

  it('my own rename makes its line even when the REST answer came before the event', () => {
    const { convs, events } = setup()
    const c = group()
    events.adopt(c)
    convs.upsert({ ...c, name: 'Mine now', last_seq: 4 })
    events.ingest({ type: 'conversation.updated', conversation_id: G, seq: 4, data: snapshot({ ...c, name: 'Mine now', last_seq: 4 }) } as ServerEvent)
    expect(useTimeline().of(G).map((l) => systemText(l, (id) => id))).toEqual(['The group was renamed to “Mine now”'])
  })

  it('are read back from the event log when a chat opens after a reload', async () => {
    setup()
    const c = group()
    vi.spyOn(api, 'events').mockResolvedValue({
      has_more: false,
      events: [
        { type: 'conversation.created', conversation_id: G, seq: 1, data: snapshot({ ...c, name: 'Team' }) },
        created(msg(G, 2, 'bob', 'hi')),
        { type: 'conversation.updated', conversation_id: G, seq: 3, data: snapshot({ ...c, name: 'Renamed' }) },
        { type: 'member.removed', conversation_id: G, seq: 4, actor_id: 'bob', data: { user_id: 'carol' } },
      ] as ServerEvent[],
    })
    await useTimeline().loadHistory(G, 0)
    expect(useTimeline().of(G).map((l) => systemText(l, (id) => id))).toEqual([
      'The group was renamed to “Renamed”',
      'bob removed carol',
    ])
  })
})

describe('the theme switch', () => {
  it('applies and keeps light, dark or the system theme', async () => {
    setTheme('dark')
    expect(document.documentElement.dataset.theme).toBe('dark')
    expect(localStorage.getItem('hubbub.theme')).toBe('dark')
    delete document.documentElement.dataset.theme
    initTheme()
    expect(theme.value).toBe('dark')
    expect(document.documentElement.dataset.theme).toBe('dark')
    setTheme('system')
    expect(document.documentElement.dataset.theme).toBeUndefined()
    expect(localStorage.getItem('hubbub.theme')).toBeNull()
  })
})

describe('new messages are announced to screen readers', () => {
  it('says "New message from X: text" for others’ messages only, not for the loaded history', async () => {
    const { events, msgs } = setup()
    events.adopt(conv(D, [member('me'), member('bob')], 1))
    const w = mount(Announcer, { props: { conversationId: D, nameOf: (id: string) => (id === 'bob' ? 'Bob' : id) } })
    vi.spyOn(api, 'messages').mockResolvedValue({ messages: [msg(D, 1, 'bob', 'old news')], has_more: false })
    await msgs.loadNewest(D)
    await nextTick()
    const region = w.get('[aria-live="polite"]')
    expect(region.text()).toBe('')
    events.ingest(created(msg(D, 2, 'bob', 'fresh')))
    await nextTick()
    expect(region.text()).toBe('New message from Bob: fresh')
    events.ingest(created(msg(D, 3, 'me', 'mine')))
    await nextTick()
    expect(region.text()).toBe('New message from Bob: fresh')
  })
})
