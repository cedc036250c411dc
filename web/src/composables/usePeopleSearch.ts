import { onBeforeUnmount, ref, watch, type Ref } from 'vue'
import { api } from '../api/client'
import type { User } from '../api/types'
import { useEvents } from '../stores/events'
import { useSession } from '../stores/session'

export const PEOPLE_DEBOUNCE_MS = 250

/**
 * The list's search box also finds people (`GET /api/users?q=`) to start a direct chat with:
 * shown under the matching chats as "People". `open` starts (or finds) the chat.
 */
export function usePeopleSearch(q: Ref<string>, onOpen: (cid: string) => void) {
  const people = ref<User[]>([])
  const error = ref<string | null>(null)
  let timer: ReturnType<typeof setTimeout> | null = null
  let serial = 0

  watch(q, (v) => {
    if (timer) clearTimeout(timer)
    const needle = v.trim()
    if (!needle) {
      serial++
      people.value = []
      error.value = null
      return
    }
    timer = setTimeout(() => void search(needle), PEOPLE_DEBOUNCE_MS)
  })
  onBeforeUnmount(() => timer && clearTimeout(timer))

  async function search(needle: string) {
    const n = ++serial
    try {
      const r = await api.searchUsers(needle, 10)
      if (n !== serial) return
      error.value = null
      people.value = r.users.filter((u) => u.id !== useSession().user?.id)
    } catch (e) {
      if (n === serial) error.value = (e as Error).message
    }
  }

  async function open(u: User) {
    error.value = null
    try {
      const c = await api.direct(u.id)
      useEvents().adopt(c)
      onOpen(c.id)
    } catch (e) {
      error.value = (e as Error).message
    }
  }

  return { people, error, open }
}
