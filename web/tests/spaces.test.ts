import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { mount } from '@vue/test-utils'
import { api } from '../src/api/client'
import type { ServerEvent, Space } from '../src/api/types'
import { useConversations } from '../src/stores/conversations'
import { useEvents } from '../src/stores/events'
import { useSession } from '../src/stores/session'
import { isSpaceAdmin, useSpaces } from '../src/stores/spaces'
import SpaceRail from '../src/components/spaces/SpaceRail.vue'
import { conv, iso, member, user } from './helpers'

function space(id: string, name = id, my_role: Space['my_role'] = 'member', member_count = 2): Space {
  return { id, name, description: '', photo_url: null, my_role, member_count, created_at: iso(id.length) }
}
const data = (s: Space) => ({ id: s.id, name: s.name, description: s.description, photo_url: s.photo_url, member_count: s.member_count, created_at: s.created_at })
const ev = (e: Omit<ServerEvent, 'conversation_id' | 'seq'> & Record<string, unknown>) => ({ conversation_id: null, seq: null, ...e }) as unknown as ServerEvent

function setup() {
  setActivePinia(createPinia())
  useSession().user = user('me')
  localStorage.clear()
  return { spaces: useSpaces(), events: useEvents(), convs: useConversations() }
}

beforeEach(() => vi.restoreAllMocks())

describe('spaces store', () => {
  it('loads my spaces oldest first and brings back the space I had chosen', async () => {
    const { spaces } = setup()
    vi.spyOn(api, 'spaces').mockResolvedValue({ spaces: [space('bbbb', 'Later'), space('a', 'Chess')] })
    spaces.select('a')
    spaces.current = null
    await spaces.load()
    expect(spaces.list.map((s) => s.name)).toEqual(['Chess', 'Later'])
    expect(spaces.current).toBe('a')
  })

  it('follows space events: created (my role read back), updated, someone added or removed, deleted', async () => {
    const { spaces, events } = setup()
    const chess = space('s1', 'Chess', 'admin')
    vi.spyOn(api, 'space').mockResolvedValue(chess)
    events.dispatch(ev({ type: 'space.created', data: data(chess) }))
    await vi.waitFor(() => expect(spaces.byId.get('s1')?.my_role).toBe('admin'))
    events.dispatch(ev({ type: 'space.updated', data: { ...data(chess), name: 'Chess club' } }))
    expect(spaces.byId.get('s1')?.name).toBe('Chess club')
    expect(spaces.byId.get('s1')?.my_role).toBe('admin')
    const carol = { user: user('carol'), role: 'member' as const, joined_at: iso(1) }
    spaces.members.set('s1', [])
    events.dispatch(ev({ type: 'space.member_added', data: { space_id: 's1', member: carol } }))
    expect(spaces.byId.get('s1')?.member_count).toBe(3)
    expect(spaces.members.get('s1')?.map((m) => m.user.id)).toEqual(['carol'])
    events.dispatch(ev({ type: 'space.member_removed', data: { space_id: 's1', user_id: 'carol' } }))
    expect(spaces.byId.get('s1')?.member_count).toBe(2)
    expect(spaces.members.get('s1')).toEqual([])
    spaces.select('s1')
    events.dispatch(ev({ type: 'space.deleted', data: { space_id: 's1', deleted_by: 'x' } }))
    expect(spaces.byId.has('s1')).toBe(false)
    expect(spaces.current).toBeNull()
  })

  it('forgets a space I was removed from, and goes back to Chats if it was shown', () => {
    const { spaces, events } = setup()
    spaces.byId.set('s1', space('s1'))
    spaces.select('s1')
    events.dispatch(ev({ type: 'space.member_removed', data: { space_id: 's1', user_id: 'me' } }))
    expect(spaces.byId.has('s1')).toBe(false)
    expect(spaces.current).toBeNull()
  })

  it('owners and admins administer a space, members do not', () => {
    expect([isSpaceAdmin('owner'), isSpaceAdmin('admin'), isSpaceAdmin('member'), isSpaceAdmin(null)]).toEqual([true, true, false, false])
  })
})

describe('space rail', () => {
  it('shows a button per space and the unread count of each space and of the chats outside', async () => {
    const { spaces, events } = setup()
    spaces.byId.set('s1', space('s1', 'Chess'))
    events.adopt(conv('c1', [member('me'), member('bob')], 3, { kind: 'channel', name: 'general', space_id: 's1', unread_count: 2 }))
    events.adopt(conv('c2', [member('me'), member('bob')], 3, { unread_count: 1 }))
    const rail = mount(SpaceRail)
    expect(rail.find('[data-testid="space-Chess"]').text()).toContain('2')
    expect(rail.find('[data-testid="space-home"]').text()).toContain('1')
    await rail.find('[data-testid="space-Chess"]').trigger('click')
    expect(spaces.current).toBe('s1')
    expect(rail.find('[data-testid="space-Chess"]').attributes('aria-current')).toBe('true')
  })
})
