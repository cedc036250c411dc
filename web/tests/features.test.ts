import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { ApiError, api } from '../src/api/client'
import { isMuted, MUTE_FOREVER, useConversations } from '../src/stores/conversations'
import { useEvents } from '../src/stores/events'
import { useSession } from '../src/stores/session'
import { joinErrorText, SEARCH_DEBOUNCE_MS, useRooms } from '../src/stores/rooms'
import { useContacts } from '../src/stores/contacts'
import { AUDIT_PAGE, useAudit } from '../src/stores/audit'
import { convName, realName, userName } from '../src/lib/format'
import type { AuditEntry, ChatSettings, Conversation } from '../src/api/types'
import { conv, created, deferred, flush, iso, member, msg, user } from './helpers'

const settings = (s: Partial<ChatSettings> = {}): ChatSettings => ({ archived: false, pinned: false, muted_until: null, notify: 'all', ...s })

function setup() {
  setActivePinia(createPinia())
  useSession().user = user('me')
  return { convs: useConversations(), events: useEvents() }
}
function withLast(id: string, seq: number, s: Partial<ChatSettings> = {}): Conversation {
  return conv(id, [member('me'), member(`u-${id}`)], seq, { last_message: msg(id, seq, `u-${id}`), settings: settings(s) })
}

beforeEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
})

describe('the list with chat settings', () => {
  it('puts pinned chats first in the order they were pinned, then the rest by activity', () => {
    const { convs, events } = setup()
    events.adopt(withLast('a', 1, { pinned: true }))
    events.adopt(withLast('b', 5))
    events.adopt(withLast('c', 3, { pinned: true }))
    events.adopt(withLast('d', 9))
    expect(convs.list.map((c) => c.id)).toEqual(['a', 'c', 'd', 'b'])
    convs.settingsUpdated('b', settings({ pinned: true }))
    expect(convs.list.map((c) => c.id)).toEqual(['a', 'c', 'b', 'd'])
    convs.settingsUpdated('a', settings())
    expect(convs.list.map((c) => c.id)).toEqual(['c', 'b', 'd', 'a'])
  })

  it('keeps archived chats out of the main list, and a new message brings one back unless muted', () => {
    const { convs, events } = setup()
    events.adopt(withLast('a', 1, { archived: true }))
    events.adopt(withLast('m', 1, { archived: true, muted_until: MUTE_FOREVER }))
    events.adopt(withLast('b', 2))
    expect(convs.list.map((c) => c.id)).toEqual(['b'])
    expect(convs.archived.map((c) => c.id).sort()).toEqual(['a', 'm'])
    events.dispatch(created(msg('a', 2, 'u-a', 'back')))
    events.dispatch(created(msg('m', 2, 'u-m', 'still muted')))
    expect(convs.list.map((c) => c.id)).toContain('a')
    expect(convs.archived.map((c) => c.id)).toEqual(['m'])
  })

  it('knows when a mute is over', () => {
    const c = withLast('a', 1, { muted_until: iso(60) })
    expect(isMuted(c, Date.parse(iso(0)))).toBe(true)
    expect(isMuted(c, Date.parse(iso(61)))).toBe(false)
    expect(isMuted(withLast('b', 1))).toBe(false)
  })

  it('applies the answer of a settings change, and says so when too many chats are pinned', async () => {
    const { convs, events } = setup()
    events.adopt(withLast('a', 1))
    vi.spyOn(api, 'updateSettings').mockResolvedValueOnce(settings({ archived: true }))
    await convs.updateSettings('a', { archived: true })
    expect(convs.byId.get('a')!.settings!.archived).toBe(true)
    vi.spyOn(api, 'updateSettings').mockRejectedValueOnce(new ApiError(409, 'conflict', 'too many pins'))
    await expect(convs.updateSettings('a', { pinned: true })).rejects.toThrow(/at most 5/)
  })

  it('clears history (unread to 0) and with hide takes the chat out of the list', async () => {
    const { convs, events } = setup()
    events.adopt({ ...withLast('a', 3), unread_count: 3 })
    const clear = vi.spyOn(api, 'clear').mockResolvedValue(undefined)
    await convs.clearHistory('a')
    expect(convs.byId.get('a')!.unread_count).toBe(0)
    expect(convs.byId.get('a')!.last_message).toBeNull()
    await convs.clearHistory('a', true)
    expect(clear).toHaveBeenLastCalledWith('a', true)
    expect(convs.byId.has('a')).toBe(false)
  })
})

describe('rooms', () => {
  it('searches once typing pauses and drops a late answer of an older search', async () => {
    setup()
    vi.useFakeTimers()
    const rooms = useRooms()
    const first = deferred<{ rooms: Conversation[] }>()
    const second = deferred<{ rooms: Conversation[] }>()
    const spy = vi.spyOn(api, 'rooms').mockReturnValueOnce(first.promise).mockReturnValueOnce(second.promise)
    rooms.search('c')
    rooms.search('ch')
    rooms.search('chess')
    expect(spy).not.toHaveBeenCalled()
    vi.advanceTimersByTime(SEARCH_DEBOUNCE_MS)
    expect(spy).toHaveBeenCalledTimes(1)
    expect(spy).toHaveBeenLastCalledWith('chess')
    void rooms.searchNow('go')
    second.resolve({ rooms: [conv('r2', [member('x')], 0, { kind: 'channel', name: 'go' })] })
    vi.useRealTimers()
    await flush()
    first.resolve({ rooms: [conv('r1', [member('x')], 0, { kind: 'channel', name: 'chess' })] })
    await flush()
    expect(rooms.results.map((r) => r.name)).toEqual(['go'])
  })

  it('joins with the password and the room enters the list', async () => {
    const { convs } = setup()
    const rooms = useRooms()
    const room = conv('r1', [member('owner'), member('me')], 4, { kind: 'channel', name: 'Chess', has_password: true })
    const join = vi.spyOn(api, 'join').mockResolvedValue(room)
    await rooms.join('r1', 'secret')
    expect(join).toHaveBeenCalledWith('r1', 'secret')
    expect(convs.byId.get('r1')?.name).toBe('Chess')
    expect(convName(convs.byId.get('r1')!, 'me')).toBe('Chess')
  })

  it('words a wrong password and throttling for people', () => {
    expect(joinErrorText(new ApiError(403, 'forbidden', 'wrong password'))).toMatch(/wrong password/i)
    expect(joinErrorText(new ApiError(429, 'too_many', 'x', undefined, 30))).toMatch(/too many tries.*30 s/i)
  })
})

