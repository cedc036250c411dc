// Issue 17: the daily-use fixes, each tested through what the user sees or the store shows.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { defineComponent, h, nextTick } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { ApiError, api } from '../src/api/client'
import { useConversations } from '../src/stores/conversations'
import { useEvents } from '../src/stores/events'
import { useMessages } from '../src/stores/messages'
import { useSession } from '../src/stores/session'
import Composer from '../src/components/Composer.vue'
import Modal from '../src/components/Modal.vue'
import MessageBubble from '../src/components/MessageBubble.vue'
import ForwardDialog from '../src/components/ForwardDialog.vue'
import ConversationList from '../src/components/ConversationList.vue'
import LoginView from '../src/views/LoginView.vue'
import { colorFor } from '../src/lib/format'
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
function router() {
  const Empty = defineComponent({ render: () => h('div') })
  return createRouter({
    history: createMemoryHistory(),
    routes: [
      { path: '/', name: 'home', component: Empty },
      { path: '/c/:id', name: 'chat', component: Empty },
      { path: '/login', name: 'login', component: LoginView },
      { path: '/signup', name: 'signup', component: LoginView },
    ],
  })
}

beforeEach(() => {
  vi.restoreAllMocks()
  vi.useRealTimers()
  localStorage.clear()
  sessionStorage.clear()
  document.body.innerHTML = ''
})
afterEach(() => vi.useRealTimers())

describe('former members keep their names (defect 2)', () => {
  it('someone who left is still known by name on their earlier messages and in the preview', () => {
    const { convs, events } = setup()
    events.adopt(group())
    events.dispatch(created(msg(G, 4, 'carol', 'bye all')))
    events.dispatch({ type: 'member.removed', conversation_id: G, seq: 5, data: { user_id: 'carol' } } as ServerEvent)
    expect(convs.byId.get(G)!.members.some((m) => m.user.id === 'carol')).toBe(false)
    expect(convs.userOf('carol')?.display_name).toBe('Carol Danvers')
  })

  it('someone who left before this load is fetched once by id', async () => {
    const { convs, events } = setup()
    events.adopt(group())
    const get = vi.spyOn(api, 'user').mockResolvedValue(user('erin', 'Erin Hunter'))
    expect(convs.userOf('erin')).toBeUndefined()
    expect(convs.userOf('erin')).toBeUndefined()
    await flushPromises()
    expect(get).toHaveBeenCalledTimes(1)
    expect(convs.userOf('erin')?.display_name).toBe('Erin Hunter')
  })

  it('the list preview names a former sender instead of "Someone"', async () => {
    const { events } = setup()
    events.adopt(group())
    events.dispatch(created(msg(G, 4, 'carol', 'bye all')))
    events.dispatch({ type: 'member.removed', conversation_id: G, seq: 5, data: { user_id: 'carol' } } as ServerEvent)
    const r = router()
    const w = mount(ConversationList, { props: { activeId: null }, global: { plugins: [r] } })
    await flushPromises()
    expect(w.text()).toContain('Carol: bye all')
    expect(w.text()).not.toContain('Someone')
  })
})

describe('the composer emoji pop-up (defect 4)', () => {
  function composer() {
    setup()
    useEvents().adopt(conv(D, [member('me'), member('bob')], 0))
    return mount(Composer, { props: { conversationId: D, replyTo: null, editing: null, nameOf: (id: string) => id }, attachTo: document.body })
  }

  it('inserts at the cursor, not at the end', async () => {
    const w = composer()
    const ta = w.get('textarea').element as HTMLTextAreaElement
    await w.get('textarea').setValue('hello world')
    ta.setSelectionRange(5, 5)
    await w.get('button[aria-label="Emoji"]').trigger('click')
    await w.get('.emoji-pop button[role="menuitem"]').trigger('click')
    await flushPromises()
    expect(ta.value).toMatch(/^hello.+ world$/u)
    expect(ta.value.endsWith('world')).toBe(true)
    w.unmount()
  })

  it('closes on Escape and on a click outside, and is not announced as "React"', async () => {
    const w = composer()
    await w.get('button[aria-label="Emoji"]').trigger('click')
    const menu = w.get('.emoji-pop [role="menu"]')
    expect(menu.attributes('aria-label')).not.toBe('React')
    expect(menu.attributes('aria-label')).toMatch(/emoji/i)
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }))
    await nextTick()
    expect(w.find('.emoji-pop').exists()).toBe(false)
    await w.get('button[aria-label="Emoji"]').trigger('click')
    expect(w.find('.emoji-pop').exists()).toBe(true)
    document.body.dispatchEvent(new Event('pointerdown', { bubbles: true }))
    await nextTick()
    expect(w.find('.emoji-pop').exists()).toBe(false)
    w.unmount()
  })
})

