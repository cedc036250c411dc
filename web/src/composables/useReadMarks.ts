import { onBeforeUnmount, type Ref } from 'vue'
import { useConversations } from '../stores/conversations'
import { useEvents } from '../stores/events'
import { useMessages } from '../stores/messages'

/**
 * Read marks of an open chat: only what is on screen (half of a message's row, `[data-seq]`
 * inside `scroller`) in a focused, visible tab counts as read. Seeing the newest loaded
 * message marks the whole conversation read (up to its `last_seq`).
 *
 * Call during `setup`; call `start()` once the scroller holds the first messages, and
 * `update()` whenever what is on screen may have changed (scrolling, new messages).
 */
export function useReadMarks(cid: string, scroller: Ref<HTMLElement | null>) {
  const convs = useConversations()
  const msgs = useMessages()
  const events = useEvents()
  const visible = new Set<number>()
  let observer: IntersectionObserver | null = null

  function focused() {
    return document.visibilityState === 'visible' && document.hasFocus()
  }

  function update() {
    const conv = convs.byId.get(cid)
    if (!focused() || !conv || conv.left) return
    let max = 0
    for (const s of visible) if (s > max) max = s
    if (max > 0) {
      const last = msgs.ordered(cid).at(-1)
      void events.markRead(cid, last && last.seq === max ? Math.max(max, conv.last_seq) : max)
    }
  }

  function observe() {
    if (!scroller.value || typeof IntersectionObserver === 'undefined') return
    observer?.disconnect()
    observer = new IntersectionObserver(
      (entries) => {
        for (const e of entries) {
          const seq = Number((e.target as HTMLElement).dataset.seq)
          if (!seq) continue
          if (e.isIntersecting) visible.add(seq)
          else visible.delete(seq)
        }
        update()
      },
      { root: scroller.value, threshold: 0.5 },
    )
    for (const el of scroller.value.querySelectorAll<HTMLElement>('[data-seq]')) observer.observe(el)
  }

  // Rows come and go (new messages, older pages): observe the new set each time.
  const mo = typeof MutationObserver !== 'undefined' ? new MutationObserver(() => observe()) : null

  /** Starts watching the rows of the scroller. */
  function start() {
    observe()
    if (scroller.value && mo) mo.observe(scroller.value, { childList: true, subtree: true })
  }

  window.addEventListener('focus', update)
  document.addEventListener('visibilitychange', update)
  onBeforeUnmount(() => {
    observer?.disconnect()
    mo?.disconnect()
    window.removeEventListener('focus', update)
    document.removeEventListener('visibilitychange', update)
  })

  return { start, update }
}
