import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EVENT_KINDS, LEVELS } from '../../shared/model/event';
import type { ParsedEvent } from '../../shared/model/event';

const CLOCKS = new Set(['host-wall', 'boot', 'capture', 'collector', 'none']);
const KINDS = new Set<string>(EVENT_KINDS);
const LEVEL_SET = new Set<string>(LEVELS);

export const FIXTURES = join(__dirname, '..', 'fixtures');

/** Every regular file under the given fixture folders (recursively), as bytes, with its relative path. */
export function loadFixtures(subdirs: readonly string[], filter: (name: string) => boolean = () => true): { name: string; bytes: Uint8Array }[] {
  const out: { name: string; bytes: Uint8Array }[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const e of readdirSync(dir).sort()) {
      const p = join(dir, e);
      const r = rel ? `${rel}/${e}` : e;
      if (statSync(p).isDirectory()) walk(p, r);
      else if (e !== 'PROVENANCE.md' && filter(r)) out.push({ name: r, bytes: new Uint8Array(readFileSync(p)) });
    }
  };
  for (const s of subdirs) walk(join(FIXTURES, s), s);
  return out;
}

/** Problems with one event; empty when it is well-formed. */
export function eventProblems(e: ParsedEvent): string[] {
  const p: string[] = [];
  if (typeof e !== 'object' || e === null) return ['event is not an object'];
  if (!KINDS.has(e.kind)) p.push(`kind ${String(e.kind)} not in EVENT_KINDS`);
  if (typeof e.text !== 'string') p.push(`text is ${typeof e.text}`);
  if (e.ts !== undefined && typeof e.ts !== 'bigint') p.push(`ts is ${typeof e.ts}`);
  if (e.durationNs !== undefined && typeof e.durationNs !== 'bigint') p.push(`durationNs is ${typeof e.durationNs}`);
  if (!CLOCKS.has(e.clock)) p.push(`clock ${String(e.clock)}`);
  if (e.tsRaw !== undefined && typeof e.tsRaw !== 'string') p.push('tsRaw not a string');
  if (e.line !== undefined && !(Number.isInteger(e.line) && e.line >= 0)) p.push(`line ${String(e.line)}`);
  if (e.endLine !== undefined && !(Number.isInteger(e.endLine) && e.line !== undefined && e.endLine >= e.line)) p.push(`endLine ${String(e.endLine)} (line ${String(e.line)})`);
  if (e.pid !== undefined && !Number.isSafeInteger(e.pid)) p.push(`pid ${String(e.pid)}`);
  if (e.level !== undefined && !LEVEL_SET.has(e.level)) p.push(`level ${String(e.level)}`);
  if (typeof e.data !== 'object' || e.data === null || Array.isArray(e.data)) p.push('data is not an object');
  else {
    try {
      JSON.stringify(e.data);
    } catch (err) {
      p.push(`data not JSON-serialisable: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return p;
}

/** Keep a failing input on disk so it can be replayed or added to the fixtures; returns its path. */
export function saveFailure(tag: string, bytes: Uint8Array): string {
  const dir = join(tmpdir(), 'casefile-fuzz');
  mkdirSync(dir, { recursive: true });
  const p = join(dir, `${tag.replace(/[^A-Za-z0-9_.-]/g, '_')}.bin`);
  writeFileSync(p, bytes);
  return p;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}${err.stack ? ` @ ${err.stack.split('\n').slice(1, 3).join(' | ').trim()}` : ''}`;
  return String(err);
}
