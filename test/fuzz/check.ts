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

/**
 * Errors the code under test catches and turns into output, which the fuzz checks must still see as failures:
 *   - guarded() (shared/parsers/common/lines.ts) turns a parser exception into a note with data.error === true;
 *   - parseText turns a failing parser factory into a warning "cannot create parser for ...";
 *   - the capture decoder turns an exception in push() into a warning "internal decoder error, ...";
 *   - the RPC tracker (shared/rpc/tracker.ts) keeps a program decoder's exception as detail.decodeError
 *     (XdrShort, "message too short", is expected and not recorded).
 */

/**
 * Program decoders reject malformed input on purpose with messages that start with lower-case "bad " or
 * "unknown " (nfs4.ts: 'bad claim', 'unknown NFSv4 operation N'; nfs4common.ts: 'unknown delegation type';
 * nfs4cb.ts: 'unknown callback operation N'). JavaScript's own errors (TypeError "Cannot read properties ...",
 * "... is not a function", RangeError "Invalid typed array length", "Maximum call stack size exceeded") never do.
 */
const DELIBERATE_DECODE_ERROR = /^(?:bad|unknown) [A-Za-z]/;

export function isDeliberateDecodeError(message: string): boolean {
  return DELIBERATE_DECODE_ERROR.test(message);
}

/** Internal errors a text parser's output shows (swallowed exceptions); empty when there are none. */
export function parserInternalErrors(events: readonly ParsedEvent[], warnings: readonly string[]): string[] {
  const p: string[] = [];
  for (const e of events) if (e.kind === 'note' && e.data.error === true) p.push(`swallowed parser error: ${e.text.slice(0, 300)}`);
  for (const w of warnings) if (w.startsWith('cannot create parser for ')) p.push(`swallowed: ${w.slice(0, 300)}`);
  return p;
}

/** Internal errors a capture decode shows: "internal decoder error" warnings and unexpected RPC decodeErrors. */
export function captureInternalErrors(events: readonly ParsedEvent[], warnings: readonly string[]): string[] {
  const p: string[] = [];
  for (const w of warnings) if (w.includes('internal decoder error')) p.push(`swallowed: ${w.slice(0, 300)}`);
  for (const e of events) {
    const detail = e.data.detail;
    if (typeof detail !== 'object' || detail === null) continue;
    const err = (detail as { readonly decodeError?: unknown }).decodeError;
    if (err === undefined) continue;
    if (typeof err !== 'string') p.push(`decodeError is ${typeof err}`);
    else if (!isDeliberateDecodeError(err)) p.push(`swallowed RPC decode error (${String(e.data.program)} ${String(e.data.procedure)}): ${err.slice(0, 300)}`);
  }
  return p;
}
