// Wire types of the Hubbub API (see /api/openapi.json; `npm run api:check` compares
// `openapi.d.ts`, generated from the server, with what it serves now, and
// `contract-check.ts` makes vue-tsc fail if these drift from the generated schema).

import type { components } from './openapi'

export type Uuid = string
export type Time = string

export interface User {
  id: Uuid
  username: string
  display_name: string
  photo_url: string | null
  about: string
  last_seen_at: Time | null
  online: boolean
}

export type Role = 'owner' | 'admin' | 'member'

export interface Member {
  user: User
  role: Role
  joined_at: Time
  delivered_seq: number
  read_seq: number
}

/** A user as events carry them: no `online`, no `last_seen_at` (presence has events of its own). */
export type EventUser = Pick<User, 'id' | 'username' | 'display_name' | 'photo_url' | 'about'>
/** A member as events carry them (`member.added`, the members of conversation snapshots). */
export type EventMember = Omit<Member, 'user'> & { user: EventUser }

export interface Photo {
  url: string
  width: number
  height: number
}

/** A file attached to a message; `url` is always a download. */
export interface Attachment {
  url: string
  name: string
  size: number
  content_type: string
}

export interface ReplyRef {
  id: Uuid
  sender_id: Uuid
  text: string
}

export interface Reaction {
  emoji: string
  count: number
  user_ids: Uuid[]
}

export type MessageStatus = 'sent' | 'delivered' | 'read'

export interface Message {
  id: Uuid
  conversation_id: Uuid
  seq: number
  sender_id: Uuid
  text: string
  photo: Photo | null
  file: Attachment | null
  reply_to: ReplyRef | null
  forwarded: boolean
  reactions: Reaction[]
  status: MessageStatus | null
  created_at: Time
  edited_at: Time | null
  deleted: boolean
  /** Null until the server attached the preview of the text's first link (a later `message.updated`). */
  link_preview: LinkPreview | null
  /** The members the text mentions, resolved by the server (`@channel`/`@all`: everyone). */
  mentions: Uuid[]
  /** Pinned to its conversation. */
  pinned: boolean
}

/** One search hit: `snippet` is the text HTML-escaped with the matched words in `<mark>` (see `lib/snippet.ts`). */
export interface SearchResult {
  message: Message
  conversation_id: Uuid
  snippet: string
}

export interface SearchResults {
  results: SearchResult[]
  next_cursor: string | null
}

/** An earlier version of an edited message: its text and its `edited_at` then (null: as first sent). */
export interface MessageVersion {
  text: string
  edited_at: Time | null
}

export interface LinkPreview {
  url: string
  title: string
  description: string | null
  site_name: string | null
  image: Photo | null
}

export interface Conversation {
  id: Uuid
  kind: 'direct' | 'group' | 'channel'
  name: string | null
  photo_url: string | null
  members: Member[]
  last_message: Message | null
  last_seq: number
  unread_count: number
  /** How many unread messages mention me (REST only; events leave it to the client). */
  unread_mentions?: number
  my_role: Role | null
  created_at: Time
  updated_at: Time
  // Channels and rooms, and the viewer's own settings (contract v2).
  space_id?: Uuid | null
  visibility?: 'public' | 'private'
  topic?: string
  has_password?: boolean
  member_count?: number
  settings?: ChatSettings
}

/** One user's own settings of one conversation (`settings.updated` brings changes). */
export type ChatSettings = components['schemas']['ChatSettings']

/** Someone in my contacts, with my own name for them (`alias`), seen by me only. */
export type Contact = components['schemas']['Contact']
/** A space (a team or a club) as I see it, with my role in it. */
export type Space = components['schemas']['Space']
/** Someone in a space, with their role there. */
export type SpaceMember = components['schemas']['SpaceMember']
/** A channel as a space's channel list shows it: its directory entry and whether I am in it. */
export type SpaceChannel = Conversation & { joined: boolean }
/** One line of the server's audit log (administrators only). */
export type AuditEntry = components['schemas']['AuditEntry']

export interface AuthResponse {
  user: User
  token: string
}

export interface Receipt {
  user_id: Uuid
  delivered_at: Time | null
  read_at: Time | null
}

export interface MessagesPage {
  messages: Message[]
  has_more: boolean
}

/**
 * An event of the WebSocket or of `/events`, exactly as the server documents it (`Event` in
 * `openapi.d.ts`): a union tagged by `type`, each variant with its own `data`. Persisted
 * changes carry `conversation_id` and `seq`; ephemeral ones (typing, receipts, presence,
 * profile changes) have no `seq`. `stores/events.ts` switches over `type` exhaustively, so a
 * new event in the server's document fails `npm run typecheck` until the app handles it.
 */
export type ServerEvent = components['schemas']['Event']
export type EventType = ServerEvent['type']
/** The variant of one event type, e.g. `EventOf<'message.created'>['data']` is a `Message`. */
export type EventOf<K extends EventType> = Extract<ServerEvent, { type: K }>

/** A conversation as it travels inside `conversation.created` / `conversation.updated`. */
export type ConversationSnapshot = components['schemas']['ConversationSnapshot']
/** A member's marks, as `receipt.updated` carries them. */
export type Marks = components['schemas']['Marks']

export interface EventsPage {
  events: ServerEvent[]
  has_more: boolean
}

export interface ApiErrorBody {
  error: { code: string; message: string; field?: string | null }
}
