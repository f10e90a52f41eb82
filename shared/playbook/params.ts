import { DURATION_PATTERN, parseDurationMs } from './duration';
import type { ExtractType, ParameterDef } from './schema';

/**
 * Typed validation of every value that can reach a command line: playbook parameters given by a person and
 * values extracted from evidence (which is attacker-influenced: a process name or a mount source on a
 * compromised host). Validation is an allow-list per type; quoting in render.ts is the second, independent
 * layer, so neither has to be perfect alone.
 */

/** Anything that reads as something else on a terminal or in a shell: C0/C1 controls (NUL, newline, ESC),
 * format characters (bidi overrides, zero-width joiners), lone surrogates, line/paragraph separators. */
const FORBIDDEN_CHARS = /[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]/u;
const MAX_TEXT = 4096; // PATH_MAX

/** The kernel's PID_MAX_LIMIT on 64-bit (4 * 1024 * 1024). */
export const PID_MAX = 4_194_304;

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const IPV4_RE = /^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$/;
const IPV6_RE = /^[0-9A-Fa-f:.]{2,45}$/;
/** A case host name: an ssh alias or user@host:port as the user typed it (never rendered unless a step asks). */
const CASE_HOST_RE = /^[A-Za-z0-9_][A-Za-z0-9_.@:%+-]{0,252}$/;
const WORD_RE = /^[A-Za-z0-9._:@%+=,/][A-Za-z0-9._:@%+=,/-]{0,255}$/;

export type CheckResult = { readonly ok: true; readonly value: string } | { readonly ok: false; readonly error: string };
const ok = (value: string): CheckResult => ({ ok: true, value });
const bad = (error: string): CheckResult => ({ ok: false, error });

/** What a value is checked against: a parameter definition, or an extract type. */
export type ValueDef = ParameterDef | { readonly type: ExtractType };

export function describeChars(v: string): string {
  return JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v);
}

function textGuard(v: string): string | undefined {
  if (v.length === 0) return 'is empty';
  if (v.length > MAX_TEXT) return `is longer than ${MAX_TEXT} characters`;
  if (FORBIDDEN_CHARS.test(v)) return 'contains a control, format or line-separator character (NUL, newline, ESC, bidi...)';
  return undefined;
}

export function isAddress(v: string): boolean {
  if (IPV4_RE.test(v)) return true;
  if (v.includes(':')) return IPV6_RE.test(v) && (v.match(/:/g)?.length ?? 0) >= 2;
  return HOSTNAME_RE.test(v) && !/^[0-9.]+$/.test(v);
}

/** Check one scalar value; `caseHosts` lists the run's host names for `host` parameters. */
export function checkScalar(def: ValueDef, raw: unknown, caseHosts?: readonly string[]): CheckResult {
  if (def.type === 'hosts') return bad('is a host set, not a single value');
  let v: string;
  if (typeof raw === 'number' && Number.isFinite(raw) && Number.isInteger(raw)) v = String(raw);
  else if (typeof raw === 'string') v = raw;
  else return bad(`must be text, got ${raw === null ? 'null' : typeof raw}`);
  const g = textGuard(v);
  if (g) return bad(g);
  switch (def.type) {
    case 'pid': {
      // ASCII digits only: \d would not admit fullwidth digits either, but say it explicitly.
      if (!/^[1-9][0-9]{0,6}$/.test(v)) return bad(`must be a process id (digits only, no sign or spaces), got ${describeChars(v)}`);
      if (Number(v) > PID_MAX) return bad(`must be at most ${PID_MAX}`);
      return ok(v);
    }
    case 'int': {
      if (!/^-?(?:0|[1-9][0-9]{0,14})$/.test(v)) return bad(`must be an integer, got ${describeChars(v)}`);
      const n = Number(v);
      if ('min' in def && def.min !== undefined && n < def.min) return bad(`must be at least ${def.min}`);
      if ('max' in def && def.max !== undefined && n > def.max) return bad(`must be at most ${def.max}`);
      return ok(v);
    }
    case 'path': {
      if (!v.startsWith('/')) return bad(`must be an absolute path starting with /, got ${describeChars(v)}`);
      return ok(v);
    }
    case 'address':
      return isAddress(v) ? ok(v) : bad(`must be a host name or IP address, got ${describeChars(v)}`);
    case 'host': {
      if (!CASE_HOST_RE.test(v)) return bad(`must be a case host name, got ${describeChars(v)}`);
      if (caseHosts && !caseHosts.includes(v)) return bad(`names no host of this run (${caseHosts.join(', ') || 'none'}): ${describeChars(v)}`);
      return ok(v);
    }
    case 'duration': {
      const ms = parseDurationMs(v);
      if (ms === undefined) return bad(`must be a duration like 30s, 500ms, 2m (pattern ${DURATION_PATTERN}), got ${describeChars(v)}`);
      if ('max' in def && def.max !== undefined) {
        const maxMs = parseDurationMs(def.max);
        if (maxMs !== undefined && ms > maxMs) return bad(`must be at most ${def.max}`);
      }
      return ok(v);
    }
    case 'enum':
      return def.values.includes(v) ? ok(v) : bad(`must be one of ${def.values.join(', ')}, got ${describeChars(v)}`);
    case 'string': {
      const max = def.max_length ?? 256;
      if (v.length > max) return bad(`must be at most ${max} characters`);
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${def.pattern})$`, 'u');
      } catch {
        return bad(`cannot be checked: the playbook's pattern ${describeChars(def.pattern)} is not a valid regular expression`);
      }
      return re.test(v) ? ok(v) : bad(`must match ${def.pattern}, got ${describeChars(v)}`);
    }
    case 'word':
      return WORD_RE.test(v) ? ok(v) : bad(`must be a plain word (letters, digits, ._:@%+=,/-), got ${describeChars(v)}`);
    default: {
      const never: never = def;
      return bad(`has an unknown type ${String((never as { type: unknown }).type)}`);
    }
  }
}

/** A `hosts` parameter: a list (or comma/space separated text) of case host names. */
export function checkHostSet(raw: unknown, caseHosts?: readonly string[]): { ok: true; value: readonly string[] } | { ok: false; error: string } {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(/[\s,]+/).filter((s) => s.length > 0) : undefined;
  if (!items) return { ok: false, error: 'must be a list of host names' };
  const out: string[] = [];
  for (const item of items) {
    const r = checkScalar({ type: 'host' }, item, caseHosts);
    if (!r.ok) return { ok: false, error: `item ${describeChars(String(item))} ${r.error}` };
    if (!out.includes(r.value)) out.push(r.value);
  }
  return { ok: true, value: out };
}
