// A message's text with its basic formatting (see `lib/markup.ts`): every piece of the
// user's text becomes a text node, never HTML.
import { computed, defineComponent, h } from 'vue'
import { parseMarkup, renderMarkup, type MentionNames } from '../lib/markup'

export default defineComponent({
  name: 'RichText',
  props: {
    text: { type: String, required: true },
    /** The names the message's mentions are written as (`mentionNames`), to mark them. */
    mentions: { type: Map as unknown as () => MentionNames, default: undefined },
  },
  setup(props) {
    const nodes = computed(() => parseMarkup(props.text, props.mentions))
    return () => h('span', { 'data-testid': 'message-text' }, renderMarkup(nodes.value))
  },
})
