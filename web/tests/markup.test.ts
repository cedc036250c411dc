import { describe, expect, it } from 'vitest'
import { mount } from '@vue/test-utils'
import { parseMarkup, plainText, safeHref } from '../src/lib/markup'
import RichText from '../src/components/RichText'
import MessageBubble from '../src/components/MessageBubble.vue'
import { msg } from './helpers'

function html(text: string): string {
  return mount(RichText, { props: { text } }).html()
}

describe('markup', () => {
  it('bold, italic, strike, inline code and code blocks', () => {
    expect(parseMarkup('a *b* _i_ ~s~ `c`')).toEqual([
      { kind: 'text', text: 'a ' },
      { kind: 'bold', children: [{ kind: 'text', text: 'b' }] },
      { kind: 'text', text: ' ' },
      { kind: 'italic', children: [{ kind: 'text', text: 'i' }] },
      { kind: 'text', text: ' ' },
      { kind: 'strike', children: [{ kind: 'text', text: 's' }] },
      { kind: 'text', text: ' ' },
      { kind: 'code', text: 'c' },
    ])
    expect(parseMarkup('run:\n```\nlet *x* = `1`\n```\ndone')).toEqual([
      { kind: 'text', text: 'run:\n' },
      { kind: 'pre', text: 'let *x* = `1`' },
      { kind: 'text', text: 'done' },
    ])
    const m = mount(RichText, { props: { text: '*bold* _it_ ~gone~ `x<y`' } })
    expect(m.find('strong').text()).toBe('bold')
    expect(m.find('em').text()).toBe('it')
    expect(m.find('s').text()).toBe('gone')
    expect(m.find('code').text()).toBe('x<y')
  })

  it('nests, and leaves unbalanced or mid-word markers as typed', () => {
    expect(parseMarkup('*bold _and italic_*')).toEqual([
      { kind: 'bold', children: [{ kind: 'text', text: 'bold ' }, { kind: 'italic', children: [{ kind: 'text', text: 'and italic' }] }] },
    ])
    for (const text of ['*open', 'close*', 'snake_case_name', '2*3*4', '* not bold *', '**', '~~', '`', 'a ``` b', '*_x*_', '*a\nb*']) {
      expect(plainText(parseMarkup(text)), text).toBe(text.replace(/^\*_x\*_$/, '_x_'))
    }
    expect(parseMarkup('snake_case_name')).toEqual([{ kind: 'text', text: 'snake_case_name' }])
    expect(parseMarkup('*a\nb*')).toEqual([{ kind: 'text', text: '*a\nb*' }])
    // Deep nesting is cut off, not recursed forever.
    const deep = '*_~'.repeat(50) + 'x' + '~_*'.repeat(50)
    expect(plainText(parseMarkup(deep)).includes('x')).toBe(true)
  })

  it('links are clickable, http(s) only, and never formatted inside', () => {
    const m = mount(RichText, { props: { text: 'see *https://example.com/a_b_c* and https://x.org/p.' } })
    const links = m.findAll('a')
    expect(links.map((a) => a.attributes('href'))).toEqual(['https://example.com/a_b_c', 'https://x.org/p'])
    for (const a of links) {
      expect(a.attributes('target')).toBe('_blank')
      expect(a.attributes('rel')).toBe('noopener noreferrer nofollow')
    }
    expect(m.find('strong a').exists()).toBe(true)
    expect(m.find('em').exists()).toBe(false)
  })

  it('hostile input stays text', () => {
    const hostile = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      'javascript:alert(1)',
      '[x](javascript:alert(1))',
      '*<b>not html</b>*',
      '`<script>alert(1)</script>`',
      '```<iframe src="javascript:alert(1)"></iframe>```',
      'https://example.com/"><script>alert(1)</script>',
      'JAVASCRIPT://%0aalert(1)',
      'data:text/html,<script>alert(1)</script>',
    ]
    for (const text of hostile) {
      const m = mount(RichText, { props: { text } })
      expect(m.findAll('script'), text).toHaveLength(0)
      expect(m.findAll('img'), text).toHaveLength(0)
      expect(m.findAll('iframe'), text).toHaveLength(0)
      expect(m.findAll('b'), text).toHaveLength(0)
      for (const a of m.findAll('a')) expect(a.attributes('href'), text).toMatch(/^https?:\/\//)
      expect(m.text(), text).toBe(plainText(parseMarkup(text)))
    }
    expect(html('<script>alert(1)</script>')).toContain('&lt;script&gt;')
    expect(safeHref('javascript:alert(1)')).toBeNull()
    expect(safeHref('https://example.com')).toBe('https://example.com/')
  })
})

describe('link preview card', () => {
  const base = { mine: false, first: true, canDelete: false, canEdit: false, showInfo: false, nameOf: () => 'X', myId: 'me' }
  it('shows the preview under the text, as text and a safe link', () => {
    const message = msg('c', 1, 'b', 'look https://example.com', {
      link_preview: {
        url: 'https://example.com',
        title: '<b>Title</b>',
        description: 'About it',
        site_name: 'Example',
        image: { url: '/media/p.jpg', width: 600, height: 300 },
      },
    })
    const m = mount(MessageBubble, { props: { ...base, message } })
    const card = m.find('[data-testid="link-preview"]')
    expect(card.attributes('href')).toBe('https://example.com/')
    expect(card.attributes('rel')).toBe('noopener noreferrer nofollow')
    expect(card.attributes('target')).toBe('_blank')
    expect(card.text()).toContain('<b>Title</b>')
    expect(card.find('b').exists()).toBe(false)
    expect(card.find('img').attributes('src')).toBe('/media/p.jpg')
  })
  it('shows no card without a preview, on a deleted message, or for a non-http URL', () => {
    const plain = mount(MessageBubble, { props: { ...base, message: msg('c', 1, 'b', 'hi') } })
    expect(plain.find('[data-testid="link-preview"]').exists()).toBe(false)
    const bad = msg('c', 2, 'b', 'x', { link_preview: { url: 'javascript:alert(1)', title: 't', description: null, site_name: null, image: null } })
    expect(mount(MessageBubble, { props: { ...base, message: bad } }).find('[data-testid="link-preview"]').exists()).toBe(false)
    const gone = { ...bad, deleted: true, link_preview: { ...bad.link_preview!, url: 'https://e.com' } }
    expect(mount(MessageBubble, { props: { ...base, message: gone } }).find('[data-testid="link-preview"]').exists()).toBe(false)
  })
})
