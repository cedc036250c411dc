// A search result's snippet, as the server sends it: the message's text HTML-escaped, with
// each matched word wrapped in `<mark>…</mark>`. It is never handed to v-html: it is split
// into parts that are rendered as text nodes, marked or not, so nothing but `<mark>` can ever
// become markup (a `<b>` in the text arrives as `&lt;b&gt;` and is shown as typed).

export interface SnippetPart {
  text: string
  mark: boolean
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" }

/** The server's escaping undone (only the five entities it writes; anything else stays). */
export function unescapeHtml(text: string): string {
  return text.replace(/&(?:amp|lt|gt|quot|#39);/g, (e) => ENTITIES[e])
}

/** The snippet as text parts; an unbalanced `<mark>` marks up to the end, a stray `</mark>` is dropped. */
export function snippetParts(snippet: string): SnippetPart[] {
  const parts: SnippetPart[] = []
  let mark = false
  for (const piece of snippet.split(/(<mark>|<\/mark>)/)) {
    if (piece === '<mark>') mark = true
    else if (piece === '</mark>') mark = false
    else if (piece) {
      const text = unescapeHtml(piece)
      const last = parts[parts.length - 1]
      if (last && last.mark === mark) last.text += text
      else parts.push({ text, mark })
    }
  }
  return parts
}
