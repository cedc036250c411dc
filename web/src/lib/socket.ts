import type { ServerEvent } from '../api/types'

/** The server's first frame on every socket (`docs/api-extensions.md`). */
export interface SyncFrame {
  type: 'sync'
  data: { conversations: { id: string; last_seq: number }[] }
}

export type SocketStatus = 'idle' | 'connecting' | 'open' | 'waiting'

export interface SocketOptions {
  /** Builds the URL to connect to (e.g. fetches a ticket); throwing counts as a failed attempt. */
  url: () => Promise<string>
  onEvent: (ev: ServerEvent) => void
  onOpen: (reconnect: boolean) => void
  /** The socket's first frame: where each conversation of the list stands. */
  onSync?: (frame: SyncFrame['data'], reconnect: boolean) => void
  onStatus?: (s: SocketStatus) => void
  /** Called when `url()` says the session is gone; the socket then stops. */
  isFatal?: (err: unknown) => boolean
  onFatal?: () => void
  WebSocketImpl?: typeof WebSocket
  random?: () => number
  baseDelay?: number
  maxDelay?: number
}

/** The server's close codes (see the API's `GET /api/ws`). */
export const CLOSE_SESSION_ENDED = 4001
export const CLOSE_TOO_MANY_CONNECTIONS = 4008

/** Exponential backoff with full jitter between half and all of the capped delay. */
export function backoffDelay(attempt: number, base: number, max: number, random: () => number): number {
  const cap = Math.min(max, base * 2 ** Math.min(attempt, 20))
  return Math.round(cap / 2 + random() * (cap / 2))
}

/**
 * One WebSocket per tab that keeps itself connected: reconnects with exponential backoff and
 * jitter, immediately when the browser says it is back online, and closes when it says it is
 * offline (a socket on a dead network can stay "open" for minutes).
 */
export class Socket {
  private ws: WebSocket | null = null
  private attempt = 0
  private timer: ReturnType<typeof setTimeout> | null = null
  private stopped = true
  private everOpened = false
  /** Whether an earlier socket of this one already got its `sync` frame. */
  private syncedBefore = false
  status: SocketStatus = 'idle'
  private readonly onOnline = () => this.kick()
  private readonly onOffline = () => this.drop()

  constructor(private o: SocketOptions) {}

  start() {
    if (!this.stopped) return
    this.stopped = false
    if (typeof window !== 'undefined') {
      window.addEventListener('online', this.onOnline)
      window.addEventListener('offline', this.onOffline)
    }
    void this.connect()
  }

  stop() {
    this.stopped = true
    if (typeof window !== 'undefined') {
      window.removeEventListener('online', this.onOnline)
      window.removeEventListener('offline', this.onOffline)
    }
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    const ws = this.ws
    this.ws = null
    ws?.close(1000)
    this.setStatus('idle')
  }

  /** Sends a frame if connected; returns whether it was sent. */
  send(obj: unknown): boolean {
    if (this.ws && this.ws.readyState === 1) {
      this.ws.send(JSON.stringify(obj))
      return true
    }
    return false
  }

  /** Reconnect now instead of waiting for the backoff timer. */
  kick() {
    if (this.stopped || this.status === 'open' || this.status === 'connecting') return
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    this.attempt = 0
    void this.connect()
  }

  /** Close the current connection (it will come back through the normal reconnect path). */
  drop() {
    const ws = this.ws
    if (ws) {
      this.ws = null
      ws.close(4000)
      this.scheduleReconnect()
    }
  }

  private setStatus(s: SocketStatus) {
    this.status = s
    this.o.onStatus?.(s)
  }

  private async connect() {
    if (this.stopped) return
    this.setStatus('connecting')
    let url: string
    try {
      url = await this.o.url()
    } catch (e) {
      if (this.o.isFatal?.(e)) {
        this.stop()
        this.o.onFatal?.()
        return
      }
      this.scheduleReconnect()
      return
    }
    if (this.stopped) return
    const Impl = this.o.WebSocketImpl ?? WebSocket
    let ws: WebSocket
    try {
      ws = new Impl(url)
    } catch {
      this.scheduleReconnect()
      return
    }
    this.ws = ws
    ws.onopen = () => {
      if (this.ws !== ws) return
      this.attempt = 0
      this.setStatus('open')
      const reconnect = this.everOpened
      this.everOpened = true
      this.o.onOpen(reconnect)
    }
    ws.onmessage = (m: MessageEvent) => {
      if (this.ws !== ws) return
      let ev: ServerEvent | SyncFrame
      try {
        ev = JSON.parse(typeof m.data === 'string' ? m.data : '')
      } catch {
        return
      }
      if (ev.type === 'sync') this.o.onSync?.((ev as SyncFrame).data, this.syncedBefore)
      else this.o.onEvent(ev as ServerEvent)
      if (ev.type === 'sync') this.syncedBefore = true
    }
    ws.onclose = (ev?: CloseEvent) => {
      if (this.ws !== ws) return
      this.ws = null
      const code = ev?.code
      if (code === CLOSE_SESSION_ENDED) {
        // Logged out or the password changed elsewhere: this token is dead, reconnecting
        // with it would only fail. Sign out instead.
        this.stop()
        this.o.onFatal?.()
        return
      }
      if (code === CLOSE_TOO_MANY_CONNECTIONS) {
        // Every other tab and device is still connected; wait the longest backoff before
        // trying again rather than hammering the cap.
        this.attempt = Math.max(this.attempt, 20)
      }
      this.scheduleReconnect()
    }
    ws.onerror = () => {
      /* onclose follows */
    }
  }

  private scheduleReconnect() {
    if (this.stopped) return
    this.setStatus('waiting')
    if (this.timer) clearTimeout(this.timer)
    const delay = backoffDelay(this.attempt++, this.o.baseDelay ?? 500, this.o.maxDelay ?? 30000, this.o.random ?? Math.random)
    this.timer = setTimeout(() => {
      this.timer = null
      void this.connect()
    }, delay)
  }
}
