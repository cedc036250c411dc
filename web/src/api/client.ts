import type {
  AuditEntry,
  AuthResponse,
  ChatSettings,
  Contact,
  Conversation,
  EventsPage,
  Message,
  MessagesPage,
  Receipt,
  MessageVersion,
  Role,
  Space,
  SpaceChannel,
  SpaceMember,
  User,
} from './types'
import type { NotifyLevel } from '../lib/notify'

/** An error from the API (or the network), carrying the API's code and words. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public field?: string,
    public retryAfter?: number,
  ) {
    super(message)
    this.name = 'ApiError'
  }
  /** True when the request never got an answer (offline, server down). */
  get isNetwork(): boolean {
    return this.status === 0
  }
}

type Fetch = typeof fetch
let fetchImpl: Fetch = (...args) => fetch(...args)
let onUnauthorized: (() => void) | null = null

/** For tests: replace the fetch the client uses. */
export function setFetch(f: Fetch) {
  fetchImpl = f
}
export function setUnauthorizedHandler(h: (() => void) | null) {
  onUnauthorized = h
}

export const NETWORK_MESSAGE = 'Cannot reach the server. Check your connection.'

async function request<T>(method: string, path: string, body?: unknown, opts: { noAuthHook?: boolean } = {}): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: {} }
  if (body instanceof FormData) {
    init.body = body
  } else if (body !== undefined) {
    ;(init.headers as Record<string, string>)['Content-Type'] = 'application/json'
    init.body = JSON.stringify(body)
  }
  let res: Response
  try {
    res = await fetchImpl(path, init)
  } catch {
    throw new ApiError(0, 'network', NETWORK_MESSAGE)
  }
  if (res.status === 204) return undefined as T
  const text = await res.text()
  let json: unknown = undefined
  if (text) {
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
  }
  if (!res.ok) {
    const err = (json as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error
    const retry = Number(res.headers.get('Retry-After') ?? '') || undefined
    const e = new ApiError(
      res.status,
      err?.code ?? (res.status >= 500 ? 'internal' : 'error'),
      describe(res.status, err?.code, err?.message),
      err?.field,
      retry,
    )
    if (res.status === 401 && !opts.noAuthHook) onUnauthorized?.()
    throw e
  }
  return json as T
}

function describe(status: number, code?: string, message?: string): string {
  if (message) return message.charAt(0).toUpperCase() + message.slice(1)
  if (status === 429) return 'Too many requests. Wait a moment and try again.'
  if (status >= 500) return 'The server had a problem. Try again.'
  return code ? code.replace(/_/g, ' ') : `Request failed (${status})`
}

const enc = encodeURIComponent
const qs = (o: Record<string, string | number | undefined | null>) => {
  const p = Object.entries(o).filter(([, v]) => v !== undefined && v !== null && v !== '')
  return p.length ? '?' + p.map(([k, v]) => `${k}=${enc(String(v))}`).join('&') : ''
}

