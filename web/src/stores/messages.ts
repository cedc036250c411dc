import { defineStore } from 'pinia'
import { reactive } from 'vue'
import { ApiError, api } from '../api/client'
import type { Message, ReplyRef } from '../api/types'
import { uuid } from '../lib/uuid'
import { isRetryable } from '../lib/attachments'
import { useSession } from './session'
import { useConversations } from './conversations'

export const PAGE = 50

/** A message I sent that the server has not confirmed yet. */
export interface Pending {
  client_id: string
  conversation_id: string
  text: string
  reply_to: ReplyRef | null
  photo: Blob | null
  /** An attached file (a message has a photo or a file, not both), with its name and size. */
  file: Blob | null
  file_name: string | null
  file_size: number | null
  preview_url: string | null
  width: number | null
  height: number | null
  /** sending: a request is in flight; queued: waiting for the network; failed: the server refused. */
  state: 'sending' | 'queued' | 'failed'
  error: string | null
  /** False when the server refused the message itself (too large, wrong type): Retry cannot help. */
  retryable: boolean
  created_at: string
  /** The server's message when its event came before the POST answer (then it is hidden). */
  matched_id: string | null
}

export interface Thread {
  bySeq: Map<number, Message>
  pending: Pending[]
  loaded: boolean
  loading: boolean
  hasMoreOlder: boolean
  error: string | null
}

function newThread(): Thread {
  return { bySeq: new Map(), pending: [], loaded: false, loading: false, hasMoreOlder: true, error: null }
}

