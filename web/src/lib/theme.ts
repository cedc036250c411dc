import { ref } from 'vue'

export type Theme = 'light' | 'dark' | 'system'
export const THEME_KEY = 'hubbub.theme'

function stored(): Theme {
  try {
    const v = localStorage.getItem(THEME_KEY)
    return v === 'light' || v === 'dark' ? v : 'system'
  } catch {
    return 'system'
  }
}

/** The chosen theme; `system` follows the device (`prefers-color-scheme`). */
export const theme = ref<Theme>('system')

/** `data-theme` on <html> picks the palette (styles/main.css); none means the device's. */
export function applyTheme(t: Theme, root: HTMLElement = document.documentElement) {
  if (t === 'system') delete root.dataset.theme
  else root.dataset.theme = t
}

/** Chooses a theme and keeps it for the next visits. */
export function setTheme(t: Theme) {
  theme.value = t
  try {
    if (t === 'system') localStorage.removeItem(THEME_KEY)
    else localStorage.setItem(THEME_KEY, t)
  } catch {
    /* not kept: this page still shows it */
  }
  applyTheme(t)
}

/** At start: the stored choice, before the first paint of the app. */
export function initTheme() {
  theme.value = stored()
  applyTheme(theme.value)
}
