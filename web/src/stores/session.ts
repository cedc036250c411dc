import { defineStore } from 'pinia'
import { ref } from 'vue'
import { api } from '../api/client'
import type { User } from '../api/types'
import { disablePush } from '../lib/push'

export const useSession = defineStore('session', () => {
  const user = ref<User | null>(null)
  /** False until we asked the server whether the cookie still holds a session. */
  const ready = ref(false)

  async function restore() {
    try {
      user.value = await api.me()
    } catch {
      user.value = null
    } finally {
      ready.value = true
    }
  }

  async function login(username: string, password: string) {
    const r = await api.login(username.trim().toLowerCase(), password)
    user.value = r.user
  }

  async function signup(username: string, password: string, displayName?: string) {
    const r = await api.signup(username.trim().toLowerCase(), password, displayName?.trim() || undefined)
    user.value = r.user
  }

  async function logout() {
    try {
      if (user.value && typeof localStorage !== 'undefined') localStorage.removeItem(`hubbub.outbox.${user.value.id}`)
      // While still signed in: the server forgets this browser's push endpoint (bounded, so a
      // stuck service worker never keeps anyone from signing out).
      await Promise.race([disablePush(), new Promise((r) => setTimeout(r, 3000))])
      await api.logout()
    } finally {
      user.value = null
    }
  }

  function setUser(u: User) {
    if (user.value && u.id === user.value.id) user.value = u
  }

  return { user, ready, restore, login, signup, logout, setUser }
})
