import type { ParseContext } from '../types';
import { NS_PER_MS, NS_PER_S } from '../../model/time';

/** Month abbreviations as printed by ctime(3), syslog (RFC 3164) and dmesg --time-format reltime. */
export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'] as const;

export function monthIndex(abbr: string): number {
  return (MONTHS as readonly string[]).indexOf(abbr);
}

/** Fraction digits ("123456") to nanoseconds, exactly. */
export function fracToNanos(frac: string | undefined): bigint {
  if (!frac) return 0n;
  return BigInt(frac.slice(0, 9).padEnd(9, '0'));
}

/**
 * A local civil time (no zone written) to ns since epoch, using the context's fixed UTC offset (default UTC).
 * Returns undefined for impossible dates (Date.UTC would silently roll 31 Feb over to March).
 */
export function civilToNanos(
  year: number, month0: number, day: number, h: number, m: number, s: number, fracNs: bigint, ctx: ParseContext,
): bigint | undefined {
  if (month0 < 0 || month0 > 11 || day < 1 || day > 31 || h > 23 || m > 59 || s > 60) return undefined;
  const ms = Date.UTC(year, month0, day, h, m, s);
  const d = new Date(ms);
  if (d.getUTCDate() !== day || d.getUTCMonth() !== month0) return undefined;
  const offsetMs = (ctx.utcOffsetMinutes ?? 0) * 60_000;
  return BigInt(ms - offsetMs) * NS_PER_MS + fracNs;
}

/**
 * ctime(3) text as printed by `dmesg -T`: "Sat Nov 21 12:00:00 2026" (day padded with a space: "Jul  2").
 * The weekday is ignored (it is derived data).
 */
const CTIME = /^(?:[A-Z][a-z]{2}) ([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;
export function parseCtime(text: string, ctx: ParseContext): bigint | undefined {
  const m = CTIME.exec(text);
  if (!m) return undefined;
  const mon = monthIndex(m[1]);
  return civilToNanos(Number(m[6]), mon, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]), 0n, ctx);
}

export function isCtime(text: string): boolean {
  return CTIME.test(text);
}

/**
 * A year-less stamp (RFC 3164 syslog "Nov 21 12:00:00", strace -t "12:00:00"): the year comes from when the
 * artifact was collected; a stamp that would lie more than a day after collection belongs to the previous year
 * (a log read in January that still holds December lines). Without a collection time there is no honest answer.
 */
export function yearlessToNanos(
  month0: number, day: number, h: number, m: number, s: number, fracNs: bigint, ctx: ParseContext,
): bigint | undefined {
  if (ctx.collectedAtNs === undefined) return undefined;
  const collectedMs = Number(ctx.collectedAtNs / NS_PER_MS) + (ctx.utcOffsetMinutes ?? 0) * 60_000;
  const year = new Date(collectedMs).getUTCFullYear();
  const t = civilToNanos(year, month0, day, h, m, s, fracNs, ctx);
  if (t === undefined) return undefined;
  if (t > ctx.collectedAtNs + 86_400n * NS_PER_S) return civilToNanos(year - 1, month0, day, h, m, s, fracNs, ctx);
  return t;
}

/** Nanoseconds since local midnight of the collection day, for "HH:MM:SS[.frac]" stamps (strace -t/-tt). */
export function timeOfDayToNanos(h: number, m: number, s: number, fracNs: bigint, ctx: ParseContext): bigint | undefined {
  if (ctx.collectedAtNs === undefined) return undefined;
  const offsetNs = BigInt((ctx.utcOffsetMinutes ?? 0) * 60) * NS_PER_S;
  const localCollected = ctx.collectedAtNs + offsetNs;
  const day = 86_400n * NS_PER_S;
  const midnightLocal = localCollected - (((localCollected % day) + day) % day);
  const tod = BigInt(h * 3600 + m * 60 + s) * NS_PER_S + fracNs;
  let t = midnightLocal + tod - offsetNs;
  // A stamp later than collection (plus slack) was written before midnight of the previous day.
  if (t > ctx.collectedAtNs + 3_600n * NS_PER_S) t -= day;
  return t;
}

/** Seconds + micro/nano text "123.000456" from an integer count of microseconds (kmsg) without floats. */
export function microsToSecondsText(us: bigint): string {
  const s = us / 1_000_000n;
  const f = (us % 1_000_000n).toString().padStart(6, '0');
  return `${s}.${f}`;
}
