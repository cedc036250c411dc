import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { defineComponent, h, nextTick, ref } from 'vue'
import { mount } from '@vue/test-utils'
import { api } from '../src/api/client'
import { useChatScroll } from '../src/composables/useChatScroll'
import { useReadMarks } from '../src/composables/useReadMarks'
import { useEvents } from '../src/stores/events'
import { useMessages } from '../src/stores/messages'
import { useSession } from '../src/stores/session'
import { conv, flush, member, msg, user } from './helpers'

const C = 'c1'
type Row = { key: string; kind: 'msg' | 'pending'; sender: string }

/** happy-dom does no layout: the scroller's geometry is set by hand. */
function geometry(el: HTMLElement, g: { scrollHeight: number; clientHeight: number; scrollTop: number }) {
  const clamp = (v: number) => Math.max(0, Math.min(v, g.scrollHeight - g.clientHeight))
  Object.defineProperty(el, 'scrollHeight', { configurable: true, get: () => g.scrollHeight })
  Object.defineProperty(el, 'clientHeight', { configurable: true, get: () => g.clientHeight })
  Object.defineProperty(el, 'scrollTop', { configurable: true, get: () => g.scrollTop, set: (v: number) => (g.scrollTop = clamp(v)) })
  el.scrollTo = vi.fn((o?: ScrollToOptions | number) => {
    if (typeof o === 'object' && o.top !== undefined) g.scrollTop = clamp(o.top)
  }) as unknown as typeof el.scrollTo
  return g
}

/** A ResizeObserver the test calls back by hand (happy-dom measures nothing). */
class FakeRO {
  static all: FakeRO[] = []
  observed = new Set<Element>()
  constructor(public cb: (entries: Array<{ target: Element; borderBoxSize: Array<{ blockSize: number }> }>) => void) {
    FakeRO.all.push(this)
  }
  observe(el: Element) {
    this.observed.add(el)
  }
  unobserve(el: Element) {
    this.observed.delete(el)
  }
  disconnect() {
    this.observed.clear()
  }
  /** Reports elements with their heights. */
  resize(list: Array<[Element, number]>) {
    this.cb(list.map(([target, blockSize]) => ({ target, borderBoxSize: [{ blockSize }] })))
  }
}

const rowsOf = (n: number, prefix = 'r', sender = 'bob'): Row[] => Array.from({ length: n }, (_, i) => ({ key: `${prefix}${i}`, kind: 'msg', sender }))

function setup(initial: Row[] = [{ key: 'a', kind: 'msg', sender: 'bob' }], g0 = { scrollHeight: 2000, clientHeight: 500, scrollTop: 1500 }) {
  setActivePinia(createPinia())
  FakeRO.all = []
  vi.stubGlobal('ResizeObserver', FakeRO)
  useSession().user = user('me')
  useEvents().adopt(conv(C, [member('me'), member('bob')], 3))
  const msgs = useMessages()
  const t = msgs.thread(C)
  t.loaded = true
  t.hasMoreOlder = true
  const rows = ref<Row[]>(initial)
  const moved = vi.fn()
  let api_!: ReturnType<typeof useChatScroll<Row>>
  const scroller = ref<HTMLElement | null>(null)
  const list = ref<HTMLElement | null>(null)
  const Comp = defineComponent({
    setup() {
      api_ = useChatScroll({
        cid: C,
        scroller,
        list,
        items: rows,
        isMine: (r) => r.kind === 'pending' || r.sender === 'me',
        isMessage: (r) => r.kind === 'msg',
        onMoved: moved,
      })
      return () =>
        h('div', { ref: scroller }, [
          h('div', { ref: list }, api_.rows.value.map(({ item }) => h('div', { key: item.key, 'data-key': item.key, ref: api_.measure(item) as never }))),
        ])
    },
  })
  const w = mount(Comp)
  const g = geometry(scroller.value!, g0)
  const el = (key: string) => scroller.value!.querySelector(`[data-key="${key}"]`)!
  return { w, rows, moved, scroll: api_, g, msgs, scroller, el, ro: () => FakeRO.all[0] }
}

beforeEach(() => vi.restoreAllMocks())
afterEach(() => vi.unstubAllGlobals())

