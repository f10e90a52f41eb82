import type { Bucket } from '../../shared/api/contract';
import type { Viewport } from './coords';
import { spanOf } from './coords';

/**
 * Timeline data as the canvas uses it: buckets parsed once into bigints, grouped by lane.
 * The backend aggregates; the renderer never asks for more buckets than it has pixels for (Perfetto's rule).
 */
export interface TBucket {
  readonly laneKey: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly count: number;
  readonly maxLevel?: string | undefined;
  readonly eventId?: number | undefined;
  readonly text?: string | undefined;
}

export const laneKey = (hostId: number | undefined, lane: string): string => `${hostId ?? '-'}|${lane}`;

export function toTBuckets(raw: readonly Bucket[]): TBucket[] {
  return raw.map((b) => ({
    laneKey: laneKey(b.hostId, b.lane),
    startNs: BigInt(b.startNs),
    endNs: BigInt(b.endNs),
    count: b.count,
    maxLevel: b.maxLevel,
    eventId: b.eventId,
    text: b.text,
  }));
}

/** One loaded slice: the window it covers and how many buckets it was cut into. */
export interface Slice {
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly buckets: number;
  readonly corrected: boolean;
}

export interface FetchRequest extends Slice {}

/** Pixels per bucket we aim for: 2 px keeps bars readable and the request small. */
export const PX_PER_BUCKET = 2;
export const MAX_BUCKETS = 4000;

/**
 * What to load for this viewport. We load three screen widths (one each side) so a pan of up to a screen needs
 * no round trip, and reload when the loaded resolution is more than 2x off the screen's.
 */
export function planFetch(vp: Viewport, corrected: boolean): FetchRequest {
  const span = spanOf(vp);
  const wanted = Math.max(1, Math.min(MAX_BUCKETS, Math.floor((3 * vp.widthPx) / PX_PER_BUCKET)));
  return { startNs: vp.startNs - span, endNs: vp.endNs + span, buckets: wanted, corrected };
}

/** Does `have` still serve the viewport (covers it, at a resolution within 2x of what the screen needs)? */
export function sliceServes(have: Slice | undefined, vp: Viewport, corrected: boolean): boolean {
  if (!have || have.corrected !== corrected) return false;
  if (have.startNs > vp.startNs || have.endNs < vp.endNs) return false;
  const haveNsPerBucket = Number(have.endNs - have.startNs) / have.buckets;
  const wantNsPerBucket = (Number(spanOf(vp)) / vp.widthPx) * PX_PER_BUCKET;
  const ratio = haveNsPerBucket / wantNsPerBucket;
  return ratio <= 2 && ratio >= 0.5;
}

/** Group buckets by lane, each lane sorted by start (the draw and hit-test loops walk them in order). */
export function byLane(buckets: readonly TBucket[]): Map<string, TBucket[]> {
  const m = new Map<string, TBucket[]>();
  for (const b of buckets) {
    let l = m.get(b.laneKey);
    if (!l) m.set(b.laneKey, (l = []));
    l.push(b);
  }
  for (const l of m.values()) l.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
  return m;
}

/** Index of the first bucket that ends at or after t (binary search over a lane sorted by start). */
export function firstEndingAfter(lane: readonly TBucket[], t: bigint): number {
  let lo = 0;
  let hi = lane.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (lane[mid]!.endNs < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const LEVEL_RANK: Readonly<Record<string, number>> = { emerg: 0, alert: 1, crit: 2, err: 3, error: 3, warn: 4, warning: 4, notice: 5, info: 6, debug: 7 };

/** 'error' | 'warn' | 'normal' for colouring; unknown levels are normal. */
export function severityClass(level: string | undefined): 'error' | 'warn' | 'normal' {
  const r = level === undefined ? undefined : LEVEL_RANK[level.toLowerCase()];
  if (r === undefined) return 'normal';
  if (r <= 3) return 'error';
  if (r === 4) return 'warn';
  return 'normal';
}
