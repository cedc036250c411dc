import { describe, expect, it } from 'vitest'
import { anchorAt, centreOn, HeightEstimates, isAtEnd, layout, restoreAnchor, rowAt, visibleWindow } from '../src/lib/virtual'

const keys = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `k${from + i}`)

describe('the virtual list window', () => {
  it('lays rows of different heights end to end', () => {
    const o = layout([10, 20, 30])
    expect([...o]).toEqual([0, 10, 30, 60])
    expect(rowAt(o, 0)).toBe(0)
    expect(rowAt(o, 9.9)).toBe(0)
    expect(rowAt(o, 10)).toBe(1)
    expect(rowAt(o, 59)).toBe(2)
    expect(rowAt(o, 60)).toBe(3)
  })

  it('renders the viewport plus overscan, and stands the rest as padding', () => {
    const o = layout(new Array(1100).fill(40)) // 44,000 px
    const w = visibleWindow(o, 20_000, 800, 400)
    expect(w.start).toBe(490) // (20,000 − 400) / 40
    expect(w.end).toBe(531) // (20,800 + 400) / 40 + 1
    expect(w.padTop).toBe(490 * 40)
    expect(w.padTop + (w.end - w.start) * 40 + w.padBottom).toBe(44_000)
    expect(w.end - w.start).toBeLessThan(60) // a small DOM whatever the length
  })

  it('clamps at both ends and renders the last rows at the bottom', () => {
    const o = layout(new Array(100).fill(50))
    expect(visibleWindow(o, 0, 500, 100)).toMatchObject({ start: 0, end: 13, padTop: 0 })
    const bottom = visibleWindow(o, 4500, 500, 100)
    expect(bottom.end).toBe(100)
    expect(bottom.padBottom).toBe(0)
    expect(visibleWindow(layout([]), 0, 500, 100)).toEqual({ start: 0, end: 0, padTop: 0, padBottom: 0 })
  })

  it('varied heights: the window follows the real offsets', () => {
    const h = Array.from({ length: 200 }, (_, i) => (i % 10 === 0 ? 200 : 30))
    const o = layout(h)
    const w = visibleWindow(o, o[100], 300, 0)
    expect(w.start).toBe(100)
    expect(o[w.end]).toBeGreaterThanOrEqual(o[100] + 300)
    expect(o[w.end - 1]).toBeLessThan(o[100] + 300)
  })

  it('centres a row, or puts a row taller than the viewport at its top', () => {
    const o = layout([100, 100, 40, 100])
    expect(centreOn(o, 2, 400)).toBe(200 + 20 - 200)
    expect(centreOn(o, 1, 50)).toBe(100)
  })

  it('at the end within the slack', () => {
    expect(isAtEnd(1000, 430, 500, 80)).toBe(true)
    expect(isAtEnd(1000, 400, 500, 80)).toBe(false)
  })

  it('estimates unmeasured rows from those of the same kind', () => {
    const e = new HeightEstimates({ day: 40 }, 48)
    expect(e.get('day')).toBe(40)
    expect(e.get('msg')).toBe(48)
    e.add('msg', 60)
    e.add('msg', 80)
    expect(e.get('msg')).toBe(70)
    e.remove('msg', 80)
    expect(e.get('msg')).toBe(60)
  })
})

describe('scroll anchoring', () => {
  it('a page of history put in above keeps the row at the top where it was', () => {
    const before = keys(50, 100)
    const o1 = layout(new Array(50).fill(40))
    const top = 1010 // row k125 at 1000, 10 px above the viewport's top
    const a = anchorAt(o1, before, top)!
    expect(a).toEqual({ key: 'k125', delta: -10 })
    // 100 older rows of varied height come in above.
    const after = [...keys(100, 0), ...before]
    const h = [...Array.from({ length: 100 }, (_, i) => 30 + (i % 3) * 10), ...new Array(50).fill(40)]
    const o2 = layout(h)
    const index = new Map(after.map((k, i) => [k, i]))
    const y = restoreAnchor(o2, (k) => index.get(k) ?? -1, a)!
    const above = h.slice(0, 100).reduce((s, x) => s + x, 0)
    expect(y).toBe(above + 1010)
    expect(anchorAt(o2, after, y)).toEqual(a) // the same row, the same distance from the top
  })

  it('rows measured above the viewport do not move what is read', () => {
    const k = keys(20)
    const est = layout(new Array(20).fill(44))
    const a = anchorAt(est, k, 10 * 44 + 5)!
    expect(a.key).toBe('k10')
    const measured = new Array(20).fill(44)
    measured[3] = 120
    measured[7] = 20
    const o = layout(measured)
    const y = restoreAnchor(o, (key) => k.indexOf(key), a)!
    expect(y).toBe(10 * 44 + 76 - 24 + 5)
  })

  it('a day separator is no anchor: it moves up when older messages of its day come in', () => {
    const k = ['day', 'm81', 'm82']
    const o = layout([40, 44, 44])
    const a = anchorAt(o, k, 0, (i) => k[i] !== 'day')!
    expect(a).toEqual({ key: 'm81', delta: 40 })
    // Thirty older messages of the same day: the separator is now above them, m81 further down.
    const after = ['day', ...keys(30), 'm81', 'm82']
    const o2 = layout([40, ...new Array(30).fill(44), 44, 44])
    const y = restoreAnchor(o2, (key) => after.indexOf(key), a)!
    expect(y).toBe(30 * 44)
    expect(anchorAt(o, k, 0)).toEqual({ key: 'day', delta: 0 })
  })

  it('a row that is gone gives no anchor position', () => {
    const o = layout([10, 10])
    expect(restoreAnchor(o, () => -1, { key: 'x', delta: 0 })).toBeNull()
    expect(anchorAt(o, [], 0)).toBeNull()
  })
})
