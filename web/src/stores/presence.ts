import { defineStore } from 'pinia'
import { reactive, ref } from 'vue'
import type { User } from '../api/types'

export const TYPING_TTL_MS = 5000

export const usePresence = defineStore('presence', () => {
  const users = reactive(new Map<string, { online: boolean; last_seen_at: string | null }>())
  /** conversation id → user id → time (ms) when the indicator expires */
  const typing = reactive(new Map<string, Map<string, number>>())
  const now = ref(Date.now())
  let ticker: ReturnType<typeof setInterval> | null = null

  function seeUser(u: Pick<User, 'id' | 'online' | 'last_seen_at'>) {
    users.set(u.id, { online: u.online, last_seen_at: u.last_seen_at })
  }
  function setPresence(userId: string, online: boolean, lastSeen: string | null) {
    const cur = users.get(userId)
    users.set(userId, { online, last_seen_at: lastSeen ?? cur?.last_seen_at ?? null })
  }
  function isOnline(userId: string): boolean {
    return users.get(userId)?.online ?? false
  }
  function lastSeen(userId: string): string | null {
    return users.get(userId)?.last_seen_at ?? null
  }

  function startTicker() {
    if (ticker || typeof setInterval === 'undefined') return
    ticker = setInterval(() => {
      now.value = Date.now()
      for (const [cid, m] of typing) {
        for (const [uid, exp] of m) if (exp <= now.value) m.delete(uid)
        if (m.size === 0) typing.delete(cid)
      }
      if (typing.size === 0 && ticker) {
        clearInterval(ticker)
        ticker = null
      }
    }, 1000)
  }

  function setTyping(conversationId: string, userId: string, at = Date.now()) {
    let m = typing.get(conversationId)
    if (!m) {
      m = new Map()
      typing.set(conversationId, m)
    }
    m.set(userId, at + TYPING_TTL_MS)
    now.value = at
    startTicker()
  }
  function stopTyping(conversationId: string, userId: string) {
    typing.get(conversationId)?.delete(userId)
  }
  function typers(conversationId: string): string[] {
    const m = typing.get(conversationId)
    if (!m) return []
    const t = now.value
    return [...m.entries()].filter(([, exp]) => exp > t).map(([uid]) => uid)
  }

  function reset() {
    users.clear()
    typing.clear()
  }

  return { users, typing, now, seeUser, setPresence, isOnline, lastSeen, setTyping, stopTyping, typers, reset }
})
