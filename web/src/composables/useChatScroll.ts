import { computed, nextTick, onBeforeUnmount, ref, watch, type Ref } from 'vue'
import { useMessages } from '../stores/messages'
import { isAtEnd } from '../lib/virtual'
import { useVirtualList, type VirtualItem } from './useVirtualList'

/** What the scroll logic needs to know of a row of the chat. */
export type ScrollItem = VirtualItem

export interface ChatScrollOptions<T extends ScrollItem> {
  cid: string
  scroller: Ref<HTMLElement | null>
  /** The element that holds the rows inside the scroller. */
  list: Ref<HTMLElement | null>
  /** The rows, oldest first. */
  items: Readonly<Ref<readonly T[]>>
  /** A row I just sent: the chat scrolls to it wherever it was. */
  isMine: (item: T) => boolean
  /** A row that counts as a new message in the "new messages" pill. */
  isMessage: (item: T) => boolean
  /** Called after anything that may have changed what is on screen (for read marks). */
  onMoved?: () => void
}

/** Within this many pixels of the end counts as "at the bottom". */
export const NEAR_BOTTOM_PX = 80
/** Older history loads when the top is this close. */
export const LOAD_OLDER_PX = 300
/** The unread separator opens this far below the top. */
export const UNREAD_GAP_PX = 80
/** Heights assumed per kind of row until one was measured. */
export const ROW_HEIGHTS = { day: 42, unread: 44, msg: 44, pending: 44 }
/** How long the floating date stays after the last scroll. */
export const FLOATING_DATE_MS = 1200

/** Whether the list should grow `n` rows at the top: not while a page is on its way. */
export function shouldLoadOlder(scrollTop: number, t: { hasMoreOlder: boolean; loading: boolean; loaded: boolean } | undefined) {
  return scrollTop < LOAD_OLDER_PX && !!t && t.hasMoreOlder && !t.loading && t.loaded
}

/**
 * Scrolling of an open chat, on a virtualised list (`useVirtualList`): stick to the bottom when
 * new messages arrive and we were there (or when I sent one), also when the viewport shrinks
 * (a phone's keyboard); otherwise count them for the "new messages" pill; load older pages near
 * the top, the anchor row keeping its place; open at the first unread row (kind `unread`) or at
 * the bottom; keep loading a short history until it fills the screen; bring a row to the middle.
 */
export function useChatScroll<T extends ScrollItem>(o: ChatScrollOptions<T>) {
  const msgs = useMessages()
  const thread = computed(() => msgs.threads.get(o.cid))
  const atBottom = ref(true)
  const newCount = ref(0)
  /** The floating date shows while scrolling, then fades. */
  const scrolling = ref(false)
  let scrollingTimer: ReturnType<typeof setTimeout> | null = null
  const moved = () => o.onMoved?.()
  const v = useVirtualList({ scroller: o.scroller, list: o.list, items: o.items, defaults: ROW_HEIGHTS, pinned: () => atBottom.value, stays: (it) => it.kind !== 'day' })

  function nearBottom() {
    const el = o.scroller.value
    return !el || isAtEnd(el.scrollHeight, el.scrollTop, el.clientHeight, NEAR_BOTTOM_PX)
  }

  function scrollToBottom() {
    atBottom.value = true
    newCount.value = 0
    v.toBottom()
  }

  let programmatic = 0
  async function onScroll() {
    const el = o.scroller.value
    if (!el) return
    v.onScroll()
    atBottom.value = nearBottom()
    if (atBottom.value) newCount.value = 0
    if (!programmatic) {
      scrolling.value = true
      if (scrollingTimer) clearTimeout(scrollingTimer)
      scrollingTimer = setTimeout(() => (scrolling.value = false), FLOATING_DATE_MS)
    }
    if (shouldLoadOlder(el.scrollTop, thread.value)) await loadOlderKeepingPosition()
    moved()
  }
  onBeforeUnmount(() => scrollingTimer && clearTimeout(scrollingTimer))

  /** The anchor row (taken at the last scroll) keeps its place while the page is put in above. */
  async function loadOlderKeepingPosition(limit?: number) {
    const n = await msgs.loadOlder(o.cid, limit)
    if (n > 0) await nextTick()
    return n
  }

  // Stick to the bottom when new things arrive and we were there; otherwise count them.
  let lastCount = 0
  let lastKey: string | null = null
  watch(
    () => o.items.value.length,
    async (n) => {
      const grew = n > lastCount
      lastCount = n
      const last = o.items.value[o.items.value.length - 1]
      const appended = !!last && last.key !== lastKey
      lastKey = last?.key ?? null
      // Older pages grow the list at the top: not new messages.
      if (!grew || !appended || !thread.value?.loaded) return
      const wasBottom = atBottom.value
      const mineNow = !!last && o.isMine(last)
      await nextTick()
      if (wasBottom || mineNow) scrollToBottom()
      else if (last && o.isMessage(last)) newCount.value++
      moved()
    },
  )

  /** Scrolls the chat without showing the floating date. */
  async function quietly<R>(f: () => Promise<R> | R): Promise<R> {
    programmatic++
    try {
      return await f()
    } finally {
      setTimeout(() => programmatic--, 50)
    }
  }

  /**
   * Once the first messages are loaded: what is there now is not "new"; open at the unread
   * separator if there is one, else at the bottom.
   */
  async function openAtStart() {
    lastCount = o.items.value.length
    lastKey = o.items.value[o.items.value.length - 1]?.key ?? null
    await nextTick()
    const sep = o.items.value.find((it) => it.kind === 'unread')
    if (sep) {
      atBottom.value = false
      await quietly(() => v.scrollToKey(sep.key, 'start', UNREAD_GAP_PX))
      atBottom.value = nearBottom()
    } else await quietly(scrollToBottom)
  }

  /** Short history that does not fill the screen: keep loading until it does or it ends. */
  async function fillScreen(maxPages = 5) {
    const el = () => o.scroller.value
    for (let i = 0; i < maxPages && el() && thread.value?.hasMoreOlder && el()!.scrollHeight <= el()!.clientHeight; i++) {
      await loadOlderKeepingPosition()
    }
  }

  /**
   * Brings the row `key` to the middle of the chat, loading older pages (up to `maxPages`)
   * until it is there. False when it could not be found.
   */
  async function reveal(key: string, find: () => boolean, maxPages = 10): Promise<boolean> {
    for (let i = 0; !find() && i < maxPages && thread.value?.hasMoreOlder; i++) {
      while (thread.value?.loading) await new Promise((r) => setTimeout(r, 50)) // a page on its way
      if (!find()) await loadOlderKeepingPosition(200)
    }
    if (!find()) return false
    atBottom.value = false
    await nextTick()
    const ok = await quietly(() => v.scrollToKey(key, 'center'))
    atBottom.value = nearBottom()
    moved()
    return ok
  }

  return {
    atBottom,
    newCount,
    scrolling,
    rows: v.rows,
    topRow: v.topRow,
    padTop: v.padTop,
    padBottom: v.padBottom,
    measure: v.measure,
    observeHead: v.observeHead,
    nearBottom,
    scrollToBottom,
    onScroll,
    loadOlderKeepingPosition,
    openAtStart,
    fillScreen,
    reveal,
  }
}
