import { computed, nextTick, onBeforeUnmount, onMounted, ref, shallowRef, watch, type Ref } from 'vue'
import { anchorAt, centreOn, HeightEstimates, layout, restoreAnchor, rowAt, visibleWindow, type Anchor } from '../lib/virtual'

/** What the virtual list needs to know of a row: a stable key, and a kind for height estimates. */
export interface VirtualItem {
  key: string
  kind: string
}

export interface VirtualListOptions<T extends VirtualItem> {
  /** The scrolling element (`position: relative`, so offsets inside it are its own). */
  scroller: Ref<HTMLElement | null>
  /** The element holding the rows, inside the scroller: its padding stands for the rows not rendered. */
  list: Ref<HTMLElement | null>
  /** The rows, oldest first. */
  items: Readonly<Ref<readonly T[]>>
  /** Heights to assume per kind until rows of that kind were measured. */
  defaults: Record<string, number>
  /** Pixels rendered beyond each edge of the viewport. */
  overscan?: number
  /** Rows that keep their place among their neighbours (anchors); all by default. */
  stays?: (item: T) => boolean
  /** Whether the list sticks to its bottom (when it grows, rows are measured or the viewport shrinks). */
  pinned: () => boolean
}

/** The key under which the elements above the rows are observed. */
const HEAD = '\u0000head'

/**
 * A virtualised list of rows of different heights: only the rows in the viewport plus
 * `overscan` are rendered, the rest stand as padding of `list`; each rendered row is measured
 * with a ResizeObserver (`measure(key)` is its ref). After anything that changes the layout
 * (rows added at either end, a row measured, the viewport resized) it either keeps the bottom
 * in view (`pinned()`) or puts the anchor row (the first one at the viewport's top, taken at
 * each scroll) back where it was, so paging history in above does not move what is read.
 */
