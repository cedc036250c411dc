import { defineStore } from 'pinia'
import { reactive } from 'vue'
import { api } from '../api/client'
import type { Role, ServerEvent } from '../api/types'

/**
 * What a group event says in the timeline, as a centred line between messages. Built from
 * the events the server sends (`conversation.updated`, `member.*`), live and from the event
 * log when a chat opens. `by` is who made the change (the event's `actor_id`): "Alice
 * renamed the group", "Bob added Carol", "Dave left". Events stored before the server sent
 * it have none, and their lines say only what happened ("The group was renamed").
 */
export type SystemLine = { key: string; seq: number; by?: string } & (
  | { kind: 'renamed'; name: string }
  | { kind: 'photo'; removed: boolean }
  | { kind: 'topic'; topic: string }
  | { kind: 'added'; userId: string }
  | { kind: 'removed'; userId: string }
  | { kind: 'role'; userId: string; role: Role }
)

type Line = SystemLine extends infer L ? (L extends SystemLine ? Omit<L, 'key' | 'seq' | 'by'> : never) : never

/** What a conversation looked like before an event, as far as its lines need. */
export interface Before {
  kind: 'direct' | 'group' | 'channel'
  name: string | null
  photo_url: string | null
  topic?: string
}

/** The lines one event makes, given the conversation as it was before it. */
export function linesOf(ev: ServerEvent, before: Before | undefined): (Line & { by?: string })[] {
  const by = ev.actor_id ?? undefined
  return changesOf(ev, before).map((l) => (by ? { ...l, by } : l))
}

function changesOf(ev: ServerEvent, before: Before | undefined): Line[] {
  switch (ev.type) {
    case 'conversation.updated': {
      const d = ev.data
      if (!before || d.kind === 'direct') return []
      const out: Line[] = []
      if (d.name && d.name !== before.name) out.push({ kind: 'renamed', name: d.name })
      if (d.photo_url !== before.photo_url) out.push({ kind: 'photo', removed: !d.photo_url })
      if (before.topic !== undefined && d.topic !== undefined && d.topic !== before.topic) out.push({ kind: 'topic', topic: d.topic })
      return out
    }
    case 'member.added':
      return [{ kind: 'added', userId: ev.data.user.id }]
    case 'member.removed':
      return [{ kind: 'removed', userId: ev.data.user_id }]
    case 'member.updated':
      return [{ kind: 'role', userId: ev.data.user_id, role: ev.data.role }]
    default:
      return []
  }
}

const ROLE_NAME: Record<Role, string> = { owner: 'the owner', admin: 'an admin', member: 'a member' }

/** "You" as the object of a sentence ("Alice added you"). */
const object = (name: string) => (name === 'You' ? 'you' : name)

/** The words of a line; `nameOf` gives "You" for me. */
export function systemText(l: SystemLine, nameOf: (id: string) => string, kind: Before['kind'] = 'group'): string {
  const noun = kind === 'channel' ? 'room' : 'group'
  const actor = l.by ? nameOf(l.by) : null
  switch (l.kind) {
    case 'renamed':
      return actor ? `${actor} renamed the ${noun} to “${l.name}”` : `The ${noun} was renamed to “${l.name}”`
    case 'photo':
      if (actor) return `${actor} ${l.removed ? 'removed' : 'changed'} the ${noun} photo`
      return l.removed ? `The ${noun} photo was removed` : `The ${noun} photo was changed`
    case 'topic':
      if (actor) return l.topic ? `${actor} set the topic to “${l.topic}”` : `${actor} removed the topic`
      return l.topic ? `The topic was changed to “${l.topic}”` : 'The topic was removed'
    case 'added': {
      const n = nameOf(l.userId)
      if (l.by === l.userId || (!actor && kind === 'channel')) return `${n} joined`
      if (actor) return `${actor} added ${object(n)}`
      return n === 'You' ? 'You were added' : `${n} was added`
    }
    case 'removed': {
      const n = nameOf(l.userId)
      if (l.by === l.userId) return `${n} left`
      if (actor) return `${actor} removed ${object(n)}`
      return n === 'You' ? 'You are no longer a member' : `${n} is no longer a member`
    }
    case 'role': {
      const n = nameOf(l.userId)
      if (actor && l.by !== l.userId) return `${actor} made ${object(n)} ${ROLE_NAME[l.role]}`
      return `${n} ${n === 'You' ? 'are' : 'is'} now ${ROLE_NAME[l.role]}`
    }
  }
}

