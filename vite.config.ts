import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const root = dirname(fileURLToPath(import.meta.url));

/**
 * Renderer build. `base: './'` so the same bundle loads from file:// (Electron) and from `casefile serve`;
 * workers as ES modules because Monaco's editor worker is an ES module (see notes/toolchain.md).
 * Nothing is fetched from a CDN: Monaco is bundled whole (renderer/monaco/setup.ts).
 */
export default defineConfig({
  root: resolve(root, 'renderer'),
  base: './',
  plugins: [react()],
  worker: { format: 'es' },
  build: {
    outDir: resolve(root, 'dist/renderer'),
    emptyOutDir: true,
    chunkSizeWarningLimit: 8000,
    rollupOptions: { input: resolve(root, 'renderer/index.html') },
  },
  server: { host: '127.0.0.1' },
});
