// Start the desktop app: build the renderer and the Electron entry points, then launch Electron.
// (Electron downloads its binary on first use: this works on a normal workstation, not on offline CI machines.)
import { spawnSync } from 'node:child_process';
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
};
run(process.execPath, ['node_modules/vite/bin/vite.js', 'build']);
run(process.execPath, ['scripts/build-electron.mjs']);
run(process.execPath, ['node_modules/electron/cli.js', 'dist-electron/main.js']);
