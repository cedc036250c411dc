/**
 * The new-message sound, made with WebAudio (two short sine notes) rather than shipped as a
 * file. Browsers let an AudioContext play only once the page had a user gesture, so the
 * context is created on the first key or pointer press (`primeSound`) and reused after: by
 * the time the tab is hidden and a message comes, it may play.
 */
type Ctx = AudioContext
let ctx: Ctx | null = null
/** How many chimes were started (for tests and the e2e suite). */
export const chimeStats = { played: 0 }

function audioContextClass(): (new () => Ctx) | null {
  if (typeof window === 'undefined') return null
  const w = window as unknown as { AudioContext?: new () => Ctx; webkitAudioContext?: new () => Ctx }
  return w.AudioContext ?? w.webkitAudioContext ?? null
}

function ensure(): Ctx | null {
  if (ctx) return ctx
  const C = audioContextClass()
  if (!C) return null
  try {
    ctx = new C()
  } catch {
    ctx = null
  }
  return ctx
}

/** Listens for the first gesture, which lets the sound play later. */
export function primeSound() {
  if (typeof window === 'undefined') return
  const unlock = () => {
    const c = ensure()
    void c?.resume?.().catch(() => {})
    window.removeEventListener('pointerdown', unlock, true)
    window.removeEventListener('keydown', unlock, true)
  }
  window.addEventListener('pointerdown', unlock, true)
  window.addEventListener('keydown', unlock, true)
}

/** Plays the chime (about a quarter of a second); quietly nothing where audio cannot play. */
export function playChime() {
  const c = ensure()
  if (!c) return
  try {
    const t = c.currentTime
    const gain = c.createGain()
    gain.connect(c.destination)
    gain.gain.setValueAtTime(0.0001, t)
    gain.gain.exponentialRampToValueAtTime(0.15, t + 0.02)
    gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.3)
    for (const [freq, start] of [
      [880, 0],
      [1320, 0.09],
    ] as const) {
      const osc = c.createOscillator()
      osc.type = 'sine'
      osc.frequency.setValueAtTime(freq, t + start)
      osc.connect(gain)
      osc.start(t + start)
      osc.stop(t + 0.3)
    }
    chimeStats.played++
  } catch {
    /* audio unavailable: the notification still shows */
  }
}
