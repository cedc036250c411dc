import { ref, watch, type Ref } from 'vue'

/** Room the reaction picker needs above its bubble (the quick row, with its shadow). */
export const PICKER_ROOM = 64

/**
 * Whether a pop-up anchored above `anchor` has to open below it instead: when the space
 * between the anchor's top and the top of its scrolling pane (under the chat header) is
 * smaller than `room`.
 */
export function placeBelow(anchor: DOMRect, pane: DOMRect | null, room = PICKER_ROOM): boolean {
  const top = pane ? Math.max(pane.top, 0) : 0
  return anchor.top - top < room
}

/** Measures each time `open` turns true; `below` drives the pop-up's class. */
export function usePickerFlip(open: Ref<boolean>, anchor: Ref<HTMLElement | null>) {
  const below = ref(false)
  watch(open, (v) => {
    if (!v) return
    const el = anchor.value
    if (!el) return
    const pane = el.closest<HTMLElement>('[data-testid="messages"]')
    below.value = placeBelow(el.getBoundingClientRect(), pane?.getBoundingClientRect() ?? null)
  })
  return { below }
}
