// Bundle the desktop entry points (main: ESM, preload: CommonJS as sandboxed preloads require) into dist-electron/.
// Native and Electron modules stay external. Run: node scripts/build-electron.mjs
import { build } from 'esbuild';
const external = ['electron', 'better-sqlite3', 'ssh2', 'cpu-features'];
await build({ entryPoints: ['electron/main.ts'], outfile: 'dist-electron/main.js', bundle: true, platform: 'node', format: 'esm', target: 'node22', external, banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
await build({ entryPoints: ['electron/ingest/worker.ts'], outfile: 'dist-electron/ingest-worker.js', bundle: true, platform: 'node', format: 'esm', target: 'node22', external, banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
await build({ entryPoints: ['electron/preload.ts'], outfile: 'dist-electron/preload.cjs', bundle: true, platform: 'node', format: 'cjs', target: 'node22', external: ['electron'] });
console.log('built dist-electron/main.js and dist-electron/preload.cjs');
