import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import { api, ApiError } from '../api/client'
import type { EventOf, Role, Space, SpaceChannel, SpaceMember } from '../api/types'
import { useSession } from './session'
import { isSpaceAdmin } from '../lib/policy'

/** Where the last chosen space is kept between visits, per user. */
const CURRENT_KEY = 'hubbub.space'

export { isSpaceAdmin }

/**
 * My spaces and which one the list shows (`current`: null is "Chats", everything outside a
 * space). Space events carry no seq (they are not part of a conversation's history), so a
 * reconnect reloads the list (`load`, from `events.resync`) instead of catching up.
 */
export const useSpaces = defineStore('spaces', () => {
  const byId = reactive(new Map<string, Space>())
  const loaded = ref(false)
  const error = ref<string | null>(null)
  const current = ref<string | null>(null)
  /** Members of the spaces whose member list was opened, kept live by events. */
  const members = reactive(new Map<string, SpaceMember[]>())

  const list = computed(() => [...byId.values()].sort((a, b) => Date.parse(a.created_at) - Date.parse(b.created_at)))
  const currentSpace = computed(() => (current.value ? byId.get(current.value) ?? null : null))

  const meId = () => useSession().user?.id ?? ''

  /** Whether I administer this space (and so manage every channel of it). */
  function administers(spaceId: string | null | undefined): boolean {
    return !!spaceId && isSpaceAdmin(byId.get(spaceId)?.my_role)
  }
  const storageKey = () => `${CURRENT_KEY}.${meId()}`

  async function load() {
    error.value = null
    try {
      const { spaces } = await api.spaces()
      byId.clear()
      for (const s of spaces) byId.set(s.id, s)
      loaded.value = true
      if (current.value === null) {
        const kept = localStorage.getItem(storageKey())
        if (kept && byId.has(kept)) current.value = kept
      } else if (!byId.has(current.value)) {
        select(null)
      }
    } catch (e) {
      error.value = (e as Error).message
    }
  }

  /** Shows this space's channels in the list (null: the chats outside any space). */
  function select(id: string | null) {
    current.value = id
    if (id) localStorage.setItem(storageKey(), id)
    else localStorage.removeItem(storageKey())
  }

  /** Fetches one space as I see it (my role is only in the REST answer, never in events). */
  async function refresh(id: string) {
    try {
      byId.set(id, await api.space(id))
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) forget(id)
      else throw e
    }
  }

  function forget(id: string) {
    byId.delete(id)
    members.delete(id)
    if (current.value === id) select(null)
  }

  async function create(name: string, description: string, memberIds: string[]) {
    const s = await api.createSpace({ name, ...(description ? { description } : {}), member_ids: memberIds })
    byId.set(s.id, s)
    return s
  }

  async function update(id: string, patch: { name?: string; description?: string }) {
    const s = await api.updateSpace(id, patch)
    byId.set(s.id, s)
    return s
  }

  async function remove(id: string) {
    await api.deleteSpace(id)
    forget(id)
  }

  async function leave(id: string) {
    await api.removeSpaceMember(id, 'me')
    forget(id)
  }

  async function loadMembers(id: string) {
    const r = await api.spaceMembers(id)
    members.set(id, r.members)
    return r.members
  }

  async function addMembers(id: string, userIds: string[]) {
    await api.addSpaceMembers(id, userIds)
    await Promise.all([loadMembers(id), refresh(id)])
  }

  async function removeMember(id: string, userId: string) {
    await api.removeSpaceMember(id, userId)
    dropMember(id, userId)
  }

  async function setRole(id: string, userId: string, role: Role) {
    await api.setSpaceRole(id, userId, role)
    // Handing over ownership changes my role too: read both back.
    await Promise.all([loadMembers(id), refresh(id)])
  }

  function channels(id: string): Promise<SpaceChannel[]> {
    return api.spaceChannels(id).then((r) => r.channels)
  }

  function dropMember(id: string, userId: string) {
    const list = members.get(id)
    if (list) members.set(id, list.filter((m) => m.user.id !== userId))
  }

  // What space events do (called by `stores/events.ts`, the one place that dispatches).

  function spaceCreated(d: EventOf<'space.created'>['data']) {
    if (!byId.has(d.id)) void refresh(d.id).catch(() => {})
  }
  function spaceUpdated(d: EventOf<'space.updated'>['data']) {
    const s = byId.get(d.id)
    if (s) byId.set(d.id, { ...s, name: d.name, description: d.description, photo_url: d.photo_url, member_count: d.member_count })
    else void refresh(d.id).catch(() => {})
  }
  function spaceDeleted(d: EventOf<'space.deleted'>['data']) {
    forget(d.space_id)
  }
  function memberAdded(d: EventOf<'space.member_added'>['data']) {
    if (d.member.user.id === meId() || !byId.has(d.space_id)) {
      void refresh(d.space_id).catch(() => {})
      return
    }
    const s = byId.get(d.space_id)!
    const list = members.get(d.space_id)
    if (list && !list.some((m) => m.user.id === d.member.user.id)) members.set(d.space_id, [...list, d.member])
    byId.set(d.space_id, { ...s, member_count: s.member_count + 1 })
  }
  function memberRemoved(d: EventOf<'space.member_removed'>['data']) {
    if (d.user_id === meId()) {
      forget(d.space_id)
      return
    }
    const s = byId.get(d.space_id)
    if (!s) return
    dropMember(d.space_id, d.user_id)
    byId.set(d.space_id, { ...s, member_count: Math.max(0, s.member_count - 1) })
  }

  function reset() {
    byId.clear()
    members.clear()
    loaded.value = false
    error.value = null
    current.value = null
  }

  return {
    byId, loaded, error, current, currentSpace, list, members,
    administers, load, select, refresh, create, update, remove, leave, loadMembers, addMembers, removeMember, setRole, channels,
    spaceCreated, spaceUpdated, spaceDeleted, memberAdded, memberRemoved, reset,
  }
})
