import type { ApiError } from '../api/client'

export type AuthField = 'username' | 'password' | 'display_name'
const FIELDS: AuthField[] = ['username', 'password', 'display_name']

/** The username as the server stores it (it lower-cases; surrounding spaces are dropped). */
export function normalizeUsername(s: string): string {
  return s.trim().toLowerCase()
}

/**
 * Which sign-up field an error is about: the server's `field` of a 422, or the username for a
 * 409 (taken); null when it is about no one field (then it is shown above the button).
 */
export function authFieldOf(err: Pick<ApiError, 'status' | 'field' | 'message'>, signup: boolean): AuthField | null {
  if (signup && err.status === 409) return 'username'
  const f = (err.field ?? '').replace(/^.*\./, '')
  if ((FIELDS as string[]).includes(f)) return f as AuthField
  if (err.status === 422) {
    const m = err.message.toLowerCase()
    if (m.includes('display')) return 'display_name'
    return FIELDS.find((x) => m.includes(x)) ?? null
  }
  return null
}
