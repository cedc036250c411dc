import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import fs from 'node:fs'
import path from 'node:path'
import vm from 'node:vm'
import { api } from '../src/api/client'
import type { Conversation } from '../src/api/types'
import { notificationFor, notificationTag, notifyLevel, pageTitle, unreadTotal, wantsAlert } from '../src/lib/notify'
import { chimeStats } from '../src/lib/sound'
import { useConversations } from '../src/stores/conversations'
import { useEvents } from '../src/stores/events'
import { KEYS, useNotifications } from '../src/stores/notifications'
import { useSession } from '../src/stores/session'
import { conv, created, flush, member, msg, user } from './helpers'

const later = new Date(Date.now() + 3600_000).toISOString()
const earlier = new Date(Date.now() - 3600_000).toISOString()
const settings = (extra: Record<string, unknown> = {}) => ({ archived: false, pinned: false, muted_until: null, ...extra }) as Conversation['settings']

describe('page title', () => {
  it('counts the unread messages of chats I did not mute and did not leave', () => {
    const list = [
      { ...conv('a', [member('me'), member('bob')]), unread_count: 2 },
      { ...conv('b', [member('me'), member('ann')]), unread_count: 5, settings: settings({ muted_until: later }) },
      { ...conv('c', [member('me'), member('zed')]), unread_count: 1, settings: settings({ muted_until: earlier }) },
      { ...conv('d', [member('me'), member('kim')]), unread_count: 7, left: true },
    ]
    expect(unreadTotal(list)).toBe(3)
    expect(pageTitle(3)).toBe('(3) Hubbub')
    expect(pageTitle(0)).toBe('Hubbub')
  })

  it('moves with the events as they come', () => {
    setActivePinia(createPinia())
    useSession().user = user('me')
    const events = useEvents()
    events.adopt(conv('a', [member('me'), member('bob')], 0))
    const convs = useConversations()
    vi.spyOn(api, 'markDelivered').mockResolvedValue(undefined)
    expect(pageTitle(unreadTotal(convs.byId.values()))).toBe('Hubbub')
    events.ingest(created(msg('a', 1, 'bob')))
    events.ingest(created(msg('a', 2, 'bob')))
    expect(pageTitle(unreadTotal(convs.byId.values()))).toBe('(2) Hubbub')
    convs.settingsUpdated('a', settings({ muted_until: later })!)
    expect(pageTitle(unreadTotal(convs.byId.values()))).toBe('Hubbub')
  })
})

describe('who is notified', () => {
  const direct = conv('d', [member('me'), member('bob')])
  const group = conv('g', [member('me'), member('bob'), member('ann')])
  const channel = { ...conv('ch', [member('me'), member('bob'), member('ann')]), kind: 'channel' as const, name: 'general' }

  it('defaults: every message of directs and groups, mentions only in channels', () => {
    expect(notifyLevel(direct)).toBe('all')
    expect(notifyLevel(group)).toBe('all')
    expect(notifyLevel(channel)).toBe('mentions')
    expect(notifyLevel({ ...channel, settings: settings({ notify: 'all' }) })).toBe('all')
  })

  it('follows mute and the level; never my own or a deleted message', () => {
    const m = msg('g', 1, 'bob', 'hi')
    const mentioning = msg('g', 2, 'bob', 'hi @me', { mentions: ['me'] })
    expect(wantsAlert(group, m, 'me')).toBe(true)
    expect(wantsAlert(group, msg('g', 1, 'me'), 'me')).toBe(false)
    expect(wantsAlert(group, { ...m, deleted: true }, 'me')).toBe(false)
    expect(wantsAlert({ ...group, settings: settings({ muted_until: later }) }, m, 'me')).toBe(false)
    expect(wantsAlert({ ...group, settings: settings({ muted_until: earlier }) }, m, 'me')).toBe(true)
    const mentions = { ...group, settings: settings({ notify: 'mentions' }) }
    expect(wantsAlert(mentions, m, 'me')).toBe(false)
    expect(wantsAlert(mentions, mentioning, 'me')).toBe(true)
    expect(wantsAlert({ ...group, settings: settings({ notify: 'none' }) }, mentioning, 'me')).toBe(false)
    expect(wantsAlert(channel, m, 'me')).toBe(false)
    expect(wantsAlert(channel, mentioning, 'me')).toBe(true)
  })

  it('names the sender, and the conversation for groups; "Photo" or "File" without text', () => {
    const d = notificationFor(direct, msg('d', 1, 'bob', 'hello'), 'Bob', 'Bob')
    expect(d.title).toBe('Bob')
    expect(d.options).toMatchObject({ body: 'hello', tag: 'hubbub-d', data: { conversation_id: 'd', url: '/c/d' } })
    const photo = msg('g', 1, 'bob', '', { photo: { url: '/media/x', width: 1, height: 1 } })
    expect(notificationFor(group, photo, 'Bob', 'Crew')).toMatchObject({ title: 'Bob in Crew', options: { body: 'Photo' } })
    const file = msg('g', 1, 'bob', '', { file: { url: '/media/y', name: 'a.pdf', size: 1, content_type: 'application/pdf' } })
    expect(notificationFor(group, file, 'Bob', 'Crew').options.body).toBe('File')
  })
})

