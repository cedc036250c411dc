import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api, ApiError } from '../api/client'
import type { AuditEntry } from '../api/types'
import { useConversations } from './conversations'
import { useSession } from './session'
import { userName } from '../lib/format'

/** The actions the server records (`AuditEntry.action`). */
export const AUDIT_ACTIONS = [
  'login', 'login.failed', 'logout', 'password.changed', 'member.role_changed', 'member.removed',
  'message.deleted_by_other', 'conversation.deleted', 'admin.granted', 'admin.revoked',
] as const

export const AUDIT_PAGE = 50

/** The audit log page: filtered pages, newest first, and "load more" (`before` = the last id). */
export const useAudit = defineStore('audit', () => {
  const entries = ref<AuditEntry[]>([])
  const loading = ref(false)
  const hasMore = ref(false)
  const forbidden = ref(false)
  const error = ref<string | null>(null)
  let filters: { action?: string; actor?: string } = {}
  let ticket = 0

  async function fetchPage(before?: string) {
    const mine = ++ticket
    loading.value = true
    error.value = null
    try {
      const r = await api.audit({ ...filters, before, limit: AUDIT_PAGE })
      if (mine !== ticket) return
      entries.value = before ? [...entries.value, ...r.entries] : r.entries
      hasMore.value = r.entries.length === AUDIT_PAGE
      forbidden.value = false
    } catch (e) {
      if (mine !== ticket) return
      if (e instanceof ApiError && e.status === 403) forbidden.value = true
      else error.value = (e as Error).message
    } finally {
      if (mine === ticket) loading.value = false
    }
  }

  /** Starts over with these filters (empty strings mean "any"). */
  function load(f: { action?: string; actor?: string } = {}) {
    filters = { action: f.action || undefined, actor: f.actor || undefined }
    entries.value = []
    hasMore.value = false
    return fetchPage()
  }

  /** The next older page, after the last entry shown. */
  function more() {
    const last = entries.value[entries.value.length - 1]
    if (!last || loading.value) return Promise.resolve()
    return fetchPage(last.id)
  }

  /** A name for a user id when some conversation of mine lists them, else the id. */
  function nameOf(id: string): string {
    if (id === useSession().user?.id) return 'You'
    for (const c of useConversations().byId.values()) {
      const m = c.members.find((x) => x.user.id === id)
      if (m) return `${userName(m.user)} (@${m.user.username})`
    }
    return id
  }

  return { entries, loading, hasMore, forbidden, error, load, more, nameOf }
})
