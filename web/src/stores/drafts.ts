import { defineStore } from 'pinia'
import { reactive } from 'vue'
import { useSession } from './session'

/** Where one user's drafts live: per user, so two accounts on one browser never mix. */
export const draftsKey = (userId: string) => `hubbub.drafts.${userId}`

function read(userId: string): Record<string, string> {
  try {
    const v = JSON.parse(localStorage.getItem(draftsKey(userId)) ?? '{}')
    return v && typeof v === 'object' ? (v as Record<string, string>) : {}
  } catch {
    return {}
  }
}

/** Unsent text per chat, kept across reloads (localStorage) and shown as "Draft:" in the list. */
export const useDrafts = defineStore('drafts', () => {
  const byId = reactive(new Map<string, string>())
  let owner: string | null = null

  function load(userId: string | null) {
    owner = userId
    byId.clear()
    if (userId) for (const [k, v] of Object.entries(read(userId))) if (typeof v === 'string' && v) byId.set(k, v)
  }
  function ensure() {
    const id = useSession().user?.id ?? null
    if (id !== owner) load(id)
  }
  function save() {
    if (!owner) return
    try {
      localStorage.setItem(draftsKey(owner), JSON.stringify(Object.fromEntries(byId)))
    } catch {
      /* storage full or denied: the draft lives for this page only */
    }
  }

  function get(cid: string): string {
    ensure()
    return byId.get(cid) ?? ''
  }
  function set(cid: string, text: string) {
    ensure()
    if (text.trim()) byId.set(cid, text)
    else byId.delete(cid)
    save()
  }
  function clear(cid: string) {
    set(cid, '')
  }

  return { byId, get, set, clear }
})
