#!/usr/bin/env node
// Run a TypeScript file with tsx (used by npm scripts: schema generation, benchmarks).
import { register } from 'tsx/esm/api';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
register();
const [file, ...rest] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: run-ts.mjs FILE.ts [args]\n');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(file), ...rest];
const mod = await import(pathToFileURL(resolve(file)).href);
if (typeof mod.main === 'function') {
  const code = await mod.main(rest);
  if (typeof code === 'number') process.exitCode = code;
}