/** Pages of the event log read back when a chat opens (500 events each). */
export const HISTORY_PAGES = 4

export const useTimeline = defineStore('timeline', () => {
  const lines = reactive(new Map<string, SystemLine[]>())
  const loadedFrom = new Map<string, number>()
  /**
   * Each conversation as its events left it, so a change is told from the previous event's
   * state, not from a REST answer that may have brought the same change first (my own rename).
   */
  const known = new Map<string, Before>()

  /** A conversation's state when it comes in (the list, a fetch, a created chat); once. */
  function seed(cid: string, c: Before) {
    if (!known.has(cid)) known.set(cid, { kind: c.kind, name: c.name, photo_url: c.photo_url, topic: c.topic })
  }
  /** Starting over (the log no longer reaches back): the next state seeds again. */
  function forget(cid: string) {
    known.delete(cid)
  }

  function add(cid: string, seq: number, found: ReturnType<typeof linesOf>) {
    if (!found.length) return
    let list = lines.get(cid)
    if (!list) {
      list = []
      lines.set(cid, list)
    }
    found.forEach((l, i) => {
      const key = `sys-${seq}-${i}`
      if (list!.some((x) => x.key === key)) return
      list!.push({ ...l, key, seq } as SystemLine)
    })
    list.sort((a, b) => a.seq - b.seq || a.key.localeCompare(b.key))
  }

  /** A live event (from `stores/events.ts`, in seq order), with the conversation before it. */
  function record(cid: string, seq: number, ev: ServerEvent, before: Before | undefined) {
    if (ev.type === 'conversation.created' || ev.type === 'conversation.updated') {
      const d = ev.data
      add(cid, seq, linesOf(ev, known.get(cid) ?? before))
      known.set(cid, { kind: d.kind, name: d.name, photo_url: d.photo_url, topic: d.topic })
      return
    }
    add(cid, seq, linesOf(ev, before))
  }

  /**
   * The lines of what happened after `after`, read back from the event log (a chat that
   * opens after a reload). A rename or photo change is told apart from other updates by the
   * state before it, so the log is replayed from its first snapshot on.
   */
  async function loadHistory(cid: string, after: number) {
    const from = loadedFrom.get(cid)
    if (from !== undefined && from <= after) return
    loadedFrom.set(cid, after)
    let before: Before | undefined
    let at = after
    for (let page = 0; page < HISTORY_PAGES; page++) {
      let res
      try {
        res = await api.events(cid, at)
      } catch {
        return // 410: the log no longer reaches back that far; 404: not mine to read
      }
      for (const ev of res.events) {
        if (ev.seq == null) continue
        at = Math.max(at, ev.seq)
        if (ev.type === 'conversation.created' || ev.type === 'conversation.updated') {
          if (ev.type === 'conversation.updated') add(cid, ev.seq, linesOf(ev, before))
          before = { kind: ev.data.kind, name: ev.data.name, photo_url: ev.data.photo_url, topic: ev.data.topic }
        } else {
          add(cid, ev.seq, linesOf(ev, before))
        }
      }
      if (!res.has_more) return
    }
  }

  function of(cid: string): SystemLine[] {
    return lines.get(cid) ?? []
  }

  function reset() {
    lines.clear()
    loadedFrom.clear()
    known.clear()
  }

  return { lines, seed, forget, record, loadHistory, of, reset }
})
