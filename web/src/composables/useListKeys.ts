/**
 * ↑/↓ (and Home/End) move focus between the buttons of a list, e.g. the conversation list;
 * Enter and Space then open the focused one as any button does.
 */
export function listKeydown(e: KeyboardEvent, selector = '[data-list-item]') {
  if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return
  const root = e.currentTarget as HTMLElement | null
  if (!root) return
  const items = [...root.querySelectorAll<HTMLElement>(selector)]
  if (!items.length) return
  const at = items.indexOf(document.activeElement as HTMLElement)
  let next = at
  if (e.key === 'ArrowDown') next = at < 0 ? 0 : Math.min(items.length - 1, at + 1)
  else if (e.key === 'ArrowUp') next = at < 0 ? items.length - 1 : Math.max(0, at - 1)
  else if (e.key === 'Home') next = 0
  else next = items.length - 1
  e.preventDefault()
  items[next].focus()
}