describe('useChatScroll', () => {
  it('at the bottom, a new message keeps the chat at the bottom', async () => {
    const { rows, scroll, g, moved } = setup()
    await scroll.openAtStart()
    expect(scroll.atBottom.value).toBe(true)
    g.scrollHeight = 2100
    rows.value = [...rows.value, { key: 'b', kind: 'msg', sender: 'bob' }]
    await flush()
    expect(g.scrollTop).toBe(1600)
    expect(scroll.newCount.value).toBe(0)
    expect(moved).toHaveBeenCalled()
  })

  it('scrolled up, others’ messages are counted for the pill; mine scroll down; reaching the bottom clears', async () => {
    const { rows, scroll, g } = setup()
    await scroll.openAtStart()
    g.scrollTop = 900
    await scroll.onScroll()
    expect(scroll.atBottom.value).toBe(false)
    rows.value = [...rows.value, { key: 'b', kind: 'msg', sender: 'bob' }]
    await flush()
    rows.value = [...rows.value, { key: 'c', kind: 'msg', sender: 'bob' }]
    await flush()
    expect(scroll.newCount.value).toBe(2)
    expect(g.scrollTop).toBe(900)
    rows.value = [...rows.value, { key: 'p', kind: 'pending', sender: 'me' }]
    await flush()
    expect(g.scrollTop).toBe(1500)
    expect(scroll.newCount.value).toBe(0)
  })

  it('rows added at the top (older pages) are not new messages', async () => {
    const { rows, scroll, g } = setup()
    await scroll.openAtStart()
    g.scrollTop = 900
    await scroll.onScroll()
    rows.value = [{ key: 'old', kind: 'msg', sender: 'bob' }, ...rows.value]
    await flush()
    expect(scroll.newCount.value).toBe(0)
  })

  it('near the top, older messages load and the row at the top keeps its place', async () => {
    const { scroll, g, msgs, rows } = setup(rowsOf(20), { scrollHeight: 20 * 44, clientHeight: 500, scrollTop: 380 })
    await scroll.openAtStart()
    const older = vi.spyOn(msgs, 'loadOlder').mockImplementation(async () => {
      rows.value = [...rowsOf(10, 'old'), ...rows.value] // ten rows of 44 px above
      g.scrollHeight += 440
      return 10
    })
    g.scrollTop = 100
    await scroll.onScroll()
    await flush()
    expect(older.mock.calls[0][0]).toBe(C)
    expect(g.scrollTop).toBe(540)
  })

  it('rows measured above the viewport do not move what is read', async () => {
    const { scroll, g, el, ro } = setup(rowsOf(40), { scrollHeight: 40 * 44, clientHeight: 500, scrollTop: 600 })
    await scroll.openAtStart()
    g.scrollTop = 600
    await scroll.onScroll()
    await flush()
    expect(scroll.rows.value.length).toBeLessThan(40 + 1)
    // The rows rendered are measured: r2, estimated at 44 px, is 144 px, so what is below it
    // moves down 100 px.
    g.scrollHeight += 2000
    ro().resize(scroll.rows.value.map(({ item }) => [el(item.key), item.key === 'r2' ? 144 : 44]))
    await flush()
    expect(g.scrollTop).toBe(700)
  })

  it('a long list renders only a window of rows', async () => {
    const { scroll, g } = setup(rowsOf(1100), { scrollHeight: 1100 * 44, clientHeight: 800, scrollTop: 1100 * 44 - 800 })
    await scroll.openAtStart()
    await flush()
    expect(scroll.rows.value.length).toBeLessThan(60)
    expect(scroll.rows.value.at(-1)!.index).toBe(1099)
    g.scrollTop = 0
    await scroll.onScroll()
    await flush()
    expect(scroll.rows.value[0].index).toBe(0)
    expect(scroll.rows.value.length).toBeLessThan(60)
    expect(scroll.padBottom.value).toBeGreaterThan(40_000)
  })

  it('at the bottom, a shrinking viewport (a phone’s keyboard) keeps the newest message in view', async () => {
    const { scroll, g, scroller, ro } = setup()
    await scroll.openAtStart()
    expect(g.scrollTop).toBe(1500)
    g.clientHeight = 200
    ro().resize([[scroller.value!, 200]])
    expect(g.scrollTop).toBe(1800)
  })

  it('reveal loads older pages until the row is there, then centres it', async () => {
    const { scroll, g, msgs, rows } = setup(rowsOf(20), { scrollHeight: 20 * 44, clientHeight: 400, scrollTop: 480 })
    await scroll.openAtStart()
    const older = vi.spyOn(msgs, 'loadOlder').mockImplementation(async () => {
      rows.value = [...rowsOf(30, 'old'), ...rows.value]
      g.scrollHeight += 30 * 44
      return 30
    })
    const found = await scroll.reveal('old5', () => rows.value.some((r) => r.key === 'old5'))
    expect(found).toBe(true)
    expect(older).toHaveBeenCalledTimes(1)
    expect(g.scrollTop).toBe(5 * 44 + 22 - 200)
    expect(scroll.atBottom.value).toBe(false)
  })

  it('a short history loads older pages until it fills the screen', async () => {
    const { scroll, g, msgs } = setup()
    g.scrollHeight = 300
    const older = vi.spyOn(msgs, 'loadOlder').mockImplementation(async () => {
      g.scrollHeight += 200
      return 10
    })
    await scroll.fillScreen()
    expect(older).toHaveBeenCalledTimes(2) // 300 → 500 → 700 > 500
  })
})

