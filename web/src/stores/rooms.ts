import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, ApiError } from '../api/client'
import type { Conversation } from '../api/types'
import { useEvents } from './events'

/** How long the directory waits after the last keystroke before it asks the server. */
export const SEARCH_DEBOUNCE_MS = 250

/** What a failed join means to a person. */
export function joinErrorText(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.status === 403) return 'Wrong password. Try again.'
    if (e.status === 429) {
      const wait = e.retryAfter ? ` (about ${e.retryAfter} s)` : ''
      return `Too many tries. Wait a moment${wait} and try again.`
    }
    return e.message
  }
  return (e as Error).message
}

/** The directory of public rooms: a debounced search, and joining. */
export const useRooms = defineStore('rooms', () => {
  const results = ref<Conversation[]>([])
  const query = ref('')
  const loading = ref(false)
  const error = ref<string | null>(null)
  let timer: ReturnType<typeof setTimeout> | null = null
  let ticket = 0

  /** Runs the search now; an older answer that comes back late is dropped. */
  async function searchNow(q = query.value) {
    const mine = ++ticket
    loading.value = true
    error.value = null
    try {
      const r = await api.rooms(q.trim())
      if (mine === ticket) results.value = r.rooms
    } catch (e) {
      if (mine === ticket) error.value = (e as Error).message
    } finally {
      if (mine === ticket) loading.value = false
    }
  }

  /** Sets the query and searches once typing pauses. */
  function search(q: string) {
    query.value = q
    if (timer) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      void searchNow(q)
    }, SEARCH_DEBOUNCE_MS)
  }

  /** Joins a room (with its password, if it has one); the room enters my list. */
  async function join(id: string, password?: string) {
    const c = await api.join(id, password)
    useEvents().adopt(c)
    const i = results.value.findIndex((r) => r.id === id)
    if (i >= 0) results.value[i] = { ...results.value[i], member_count: c.member_count }
    return c
  }

  function reset() {
    if (timer) clearTimeout(timer)
    timer = null
    ticket++
    results.value = []
    query.value = ''
    loading.value = false
    error.value = null
  }

  return { results, query, loading, error, search, searchNow, join, reset }
})
