import { beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { mount } from '@vue/test-utils'
import { nextTick } from 'vue'
import { ApiError, api } from '../src/api/client'
import { MAX_UPLOAD_BYTES, checkAll, checkAttachment, formatSize, isRetryable } from '../src/lib/attachments'
import { useMessages } from '../src/stores/messages'
import { useSession } from '../src/stores/session'
import Composer from '../src/components/Composer.vue'
import { flush, msg, user } from './helpers'

const f = (name: string, size: number, type: string) => ({ name, size, type })

beforeEach(() => {
  vi.restoreAllMocks()
  setActivePinia(createPinia())
  useSession().user = user('me')
})

describe('checks before sending (defect 6)', () => {
  it('sends the four photo formats as photos and anything else as a file', () => {
    expect(checkAttachment(f('a.jpg', 10, 'image/jpeg'))).toMatchObject({ ok: true, kind: 'photo' })
    expect(checkAttachment(f('a.GIF', 10, 'IMAGE/GIF'))).toMatchObject({ ok: true, kind: 'photo' })
    expect(checkAttachment(f('a.svg', 10, 'image/svg+xml'))).toMatchObject({ ok: true, kind: 'file' })
    expect(checkAttachment(f('a.pdf', 10, 'application/pdf'))).toMatchObject({ ok: true, kind: 'file' })
    expect(checkAttachment(f('noext', 10, ''))).toMatchObject({ ok: true, kind: 'file' })
  })

  it('refuses what the server would refuse, and says why', () => {
    const big = checkAttachment(f('huge.zip', MAX_UPLOAD_BYTES + 1, 'application/zip'))
    expect(big).toMatchObject({ ok: false })
    expect(!big.ok && big.reason).toMatch(/“huge\.zip” is 20 MB; files and photos can be at most 20 MB/)
    expect(checkAttachment(f('exact.bin', MAX_UPLOAD_BYTES, ''))).toMatchObject({ ok: true })
    const photo = checkAttachment(f('big.jpg', 25 * 1024 * 1024, 'image/jpeg'))
    expect(!photo.ok && photo.reason).toMatch(/25 MB/)
    const empty = checkAttachment(f('nothing.txt', 0, 'text/plain'))
    expect(!empty.ok && empty.reason).toBe('“nothing.txt” is empty.')
    const notPhoto = checkAttachment(f('x.svg', 10, 'image/svg+xml'), 'photo')
    expect(!notPhoto.ok && notPhoto.reason).toMatch(/not a JPEG, PNG, WebP or GIF photo/)
  })

  it('sorts a mixed drop into what may go and the reasons for the rest', () => {
    const { accepted, reasons } = checkAll([f('a.png', 5, 'image/png'), f('b.iso', MAX_UPLOAD_BYTES * 2, ''), f('c.txt', 3, 'text/plain')])
    expect(accepted.map((a) => [a.file.name, a.kind])).toEqual([['a.png', 'photo'], ['c.txt', 'file']])
    expect(reasons).toHaveLength(1)
    expect(reasons[0]).toContain('b.iso')
  })

  it('formats sizes and knows which refusals a retry cannot fix', () => {
    expect([formatSize(0), formatSize(1536), formatSize(5 * 1024 * 1024), formatSize(1234567)]).toEqual(['0 B', '1.5 KB', '5 MB', '1.2 MB'])
    expect([413, 415, 422, 400].map(isRetryable)).toEqual([false, false, false, false])
    expect([undefined, 500, 503, 409].map(isRetryable)).toEqual([true, true, true, true])
  })
})

describe('the composer with attachments', () => {
  const file = (name: string, size: number, type: string) => {
    const x = new File(['x'], name, { type })
    Object.defineProperty(x, 'size', { value: size })
    return x
  }
  function setup() {
    URL.createObjectURL = vi.fn(() => 'blob:preview')
    URL.revokeObjectURL = vi.fn()
    const w = mount(Composer, { props: { conversationId: 'c1', replyTo: null, editing: null, nameOf: () => 'x' } })
    const send = vi.spyOn(useMessages(), 'send').mockImplementation(() => undefined as never)
    return { w, send, add: (files: File[]) => (w.vm as unknown as { addFiles: (f: File[]) => void }).addFiles(files) }
  }

  it('refuses a too-large file at once with the reason, and sends nothing', async () => {
    const { w, send, add } = setup()
    await add([file('movie.mkv', 30 * 1024 * 1024, 'video/x-matroska')])
    await nextTick()
    expect(w.get('[data-testid=composer-error]').text()).toContain('“movie.mkv” is 30 MB')
    expect(w.find('[data-testid=staged]').exists()).toBe(false)
    await w.get('[data-testid=send]').trigger('click')
    expect(send).not.toHaveBeenCalled()
  })

  it('sends each photo and file as its own message, the caption with the first', async () => {
    const { w, send, add } = setup()
    const a = file('a.txt', 3, 'text/plain')
    const p1 = file('p1.png', 10, 'image/png')
    const p2 = file('p2.jpg', 10, 'image/jpeg')
    void add([a, p1, p2])
    await flush()
    expect(w.findAll('[data-testid=staged-item]').map((x) => x.attributes('data-kind'))).toEqual(['file', 'photo', 'photo'])
    await w.get('[data-testid=composer-input]').setValue('three things')
    await w.get('[data-testid=send]').trigger('click')
    expect(send).toHaveBeenCalledTimes(3)
    expect(send.mock.calls.map((c) => [c[1], c[2]?.file?.name ?? null, c[2]?.photo ? (c[2].photo as File).name : null])).toEqual([
      ['three things', 'a.txt', null],
      ['', null, 'p1.png'],
      ['', null, 'p2.jpg'],
    ])
    expect(w.find('[data-testid=staged]').exists()).toBe(false)
  })
})

describe('a send the server refuses for good', () => {
  it('offers no Retry that could never work', async () => {
    const msgs = useMessages()
    vi.spyOn(api, 'send').mockRejectedValue(new ApiError(413, 'payload_too_large', 'the upload is larger than 20 MiB'))
    const blob = new File(['x'], 'x.bin')
    const p = msgs.send('c1', '', { file: blob })
    await flush()
    expect(p.state).toBe('failed')
    expect(p.retryable).toBe(false)
    msgs.retry('c1', p.client_id)
    expect(p.state).toBe('failed')
  })

  it('keeps the file on a pending message and matches the server message that has it', async () => {
    const msgs = useMessages()
    let resolve: (m: ReturnType<typeof msg>) => void = () => {}
    vi.spyOn(api, 'send').mockImplementation(() => new Promise((r) => (resolve = r)))
    const p = msgs.send('c1', '', { file: new File(['abc'], 'r.pdf') })
    expect([p.file_name, p.file_size]).toEqual(['r.pdf', 3])
    const stored = msg('c1', 1, 'me', '', { file: { url: '/media/x.bin', name: 'r.pdf', size: 3, content_type: 'application/pdf' } })
    msgs.applyMessage('c1', stored)
    expect(msgs.visiblePending('c1')).toHaveLength(0)
    resolve(stored)
    await flush()
  })
})