/** A stand-in for the browser's Notification API that records what the app shows. */
class FakeNotification {
  static permission: NotificationPermission = 'default'
  static answer: NotificationPermission = 'granted'
  static shown: FakeNotification[] = []
  static requestPermission = vi.fn(async () => (FakeNotification.permission = FakeNotification.answer))
  onclick: (() => void) | null = null
  onclose: (() => void) | null = null
  closed = false
  constructor(
    public title: string,
    public options: NotificationOptions,
  ) {
    FakeNotification.shown.push(this)
  }
  close() {
    this.closed = true
  }
}

/** Enough of WebAudio for the chime to be made. */
class FakeAudio {
  currentTime = 0
  destination = {}
  resume = async () => {}
  createGain() {
    return { connect() {}, gain: { setValueAtTime() {}, exponentialRampToValueAtTime() {} } }
  }
  createOscillator() {
    return { type: '', frequency: { setValueAtTime() {} }, connect() {}, start() {}, stop() {} }
  }
}

describe('desktop notifications and sound', () => {
  let hidden = true
  beforeEach(() => {
    localStorage.clear()
    FakeNotification.permission = 'granted'
    FakeNotification.shown = []
    FakeNotification.requestPermission.mockClear()
    ;(window as unknown as { Notification: unknown }).Notification = FakeNotification
    ;(window as unknown as { AudioContext: unknown }).AudioContext = FakeAudio
    hidden = true
  })
  afterEach(() => {
    delete (window as unknown as { Notification?: unknown }).Notification
    delete (window as unknown as { AudioContext?: unknown }).AudioContext
    vi.restoreAllMocks()
  })

  function setup(extra: Partial<Conversation> = {}) {
    setActivePinia(createPinia())
    useSession().user = user('me')
    vi.spyOn(api, 'markDelivered').mockResolvedValue(undefined)
    const events = useEvents()
    events.adopt(conv('g', [member('me'), member('bob'), member('ann')], 0, { name: 'Crew', ...extra }))
    const n = useNotifications()
    n.setHiddenCheck(() => hidden)
    return { events, n }
  }

  it('shows one for a live message while hidden, with title, body and tag; a click opens the chat', () => {
    const { events, n } = setup()
    const opened: string[] = []
    n.setOpener((id) => opened.push(id))
    const focus = vi.spyOn(window, 'focus').mockImplementation(() => {})
    const before = chimeStats.played
    events.ingest(created(msg('g', 1, 'bob', 'lunch?')))
    expect(FakeNotification.shown).toHaveLength(1)
    const shown = FakeNotification.shown[0]
    expect(shown.title).toBe('bob in Crew')
    expect(shown.options).toMatchObject({ body: 'lunch?', tag: notificationTag('g') })
    expect(chimeStats.played).toBe(before + 1)
    shown.onclick!()
    expect(focus).toHaveBeenCalled()
    expect(opened).toEqual(['g'])
    expect(shown.closed).toBe(true)
    // The next one of the same chat replaces the first.
    events.ingest(created(msg('g', 2, 'ann', 'yes')))
    expect(FakeNotification.shown[1].options.tag).toBe(shown.options.tag)
  })

  it('none while visible, for my own, in a muted chat, for a catch-up, or when turned off', async () => {
    let { events, n } = setup()
    hidden = false
    events.ingest(created(msg('g', 1, 'bob')))
    hidden = true
    events.ingest(created(msg('g', 2, 'me')))
    expect(FakeNotification.shown).toHaveLength(0)

    ;({ events, n } = setup({ settings: settings({ muted_until: later }) }))
    const before = chimeStats.played
    events.ingest(created(msg('g', 1, 'bob')))
    expect(FakeNotification.shown).toHaveLength(0)
    expect(chimeStats.played).toBe(before)

    // Events fetched after a reconnect may have been pushed already: no second notification.
    ;({ events, n } = setup())
    vi.spyOn(api, 'events').mockResolvedValue({ events: [created(msg('g', 1, 'bob'))], has_more: false })
    await events.catchUp('g')
    expect(FakeNotification.shown).toHaveLength(0)

    ;({ events, n } = setup())
    vi.spyOn(api, 'pushUnsubscribe').mockResolvedValue(undefined)
    await n.setDesktop(false)
    n.setSound(false)
    const b2 = chimeStats.played
    events.ingest(created(msg('g', 1, 'bob')))
    expect(FakeNotification.shown).toHaveLength(0)
    expect(chimeStats.played).toBe(b2)
    expect(localStorage.getItem(KEYS.sound)).toBe('0')
  })

  it('the level "mentions" lets only a mention through; "none" nothing', () => {
    const { events } = setup({ settings: settings({ notify: 'mentions' }) })
    events.ingest(created(msg('g', 1, 'bob', 'hi all')))
    events.ingest(created(msg('g', 2, 'bob', 'hi @me', { mentions: ['me'] })))
    expect(FakeNotification.shown.map((x) => x.options.body)).toEqual(['hi @me'])
    useConversations().settingsUpdated('g', settings({ notify: 'none' })!)
    events.ingest(created(msg('g', 3, 'bob', 'hi @me again', { mentions: ['me'] })))
    expect(FakeNotification.shown).toHaveLength(1)
  })

  it('the first message of a conversation new to me notifies once it is fetched', async () => {
    const { events } = setup()
    const fresh = conv('new', [member('me'), member('bob')], 1, { unread_count: 1, last_message: msg('new', 1, 'bob', 'hey there') })
    vi.spyOn(api, 'conversation').mockResolvedValue(fresh)
    events.ingest(created(msg('new', 1, 'bob', 'hey there')))
    await flush()
    await flush()
    expect(FakeNotification.shown.map((x) => [x.title, x.options.body])).toEqual([['bob', 'hey there']])
  })
})

