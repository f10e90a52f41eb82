/**
 * Time in Casefile is a branded bigint of nanoseconds since the Unix epoch (UTC), never a bare number.
 * Conversions that lose precision say so in their name (`toMillisLossy`).
 */
export type Nanos = bigint & { readonly __brand: 'Nanos' };
/** A duration in nanoseconds (may be negative, e.g. a clock offset). */
export type DurationNs = bigint & { readonly __brand: 'DurationNs' };

export const nanos = (v: bigint): Nanos => v as Nanos;
export const durationNs = (v: bigint): DurationNs => v as DurationNs;

export const NS_PER_US = 1_000n;
export const NS_PER_MS = 1_000_000n;
export const NS_PER_S = 1_000_000_000n;

/** Which clock a timestamp was read from, kept with every event so a reader can tell raw from corrected time. */
export type ClockKind =
  | 'host-wall' // the host's wall clock (date, strace -tt, syslog)
  | 'boot' // seconds since boot (dmesg raw), converted with a measured boot instant
  | 'capture' // the capturing host's clock as written in a pcap
  | 'collector' // our own clock when we received the bytes
  | 'none'; // no usable time

export function fromMillis(ms: number): Nanos {
  return nanos(BigInt(Math.round(ms)) * NS_PER_MS);
}

export function toMillisLossy(t: bigint): number {
  return Number(t / NS_PER_US) / 1000;
}

/**
 * Parse a decimal seconds string ("927063.519245", "1700000000.123456789") to nanoseconds exactly,
 * without going through a float. Returns undefined on anything that is not digits[.digits].
 */
export function secondsTextToNanos(text: string): bigint | undefined {
  const m = /^\s*(-)?(\d+)(?:\.(\d{1,9})\d*)?\s*$/.exec(text);
  if (!m) return undefined;
  const whole = BigInt(m[2]!);
  const frac = m[3] ? BigInt(m[3].padEnd(9, '0')) : 0n;
  const v = whole * NS_PER_S + frac;
  return m[1] ? -v : v;
}

/** ISO 8601 UTC with nanosecond precision trimmed to the digits given (default 6: microseconds). */
export function toIso(t: bigint, fractionDigits = 6): string {
  const neg = t < 0n;
  const abs = neg ? -t : t;
  let secs = abs / NS_PER_S;
  let frac = abs % NS_PER_S;
  if (neg && frac !== 0n) {
    secs = secs + 1n;
    frac = NS_PER_S - frac;
  }
  const s = neg ? -Number(secs) : Number(secs);
  const d = new Date(s * 1000);
  const base = d.toISOString().slice(0, 19);
  if (fractionDigits <= 0) return `${base}Z`;
  const f = frac.toString().padStart(9, '0').slice(0, Math.min(9, fractionDigits));
  return `${base}.${f}Z`;
}

/** Parse an ISO 8601 / RFC 3339 instant (with zone) to nanoseconds, keeping sub-millisecond digits. */
export function parseIso(text: string): Nanos | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(?:[.,](\d{1,9})\d*)?\s*(Z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (!m) return undefined;
  const zone = m[4] ?? 'Z';
  const z = zone === 'Z' ? 'Z' : zone.length === 5 ? `${zone.slice(0, 3)}:${zone.slice(3)}` : zone;
  const ms = Date.parse(`${m[1]}T${m[2]}${z}`);
  if (Number.isNaN(ms)) return undefined;
  const frac = m[3] ? BigInt(m[3].padEnd(9, '0')) : 0n;
  return nanos(BigInt(ms) * NS_PER_MS + frac);
}

export function formatDuration(ns: bigint): string {
  const abs = ns < 0n ? -ns : ns;
  const sign = ns < 0n ? '-' : '';
  if (abs < NS_PER_US) return `${sign}${abs} ns`;
  if (abs < NS_PER_MS) return `${sign}${(Number(abs) / 1e3).toFixed(1)} µs`;
  if (abs < NS_PER_S) return `${sign}${(Number(abs) / 1e6).toFixed(1)} ms`;
  return `${sign}${(Number(abs) / 1e9).toFixed(3)} s`;
}