export const useMessages = defineStore('messages', () => {
  const threads = reactive(new Map<string, Thread>())
  const flushing = new Set<string>()

  // Unsent text messages survive a reload (photos and files do not: a Blob cannot be stored simply).
  const queueKey = () => `hubbub.outbox.${useSession().user?.id ?? ''}`
  function persist() {
    if (typeof localStorage === 'undefined' || !useSession().user) return
    const out = []
    for (const t of threads.values())
      for (const p of t.pending) if (!p.photo && !p.file) out.push({ client_id: p.client_id, conversation_id: p.conversation_id, text: p.text, reply_to: p.reply_to, created_at: p.created_at })
    try {
      if (out.length) localStorage.setItem(queueKey(), JSON.stringify(out))
      else localStorage.removeItem(queueKey())
    } catch {
      /* storage full or disabled: the queue lives in memory only */
    }
  }
  /** Puts back what was waiting to be sent when the tab closed; `flushAll` sends it. */
  function restoreOutbox() {
    if (typeof localStorage === 'undefined') return
    let saved: Array<Pick<Pending, 'client_id' | 'conversation_id' | 'text' | 'reply_to' | 'created_at'>> = []
    try {
      saved = JSON.parse(localStorage.getItem(queueKey()) ?? '[]')
    } catch {
      saved = []
    }
    for (const x of saved) {
      const t = thread(x.conversation_id)
      if (t.pending.some((p) => p.client_id === x.client_id)) continue
      t.pending.push({ ...x, photo: null, file: null, file_name: null, file_size: null, preview_url: null, width: null, height: null, state: 'queued', error: null, retryable: true, matched_id: null })
    }
  }

  function thread(cid: string): Thread {
    let t = threads.get(cid)
    if (!t) {
      threads.set(cid, newThread())
      t = threads.get(cid)!
    }
    return t
  }

  function find(cid: string, seq: number): Message | undefined {
    return threads.get(cid)?.bySeq.get(seq)
  }
  function findById(cid: string, id: string): Message | undefined {
    const t = threads.get(cid)
    if (!t) return undefined
    for (const m of t.bySeq.values()) if (m.id === id) return m
    return undefined
  }

  /** Messages of a conversation, ascending by seq. */
  function ordered(cid: string): Message[] {
    const t = threads.get(cid)
    if (!t) return []
    return [...t.bySeq.values()].sort((a, b) => a.seq - b.seq)
  }

  /** Pending messages still shown as such (not yet matched to a server message). */
  function visiblePending(cid: string): Pending[] {
    return threads.get(cid)?.pending.filter((p) => !p.matched_id || !findById(cid, p.matched_id)) ?? []
  }

  function merge(cid: string, list: Message[]) {
    const t = thread(cid)
    for (const m of list) t.bySeq.set(m.seq, m)
  }

  /** A message from an event: insert or replace by its seq; matches my pending sends. */
  function applyMessage(cid: string, m: Message) {
    const t = thread(cid)
    t.bySeq.set(m.seq, m)
    if (m.sender_id === useSession().user?.id) {
      const withId = (m as Message & { client_id?: string }).client_id
      const p = withId
        ? t.pending.find((x) => x.client_id === withId)
        : t.pending.find(
            (x) =>
              !x.matched_id &&
              x.state !== 'failed' &&
              x.text === m.text &&
              !!x.photo === !!m.photo &&
              !!x.file === !!m.file &&
              (x.reply_to?.id ?? null) === (m.reply_to?.id ?? null),
          )
      if (p) p.matched_id = m.id
    }
  }

  async function loadNewest(cid: string) {
    const t = thread(cid)
    if (t.loading) return
    t.loading = true
    t.error = null
    try {
      const page = await api.messages(cid, { limit: PAGE })
      merge(cid, page.messages)
      t.hasMoreOlder = page.has_more
      t.loaded = true
    } catch (e) {
      t.error = (e as Error).message
    } finally {
      t.loading = false
    }
  }

  async function loadOlder(cid: string, limit = PAGE): Promise<number> {
    const t = thread(cid)
    if (t.loading || !t.hasMoreOlder) return 0
    const oldest = Math.min(...[...t.bySeq.keys()])
    if (!Number.isFinite(oldest)) {
      await loadNewest(cid)
      return t.bySeq.size
    }
    t.loading = true
    t.error = null
    try {
      const page = await api.messages(cid, { before: oldest, limit })
      merge(cid, page.messages)
      t.hasMoreOlder = page.has_more
      return page.messages.length
    } catch (e) {
      t.error = (e as Error).message
      return 0
    } finally {
      t.loading = false
    }
  }

  /** Loads older pages until the message after `seq` is loaded (to jump to the first unread). */
  async function loadUntil(cid: string, seq: number) {
    const t = thread(cid)
    for (let i = 0; i < 20; i++) {
      const oldest = Math.min(...[...t.bySeq.keys()])
      if (!t.hasMoreOlder || oldest <= seq + 1) return
      const n = await loadOlder(cid, 200)
      if (n === 0) return
    }
  }

  async function reset(cid: string, reloadIfLoaded: boolean) {
    const t = threads.get(cid)
    const wasLoaded = t?.loaded
    const pending = t?.pending ?? []
    threads.set(cid, { ...newThread(), pending })
    if (reloadIfLoaded && wasLoaded) await loadNewest(cid)
  }

  /**
   * Others' non-deleted messages after `readSeq`, or null when the loaded pages do not reach
   * back that far.
   */
  function countUnread(cid: string, readSeq: number, me: string): number | null {
    const t = threads.get(cid)
    if (!t || !t.loaded) return null
    const seqs = [...t.bySeq.keys()]
    const oldest = seqs.length ? Math.min(...seqs) : Infinity
    if (t.hasMoreOlder && oldest > readSeq + 1) return null
    let n = 0
    for (const m of t.bySeq.values()) if (m.seq > readSeq && m.sender_id !== me && !m.deleted) n++
    return n
  }

  /** Optimistic send: shown at once with a clock, sent in order, retried with the same client_id. */
  function send(
    cid: string,
    text: string,
    opts: { reply_to?: ReplyRef | null; photo?: Blob | null; width?: number; height?: number; file?: File | null } = {},
  ) {
    const t = thread(cid)
    const file = opts.file ?? null
    // A message has a photo or a file, never both (the server says 422).
    const photo = file ? null : (opts.photo ?? null)
    const p: Pending = {
      client_id: uuid(),
      conversation_id: cid,
      text,
      reply_to: opts.reply_to ?? null,
      photo,
      file,
      file_name: file ? file.name || 'file' : null,
      file_size: file ? file.size : null,
      preview_url: photo && typeof URL !== 'undefined' && URL.createObjectURL ? URL.createObjectURL(photo) : null,
      width: opts.width ?? null,
      height: opts.height ?? null,
      state: 'queued',
      error: null,
      retryable: true,
      created_at: new Date().toISOString(),
      matched_id: null,
    }
    t.pending.push(p)
    persist()
    void flush(cid)
    return t.pending[t.pending.length - 1]
  }

  /** Sends the queued messages of a conversation one after another (keeps their order). */
  async function flush(cid: string) {
    if (flushing.has(cid)) return
    flushing.add(cid)
    try {
      const t = thread(cid)
      for (;;) {
        const p = t.pending.find((x) => x.state === 'queued')
        if (!p) return
        p.state = 'sending'
        p.error = null
        try {
          const m = await api.send(cid, {
            text: p.text,
            reply_to: p.reply_to?.id,
            client_id: p.client_id,
            photo: p.photo,
            file: p.file,
            file_name: p.file_name,
          })
          t.bySeq.set(m.seq, m)
          t.pending.splice(t.pending.indexOf(p), 1)
          persist()
          if (p.preview_url) URL.revokeObjectURL?.(p.preview_url)
          useConversations().noteOwnMessage(m)
        } catch (e) {
          const err = e as ApiError
          if (err.isNetwork || err.status === 502 || err.status === 504) {
            // Offline: keep it queued; it goes out when the connection returns.
            p.state = 'queued'
            p.error = null
            return
          }
          p.state = 'failed'
          p.error = err.message
          p.retryable = isRetryable(err.status)
        }
      }
    } finally {
      flushing.delete(cid)
    }
  }

  /** Sends every queued message (called when the connection comes back). */
  async function flushAll() {
    await Promise.all([...threads.keys()].map((cid) => flush(cid)))
  }

  /** Retries a failed send with the same client_id: the server stores it once. */
  function retry(cid: string, clientId: string) {
    const p = threads.get(cid)?.pending.find((x) => x.client_id === clientId)
    if (!p || p.state === 'sending' || !p.retryable) return
    p.state = 'queued'
    void flush(cid)
  }

  function discard(cid: string, clientId: string) {
    const t = threads.get(cid)
    if (!t) return
    const i = t.pending.findIndex((x) => x.client_id === clientId && x.state === 'failed')
    if (i >= 0) t.pending.splice(i, 1)
    persist()
  }

  async function edit(cid: string, msgId: string, text: string) {
    const m = await api.edit(cid, msgId, text)
    const cur = find(cid, m.seq)
    if (!cur || !cur.edited_at || (m.edited_at && m.edited_at >= cur.edited_at)) thread(cid).bySeq.set(m.seq, m)
  }

  async function remove(cid: string, msgId: string) {
    await api.remove(cid, msgId)
    const m = findById(cid, msgId)
    if (m) thread(cid).bySeq.set(m.seq, { ...m, deleted: true, text: '', photo: null, file: null, reactions: [] })
  }

  async function react(cid: string, msgId: string, emoji: string | null) {
    if (emoji) await api.react(cid, msgId, emoji)
    else await api.unreact(cid, msgId)
  }

  function queuedCount(): number {
    let n = 0
    for (const t of threads.values()) n += t.pending.filter((p) => p.state !== 'failed').length
    return n
  }

  function clear() {
    threads.clear()
  }

  return {
    threads, thread, find, findById, ordered, visiblePending, merge, applyMessage, loadNewest, loadOlder, loadUntil,
    reset, countUnread, send, restoreOutbox, flush, flushAll, retry, discard, edit, remove, react, queuedCount, clear,
  }
})
