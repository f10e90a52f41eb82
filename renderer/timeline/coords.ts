import { nanos, type Nanos } from '../../shared/model/time';

/**
 * The timeline's two coordinate spaces, kept apart by type: screen pixels (CSS px from the canvas's left edge)
 * and instants (bigint ns since the epoch). All time arithmetic stays in bigint; only the final pixel is a float.
 * React-free so it can be unit tested (test/e2e/renderer-model.test.ts).
 */
export type Px = number & { readonly __brand: 'Px' };
export const px = (v: number): Px => v as Px;

export interface Viewport {
  readonly startNs: Nanos;
  readonly endNs: Nanos;
  /** Width of the drawing area in CSS px (> 0). */
  readonly widthPx: number;
}

/** Narrowest window: 100 ns across the whole canvas (the issue asks for microseconds; we allow a little more). */
export const MIN_SPAN_NS = 100n;
/** Widest window: 400 days, enough for a case that spans a long outage. */
export const MAX_SPAN_NS = 400n * 86_400n * 1_000_000_000n;

/** Fixed-point scale for pixel fractions, so px <-> ns stays in integers. */
const FP = 1024;
const FPn = 1024n;

export const spanOf = (vp: Viewport): bigint => vp.endNs - vp.startNs;

export function viewport(startNs: bigint, endNs: bigint, widthPx: number): Viewport {
  const w = Math.max(1, widthPx);
  let s = startNs;
  let e = endNs;
  if (e - s < MIN_SPAN_NS) {
    const mid = s + (e - s) / 2n;
    s = mid - MIN_SPAN_NS / 2n;
    e = s + MIN_SPAN_NS;
  }
  if (e - s > MAX_SPAN_NS) {
    const mid = s + (e - s) / 2n;
    s = mid - MAX_SPAN_NS / 2n;
    e = s + MAX_SPAN_NS;
  }
  return { startNs: nanos(s), endNs: nanos(e), widthPx: w };
}

/** Instant -> x. Exact to 1/1024 px whatever the span (the division happens on bigints). */
export function nsToPx(vp: Viewport, t: bigint): Px {
  const num = (t - vp.startNs) * BigInt(Math.round(vp.widthPx * FP));
  return px(Number(num / spanOf(vp)) / FP);
}

/** x -> instant (floored to the ns). */
export function pxToNs(vp: Viewport, x: number): Nanos {
  const num = spanOf(vp) * BigInt(Math.round(x * FP));
  return nanos(vp.startNs + floorDiv(num, BigInt(Math.round(vp.widthPx * FP))));
}

/** ns per CSS px at this zoom (bigint, at least 1). */
export function nsPerPx(vp: Viewport): bigint {
  const v = (spanOf(vp) * FPn) / BigInt(Math.round(vp.widthPx * FP));
  return v < 1n ? 1n : v;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/**
 * Zoom by `factor` (< 1 zooms in) keeping the instant under `anchorX` under it, as Perfetto and every map do.
 * The factor is applied as a rational with 6 decimals so the result is reproducible.
 */
export function zoomAt(vp: Viewport, anchorX: number, factor: number): Viewport {
  const f = BigInt(Math.max(1, Math.round(factor * 1_000_000)));
  let span = (spanOf(vp) * f) / 1_000_000n;
  if (span < MIN_SPAN_NS) span = MIN_SPAN_NS;
  if (span > MAX_SPAN_NS) span = MAX_SPAN_NS;
  const anchor = pxToNs(vp, anchorX);
  const fracNum = BigInt(Math.round(Math.min(Math.max(anchorX, 0), vp.widthPx) * FP));
  const fracDen = BigInt(Math.round(vp.widthPx * FP));
  const start = anchor - (span * fracNum) / fracDen;
  return { startNs: nanos(start), endNs: nanos(start + span), widthPx: vp.widthPx };
}

/** Pan by dx pixels (positive dx moves the content right, i.e. shows earlier time). */
export function panBy(vp: Viewport, dxPx: number): Viewport {
  const shift = (spanOf(vp) * BigInt(Math.round(dxPx * FP))) / BigInt(Math.round(vp.widthPx * FP));
  return { startNs: nanos(vp.startNs - shift), endNs: nanos(vp.endNs - shift), widthPx: vp.widthPx };
}

/** The window between two x positions (a brush), or undefined if it is too narrow to mean anything. */
export function brushTo(vp: Viewport, x0: number, x1: number, minPx = 3): Viewport | undefined {
  const a = Math.min(x0, x1);
  const b = Math.max(x0, x1);
  if (b - a < minPx) return undefined;
  return viewport(pxToNs(vp, a), pxToNs(vp, b), vp.widthPx);
}

/** Fit [start, end] with a margin of `marginFrac` of the span on each side. */
export function fit(startNs: bigint, endNs: bigint, widthPx: number, marginFrac = 0.02): Viewport {
  const span = endNs > startNs ? endNs - startNs : 1_000_000_000n;
  const margin = (span * BigInt(Math.round(marginFrac * 1000))) / 1000n;
  const s = endNs > startNs ? startNs : startNs - span / 2n;
  return viewport(s - margin, s + span + margin, widthPx);
}

/** Same window, new width (the canvas was resized): keep the start, keep ns per px. */
export function resize(vp: Viewport, widthPx: number): Viewport {
  if (widthPx === vp.widthPx) return vp;
  const end = vp.startNs + (spanOf(vp) * BigInt(Math.round(widthPx * FP))) / BigInt(Math.round(vp.widthPx * FP));
  return viewport(vp.startNs, end, widthPx);
}

/** A window of `spanNs` centred on `t`. */
export function centreOn(t: bigint, spanNs: bigint, widthPx: number): Viewport {
  return viewport(t - spanNs / 2n, t - spanNs / 2n + spanNs, widthPx);
}
