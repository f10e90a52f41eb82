/**
 * Instants (bigint ns, UTC) as text in a chosen time zone. Date math goes through Intl at millisecond precision;
 * the sub-millisecond digits come straight from the bigint, so nothing below 1 ms is lost to floats.
 */
export type Zone = 'UTC' | 'local' | (string & { readonly __zone?: true });

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: Zone): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone === 'local' ? undefined : zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'shortOffset',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** True if Intl knows the zone name (user input in the zone picker). */
export function isValidZone(zone: string): boolean {
  if (zone === 'UTC' || zone === 'local') return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export interface TimeParts {
  readonly date: string; // YYYY-MM-DD
  readonly time: string; // HH:MM:SS
  readonly frac9: string; // nine digits of the second's fraction
  readonly zone: string; // "UTC", "GMT+2"
}

const NS_PER_MS = 1_000_000n;
const NS_PER_S = 1_000_000_000n;

export function timeParts(t: bigint, zone: Zone = 'UTC'): TimeParts {
  let ms = t / NS_PER_MS;
  if (t < 0n && t % NS_PER_MS !== 0n) ms -= 1n;
  let frac = t % NS_PER_S;
  if (frac < 0n) frac += NS_PER_S;
  const parts = formatter(zone).formatToParts(new Date(Number(ms)));
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  const zoneName = get('timeZoneName');
  return {
    date: `${get('year')}-${get('month')}-${get('day')}`,
    time: `${get('hour')}:${get('minute')}:${get('second')}`,
    frac9: frac.toString().padStart(9, '0'),
    zone: zone === 'UTC' || zoneName === 'GMT' || zoneName === 'GMT+0' || zoneName === 'UTC' ? 'UTC' : zoneName,
  };
}

/** "2024-05-01 12:00:03.123456 UTC" with `digits` fraction digits (0..9). */
export function formatNs(t: bigint, zone: Zone = 'UTC', digits = 6): string {
  const p = timeParts(t, zone);
  const d = Math.max(0, Math.min(9, digits));
  return `${p.date} ${p.time}${d > 0 ? `.${p.frac9.slice(0, d)}` : ''} ${p.zone}`;
}

/** Offset of `zone` from UTC at instant t, in ns (for aligning ticks to local midnight / hours). */
export function zoneOffsetNs(t: bigint, zone: Zone): bigint {
  if (zone === 'UTC') return 0n;
  const p = timeParts(t, zone);
  const m = /^(?:GMT|UTC)([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(p.zone);
  if (!m) return 0n;
  const mins = Number(m[2]) * 60 + Number(m[3] ?? '0');
  return BigInt(m[1] === '-' ? -mins : mins) * 60n * NS_PER_S;
}
