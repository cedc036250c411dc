// What may be attached, decided before anything is sent (defect 6): a file the server would
// refuse never becomes a "Not sent" bubble whose Retry can never work; it is refused here,
// at once, with the reason, and nothing is queued.

/** The server's upload limit (20 MiB), for photos and files alike. */
export const MAX_UPLOAD_BYTES = 20 * 1024 * 1024
/** The photo formats the server accepts (it re-encodes them); anything else goes as a file. */
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp', 'image/gif'] as const

export type AttachmentKind = 'photo' | 'file'

/** What the checks need of a File (so tests can pass plain objects). */
export interface FileLike {
  name: string
  size: number
  type: string
}

export type Checked<F extends FileLike = FileLike> =
  | { ok: true; kind: AttachmentKind; file: F }
  | { ok: false; file: F; reason: string }

export function isPhotoType(type: string): boolean {
  return (PHOTO_TYPES as readonly string[]).includes(type.toLowerCase())
}

/** 1536 → "1.5 KB"; decimal-looking units as people read them, computed in binary like the limit. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  const units = ['KB', 'MB', 'GB']
  let v = bytes / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v >= 10 || Number.isInteger(v) ? Math.round(v) : v.toFixed(1)} ${units[i]}`
}

/**
 * Checks one file. `as: 'photo'` is a photo the user asked to send as a photo (it must be
 * one of the four formats); `as: 'auto'` (the attach button, drag-and-drop, paste) sends the
 * four formats as photos and everything else as a file.
 */
export function checkAttachment<F extends FileLike>(file: F, as: 'photo' | 'auto' = 'auto'): Checked<F> {
  const name = file.name || (as === 'photo' ? 'This photo' : 'This file')
  const photo = isPhotoType(file.type)
  if (as === 'photo' && !photo) {
    return { ok: false, file, reason: `“${name}” is not a JPEG, PNG, WebP or GIF photo.` }
  }
  if (file.size === 0) return { ok: false, file, reason: `“${name}” is empty.` }
  if (file.size > MAX_UPLOAD_BYTES) {
    return { ok: false, file, reason: `“${name}” is ${formatSize(file.size)}; files and photos can be at most 20 MB.` }
  }
  return { ok: true, kind: photo ? 'photo' : 'file', file }
}

/** Checks several at once (a drop, a paste, a multiple pick): what may go, and why the rest may not. */
export function checkAll<F extends FileLike>(files: F[], as: 'photo' | 'auto' = 'auto'): { accepted: Array<{ kind: AttachmentKind; file: F }>; reasons: string[] } {
  const accepted: Array<{ kind: AttachmentKind; file: F }> = []
  const reasons: string[] = []
  for (const f of files) {
    const c = checkAttachment(f, as)
    if (c.ok) accepted.push({ kind: c.kind, file: c.file })
    else reasons.push(c.reason)
  }
  return { accepted, reasons }
}

/**
 * Whether a refusal from the server can ever succeed on retry: a 4xx about the request
 * itself (too large, wrong type, invalid) will be refused again, so no Retry is offered.
 */
export function isRetryable(status: number | undefined): boolean {
  if (status === undefined) return true
  return !(status === 400 || status === 413 || status === 415 || status === 422)
}