export function useVirtualList<T extends VirtualItem>(o: VirtualListOptions<T>) {
  const overscan = o.overscan ?? 600
  const heights = new Map<string, number>()
  const estimates = new HeightEstimates(o.defaults)
  /** Bumped when a measured height changes (the map itself is not reactive). */
  const version = ref(0)
  const top = ref(0)
  const viewport = ref(0)
  let anchor: Anchor | null = null
  const elements = new Map<Element, { key: string; kind: string }>()
  const refs = new Map<string, (el: unknown) => void>()

  const keys = computed(() => o.items.value.map((it) => it.key))
  const index = computed(() => {
    const m = new Map<string, number>()
    keys.value.forEach((k, i) => m.set(k, i))
    return m
  })
  const offsets = shallowRef<Float64Array>(new Float64Array(1))
  watch(
    [o.items, version],
    () => {
      offsets.value = layout(o.items.value.map((it) => heights.get(it.key) ?? estimates.get(it.kind)))
    },
    { immediate: true },
  )
  const total = computed(() => offsets.value[offsets.value.length - 1])

  /** Where the list starts inside the scroller's content. */
  function base() {
    return o.list.value?.offsetTop ?? 0
  }

  const win = computed(() => visibleWindow(offsets.value, top.value - base(), viewport.value || 800, overscan))
  const rows = computed(() => {
    const { start, end } = win.value
    return o.items.value.slice(start, end).map((item, i) => ({ item, index: start + i }))
  })
  /** The row at the viewport's top. */
  const topRow = computed(() => rowAt(offsets.value, top.value - base()))
  const padTop = computed(() => win.value.padTop)
  const padBottom = computed(() => win.value.padBottom)

  function read() {
    const el = o.scroller.value
    if (!el) return
    top.value = el.scrollTop
    viewport.value = el.clientHeight
  }

  function capture() {
    const el = o.scroller.value
    if (!el) return
    const stays = o.stays
    anchor = anchorAt(offsets.value, keys.value, el.scrollTop - base(), stays ? (i) => stays(o.items.value[i]) : undefined)
  }

  /** Writes scrollTop only when it moves, so the browser's own scrolling is left alone. */
  function scrollTo(y: number) {
    const el = o.scroller.value
    if (!el) return
    if (Math.abs(el.scrollTop - y) > 0.5) el.scrollTop = y
    read()
  }

  function toBottom() {
    const el = o.scroller.value
    if (!el) return
    scrollTo(el.scrollHeight - el.clientHeight)
    capture()
  }

  /** After a layout change: the bottom stays in view, or the anchor row where it was. */
  function settle() {
    const el = o.scroller.value
    if (!el) return
    if (o.pinned()) return toBottom()
    if (!anchor) return read()
    const y = restoreAnchor(offsets.value, (k) => index.value.get(k) ?? -1, anchor)
    if (y === null) return capture()
    scrollTo(y + base())
  }
  watch([offsets, () => o.items.value.length], () => settle(), { flush: 'post' })

  const ro =
    typeof ResizeObserver !== 'undefined'
      ? new ResizeObserver((entries) => {
          let changed = false
          for (const e of entries) {
            if (e.target === o.scroller.value) {
              viewport.value = o.scroller.value.clientHeight
              changed = true
              continue
            }
            const row = elements.get(e.target)
            if (!row) continue
            if (row.key === HEAD) {
              changed = true
              continue
            }
            const h = e.borderBoxSize?.[0]?.blockSize ?? (e.target as HTMLElement).offsetHeight
            if (!h) continue // hidden (another screen on a phone): keep what we had
            const old = heights.get(row.key)
            if (old !== undefined && Math.abs(old - h) < 0.5) continue
            if (old !== undefined) estimates.remove(row.kind, old)
            estimates.add(row.kind, h)
            heights.set(row.key, h)
            changed = true
          }
          if (changed) {
            version.value++
            settle()
          }
        })
      : null

  /** The ref of a rendered row: measures it while it is in the DOM. */
  function measure(item: T) {
    let f = refs.get(item.key)
    if (!f) {
      let current: Element | null = null
      f = (el: unknown) => {
        const e = el instanceof Element ? el : null
        if (current && current !== e) {
          ro?.unobserve(current)
          elements.delete(current)
        }
        current = e
        if (e) {
          elements.set(e, { key: item.key, kind: item.kind })
          ro?.observe(e)
        } else refs.delete(item.key)
      }
      refs.set(item.key, f)
    }
    return f
  }

  /** Elements above the list inside the scroller (loading, the start of history): they move it. */
  function observeHead(el: Element | null) {
    if (!el) return
    elements.set(el, { key: HEAD, kind: HEAD })
    ro?.observe(el)
  }

  function onViewportResize() {
    if (o.pinned()) toBottom()
    else settle()
  }

  onMounted(() => {
    if (o.scroller.value) ro?.observe(o.scroller.value)
    window.visualViewport?.addEventListener('resize', onViewportResize)
    read()
  })
  onBeforeUnmount(() => {
    ro?.disconnect()
    window.visualViewport?.removeEventListener('resize', onViewportResize)
  })

  /** The scroll handler: what is on screen, and the anchor for the next layout change. */
  function onScroll() {
    read()
    capture()
  }

  /**
   * Scrolls so the row `key` is centred (or its top `gap` pixels below the top), and keeps it
   * there while the rows around it are measured. False when there is no such row.
   */
  async function scrollToKey(key: string, align: 'center' | 'start' = 'center', gap = 0): Promise<boolean> {
    const place = () => {
      const el = o.scroller.value
      const i = index.value.get(key)
      if (!el || i === undefined) return false
      const y = align === 'center' ? centreOn(offsets.value, i, el.clientHeight) : offsets.value[i] - gap
      scrollTo(y + base())
      anchor = { key, delta: offsets.value[i] - (el.scrollTop - base()) }
      return true
    }
    if (!place()) return false
    // Rendered now: measured in the next frames; place it once more with its real height.
    for (let i = 0; i < 3; i++) {
      await nextTick()
      await new Promise((r) => requestAnimationFrame(() => r(null)))
      place()
    }
    return true
  }

  /** Where the row `key` starts in the scroller's content (estimated if not measured yet). */
  function topOf(key: string): number | null {
    const i = index.value.get(key)
    return i === undefined ? null : offsets.value[i] + base()
  }

  return { rows, topRow, padTop, padBottom, total, measure, observeHead, onScroll, scrollToKey, toBottom, topOf, settle }
}
