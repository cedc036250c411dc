import { computed, nextTick, ref, watch, type Ref } from 'vue'
import { useMessages } from '../stores/messages'

/** What the scroll logic needs to know of a row of the chat. */
export interface ScrollItem {
  key: string
}

export interface ChatScrollOptions<T extends ScrollItem> {
  cid: string
  scroller: Ref<HTMLElement | null>
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

/**
 * Scrolling of an open chat: stick to the bottom when new messages arrive and we were there
 * (or when I sent one), otherwise count them for the "new messages" pill; load older pages
 * near the top keeping the position; open at the first unread (`[data-unread-sep]`) or at
 * the bottom; keep loading a short history until it fills the screen.
 */
export function useChatScroll<T extends ScrollItem>(o: ChatScrollOptions<T>) {
  const msgs = useMessages()
  const thread = computed(() => msgs.threads.get(o.cid))
  const atBottom = ref(true)
  const newCount = ref(0)
  const moved = () => o.onMoved?.()

  function nearBottom() {
    const el = o.scroller.value
    return !el || el.scrollHeight - el.scrollTop - el.clientHeight < NEAR_BOTTOM_PX
  }

  function scrollToBottom(smooth = false) {
    const el = o.scroller.value
    if (!el) return
    el.scrollTo({ top: el.scrollHeight, behavior: smooth ? 'smooth' : 'auto' })
    newCount.value = 0
  }

  async function onScroll() {
    const el = o.scroller.value
    if (!el) return
    atBottom.value = nearBottom()
    if (atBottom.value) newCount.value = 0
    if (el.scrollTop < LOAD_OLDER_PX && thread.value?.hasMoreOlder && !thread.value.loading && thread.value.loaded) {
      await loadOlderKeepingPosition()
    }
    moved()
  }

  async function loadOlderKeepingPosition() {
    const el = o.scroller.value
    if (!el) return
    const before = el.scrollHeight - el.scrollTop
    const n = await msgs.loadOlder(o.cid)
    if (n > 0) {
      await nextTick()
      el.scrollTop = el.scrollHeight - before
    }
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

  /**
   * Once the first messages are loaded: what is there now is not "new"; open at the unread
   * separator if there is one, else at the bottom.
   */
  async function openAtStart() {
    lastCount = o.items.value.length
    lastKey = o.items.value[o.items.value.length - 1]?.key ?? null
    await nextTick()
    const el = o.scroller.value
    const sep = el?.querySelector<HTMLElement>('[data-unread-sep]')
    if (sep && el) el.scrollTop = sep.offsetTop - 80 // the separator a little below the top
    else scrollToBottom()
    atBottom.value = nearBottom()
  }

  /** Short history that does not fill the screen: keep loading until it does or it ends. */
  async function fillScreen(maxPages = 5) {
    const el = () => o.scroller.value
    for (let i = 0; i < maxPages && el() && thread.value?.hasMoreOlder && el()!.scrollHeight <= el()!.clientHeight; i++) {
      await loadOlderKeepingPosition()
    }
  }

  return { atBottom, newCount, nearBottom, scrollToBottom, onScroll, loadOlderKeepingPosition, openAtStart, fillScreen }
}
