// The arithmetic of a virtualised list of rows of different heights: where each row is, which
// rows are on screen (plus overscan), and where to scroll so a given row stays where it was
// (history paging, rows measured after they rendered). No DOM here: tested in tests/virtual.test.ts.

/** Offsets of every row from the list's top, and the total height (`offsets[n]`). */
export function layout(heights: readonly number[]): Float64Array {
  const out = new Float64Array(heights.length + 1)
  for (let i = 0; i < heights.length; i++) out[i + 1] = out[i] + heights[i]
  return out
}

/** The first row whose bottom is below `y` (rows.length if none): a binary search. */
export function rowAt(offsets: Float64Array, y: number): number {
  const n = offsets.length - 1
  let lo = 0
  let hi = n
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (offsets[mid + 1] <= y) lo = mid + 1
    else hi = mid
  }
  return lo
}

export interface Window {
  /** The first row rendered. */
  start: number
  /** One past the last row rendered. */
  end: number
  /** Space above the first row rendered. */
  padTop: number
  /** Space below the last one. */
  padBottom: number
}

/**
 * The rows to render for a viewport `[top, top + height)` in list coordinates, with `overscan`
 * pixels more on each side. An empty viewport (not laid out yet) renders the last rows that fill
 * `minHeight`, since a chat opens at its bottom.
 */
export function visibleWindow(offsets: Float64Array, top: number, height: number, overscan: number): Window {
  const n = offsets.length - 1
  const total = offsets[n]
  if (n === 0) return { start: 0, end: 0, padTop: 0, padBottom: 0 }
  const from = Math.max(0, top - overscan)
  const to = Math.min(total, top + Math.max(height, 0) + overscan)
  let start = Math.min(rowAt(offsets, from), n - 1)
  let end = Math.max(rowAt(offsets, to) + 1, start + 1)
  end = Math.min(end, n)
  if (start >= end) start = Math.max(0, end - 1)
  return { start, end, padTop: offsets[start], padBottom: total - offsets[end] }
}

/** A row and how far its top is below the viewport's top: what stays put when heights change. */
export interface Anchor {
  key: string
  /** The row's top minus the viewport's top, in pixels. */
  delta: number
}

/**
 * The anchor for a viewport at `top`: the first row not entirely above it that `stays(i)` (a
 * row that keeps its place among its neighbours: not a day separator, which moves up to the
 * first message of its day when older ones come in), else the first row.
 */
export function anchorAt(offsets: Float64Array, keys: readonly string[], top: number, stays: (i: number) => boolean = () => true): Anchor | null {
  if (!keys.length) return null
  const first = Math.min(rowAt(offsets, top), keys.length - 1)
  let i = first
  while (i < keys.length - 1 && !stays(i)) i++
  if (!stays(i)) i = first
  return { key: keys[i], delta: offsets[i] - top }
}

/**
 * Where to scroll (list coordinates) so `anchor` is again `delta` below the viewport's top after
 * rows were added, removed or re-measured; null when its row is gone.
 */
export function restoreAnchor(offsets: Float64Array, indexOf: (key: string) => number, anchor: Anchor): number | null {
  const i = indexOf(anchor.key)
  if (i < 0) return null
  return offsets[i] - anchor.delta
}

/** The viewport top that puts row `i` in the middle of a viewport of `height` (or at the top if taller). */
export function centreOn(offsets: Float64Array, i: number, height: number): number {
  const h = offsets[i + 1] - offsets[i]
  return h >= height ? offsets[i] : offsets[i] + h / 2 - height / 2
}

/** Whether a list scrolled to `top` is at its end, within `slack` pixels. */
export function isAtEnd(total: number, top: number, height: number, slack: number): boolean {
  return total - top - height < slack
}

/**
 * A running estimate for rows not measured yet: the mean measured height of rows of the same
 * kind, else the given default.
 */
export class HeightEstimates {
  private sums = new Map<string, { total: number; n: number }>()
  constructor(private defaults: Record<string, number>, private fallback = 48) {}
  add(kind: string, h: number) {
    const s = this.sums.get(kind) ?? { total: 0, n: 0 }
    s.total += h
    s.n++
    this.sums.set(kind, s)
  }
  remove(kind: string, h: number) {
    const s = this.sums.get(kind)
    if (!s) return
    s.total -= h
    s.n--
    if (s.n <= 0) this.sums.delete(kind)
  }
  get(kind: string): number {
    const s = this.sums.get(kind)
    return s && s.n > 0 ? s.total / s.n : (this.defaults[kind] ?? this.fallback)
  }
}
