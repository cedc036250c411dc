import { describe, expect, it, vi } from 'vitest'
import { Socket, backoffDelay } from '../src/lib/socket'
import { fitBox, initials, linkify, preview, typingText } from '../src/lib/format'
import { uuid } from '../src/lib/uuid'
import { msg } from './helpers'

describe('backoff', () => {
  it('grows exponentially, is capped, and is jittered between half and all of the cap', () => {
    expect(backoffDelay(0, 500, 30000, () => 0)).toBe(250)
    expect(backoffDelay(0, 500, 30000, () => 1)).toBe(500)
    expect(backoffDelay(3, 500, 30000, () => 1)).toBe(4000)
    expect(backoffDelay(30, 500, 30000, () => 1)).toBe(30000)
    expect(backoffDelay(30, 500, 30000, () => 0)).toBe(15000)
  })
})

class FakeWS {
  static all: FakeWS[] = []
  readyState = 0
  sent: string[] = []
  onopen: (() => void) | null = null
  onclose: ((ev?: { code: number }) => void) | null = null
  onmessage: ((m: { data: string }) => void) | null = null
  onerror: (() => void) | null = null
  constructor(public url: string) {
    FakeWS.all.push(this)
  }
  open() {
    this.readyState = 1
    this.onopen?.()
  }
  send(s: string) {
    this.sent.push(s)
  }
  close(code = 1006) {
    this.readyState = 3
    this.onclose?.({ code })
  }
}

describe('Socket', () => {
  it('reconnects with backoff, tells reconnects apart and forwards events', async () => {
    vi.useFakeTimers()
    FakeWS.all = []
    const opens: boolean[] = []
    const events: unknown[] = []
    let n = 0
    const s = new Socket({
      url: async () => `ws://x/api/ws?ticket=${++n}`,
      onEvent: (e) => events.push(e),
      onOpen: (r) => opens.push(r),
      WebSocketImpl: FakeWS as unknown as typeof WebSocket,
      random: () => 1,
      baseDelay: 100,
    })
    s.start()
    await vi.advanceTimersByTimeAsync(0)
    expect(FakeWS.all).toHaveLength(1)
    FakeWS.all[0].open()
    FakeWS.all[0].onmessage?.({ data: '{"type":"typing","conversation_id":"c","data":{"user_id":"u"}}' })
    FakeWS.all[0].onmessage?.({ data: 'not json' })
    expect(events).toHaveLength(1)
    expect(s.send({ type: 'typing' })).toBe(true)
    FakeWS.all[0].close()
    expect(s.status).toBe('waiting')
    await vi.advanceTimersByTimeAsync(99)
    expect(FakeWS.all).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(FakeWS.all).toHaveLength(2)
    expect(FakeWS.all[1].url).toContain('ticket=2')
    FakeWS.all[1].close() // fails again: the next wait doubles
    await vi.advanceTimersByTimeAsync(199)
    expect(FakeWS.all).toHaveLength(2)
    await vi.advanceTimersByTimeAsync(1)
    FakeWS.all[2].open()
    expect(opens).toEqual([false, true])
    s.stop()
    expect(s.send({})).toBe(false)
    vi.useRealTimers()
  })

  it('signs out on 4001 "session ended" and backs off the most on 4008 "too many connections"', async () => {
    vi.useFakeTimers()
    FakeWS.all = []
    let fatal = 0
    const s = new Socket({
      url: async () => 'ws://x/api/ws',
      onFatal: () => fatal++,
      onEvent: () => {},
      onOpen: () => {},
      WebSocketImpl: FakeWS as unknown as typeof WebSocket,
      random: () => 1,
      baseDelay: 100,
      maxDelay: 30000,
    })
    s.start()
    await vi.advanceTimersByTimeAsync(0)
    FakeWS.all[0].open()
    FakeWS.all[0].close(4008)
    await vi.advanceTimersByTimeAsync(29999)
    expect(FakeWS.all).toHaveLength(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(FakeWS.all).toHaveLength(2)
    FakeWS.all[1].open()
    FakeWS.all[1].close(4001)
    expect(fatal).toBe(1)
    expect(s.status).toBe('idle')
    await vi.advanceTimersByTimeAsync(60000)
    expect(FakeWS.all).toHaveLength(2)
    vi.useRealTimers()
  })

  it('stops when fetching the URL says the session ended', async () => {
    let fatal = false
    const s = new Socket({
      url: async () => {
        throw new Error('401')
      },
      isFatal: () => true,
      onFatal: () => (fatal = true),
      onEvent: () => {},
      onOpen: () => {},
      WebSocketImpl: FakeWS as unknown as typeof WebSocket,
    })
    s.start()
    await new Promise((r) => setTimeout(r, 0))
    expect(fatal).toBe(true)
    expect(s.status).toBe('idle')
  })
})

describe('format', () => {
  it('linkify keeps everything as text segments and only http(s) links as links', () => {
    const s = linkify('see https://example.com/a?b=1. and <img src=x onerror=alert(1)> javascript:alert(1)')
    expect(s[0]).toEqual({ kind: 'text', text: 'see ' })
    expect(s[1]).toEqual({ kind: 'link', text: 'https://example.com/a?b=1', href: 'https://example.com/a?b=1' })
    expect(s.filter((x) => x.kind === 'link')).toHaveLength(1)
    expect(s.map((x) => x.text).join('')).toBe('see https://example.com/a?b=1. and <img src=x onerror=alert(1)> javascript:alert(1)')
  })
  it('typing text', () => {
    expect(typingText(['Bob'])).toBe('Bob is typing…')
    expect(typingText(['Bob', 'Ann'])).toBe('2 people are typing…')
  })
  it('fitBox never upscales', () => {
    expect(fitBox(1600, 900, 330, 340)).toEqual({ width: 330, height: 186 })
    expect(fitBox(64, 64, 330, 340)).toEqual({ width: 64, height: 64 })
  })
  it('preview', () => {
    expect(preview(msg('c', 1, 'me', 'hi'), 'me', () => 'X', false).prefix).toBe('You: ')
    expect(preview({ ...msg('c', 1, 'b', ''), deleted: true }, 'me', () => 'Bob', true)).toMatchObject({ prefix: 'Bob: ', deleted: true })
    expect(preview({ ...msg('c', 1, 'b', ''), photo: { url: 'u', width: 1, height: 1 } }, 'me', () => 'Bob', false)).toMatchObject({ text: 'Photo', photo: true })
  })
  it('initials never split an emoji', () => {
    expect(initials('Weekend trip 🏕')).toBe('WT')
    expect(initials('Alice Liddell')).toBe('AL')
    expect(initials('bob')).toBe('BO')
    expect(initials('🏕')).toBe('🏕')
    expect(initials('Élodie Ärger')).toBe('ÉÄ')
  })
  it('uuid', () => {
    expect(uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
  })
})
