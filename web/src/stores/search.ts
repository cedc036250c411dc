// Message search (`GET /api/search`) for the list's search box: the query and its filters,
// the results newest first, and older pages by cursor. Typing is debounced (`DEBOUNCE_MS`);
// only the answer to the latest request is kept, so a slow answer to an older query never
// replaces a newer one.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '../api/client'
import type { SearchResult } from '../api/types'

export const DEBOUNCE_MS = 250
/** The server's own bound on a query; longer input is not sent. */
export const MAX_QUERY = 200

export interface SearchFilters {
  /** Only this conversation. */
  conversationId: string | null
  /** Only messages from this user. */
  senderId: string | null
  hasPhoto: boolean
  /** `YYYY-MM-DD` (as a date input gives it): from the start of that day, local time. */
  from: string
  /** `YYYY-MM-DD`: up to the end of that day, local time. */
  to: string
}

export const noFilters = (): SearchFilters => ({ conversationId: null, senderId: null, hasPhoto: false, from: '', to: '' })

/** A date input's day as the RFC 3339 instant it starts (local midnight), or the next day's start for `end`. */
export function dayBound(day: string, end = false): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day)
  if (!m) return undefined
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]) + (end ? 1 : 0))
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString()
}

export const useSearch = defineStore('search', () => {
  const query = ref('')
  const filters = ref<SearchFilters>(noFilters())
  const results = ref<SearchResult[]>([])
  const nextCursor = ref<string | null>(null)
  const loading = ref(false)
  const error = ref<string | null>(null)
  /** Whether `results` answer the current query (false while typing, before the first answer). */
  const searched = ref(false)
  let timer: ReturnType<typeof setTimeout> | null = null
  let serial = 0

  function params(cursor?: string) {
    const f = filters.value
    return {
      q: query.value.trim(),
      conversation_id: f.conversationId ?? undefined,
      sender_id: f.senderId ?? undefined,
      has: f.hasPhoto ? ('photo' as const) : undefined,
      after: dayBound(f.from),
      before: dayBound(f.to, true),
      limit: 20,
      cursor,
    }
  }

  async function run(cursor?: string) {
    const n = ++serial
    const q = query.value.trim()
    if (!q || q.length > MAX_QUERY) {
      loading.value = false
      results.value = []
      nextCursor.value = null
      searched.value = false
      error.value = null
      return
    }
    loading.value = true
    error.value = null
    try {
      const page = await api.search(params(cursor))
      if (n !== serial) return
      results.value = cursor ? [...results.value, ...page.results] : page.results
      nextCursor.value = page.next_cursor
      searched.value = true
    } catch (e) {
      if (n === serial) error.value = (e as Error).message
    } finally {
      if (n === serial) loading.value = false
    }
  }

  /** Runs the search once typing pauses. */
  function schedule() {
    if (timer) clearTimeout(timer)
    searched.value = false
    timer = setTimeout(() => {
      timer = null
      void run()
    }, DEBOUNCE_MS)
  }

  function setQuery(q: string) {
    if (q === query.value) return
    query.value = q
    schedule()
  }

  function setFilters(change: Partial<SearchFilters>) {
    filters.value = { ...filters.value, ...change }
    // A filter is a deliberate choice: no need to wait.
    if (timer) clearTimeout(timer)
    timer = null
    void run()
  }

  /** The next, older page. */
  function more() {
    if (nextCursor.value && !loading.value) return run(nextCursor.value)
  }

  function reset() {
    if (timer) clearTimeout(timer)
    timer = null
    serial++
    query.value = ''
    filters.value = noFilters()
    results.value = []
    nextCursor.value = null
    loading.value = false
    searched.value = false
    error.value = null
  }

  return { query, filters, results, nextCursor, loading, error, searched, setQuery, setFilters, more, reset, run }
})
