/**
 * Whether Enter sends in the composer. On a phone or tablet (a coarse primary pointer: a
 * finger) Enter is a new line and the send button sends, as in WhatsApp, since the on-screen
 * keyboard has no Shift+Enter to speak of; with a keyboard and a mouse, Enter sends and
 * Shift+Enter is a new line. A narrow desktop window keeps the desktop keys (it has a keyboard).
 */
export function enterSends(): boolean {
  if (typeof matchMedia !== 'function') return true
  return !matchMedia('(pointer: coarse)').matches
}
