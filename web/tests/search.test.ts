import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { mount } from '@vue/test-utils'
import { createMemoryHistory, createRouter } from 'vue-router'
import { api } from '../src/api/client'
import type { SearchResults as Page } from '../src/api/types'
import { snippetParts, unescapeHtml } from '../src/lib/snippet'
import { DEBOUNCE_MS, dayBound, useSearch } from '../src/stores/search'
import { useConversations } from '../src/stores/conversations'
import { useSession } from '../src/stores/session'
import SearchResults from '../src/components/SearchResults.vue'
import { conv, deferred, member, msg, user } from './helpers'

describe('the snippet renderer', () => {
  it('splits on <mark> and undoes only the server\'s escaping', () => {
    expect(snippetParts('<mark>Hello</mark> &lt;b&gt;world&lt;/b&gt; &amp; <mark>Café</mark>')).toEqual([
      { text: 'Hello', mark: true },
      { text: ' <b>world</b> & ', mark: false },
      { text: 'Café', mark: true },
    ])
    expect(snippetParts('')).toEqual([])
    expect(snippetParts('plain &quot;q&quot; &#39;s&#39;')).toEqual([{ text: 'plain "q" \'s\'', mark: false }])
    expect(unescapeHtml('&amp;lt;')).toBe('&lt;')
    expect(snippetParts('<mark>open to the end')).toEqual([{ text: 'open to the end', mark: true }])
    expect(snippetParts('a</mark>b')).toEqual([{ text: 'ab', mark: false }])
  })

  it('never lets text become markup', async () => {
    setActivePinia(createPinia())
    useSession().user = user('me') as never
    const convs = useConversations()
    convs.upsert(conv('c1', [member('me'), member('bob')]))
    const search = useSearch()
    search.results = [
      { conversation_id: 'c1', snippet: '&lt;img src=x onerror=alert(1)&gt; <mark>hi</mark> <script>', message: msg('c1', 1, 'bob', 'x') },
    ]
    const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/c/:id', name: 'chat', component: { template: '<div/>' } }, { path: '/', component: { template: '<div/>' } }] })
    const w = mount({ components: { SearchResults }, template: '<ul><SearchResults :active-id="null" /></ul>' }, { global: { plugins: [router] } })
    const snip = w.find('.snip')
    expect(snip.findAll('mark').map((m) => m.text())).toEqual(['hi'])
    expect(snip.find('img').exists()).toBe(false)
    expect(snip.find('script').exists()).toBe(false)
    expect(snip.text()).toContain('<img src=x onerror=alert(1)>')
    expect(snip.text()).toContain('<script>')
    await w.find('[data-testid="search-result"]').trigger('click')
    await router.isReady()
    await new Promise((r) => setTimeout(r, 0))
    expect(router.currentRoute.value.fullPath).toBe(`/c/c1?m=${search.results[0].message.id}`)
  })
})

describe('the search store', () => {
  const page = (texts: string[], next: string | null = null): Page => ({
    results: texts.map((t, i) => ({ conversation_id: 'c1', snippet: t, message: msg('c1', i + 1, 'bob', t) })),
    next_cursor: next,
  })
  beforeEach(() => {
    setActivePinia(createPinia())
    vi.useFakeTimers()
  })
  afterEach(() => {
    vi.useRealTimers()
    vi.restoreAllMocks()
  })

  it('waits for typing to pause, then asks once', async () => {
    const call = vi.spyOn(api, 'search').mockResolvedValue(page(['hello']))
    const s = useSearch()
    s.setQuery('h')
    s.setQuery('he')
    s.setQuery('hel')
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS - 1)
    expect(call).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    expect(call).toHaveBeenCalledTimes(1)
    expect(call.mock.calls[0][0]).toMatchObject({ q: 'hel', limit: 20 })
    expect(s.results.map((r) => r.snippet)).toEqual(['hello'])
    expect(s.searched).toBe(true)
  })

  it('keeps only the answer to the latest query', async () => {
    const slow = deferred<Page>()
    const call = vi.spyOn(api, 'search').mockReturnValueOnce(slow.promise).mockResolvedValueOnce(page(['newer']))
    const s = useSearch()
    s.setQuery('old')
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS)
    s.setQuery('new')
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS)
    slow.resolve(page(['older']))
    await vi.advanceTimersByTimeAsync(0)
    expect(call).toHaveBeenCalledTimes(2)
    expect(s.results.map((r) => r.snippet)).toEqual(['newer'])
  })

  it('sends the filters, pages by cursor, and clears for an empty box', async () => {
    const call = vi.spyOn(api, 'search').mockResolvedValueOnce(page(['a', 'b'], 'CUR')).mockResolvedValueOnce(page(['c']))
    const s = useSearch()
    s.query = 'x'
    s.setFilters({ conversationId: 'c1', senderId: 'bob', hasPhoto: true, from: '2026-01-02', to: '2026-01-02' })
    await vi.advanceTimersByTimeAsync(0)
    const sent = call.mock.calls[0][0]
    expect(sent).toMatchObject({ q: 'x', conversation_id: 'c1', sender_id: 'bob', has: 'photo', cursor: undefined })
    expect(Date.parse(sent.before!) - Date.parse(sent.after!)).toBe(24 * 3600 * 1000)
    expect(s.nextCursor).toBe('CUR')
    await s.more()
    expect(call.mock.calls[1][0].cursor).toBe('CUR')
    expect(s.results.map((r) => r.snippet)).toEqual(['a', 'b', 'c'])
    expect(s.nextCursor).toBeNull()

    s.setQuery('   ')
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS)
    expect(call).toHaveBeenCalledTimes(2)
    expect(s.results).toEqual([])
  })

  it('shows the server\'s refusal', async () => {
    vi.spyOn(api, 'search').mockRejectedValue(new Error('q: must not be empty'))
    const s = useSearch()
    s.setQuery('x')
    await vi.advanceTimersByTimeAsync(DEBOUNCE_MS)
    expect(s.error).toBe('q: must not be empty')
  })

  it('turns a date input\'s day into local day bounds', () => {
    expect(dayBound('')).toBeUndefined()
    expect(dayBound('nope')).toBeUndefined()
    expect(new Date(dayBound('2026-03-04')!).getHours()).toBe(0)
    expect(new Date(dayBound('2026-03-04', true)!).getDate()).toBe(5)
  })
})