export const api = {
  signup: (username: string, password: string, display_name?: string) =>
    request<AuthResponse>('POST', '/api/users', { username, password, ...(display_name ? { display_name } : {}) }, { noAuthHook: true }),
  login: (username: string, password: string) =>
    request<AuthResponse>('POST', '/api/session', { username, password }, { noAuthHook: true }),
  logout: () => request<void>('DELETE', '/api/session', undefined, { noAuthHook: true }),
  wsTicket: () => request<{ ticket: string }>('POST', '/api/ws/ticket'),

  me: () => request<User>('GET', '/api/users/me', undefined, { noAuthHook: true }),
  updateMe: (patch: { display_name?: string; username?: string; about?: string }) =>
    request<User>('PATCH', '/api/users/me', patch),
  changePassword: (current_password: string, new_password: string) =>
    request<void>('PUT', '/api/users/me/password', { current_password, new_password }),
  setMyPhoto: (file: Blob) => {
    const f = new FormData()
    f.append('photo', file)
    return request<User>('PUT', '/api/users/me/photo', f)
  },
  deleteMyPhoto: () => request<User>('DELETE', '/api/users/me/photo'),
  searchUsers: (q: string, limit = 20) => request<{ users: User[] }>('GET', `/api/users${qs({ q, limit })}`),
  user: (id: string) => request<User>('GET', `/api/users/${enc(id)}`),

  conversations: () => request<{ conversations: Conversation[] }>('GET', '/api/conversations'),
  conversation: (id: string) => request<Conversation>('GET', `/api/conversations/${enc(id)}`),
  createGroup: (name: string, member_ids: string[]) =>
    request<Conversation>('POST', '/api/conversations', { name, member_ids }),
  direct: (userId: string) => request<Conversation>('POST', `/api/users/${enc(userId)}/conversation`),
  rename: (id: string, name: string) => request<Conversation>('PUT', `/api/conversations/${enc(id)}/name`, { name }),
  setGroupPhoto: (id: string, file: Blob) => {
    const f = new FormData()
    f.append('photo', file)
    return request<Conversation>('PUT', `/api/conversations/${enc(id)}/photo`, f)
  },
  deleteGroupPhoto: (id: string) => request<Conversation>('DELETE', `/api/conversations/${enc(id)}/photo`),
  addMembers: (id: string, user_ids: string[]) =>
    request<Conversation>('POST', `/api/conversations/${enc(id)}/members`, { user_ids }),
  removeMember: (id: string, userId: string) =>
    request<void>('DELETE', `/api/conversations/${enc(id)}/members/${enc(userId)}`),
  markRead: (id: string, seq: number) => request<void>('PUT', `/api/conversations/${enc(id)}/read`, { seq }),
  markDelivered: (id: string, seq: number) => request<void>('PUT', `/api/conversations/${enc(id)}/delivered`, { seq }),

  messages: (id: string, p: { before?: number; after?: number; limit?: number } = {}) =>
    request<MessagesPage>('GET', `/api/conversations/${enc(id)}/messages${qs(p)}`),
  send: (
    id: string,
    m: { text: string; reply_to?: string | null; client_id: string; photo?: Blob | null; file?: Blob | null; file_name?: string | null },
  ) => {
    if (m.photo || m.file) {
      const f = new FormData()
      // A message has a photo or a file, not both; the file keeps its name for the download.
      if (m.file) f.append('file', m.file, m.file_name || 'file')
      else if (m.photo) f.append('photo', m.photo)
      if (m.text) f.append('text', m.text)
      if (m.reply_to) f.append('reply_to', m.reply_to)
      f.append('client_id', m.client_id)
      return request<Message>('POST', `/api/conversations/${enc(id)}/messages`, f)
    }
    return request<Message>('POST', `/api/conversations/${enc(id)}/messages`, {
      text: m.text,
      client_id: m.client_id,
      ...(m.reply_to ? { reply_to: m.reply_to } : {}),
    })
  },
  edit: (id: string, msgId: string, text: string) =>
    request<Message>('PATCH', `/api/conversations/${enc(id)}/messages/${enc(msgId)}`, { text }),
  remove: (id: string, msgId: string) => request<void>('DELETE', `/api/conversations/${enc(id)}/messages/${enc(msgId)}`),
  // Mentions, pins and edit history.
  mentions: (p: { before?: string; limit?: number } = {}) =>
    request<{ messages: Message[]; has_more: boolean }>('GET', `/api/mentions${qs(p)}`),
  pin: (id: string, msgId: string) => request<void>('PUT', `/api/conversations/${enc(id)}/messages/${enc(msgId)}/pin`),
  unpin: (id: string, msgId: string) => request<void>('DELETE', `/api/conversations/${enc(id)}/messages/${enc(msgId)}/pin`),
  pins: (id: string) => request<{ messages: Message[] }>('GET', `/api/conversations/${enc(id)}/pins`),
  history: (id: string, msgId: string) =>
    request<{ versions: MessageVersion[] }>('GET', `/api/conversations/${enc(id)}/messages/${enc(msgId)}/history`),
  forward: (id: string, msgId: string, conversation_ids: string[]) =>
    request<{ messages: Message[] }>('POST', `/api/conversations/${enc(id)}/messages/${enc(msgId)}/forward`, { conversation_ids }),
  receipts: (id: string, msgId: string) =>
    request<{ receipts: Receipt[] }>('GET', `/api/conversations/${enc(id)}/messages/${enc(msgId)}/receipts`),
  react: (id: string, msgId: string, emoji: string) =>
    request<void>('PUT', `/api/conversations/${enc(id)}/messages/${enc(msgId)}/reactions`, { emoji }),
  unreact: (id: string, msgId: string) =>
    request<void>('DELETE', `/api/conversations/${enc(id)}/messages/${enc(msgId)}/reactions`),
  // Rooms (contract v2).
  createRoom: (r: { name: string; visibility: 'public' | 'private'; topic?: string; password?: string }) =>
    request<Conversation>('POST', '/api/conversations', {
      kind: 'channel',
      name: r.name,
      visibility: r.visibility,
      ...(r.topic ? { topic: r.topic } : {}),
      ...(r.password ? { password: r.password } : {}),
    }),
  rooms: (q: string, limit = 50) => request<{ rooms: Conversation[] }>('GET', `/api/rooms${qs({ q, limit })}`),
  join: (id: string, password?: string) =>
    request<Conversation>('POST', `/api/conversations/${enc(id)}/join`, password ? { password } : {}),
  setTopic: (id: string, topic: string) => request<Conversation>('PUT', `/api/conversations/${enc(id)}/topic`, { topic }),
  setRoomPassword: (id: string, password: string | null) =>
    request<Conversation>('PUT', `/api/conversations/${enc(id)}/password`, { password }),
  setRole: (id: string, userId: string, role: Role) =>
    request<void>('PUT', `/api/conversations/${enc(id)}/members/${enc(userId)}/role`, { role }),
  deleteConversation: (id: string) => request<void>('DELETE', `/api/conversations/${enc(id)}`),

  // Per-user chat settings.
  updateSettings: (id: string, patch: Partial<ChatSettings> & { notify?: NotifyLevel }) =>
    request<ChatSettings>('PATCH', `/api/conversations/${enc(id)}/settings`, patch),
  clear: (id: string, hide = false) => request<void>('POST', `/api/conversations/${enc(id)}/clear`, { hide }),

  // Contacts and blocking.
  spaces: () => request<{ spaces: Space[] }>('GET', '/api/spaces'),
  space: (id: string) => request<Space>('GET', `/api/spaces/${enc(id)}`),
  createSpace: (s: { name: string; description?: string; member_ids?: string[] }) => request<Space>('POST', '/api/spaces', s),
  updateSpace: (id: string, patch: { name?: string; description?: string }) => request<Space>('PATCH', `/api/spaces/${enc(id)}`, patch),
  deleteSpace: (id: string) => request<void>('DELETE', `/api/spaces/${enc(id)}`),
  spaceMembers: (id: string) => request<{ members: SpaceMember[] }>('GET', `/api/spaces/${enc(id)}/members`),
  addSpaceMembers: (id: string, user_ids: string[]) => request<void>('POST', `/api/spaces/${enc(id)}/members`, { user_ids }),
  removeSpaceMember: (id: string, userId: string) => request<void>('DELETE', `/api/spaces/${enc(id)}/members/${enc(userId)}`),
  setSpaceRole: (id: string, userId: string, role: Role) => request<void>('PUT', `/api/spaces/${enc(id)}/members/${enc(userId)}/role`, { role }),
  spaceChannels: (id: string) => request<{ channels: SpaceChannel[] }>('GET', `/api/spaces/${enc(id)}/channels`),
  createChannel: (id: string, c: { name: string; visibility: 'public' | 'private'; topic?: string; member_ids?: string[] }) =>
    request<Conversation>('POST', `/api/spaces/${enc(id)}/channels`, { name: c.name, visibility: c.visibility, ...(c.topic ? { topic: c.topic } : {}), ...(c.member_ids?.length ? { member_ids: c.member_ids } : {}) }),

  contacts: () => request<{ contacts: Contact[] }>('GET', '/api/contacts'),
  setContact: (userId: string, alias: string | null) =>
    request<Contact>('PUT', `/api/contacts/${enc(userId)}`, { alias }),
  deleteContact: (userId: string) => request<void>('DELETE', `/api/contacts/${enc(userId)}`),
  block: (userId: string) => request<void>('PUT', `/api/users/${enc(userId)}/block`),
  unblock: (userId: string) => request<void>('DELETE', `/api/users/${enc(userId)}/block`),
  blocks: () => request<{ users: User[] }>('GET', '/api/blocks'),

  // Server administration.
  audit: (f: { actor?: string; action?: string; before?: string; limit?: number } = {}) =>
    request<{ entries: AuditEntry[] }>('GET', `/api/admin/audit${qs(f)}`),

  // Web Push: the server's VAPID key, and this browser's subscription.
  pushKey: () => request<{ public_key: string }>('GET', '/api/push/key'),
  pushSubscribe: (s: PushSubscriptionBody) => request<void>('POST', '/api/push/subscriptions', s),
  pushUnsubscribe: (endpoint: string) => request<void>('DELETE', '/api/push/subscriptions', { endpoint }),

  events: (id: string, after: number) => request<EventsPage>('GET', `/api/conversations/${enc(id)}/events${qs({ after })}`),
}

export type Api = typeof api

/** A Web Push subscription as the server takes it (`PushSubscription.toJSON()` has this shape). */
export interface PushSubscriptionBody {
  endpoint: string
  keys: { p256dh: string; auth: string }
}
