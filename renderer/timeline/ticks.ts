import type { Viewport } from './coords';
import { nsToPx, spanOf } from './coords';
import { timeParts, zoneOffsetNs, type Zone } from './timefmt';

const S = 1_000_000_000n;
const MIN = 60n * S;
const H = 60n * MIN;
const D = 24n * H;

/** Tick steps from 1 ns to 30 days: 1-2-5 below a second, then the clock's own units (15 s, 30 min, 6 h...). */
export const TICK_STEPS: readonly bigint[] = (() => {
  const out: bigint[] = [];
  for (let p = 1n; p < S; p *= 10n) out.push(p, 2n * p, 5n * p);
  out.push(S, 2n * S, 5n * S, 10n * S, 15n * S, 30n * S);
  out.push(MIN, 2n * MIN, 5n * MIN, 10n * MIN, 15n * MIN, 30n * MIN);
  out.push(H, 2n * H, 3n * H, 6n * H, 12n * H);
  out.push(D, 2n * D, 7n * D, 14n * D, 30n * D);
  return out;
})();

/** The smallest step whose ticks are at least `minGapPx` apart. */
export function tickStep(vp: Viewport, minGapPx: number): bigint {
  const span = spanOf(vp);
  for (const s of TICK_STEPS) {
    if (Number((s * BigInt(Math.round(vp.widthPx))) / span) >= minGapPx) return s;
  }
  return TICK_STEPS[TICK_STEPS.length - 1]!;
}

export interface Tick {
  readonly ns: bigint;
  readonly x: number;
  readonly label: string;
}

/** Fraction digits needed to tell ticks `step` apart (1 ms -> 3, 20 µs -> 5, 1 s -> 0). */
export function digitsFor(step: bigint): number {
  let d = 0;
  let unit = S;
  while (d < 9 && step % unit !== 0n) {
    unit /= 10n;
    d++;
  }
  return d;
}

export function tickLabel(t: bigint, step: bigint, zone: Zone): string {
  const p = timeParts(t, zone);
  if (step >= D) return p.date;
  const d = digitsFor(step);
  if (step >= MIN) return p.time.slice(0, 5);
  if (d === 0) return p.time;
  // Below a millisecond, the seconds part is the context; show it and the digits that change.
  return `${p.time.slice(3)}.${p.frac9.slice(0, d)}`;
}

/** Ticks for the axis, aligned to whole steps in the chosen zone (midnight, the hour...). */
export function ticks(vp: Viewport, zone: Zone, minGapPx = 90): Tick[] {
  const step = tickStep(vp, minGapPx);
  const off = step >= H ? zoneOffsetNs(vp.startNs, zone) : 0n;
  let first = vp.startNs + off;
  first = first - (((first % step) + step) % step) - off;
  if (first < vp.startNs) first += step;
  const out: Tick[] = [];
  for (let t = first; t <= vp.endNs && out.length < 500; t += step) {
    out.push({ ns: t, x: nsToPx(vp, t), label: tickLabel(t, step, zone) });
  }
  return out;
}