describe('asking for the permission', () => {
  beforeEach(() => {
    localStorage.clear()
    FakeNotification.permission = 'default'
    FakeNotification.answer = 'granted'
    FakeNotification.requestPermission.mockClear()
    ;(window as unknown as { Notification: unknown }).Notification = FakeNotification
  })
  afterEach(() => {
    delete (window as unknown as { Notification?: unknown }).Notification
    vi.restoreAllMocks()
  })
  const fresh = () => {
    setActivePinia(createPinia())
    return useNotifications()
  }

  it('never on load: the banner shows after my first message, and the click asks', async () => {
    const n = fresh()
    expect(n.bannerVisible).toBe(false)
    expect(FakeNotification.requestPermission).not.toHaveBeenCalled()
    n.noteSent()
    expect(n.bannerVisible).toBe(true)
    // It survives a reload until answered.
    expect(fresh().bannerVisible).toBe(true)
    const n2 = useNotifications()
    expect(await n2.ask()).toBe('granted')
    expect(FakeNotification.requestPermission).toHaveBeenCalledTimes(1)
    expect(n2.bannerVisible).toBe(false)
    expect(n2.active).toBe(true)
  })

  it('"Not now" is remembered; a refusal too', async () => {
    const n = fresh()
    n.noteSent()
    n.dismiss()
    expect(n.bannerVisible).toBe(false)
    expect(localStorage.getItem(KEYS.dismissed)).toBe('1')
    expect(fresh().bannerVisible).toBe(false)
    localStorage.clear()
    FakeNotification.answer = 'denied'
    const n2 = fresh()
    n2.noteSent()
    expect(await n2.ask()).toBe('denied')
    expect(n2.bannerVisible).toBe(false)
    expect(n2.active).toBe(false)
  })

  it('turning desktop notifications on in the settings asks when not asked yet', async () => {
    const n = fresh()
    await n.setDesktop(true)
    expect(FakeNotification.requestPermission).toHaveBeenCalledTimes(1)
    expect(n.active).toBe(true)
  })

  it('no banner where the browser has no Notification API', () => {
    delete (window as unknown as { Notification?: unknown }).Notification
    const n = fresh()
    n.noteSent()
    expect(n.permission).toBe('unsupported')
    expect(n.bannerVisible).toBe(false)
  })
})

