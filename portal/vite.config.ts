// The admin portal's build: a static bundle under portal/dist, served by Latchkey at /admin
// (src/admin-portal/routes.ts). No source maps and no inline script (the page's CSP allows none).
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  logLevel: 'warn',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    // everything inlined as data: URLs would need img-src data:; keep assets as files
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
  },
});
