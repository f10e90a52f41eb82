import { parseArgs } from 'node:util';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStoreDir, dataDir } from '../store/db';
import { parseIso } from '../../shared/model/time';

/** What every CLI command shares: argument parsing, output, the store location. */
export class UsageError extends Error {}

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function out(s: string): void {
  process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
}
export function err(s: string): void {
  process.stderr.write(s.endsWith('\n') ? s : `${s}\n`);
}

export function parse<T extends Record<string, { type: 'string' | 'boolean'; multiple?: boolean; short?: string }>>(args: readonly string[], options: T, allowPositionals = true) {
  try {
    return parseArgs({ args: [...args], options: { ...options, 'data-dir': { type: 'string' } }, allowPositionals, strict: true });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function openStore(values: { 'data-dir'?: string | undefined }) {
  const dir = dataDir(values['data-dir']);
  const db = openStoreDir(dir);
  return { db, file: join(dir, 'casefile.db') };
}

export function bootTime(v: string | undefined): bigint | undefined {
  if (v === undefined) return undefined;
  const t = parseIso(v);
  if (t === undefined) throw new UsageError(`--boot-time ${JSON.stringify(v)} is not an ISO 8601 instant (e.g. 2026-11-21T09:00:00.123456Z)`);
  return t;
}

