// A message's text with its basic formatting (see `lib/markup.ts`): every piece of the
// user's text becomes a text node, never HTML.
import { computed, defineComponent, h } from 'vue'
import { parseMarkup, renderMarkup } from '../lib/markup'

export default defineComponent({
  name: 'RichText',
  props: { text: { type: String, required: true } },
  setup(props) {
    const nodes = computed(() => parseMarkup(props.text))
    return () => h('span', { 'data-testid': 'message-text' }, renderMarkup(nodes.value))
  },
})
