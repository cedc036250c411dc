import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { api } from '../api/client'
import type { Contact, User } from '../api/types'
import { useAliases } from '../lib/format'

/** My contacts (with my aliases for them) and the people I blocked. */
export const useContacts = defineStore('contacts', () => {
  const byUser = reactive(new Map<string, Contact>())
  const blocked = reactive(new Map<string, User>())
  const loaded = ref(false)
  const error = ref<string | null>(null)

  const list = computed(() =>
    [...byUser.values()].sort((a, b) => label(a).localeCompare(label(b))),
  )
  function label(c: Contact) {
    return c.alias || c.user.display_name || c.user.username
  }

  async function load() {
    error.value = null
    try {
      const [c, b] = await Promise.all([api.contacts(), api.blocks()])
      byUser.clear()
      for (const x of c.contacts) byUser.set(x.user.id, x)
      blocked.clear()
      for (const u of b.users) blocked.set(u.id, u)
      loaded.value = true
    } catch (e) {
      error.value = (e as Error).message
    }
  }

  function aliasOf(userId: string): string | null {
    return byUser.get(userId)?.alias ?? null
  }
  // Every name in the app (`userName`) shows my alias for the person.
  useAliases(aliasOf)

  /** Adds the person to my contacts with this alias (blank: no alias). */
  async function setAlias(userId: string, alias: string | null) {
    const a = alias?.trim() || null
    const c = await api.setContact(userId, a)
    byUser.set(userId, c)
    return c
  }

  /** Takes the person out of my contacts (and so drops the alias). */
  async function remove(userId: string) {
    await api.deleteContact(userId)
    byUser.delete(userId)
  }

  function isBlocked(userId: string) {
    return blocked.has(userId)
  }
  async function block(u: User) {
    await api.block(u.id)
    blocked.set(u.id, u)
  }
  async function unblock(userId: string) {
    await api.unblock(userId)
    blocked.delete(userId)
  }

  function reset() {
    byUser.clear()
    blocked.clear()
    loaded.value = false
    error.value = null
  }

  return { byUser, blocked, loaded, error, list, load, aliasOf, setAlias, remove, isBlocked, block, unblock, reset, label }
})
