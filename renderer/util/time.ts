import { formatDuration, parseIso } from '../../shared/model/time';
import { formatNs, type Zone } from '../timeline/timefmt';

/** Display helpers for the decimal-string nanoseconds the contract carries. */
export function showNs(ns: string | undefined, zone: Zone, digits = 6): string {
  if (ns === undefined) return '—';
  return formatNs(BigInt(ns), zone, digits);
}

export function showDuration(ns: string | undefined): string {
  return ns === undefined ? '—' : formatDuration(BigInt(ns));
}

/** Parse a user-typed instant ("2024-05-01T12:00:03.5Z", "2024-05-01 12:00:03") as UTC when no zone is given. */
export function parseUserInstant(text: string): bigint | undefined {
  const t = text.trim();
  if (/^-?\d{10,20}$/.test(t)) return BigInt(t); // raw ns
  return parseIso(t);
}

/** Milliseconds as typed by a person ("-12.5") to a ns decimal string, exactly. */
export function msTextToNs(text: string): string | undefined {
  const m = /^\s*([+-])?(\d+)(?:\.(\d{1,6}))?\s*$/.exec(text);
  if (!m) return undefined;
  const v = BigInt(m[2]!) * 1_000_000n + BigInt((m[3] ?? '').padEnd(6, '0'));
  return (m[1] === '-' ? -v : v).toString();
}

export function nsToMsText(ns: string): string {
  const v = BigInt(ns);
  const neg = v < 0n;
  const a = neg ? -v : v;
  const frac = (a % 1_000_000n).toString().padStart(6, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${a / 1_000_000n}${frac ? `.${frac}` : ''}`;
}
