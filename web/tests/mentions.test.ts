import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { api } from '../src/api/client'
import { useConversations } from '../src/stores/conversations'
import { useEvents } from '../src/stores/events'
import { useMessages } from '../src/stores/messages'
import { useSession } from '../src/stores/session'
import { conv, created, member, msg, updated, user } from './helpers'
import { insertMention, mentionOptions, mentionQuery } from '../src/lib/mentions'
import { mentionNames, parseMarkup } from '../src/lib/markup'
import { allowsMentionAll, mayPin } from '../src/lib/policy'

const C = 'c1'

describe('the @ suggestions', () => {
  it('find the mention being typed where a word starts', () => {
    expect(mentionQuery('hi @al', 6)).toEqual({ start: 3, query: 'al' })
    expect(mentionQuery('@', 1)).toEqual({ start: 0, query: '' })
    expect(mentionQuery('mail bob@ex', 11)).toBeNull()
    expect(mentionQuery('hi @al there', 12)).toBeNull()
    expect(mentionQuery('hi @al there', 6)).toEqual({ start: 3, query: 'al' })
  })

  it('offer the other members by username or name, and everyone where the kind allows', () => {
    const members = [user('me'), user('alice', 'Alice Liddell'), user('albert', 'Al Bert'), user('bob', 'Bob')]
    expect(mentionOptions('al', members, 'me', true).map((o) => o.username)).toEqual(['alice', 'albert', 'all'])
    expect(mentionOptions('lid', members, 'me', true).map((o) => o.username)).toEqual(['alice'])
    expect(mentionOptions('', members, 'me', false).map((o) => o.username)).toEqual(['alice', 'albert', 'bob'])
    expect(mentionOptions('ch', members, 'me', true).map((o) => [o.username, o.id])).toEqual([['channel', null]])
    expect(mentionOptions('ch', members, 'me', false)).toEqual([])
  })

  it('insert @username and a space, keeping the rest', () => {
    const q = mentionQuery('hi @al and more', 6)!
    expect(insertMention('hi @al and more', q, 6, 'alice')).toEqual({ text: 'hi @alice and more', caret: 10 })
    expect(insertMention('@b', mentionQuery('@b', 2)!, 2, 'bob')).toEqual({ text: '@bob ', caret: 5 })
  })
})

describe('mentions in a message', () => {
  const names = mentionNames(['alice', 'me'], 'me', (id) => ({ alice: 'Alice', me: 'me' })[id], true)

  it('are marked, mine more strongly, never inside code', () => {
    const nodes = parseMarkup('hey @ALICE and @me, `@alice` and @bob', names)
    expect(nodes.filter((n) => n.kind === 'mention')).toEqual([
      { kind: 'mention', text: '@ALICE', mine: false },
      { kind: 'mention', text: '@me', mine: true },
    ])
    expect(nodes.some((n) => n.kind === 'code' && n.text === '@alice')).toBe(true)
  })

  it('mark @all where everyone was mentioned, and nothing without mentions', () => {
    expect(parseMarkup('@all look', names)[0]).toEqual({ kind: 'mention', text: '@all', mine: true })
    expect(parseMarkup('@alice look')[0]).toEqual({ kind: 'text', text: '@alice look' })
    expect(parseMarkup('x@alice', names)[0]).toEqual({ kind: 'text', text: 'x@alice' })
  })
})

describe('the pin and mention policy', () => {
  it('mirrors the server', () => {
    expect(mayPin('direct', { role: 'member', spaceAdmin: false })).toBe(true)
    expect(mayPin('group', { role: 'member', spaceAdmin: false })).toBe(false)
    expect(mayPin('group', { role: 'admin', spaceAdmin: false })).toBe(true)
    expect(mayPin('channel', { role: 'member', spaceAdmin: true })).toBe(true)
    expect(mayPin('direct', { role: null, spaceAdmin: false })).toBe(false)
    expect([allowsMentionAll('direct'), allowsMentionAll('group'), allowsMentionAll('channel')]).toEqual([false, true, true])
  })
})

describe('the @ badge', () => {
  beforeEach(() => vi.restoreAllMocks())

  it('counts new messages that mention me and is reset by my read mark', async () => {
    setActivePinia(createPinia())
    useSession().user = user('me')
    const convs = useConversations()
    const events = useEvents()
    const msgs = useMessages()
    events.adopt(conv(C, [member('me'), member('bob'), member('carol')], 0, { unread_mentions: 0 }))
    vi.spyOn(api, 'markDelivered').mockResolvedValue(undefined)
    const read = vi.spyOn(api, 'markRead').mockResolvedValue(undefined)
    events.ingest(created(msg(C, 1, 'bob', '@me', { mentions: ['me'] })))
    events.ingest(created(msg(C, 2, 'bob', 'plain')))
    events.ingest(created(msg(C, 3, 'carol', '@all', { mentions: ['me', 'bob', 'carol'] })))
    events.ingest(created(msg(C, 4, 'me', '@bob', { mentions: ['bob'] })))
    const c = convs.byId.get(C)!
    expect([c.unread_count, c.unread_mentions]).toEqual([3, 2])
    events.ingest(updated(5, { ...msg(C, 3, 'carol'), deleted: true, text: '' }))
    expect([c.unread_count, c.unread_mentions]).toEqual([2, 1])
    msgs.thread(C).loaded = true
    msgs.thread(C).hasMoreOlder = false
    await events.markRead(C, 4)
    expect(read).toHaveBeenCalledWith(C, 4)
    expect([c.unread_count, c.unread_mentions]).toEqual([0, 0])
  })
})
