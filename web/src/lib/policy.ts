// What a kind of conversation allows and what a role may do in it: the web app's copy of the
// server's policy (`hubbub-domain/src/policy.rs`), so that menus offer only what the server
// would allow. The server decides; this only spares people buttons that would be refused.
// Components ask these functions and compare no kind or role themselves.
import type { Conversation, Role } from '../api/types'

type Kind = Conversation['kind']

/** The top role of a kind: `owner` for channels and rooms, `admin` for groups. */
export function topRole(kind: Kind): Role {
  return kind === 'channel' ? 'owner' : kind === 'group' ? 'admin' : 'member'
}

/** A name, photo, topic and member list of its own (a direct chat shows the other person's). */
export function hasSettings(kind: Kind): boolean {
  return kind !== 'direct'
}

/** A topic, a directory entry, a password: channels and rooms. */
export function isRoomLike(kind: Kind): boolean {
  return kind === 'channel'
}

/** How I stand in a conversation: my role (null once I left) and whether I administer its space. */
export interface Standing {
  role: Role | null
  spaceAdmin: boolean
}

export function standing(c: Conversation & { left?: boolean }, spaceAdmin = false): Standing {
  return { role: c.left ? null : c.my_role, spaceAdmin: !c.left && spaceAdmin }
}

/** Rename, topic, photo, add and remove members, pin: the owner and admins, and space admins. */
export function manages(kind: Kind, who: Standing): boolean {
  return hasSettings(kind) && (who.role === 'owner' || who.role === 'admin' || who.spaceAdmin)
}

/** Pin a message: either person of a direct chat; elsewhere the managers (`manages`). */
export function mayPin(kind: Kind, who: Standing): boolean {
  if (who.role === null) return false
  return kind === 'direct' || manages(kind, who)
}

/** Whether `@channel` and `@all` mention everyone: channels and groups, not direct chats. */
export function allowsMentionAll(kind: Kind): boolean {
  return kind !== 'direct'
}

/** Delete for everyone: the holder of the kind's top role, or an admin of the channel's space. */
export function mayDeleteForEveryone(kind: Kind, who: Standing): boolean {
  return hasSettings(kind) && who.role !== null && (who.role === topRole(kind) || who.spaceAdmin)
}

/** Set the password: the owner of a public room outside a space. */
export function maySetPassword(c: Conversation, who: Standing): boolean {
  return c.kind === 'channel' && c.visibility === 'public' && !c.space_id && who.role === 'owner'
}

/** The roles I may give someone who has `target`: the owner any, admins member↔admin. */
export function rolesIMayGive(kind: Kind, who: Standing, target: Role): Role[] {
  if (!hasSettings(kind)) return []
  const all: Role[] = kind === 'channel' ? ['owner', 'admin', 'member'] : ['admin', 'member']
  if (who.role === 'owner') return all
  if ((who.role === 'admin' || who.spaceAdmin) && target !== 'owner') return ['admin', 'member']
  return []
}

/** Remove someone with `target`: managers, but an admin never the owner. */
export function mayRemove(kind: Kind, who: Standing, target: Role): boolean {
  return manages(kind, who) && (target !== 'owner' || who.role === 'owner' || who.spaceAdmin)
}

// Spaces: the same three roles; the owner and admins administer the space and every channel
// of it (`hubbub-domain/src/policy.rs`, "Spaces").

/** Whether this space role administers the space (adds people, creates channels, manages them all). */
export function isSpaceAdmin(role: Role | null | undefined): boolean {
  return role === 'owner' || role === 'admin'
}

/** The space roles I (`mine`) may give someone who has `target`: the owner any, admins member↔admin. */
export function spaceRolesIMayGive(mine: Role, target: Role): Role[] {
  if (mine === 'owner') return ['member', 'admin', 'owner']
  if (mine === 'admin' && target !== 'owner') return ['member', 'admin']
  return []
}

/** Remove someone with `target` from the space: its admins, but an admin never the owner. */
export function mayRemoveFromSpace(mine: Role, target: Role): boolean {
  return isSpaceAdmin(mine) && (target !== 'owner' || mine === 'owner')
}
