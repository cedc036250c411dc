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
  Object.defineProperty(el, 'scrollHeight', { configurable: true, get: () => g.scrollHeight })
  Object.defineProperty(el, 'clientHeight', { configurable: true, get: () => g.clientHeight })
  Object.defineProperty(el, 'scrollTop', { configurable: true, get: () => g.scrollTop, set: (v: number) => (g.scrollTop = v) })
  el.scrollTo = vi.fn((o?: ScrollToOptions | number) => {
    if (typeof o === 'object' && o.top !== undefined) g.scrollTop = Math.max(0, Math.min(o.top, g.scrollHeight - g.clientHeight))
  }) as unknown as typeof el.scrollTo
  return g
}

function setup() {
  setActivePinia(createPinia())
  useSession().user = user('me')
  useEvents().adopt(conv(C, [member('me'), member('bob')], 3))
  const msgs = useMessages()
  const t = msgs.thread(C)
  t.loaded = true
  t.hasMoreOlder = true
  const rows = ref<Row[]>([{ key: 'a', kind: 'msg', sender: 'bob' }])
  const moved = vi.fn()
  let api_!: ReturnType<typeof useChatScroll<Row>>
  const scroller = ref<HTMLElement | null>(null)
  const Comp = defineComponent({
    setup() {
      api_ = useChatScroll({
        cid: C,
        scroller,
        items: rows,
        isMine: (r) => r.kind === 'pending' || r.sender === 'me',
        isMessage: (r) => r.kind === 'msg',
        onMoved: moved,
      })
      return () => h('div', { ref: scroller })
    },
  })
  const w = mount(Comp)
  const g = geometry(scroller.value!, { scrollHeight: 2000, clientHeight: 500, scrollTop: 1500 })
  return { w, rows, moved, scroll: api_, g, msgs }
}

beforeEach(() => vi.restoreAllMocks())

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

  it('near the top, older messages load and the position is kept', async () => {
    const { scroll, g, msgs } = setup()
    await scroll.openAtStart()
    const older = vi.spyOn(msgs, 'loadOlder').mockImplementation(async () => {
      g.scrollHeight = 3000 // a page of 1000 px above
      return 50
    })
    g.scrollTop = 100
    await scroll.onScroll()
    expect(older).toHaveBeenCalledWith(C)
    expect(g.scrollTop).toBe(1100)
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