describe('contacts', () => {
  it('an alias renames the direct chat with that person, and removing it restores their name', async () => {
    const { convs, events } = setup()
    events.adopt(conv('d', [member('me'), { ...member('bob'), user: user('bob', 'Bob Jones') }]))
    const contacts = useContacts()
    vi.spyOn(api, 'setContact').mockResolvedValue({ user: user('bob', 'Bob Jones'), alias: 'Bobby' })
    await contacts.setAlias('bob', ' Bobby ')
    expect(api.setContact).toHaveBeenCalledWith('bob', 'Bobby')
    expect(convName(convs.byId.get('d')!, 'me')).toBe('Bobby')
    expect(contacts.aliasOf('bob')).toBe('Bobby')
    vi.spyOn(api, 'deleteContact').mockResolvedValue(undefined)
    await contacts.remove('bob')
    expect(convName(convs.byId.get('d')!, 'me')).toBe('Bob Jones')
  })

  it('shows my alias for a person everywhere: the direct chat, and their name in groups', async () => {
    const { convs, events } = setup()
    const bob = { ...member('bob'), user: user('bob', 'Bob Jones') }
    events.adopt(conv('d1', [member('me'), bob], 0, { name: 'Bob Jones' }))
    events.adopt(conv('g1', [member('me'), bob, member('eve')], 0, { kind: 'group', name: 'Team' }))
    vi.spyOn(api, 'contacts').mockResolvedValue({ contacts: [{ user: user('bob', 'Bob Jones'), alias: 'Uncle Bob' }] })
    vi.spyOn(api, 'blocks').mockResolvedValue({ users: [] })
    await useContacts().load()
    expect(convName(convs.byId.get('d1')!, 'me')).toBe('Uncle Bob')
    const inGroup = convs.byId.get('g1')!.members.find((m) => m.user.id === 'bob')!.user
    expect(userName(inGroup)).toBe('Uncle Bob')
    expect(realName(inGroup)).toBe('Bob Jones')
    // A profile change is seen where there is no alias; the alias stays where there is one.
    convs.userUpdated(user('bob', 'Bob the Builder'))
    expect(convName(convs.byId.get('d1')!, 'me')).toBe('Uncle Bob')
    expect(userName(user('eve', 'Eve Online'))).toBe('Eve Online')
  })

  it('loads contacts and blocks, and blocks and unblocks', async () => {
    setup()
    const contacts = useContacts()
    vi.spyOn(api, 'contacts').mockResolvedValue({ contacts: [{ user: user('z', 'Zed'), alias: null }, { user: user('a', 'Al'), alias: 'Alpha' }] })
    vi.spyOn(api, 'blocks').mockResolvedValue({ users: [user('spam')] })
    await contacts.load()
    expect(contacts.list.map((c) => c.user.id)).toEqual(['a', 'z'])
    expect(contacts.isBlocked('spam')).toBe(true)
    vi.spyOn(api, 'unblock').mockResolvedValue(undefined)
    vi.spyOn(api, 'block').mockResolvedValue(undefined)
    await contacts.unblock('spam')
    await contacts.block(user('z'))
    expect(contacts.isBlocked('spam')).toBe(false)
    expect(contacts.isBlocked('z')).toBe(true)
  })
})

describe('audit log', () => {
  const entry = (i: number): AuditEntry => ({ id: `e${i}`, at: iso(i), actor_id: 'me', action: 'login', target: null, ip: null, details: {} } as AuditEntry)

  it('loads with filters, and "load more" asks for entries before the last one', async () => {
    setup()
    const audit = useAudit()
    const page = Array.from({ length: AUDIT_PAGE }, (_, i) => entry(i))
    const spy = vi.spyOn(api, 'audit').mockResolvedValueOnce({ entries: page }).mockResolvedValueOnce({ entries: [entry(99)] })
    await audit.load({ action: 'login', actor: '' })
    expect(spy).toHaveBeenLastCalledWith({ action: 'login', actor: undefined, before: undefined, limit: AUDIT_PAGE })
    expect(audit.hasMore).toBe(true)
    await audit.more()
    expect(spy).toHaveBeenLastCalledWith(expect.objectContaining({ action: 'login', before: `e${AUDIT_PAGE - 1}` }))
    expect(audit.entries).toHaveLength(AUDIT_PAGE + 1)
    expect(audit.hasMore).toBe(false)
  })

  it('a 403 means "only server administrators"', async () => {
    setup()
    const audit = useAudit()
    vi.spyOn(api, 'audit').mockRejectedValue(new ApiError(403, 'forbidden', 'no'))
    await audit.load()
    expect(audit.forbidden).toBe(true)
    expect(audit.error).toBeNull()
  })
})
