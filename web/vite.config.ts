import { defineConfig } from 'vitest/config'
import vue from '@vitejs/plugin-vue'

// `npm run dev` proxies the API to a running `hubbub serve` (default 127.0.0.1:8080).
const api = process.env.HUBBUB_DEV_API ?? 'http://127.0.0.1:8080'

export default defineConfig({
  plugins: [vue()],
  build: {
    outDir: 'dist',
    assetsDir: 'assets',
    sourcemap: false,
    // Never inline assets as data: URLs into JS; keeps the CSP simple and caching per file.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/api': { target: api, ws: true, changeOrigin: false },
      '/media': { target: api },
    },
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.ts'],
  },
})
