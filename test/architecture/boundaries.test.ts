import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname, sep } from 'node:path';

/**
 * The process boundary as a test (VS Code keeps it as a lint rule, Perfetto as a script):
 * - shared/ imports nothing outside shared/: no Node built-ins, no electron, no react; npm packages that are
 *   pure (zod, yaml) are allowed;
 * - renderer/ never imports electron/ or `electron`;
 * - only electron/main.ts and electron/preload.ts import `electron`.
 */
const root = resolve(__dirname, '..', '..');

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (/\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** Static import specifiers of a file: import/export ... from '...', import('...'), require('...'). */
export function importsOf(text: string): string[] {
  const specs: string[] = [];
  const re = /(?:^|[\s;])(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;(=])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/gm;
  for (const m of text.matchAll(re)) specs.push((m[1] ?? m[2] ?? m[3] ?? m[4])!);
  return specs;
}

const PURE_PACKAGES = new Set(['zod', 'yaml']);

describe('import boundaries', () => {
  it('finds imports the way the rule needs (self-check)', () => {
    expect(importsOf(`import { a } from './x';\nimport type { B } from "../y";\nexport * from './z';\nconst m = await import('node:fs');\nimport 'side';`)).toEqual(['./x', '../y', './z', 'node:fs', 'side']);
  });

  it('shared/ imports only shared/ and pure packages', () => {
    const bad: string[] = [];
    const sharedDir = join(root, 'shared');
    for (const f of walk(sharedDir)) {
      for (const s of importsOf(readFileSync(f, 'utf8'))) {
        if (s.startsWith('.')) {
          const target = resolve(dirname(f), s);
          if (target !== sharedDir && !target.startsWith(sharedDir + sep)) bad.push(`${relative(root, f)} -> ${s}`);
        } else {
          const pkg = s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0]!;
          if (!PURE_PACKAGES.has(pkg)) bad.push(`${relative(root, f)} -> ${s}`);
        }
      }
    }
    expect(bad).toEqual([]);
  });

  it('renderer/ never imports electron/ or electron', () => {
    const bad: string[] = [];
    const electronDir = join(root, 'electron');
    for (const f of walk(join(root, 'renderer'))) {
      for (const s of importsOf(readFileSync(f, 'utf8'))) {
        if (s === 'electron' || s.startsWith('electron/')) bad.push(`${relative(root, f)} -> ${s}`);
        if (s.startsWith('.') && resolve(dirname(f), s).startsWith(electronDir)) bad.push(`${relative(root, f)} -> ${s}`);
        if (s.startsWith('node:')) bad.push(`${relative(root, f)} -> ${s}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('only electron/main.ts and electron/preload.ts import electron', () => {
    const allowed = new Set(['electron/main.ts', 'electron/preload.ts']);
    const importers: string[] = [];
    for (const top of ['electron', 'shared', 'renderer', 'test', 'scripts']) {
      for (const f of walk(join(root, top))) {
        if (importsOf(readFileSync(f, 'utf8')).some((s) => s === 'electron' || s.startsWith('electron/'))) importers.push(relative(root, f));
      }
    }
    expect(importers.filter((f) => !allowed.has(f))).toEqual([]);
    expect(importers.sort()).toEqual([...allowed].sort());
  });
});