describe('the service worker', () => {
  type Handler = (e: unknown) => void
  function load() {
    const handlers: Record<string, Handler> = {}
    const shown: Array<[string, NotificationOptions]> = []
    const clients: { list: Array<{ url: string; focus: ReturnType<typeof vi.fn>; postMessage: ReturnType<typeof vi.fn> }>; openWindow: ReturnType<typeof vi.fn> } = {
      list: [],
      openWindow: vi.fn(async () => null),
    }
    const self = {
      location: { origin: 'https://chat.example' },
      addEventListener: (t: string, h: Handler) => (handlers[t] = h),
      skipWaiting: () => {},
      registration: { showNotification: async (t: string, o: NotificationOptions) => void shown.push([t, o]) },
      clients: { matchAll: async () => clients.list, openWindow: clients.openWindow, claim: async () => {} },
    }
    const ctx = vm.createContext({ self, URL, encodeURIComponent })
    vm.runInContext(fs.readFileSync(path.resolve(__dirname, '../public/sw.js'), 'utf8'), ctx)
    return { handlers, shown, clients, ctx }
  }
  const waiting = () => {
    const all: Promise<unknown>[] = []
    return { all, waitUntil: (p: Promise<unknown>) => all.push(p) }
  }

  it('shows the pushed payload, tagged like the page’s own notification', async () => {
    const { handlers, shown, ctx } = load()
    const payload = { title: 'Bob in Crew', body: 'lunch?', conversation_id: 'g1', message_id: 'm1', url: '/c/g1' }
    const w = waiting()
    handlers.push({ ...w, data: { json: () => payload, text: () => JSON.stringify(payload) } })
    await Promise.all(w.all)
    expect(shown).toEqual([['Bob in Crew', { body: 'lunch?', tag: notificationTag('g1'), icon: '/favicon.svg', data: { conversation_id: 'g1', message_id: 'm1', url: '/c/g1' } }]])
    // The same shape as the page's notification of the same message.
    const page = notificationFor(conv('g1', [member('me'), member('bob'), member('ann')]), { ...msg('g1', 1, 'bob', 'lunch?'), id: 'm1' }, 'Bob', 'Crew')
    expect(shown[0]).toEqual([page.title, page.options])
    // Garbage still shows something, never a foreign URL.
    const f = (ctx as { notificationFromPush: (p: unknown) => { title: string; options: { data: { url: string } } } }).notificationFromPush
    expect(f(null).title).toBe('Hubbub')
    expect(f({ url: 'https://evil.example/', conversation_id: 'x' }).options.data.url).toBe('/c/x')
  })

  it('a click focuses an open tab and routes it, or opens the chat', async () => {
    const { handlers, clients } = load()
    const click = () => {
      const w = waiting()
      const notification = { data: { url: '/c/g1' }, close: vi.fn() }
      handlers.notificationclick({ ...w, notification })
      return Promise.all(w.all).then(() => notification)
    }
    const n = await click()
    expect(n.close).toHaveBeenCalled()
    expect(clients.openWindow).toHaveBeenCalledWith('/c/g1')
    const tab = { url: 'https://chat.example/', focus: vi.fn(async () => tab), postMessage: vi.fn() }
    clients.list.push(tab)
    await click()
    expect(tab.focus).toHaveBeenCalled()
    expect(tab.postMessage).toHaveBeenCalledWith({ type: 'hubbub.open', url: '/c/g1' })
    expect(clients.openWindow).toHaveBeenCalledTimes(1)
  })
})

describe('the chat menu’s notification level', () => {
  it('shows the level, PATCHes settings.notify, and follows settings.updated', async () => {
    const { mount, flushPromises } = await import('@vue/test-utils')
    const { createMemoryHistory, createRouter } = await import('vue-router')
    const { defineComponent, h, nextTick } = await import('vue')
    const ChatMenu = (await import('../src/components/ChatMenu.vue')).default
    setActivePinia(createPinia())
    useSession().user = user('me')
    const events = useEvents()
    events.adopt({ ...conv('ch', [member('me'), member('bob'), member('ann')]), kind: 'channel', name: 'general', settings: settings({ notify: 'mentions' }) })
    const Empty = defineComponent({ render: () => h('div') })
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/', component: Empty }] })
    const patch = vi.spyOn(api, 'updateSettings').mockImplementation(async (_id, p) => settings({ notify: 'mentions', ...p })!)
    const w = mount(ChatMenu, { props: { conversationId: 'ch' }, global: { plugins: [router] }, attachTo: document.body })
    await w.get('[data-testid="menu-notify"]').trigger('click')
    const checked = () => w.findAll('[role="menuitemradio"]').filter((b) => b.attributes('aria-checked') === 'true').map((b) => b.text())
    expect(checked()).toEqual(['✓Mentions only'])
    // Another device chose "Nothing": the open menu follows.
    events.dispatch({ type: 'settings.updated', data: { conversation_id: 'ch', settings: settings({ notify: 'none' })! } } as never)
    await nextTick()
    expect(checked()).toEqual(['✓Nothing'])
    await w.get('[data-testid="notify-all"]').trigger('click')
    await flushPromises()
    expect(patch).toHaveBeenCalledWith('ch', { notify: 'all' })
    expect(notifyLevel(useConversations().byId.get('ch')!)).toBe('all')
    expect(w.emitted('close')).toBeTruthy()
    w.unmount()
  })
})