describe('the reaction picker near the top (defect 4)', () => {
  it('opens below the bubble when there is no room above it under the header', async () => {
    setup()
    const pane = document.createElement('div')
    pane.dataset.testid = 'messages'
    document.body.appendChild(pane)
    pane.getBoundingClientRect = () => ({ top: 60, bottom: 700, left: 0, right: 800, width: 800, height: 640, x: 0, y: 60, toJSON: () => ({}) })
    const w = mount(MessageBubble, {
      props: { message: msg(G, 1, 'bob', 'top'), mine: false, first: true, canDelete: false, canEdit: false, showInfo: false, nameOf: (id: string) => id, myId: 'me' },
      attachTo: pane,
    })
    const bubble = w.get('.bubble').element as HTMLElement
    bubble.getBoundingClientRect = () => ({ top: 70, bottom: 110, left: 0, right: 200, width: 200, height: 40, x: 0, y: 70, toJSON: () => ({}) })
    await w.get('button.react-btn').trigger('click')
    await nextTick()
    expect(w.get('.pickwrap').classes()).toContain('below')
    w.unmount()
  })
})

describe('dialogs keep focus inside (keyboard)', () => {
  it('Tab from the last control goes to the first, Shift+Tab from the first to the last', async () => {
    const w = mount(Modal, { props: { title: 'T' }, slots: { default: '<input id="a" /><button id="b">B</button>' }, attachTo: document.body })
    await flushPromises()
    const close = document.querySelector<HTMLElement>('button.close')!
    const last = document.getElementById('b')!
    last.focus()
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Tab', bubbles: true }))
    expect(document.activeElement).toBe(close)
    document.dispatchEvent(new KeyboardEvent('keydown', { key: 'Tab', shiftKey: true, bubbles: true }))
    expect(document.activeElement).toBe(last)
    w.unmount()
  })
})

describe('the composer and the keyboard', () => {
  it('takes focus when the chat opens, and ↑ in it when empty asks to edit my last message', async () => {
    setup()
    useEvents().adopt(conv(D, [member('me'), member('bob')], 0))
    const w = mount(Composer, { props: { conversationId: D, replyTo: null, editing: null, nameOf: (id: string) => id }, attachTo: document.body })
    await flushPromises()
    expect(document.activeElement).toBe(w.get('textarea').element)
    await w.get('textarea').trigger('keydown', { key: 'ArrowUp' })
    expect(w.emitted('edit-last')).toHaveLength(1)
    await w.get('textarea').setValue('x')
    await w.get('textarea').trigger('keydown', { key: 'ArrowUp' })
    expect(w.emitted('edit-last')).toHaveLength(1)
    w.unmount()
  })
})

describe('drafts per chat across reloads', () => {
  it('are kept in localStorage per user and come back in a new page', async () => {
    setup()
    useEvents().adopt(conv(D, [member('me'), member('bob')], 0))
    const props = { conversationId: D, replyTo: null, editing: null, nameOf: (id: string) => id }
    const w = mount(Composer, { props })
    await w.get('textarea').setValue('half a thought')
    w.unmount()
    expect(JSON.parse(localStorage.getItem('hubbub.drafts.me') ?? '{}')[D]).toBe('half a thought')
    // "Reload": a new app state, the same storage.
    setup()
    useEvents().adopt(conv(D, [member('me'), member('bob')], 0))
    const again = mount(Composer, { props })
    expect((again.get('textarea').element as HTMLTextAreaElement).value).toBe('half a thought')
    again.unmount()
  })

  it('are marked "Draft:" in the list', async () => {
    const { events } = setup()
    events.adopt(conv(D, [member('me'), { ...member('bob'), user: user('bob', 'Bob') }], 1, { last_message: msg(D, 1, 'bob', 'hi') }))
    localStorage.setItem('hubbub.drafts.me', JSON.stringify({ [D]: 'see you' }))
    const w = mount(ConversationList, { props: { activeId: null }, global: { plugins: [router()] } })
    await flushPromises()
    expect(w.get('[data-testid="draft-preview"]').text()).toBe('Draft: see you')
  })
})

