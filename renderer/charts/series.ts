/**
 * Chart data shaped for uPlot, React-free: uPlot wants one shared, ascending x array and one y array per
 * series (null where a series has no point). Times become float seconds here (uPlot's time axis); that loses
 * sub-microsecond precision, which a chart cannot show anyway.
 */
export interface LatencyPoint {
  readonly tNs: string;
  readonly latencyMs: number;
  readonly op: string;
}

export interface Aligned {
  readonly series: readonly string[];
  readonly data: [number[], ...(number | null)[][]];
}

/** Scatter of latency per operation: the `maxSeries` most frequent ops, the rest folded into "other". */
export function latencyScatter(points: readonly LatencyPoint[], maxSeries = 8): Aligned {
  const counts = new Map<string, number>();
  for (const p of points) counts.set(p.op, (counts.get(p.op) ?? 0) + 1);
  const top = [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([op]) => op);
  const kept = top.slice(0, maxSeries);
  const hasOther = top.length > maxSeries;
  const series = hasOther ? [...kept, 'other'] : kept;
  const index = new Map(kept.map((op, i) => [op, i]));
  const sorted = [...points].sort((a, b) => {
    const d = BigInt(a.tNs) - BigInt(b.tNs);
    return d < 0n ? -1 : d > 0n ? 1 : 0;
  });
  const xs: number[] = [];
  const ys: (number | null)[][] = series.map(() => []);
  for (const p of sorted) {
    xs.push(Number(BigInt(p.tNs) / 1000n) / 1e6);
    const si = index.get(p.op) ?? series.length - 1;
    for (let s = 0; s < series.length; s++) ys[s]!.push(s === si ? p.latencyMs : null);
  }
  return { series, data: [xs, ...ys] };
}

/** Operations per second over time, one line per operation, from the backend's bucketed counts. */
export function rateLines(rate: { readonly startNs: string; readonly widthNs: string; readonly ops: Readonly<Record<string, readonly number[]>> }, maxSeries = 8): Aligned {
  const ops = Object.entries(rate.ops)
    .map(([op, counts]) => ({ op, counts, total: counts.reduce((a, b) => a + b, 0) }))
    .sort((a, b) => b.total - a.total)
    .slice(0, maxSeries);
  const n = Math.max(0, ...ops.map((o) => o.counts.length));
  const start = BigInt(rate.startNs);
  const width = BigInt(rate.widthNs);
  const perSecond = width > 0n ? 1e9 / Number(width) : 0;
  const xs = Array.from({ length: n }, (_, i) => Number((start + BigInt(i) * width) / 1000n) / 1e6);
  return { series: ops.map((o) => o.op), data: [xs, ...ops.map((o) => Array.from({ length: n }, (_, i) => (o.counts[i] ?? 0) * perSecond))] };
}