describe('useReadMarks', () => {
  type Callback = (entries: Array<{ target: Element; isIntersecting: boolean }>) => void
  let observers: Array<{ cb: Callback; observed: Element[] }> = []

  beforeEach(() => {
    observers = []
    vi.stubGlobal(
      'IntersectionObserver',
      class {
        observed: Element[] = []
        constructor(public cb: Callback) {
          observers.push(this)
        }
        observe(el: Element) {
          this.observed.push(el)
        }
        disconnect() {}
      },
    )
  })
  afterEach(() => vi.unstubAllGlobals())

  function mountMarks(seqs: number[]) {
    setActivePinia(createPinia())
    useSession().user = user('me')
    const events = useEvents()
    events.adopt(conv(C, [member('me'), member('bob')], 9))
    useMessages().merge(C, seqs.map((s) => msg(C, s, 'bob')))
    const scroller = ref<HTMLElement | null>(null)
    let marks!: ReturnType<typeof useReadMarks>
    const Comp = defineComponent({
      setup() {
        marks = useReadMarks(C, scroller)
        return () => h('div', { ref: scroller }, seqs.map((s) => h('div', { 'data-seq': String(s) })))
      },
    })
    const w = mount(Comp, { attachTo: document.body })
    const read = vi.spyOn(api, 'markRead').mockResolvedValue(undefined)
    return { w, marks, read, rows: () => [...scroller.value!.querySelectorAll('[data-seq]')] }
  }

  it('marks read up to the newest row on screen, and the whole conversation when that is the newest message', async () => {
    vi.spyOn(document, 'hasFocus').mockReturnValue(true)
    const { marks, read, rows, w } = mountMarks([4, 5, 6])
    marks.start()
    expect(observers.at(-1)!.observed).toHaveLength(3)
    const [r4, r5, r6] = rows()
    observers.at(-1)!.cb([{ target: r4, isIntersecting: true }, { target: r5, isIntersecting: true }])
    expect(read).toHaveBeenLastCalledWith(C, 5)
    observers.at(-1)!.cb([{ target: r6, isIntersecting: true }])
    expect(read).toHaveBeenLastCalledWith(C, 9) // the newest loaded message: up to last_seq
    w.unmount()
  })

  it('nothing is read in a tab without focus; focusing it marks what is on screen', async () => {
    const focus = vi.spyOn(document, 'hasFocus').mockReturnValue(false)
    const { marks, read, rows, w } = mountMarks([4, 5])
    marks.start()
    observers.at(-1)!.cb([{ target: rows()[0], isIntersecting: true }])
    expect(read).not.toHaveBeenCalled()
    focus.mockReturnValue(true)
    window.dispatchEvent(new Event('focus'))
    expect(read).toHaveBeenCalledWith(C, 4)
    w.unmount()
    await nextTick()
  })
})
