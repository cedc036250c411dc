import { nextTick, onBeforeUnmount, ref, watch, type Ref } from 'vue'

/**
 * The composer's emoji pop-up: Escape and a click outside close it (focus goes back to the
 * text), and a picked emoji goes in at the cursor (replacing a selection), not at the end.
 */
export function useEmojiPopup(open: Ref<boolean>, ta: Ref<HTMLTextAreaElement | null>, text: Ref<string>) {
  const wrap = ref<HTMLElement | null>(null)
  /** Where the cursor was in the text when the pop-up took focus. */
  let sel: { start: number; end: number } | null = null

  function close(refocus: boolean) {
    open.value = false
    if (refocus) ta.value?.focus()
  }
  function onKey(e: KeyboardEvent) {
    if (e.key === 'Escape') {
      e.preventDefault()
      e.stopPropagation()
      close(true)
    }
  }
  function onDown(e: Event) {
    if (!wrap.value?.contains(e.target as Node)) close(false)
  }
  watch(open, (v) => {
    if (v) {
      const el = ta.value
      sel = el ? { start: el.selectionStart ?? text.value.length, end: el.selectionEnd ?? text.value.length } : null
      document.addEventListener('keydown', onKey, true)
      document.addEventListener('pointerdown', onDown, true)
    } else {
      document.removeEventListener('keydown', onKey, true)
      document.removeEventListener('pointerdown', onDown, true)
    }
  })
  onBeforeUnmount(() => {
    document.removeEventListener('keydown', onKey, true)
    document.removeEventListener('pointerdown', onDown, true)
  })

  async function addEmoji(e: string) {
    const v = text.value
    const start = Math.min(sel?.start ?? v.length, v.length)
    const end = Math.min(Math.max(sel?.end ?? start, start), v.length)
    text.value = v.slice(0, start) + e + v.slice(end)
    const at = start + e.length
    sel = { start: at, end: at }
    close(false)
    await nextTick()
    const el = ta.value
    if (el) {
      el.focus()
      el.setSelectionRange(at, at)
    }
  }

  return { wrap, addEmoji }
}