describe('one avatar colour per chat (defect 8)', () => {
  it('the forward dialog colours a direct chat as the list does', async () => {
    const { events } = setup()
    events.adopt(conv(D, [member('me'), { ...member('bob-id'), user: user('bob-id', 'Bob') }], 1))
    const w = mount(ForwardDialog, { props: { conversationId: D, message: msg(D, 1, 'me') }, attachTo: document.body })
    await flushPromises()
    const avatar = document.querySelector<HTMLElement>('.modal .avatar')!
    const expected = mount(defineComponent({ render: () => h('span', { style: { background: colorFor('bob-id') } }) }))
    expect(avatar.style.background).toBe((expected.element as HTMLElement).style.background)
    expect(colorFor('bob-id')).not.toBe(colorFor(D))
    w.unmount()
  })
})

describe('sign-up errors (defect 8)', () => {
  async function signup() {
    setup()
    const r = router()
    await r.push('/signup')
    const w = mount(LoginView, { global: { plugins: [r] } })
    return w
  }

  it('says which field is wrong, under that field', async () => {
    const w = await signup()
    vi.spyOn(api, 'signup').mockRejectedValue(new ApiError(422, 'validation_failed', 'Password must be at least 8 characters', 'password'))
    await w.get('#username').setValue('alice')
    await w.get('#password').setValue('short')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="error-password"]').text()).toContain('Password must be at least 8 characters')
    expect(w.get('#password').attributes('aria-invalid')).toBe('true')
    expect(w.get('#password').attributes('aria-describedby')).toBe('password-error')
    expect(w.find('[data-testid="error-username"]').exists()).toBe(false)
  })

  it('puts "taken" under the username', async () => {
    const w = await signup()
    vi.spyOn(api, 'signup').mockRejectedValue(new ApiError(409, 'conflict', 'username taken'))
    await w.get('#username').setValue('alice')
    await w.get('#password').setValue('long enough pw')
    await w.get('form').trigger('submit')
    await flushPromises()
    expect(w.get('[data-testid="error-username"]').text()).toContain('taken')
  })

  it('shows the lower-cased username as it is typed', async () => {
    const w = await signup()
    await w.get('#username').setValue('Alice')
    expect(w.get('[data-testid="username-normalized"]').text()).toContain('alice')
    await w.get('#username').setValue('alice')
    expect(w.find('[data-testid="username-normalized"]').exists()).toBe(false)
  })
})

describe('the search box also finds people (defect 7)', () => {
  it('lists matching people under "People" and starts a direct chat with one', async () => {
    vi.useFakeTimers()
    const { events } = setup()
    events.adopt(group())
    const search = vi.spyOn(api, 'searchUsers').mockResolvedValue({ users: [user('me', 'Me Myself'), user('zoe', 'Zoe Saldana')] })
    const direct = vi.spyOn(api, 'direct').mockResolvedValue(conv(D, [member('me'), { ...member('zoe'), user: user('zoe', 'Zoe Saldana') }], 0))
    const r = router()
    const w = mount(ConversationList, { props: { activeId: null }, global: { plugins: [r] } })
    await w.get('input[type="search"]').setValue('zo')
    await vi.advanceTimersByTimeAsync(400)
    await flushPromises()
    expect(search).toHaveBeenCalledWith('zo', expect.any(Number))
    expect(w.text()).toContain('People')
    expect(w.find('[data-testid="person-me"]').exists()).toBe(false)
    await w.get('[data-testid="person-zoe"]').trigger('click')
    await flushPromises()
    expect(direct).toHaveBeenCalledWith('zoe')
    expect(useConversations().byId.has(D)).toBe(true)
    vi.useRealTimers()
  })
})

describe('arrow keys in the conversation list', () => {
  it('move focus between the chats', async () => {
    const { events } = setup()
    events.adopt(conv('a', [member('me'), member('x')], 1, { last_message: msg('a', 1, 'x') }))
    events.adopt(conv('b', [member('me'), member('y')], 1, { last_message: msg('b', 1, 'y', 'm', { created_at: '2026-11-24T09:00:00.000Z' }) }))
    const w = mount(ConversationList, { props: { activeId: null }, global: { plugins: [router()] }, attachTo: document.body })
    await flushPromises()
    const items = w.findAll('[data-list-item]')
    ;(items[0].element as HTMLElement).focus()
    await items[0].trigger('keydown', { key: 'ArrowDown' })
    expect(document.activeElement).toBe(items[1].element)
    await items[1].trigger('keydown', { key: 'ArrowUp' })
    expect(document.activeElement).toBe(items[0].element)
    w.unmount()
  })
})

