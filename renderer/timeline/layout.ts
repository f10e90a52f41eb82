import type { Viewport } from './coords';
import { nsToPx, pxToNs } from './coords';
import type { TBucket } from './data';
import { firstEndingAfter } from './data';

/** Vertical layout of the canvas: the time axis, one row for annotations, then one row per lane. */
export interface LaneInfo {
  readonly key: string;
  readonly hostId?: number | undefined;
  readonly hostName: string;
  readonly lane: string;
  readonly count: number;
}

export interface LaneRow extends LaneInfo {
  readonly y: number;
  readonly h: number;
}

export interface Layout {
  readonly axisH: number;
  readonly annotationsY: number;
  readonly annotationsH: number;
  readonly labelW: number;
  readonly rows: readonly LaneRow[];
  readonly height: number;
}

export const AXIS_H = 26;
export const ANNOT_H = 20;
export const ROW_H = 22;
export const LABEL_W = 170;

/** Lanes grouped by host (in host order), then by lane name, so each host's sources sit together. */
export function layoutLanes(lanes: readonly LaneInfo[], hostOrder: readonly (number | undefined)[]): Layout {
  const rank = (h: number | undefined): number => {
    const i = hostOrder.indexOf(h);
    return i < 0 ? hostOrder.length : i;
  };
  const sorted = [...lanes].sort((a, b) => rank(a.hostId) - rank(b.hostId) || a.lane.localeCompare(b.lane));
  let y = AXIS_H + ANNOT_H;
  const rows = sorted.map((l) => {
    const r = { ...l, y, h: ROW_H };
    y += ROW_H;
    return r;
  });
  return { axisH: AXIS_H, annotationsY: AXIS_H, annotationsH: ANNOT_H, labelW: LABEL_W, rows, height: y + 4 };
}

export function rowAt(layout: Layout, y: number): LaneRow | undefined {
  return layout.rows.find((r) => y >= r.y && y < r.y + r.h);
}

/** Pixel extent of a bucket: at least 2 px wide so a single event is always visible and clickable. */
export function bucketExtent(vp: Viewport, b: TBucket): { x0: number; x1: number } {
  const x0 = nsToPx(vp, b.startNs);
  const x1 = nsToPx(vp, b.endNs);
  return { x0, x1: Math.max(x1, x0 + 2) };
}

/**
 * The bucket under (x, y) in plot coordinates (x from the plot's left edge), with a few px of slack
 * so thin bars can be hit; when several are in reach, the nearest wins.
 */
export function hitBucket(vp: Viewport, layout: Layout, lanes: ReadonlyMap<string, readonly TBucket[]>, x: number, y: number, slackPx = 3): TBucket | undefined {
  const row = rowAt(layout, y);
  if (!row) return undefined;
  const lane = lanes.get(row.key);
  if (!lane || lane.length === 0) return undefined;
  const from = pxToNs(vp, x - slackPx);
  let best: TBucket | undefined;
  let bestD = Infinity;
  for (let i = firstEndingAfter(lane, from); i < lane.length; i++) {
    const b = lane[i]!;
    const { x0, x1 } = bucketExtent(vp, b);
    if (x0 > x + slackPx) break;
    const d = x < x0 ? x0 - x : x > x1 ? x - x1 : 0;
    if (d <= slackPx && d < bestD) {
      best = b;
      bestD = d;
    }
  }
  return best;
}
