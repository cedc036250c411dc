import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import type { Message } from '../api/types'
import { convName, userName } from '../lib/format'
import { notificationFor, wantsAlert } from '../lib/notify'
import { disablePush, enablePush } from '../lib/push'
import { playChime } from '../lib/sound'
import { useConversations } from './conversations'
import { useSession } from './session'

/**
 * Desktop notifications and the sound while the tab is hidden, the polite permission banner,
 * and this device's choices (kept in localStorage, like the theme).
 *
 * Only messages that arrive over the live socket alert (`incoming(…, live)`): the server pushes
 * to users with no live socket, so what the page learns by catching up after a reconnect may
 * have been pushed already; page and worker also tag by conversation, so one replaces the other.
 */
export type Permission = NotificationPermission | 'unsupported'

export const KEYS = {
  desktop: 'hubbub.notify.desktop',
  sound: 'hubbub.notify.sound',
  sent: 'hubbub.notify.sent',
  dismissed: 'hubbub.notify.dismissed',
} as const

function read(key: string): string | null {
  try {
    return localStorage.getItem(key)
  } catch {
    return null
  }
}
function write(key: string, v: string | null) {
  try {
    if (v === null) localStorage.removeItem(key)
    else localStorage.setItem(key, v)
  } catch {
    /* not kept: this page still knows */
  }
}

function notificationApi(): typeof Notification | null {
  return typeof window !== 'undefined' && 'Notification' in window ? window.Notification : null
}

export const useNotifications = defineStore('notifications', () => {
  const permission = ref<Permission>(notificationApi()?.permission ?? 'unsupported')
  /** My choice on this device; the browser's permission is needed besides. */
  const desktop = ref(read(KEYS.desktop) !== '0')
  const sound = ref(read(KEYS.sound) !== '0')
  /** I sent a message once: only then is the permission asked for (never on load). */
  const sent = ref(read(KEYS.sent) === '1')
  const dismissed = ref(read(KEYS.dismissed) === '1')
  /** What is shown now, by tag, so a click or the chat being read can close it. */
  const open = new Map<string, Notification>()
  let opener: (conversationId: string) => void = () => {}
  /** Whether the page is out of sight; replaceable for tests. */
  let hidden = () => typeof document !== 'undefined' && document.visibilityState === 'hidden'

  const bannerVisible = computed(() => permission.value === 'default' && sent.value && !dismissed.value && desktop.value)
  /** Desktop notifications will show (the browser allows them and I did not turn them off). */
  const active = computed(() => permission.value === 'granted' && desktop.value)

  function refreshPermission() {
    permission.value = notificationApi()?.permission ?? 'unsupported'
  }

  /** How a click on a notification opens a chat (App.vue gives the router's way). */
  function setOpener(f: (conversationId: string) => void) {
    opener = f
  }
  function setHiddenCheck(f: () => boolean) {
    hidden = f
  }

  /** I sent a message: from now on the banner may ask. */
  function noteSent() {
    if (sent.value) return
    sent.value = true
    write(KEYS.sent, '1')
  }

  /** "Not now": the banner does not come back on this device (the settings still offer it). */
  function dismiss() {
    dismissed.value = true
    write(KEYS.dismissed, '1')
  }

  /** Asks the browser; must run inside a click (browsers require a gesture). */
  async function ask(): Promise<Permission> {
    const N = notificationApi()
    if (!N) return (permission.value = 'unsupported')
    try {
      const p = await N.requestPermission()
      permission.value = p
    } catch {
      refreshPermission()
    }
    if (permission.value === 'granted') {
      desktop.value = true
      write(KEYS.desktop, null)
      void enablePush()
    } else if (permission.value === 'denied') {
      dismiss()
    }
    return permission.value
  }

  /** The settings' "Desktop notifications" switch. */
  async function setDesktop(v: boolean) {
    desktop.value = v
    write(KEYS.desktop, v ? null : '0')
    if (!v) {
      void disablePush()
      return
    }
    if (permission.value === 'default') await ask()
    else if (permission.value === 'granted') void enablePush()
  }

  function setSound(v: boolean) {
    sound.value = v
    write(KEYS.sound, v ? null : '0')
  }

  /** Signed in (or the page loaded signed in): with the permission, this browser subscribes. */
  function signedIn() {
    refreshPermission()
    if (active.value) void enablePush()
  }

  /**
   * A new message (`message.created` the thread did not have). `live`: it came over the
   * socket as it happened, not from a catch-up.
   */
  function incoming(cid: string, m: Message, live: boolean) {
    if (!live || !hidden()) return
    const convs = useConversations()
    const c = convs.byId.get(cid)
    const me = useSession().user?.id ?? ''
    if (!c || !wantsAlert(c, m, me)) return
    if (sound.value) playChime()
    refreshPermission()
    const N = notificationApi()
    if (!N || !active.value) return
    const sender = userName(convs.userOf(m.sender_id) ?? c.members.find((x) => x.user.id === m.sender_id)?.user)
    const { title, options } = notificationFor(c, m, sender, convName(c, me))
    try {
      const n = new N(title, options)
      open.get(options.tag!)?.close()
      open.set(options.tag!, n)
      n.onclick = () => {
        window.focus()
        opener(cid)
        n.close()
      }
      n.onclose = () => {
        if (open.get(options.tag!) === n) open.delete(options.tag!)
      }
    } catch {
      // Some browsers (Android Chrome) allow notifications from a service worker only.
      void navigator.serviceWorker?.getRegistration?.().then((r) => r?.showNotification(title, options)).catch(() => {})
    }
  }

  /** The tab is seen again: what it notified of is on screen now. */
  function closeAll() {
    for (const n of open.values()) n.close()
    open.clear()
  }

  function signedOut() {
    closeAll()
    return disablePush()
  }

  return {
    permission, desktop, sound, sent, dismissed, bannerVisible, active,
    refreshPermission, setOpener, setHiddenCheck, noteSent, dismiss, ask, setDesktop, setSound, signedIn, incoming, closeAll, signedOut,
  }
})
