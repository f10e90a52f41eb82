import type { Viewport } from './coords';
import { nsToPx } from './coords';
import type { TBucket } from './data';
import { firstEndingAfter } from './data';

/**
 * Spans: things with a length on the timeline. An event's own duration (strace -T syscall time, RPC call to
 * reply), pairs of events that bound a period (CB_RECALL to DELEGRETURN, the first to the last grace-period
 * denial), and the steps we ran. Spans are drawn only where they are at least MIN_SPAN_PX wide, and event
 * spans are only fetched for lanes with few enough events in the window (otherwise the buckets stay).
 */
export type SpanKind = 'duration' | 'recall' | 'grace' | 'step';

export interface TSpan {
  readonly laneKey: string;
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly kind: SpanKind;
  readonly label: string;
  readonly eventId?: number | undefined;
  readonly level?: string | undefined;
}

/** A lane with more events than this in the window keeps its aggregated buckets only. */
export const DETAIL_MAX_EVENTS = 5000;
/** Narrower spans are left to the buckets (a 1-px bar says nothing a bucket does not). */
export const MIN_SPAN_PX = 2;
/** Event kinds whose events carry durations or form pairs. */
export const SPAN_KINDS: ReadonlySet<string> = new Set(['syscall', 'rpc', 'log']);
/** Pairs further apart than this are not one period (a recall answered a minute later is another story). */
export const PAIR_WINDOW_NS = 60_000_000_000n;

/** The event kind of a bucket lane name ("filer/rpc" -> "rpc"; host names may contain '/'). */
export function laneKind(lane: string): string {
  const i = lane.lastIndexOf('/');
  return i < 0 ? lane : lane.slice(i + 1);
}

/** Events in [from, to) of a lane, from its buckets (a bucket partly inside counts whole: an upper bound). */
export function laneCountIn(lane: readonly TBucket[], from: bigint, to: bigint): number {
  let n = 0;
  for (let i = firstEndingAfter(lane, from); i < lane.length; i++) {
    const b = lane[i]!;
    if (b.startNs >= to) break;
    if (b.endNs > from) n += b.count;
  }
  return n;
}

/** Lanes worth fetching events for: a span kind, some events in the window, and no more than `max`. */
export function pickDetailLanes(lanes: ReadonlyMap<string, readonly TBucket[]>, from: bigint, to: bigint, max = DETAIL_MAX_EVENTS): string[] {
  const out: string[] = [];
  for (const [key, lane] of lanes) {
    const sep = key.indexOf('|');
    if (sep < 0 || key.slice(0, sep) === '-') continue; // events without a host cannot be filtered by host
    if (!SPAN_KINDS.has(laneKind(key.slice(sep + 1)))) continue;
    const n = laneCountIn(lane, from, to);
    if (n > 0 && n <= max) out.push(key);
  }
  return out;
}

/** The subset of an API event spans need (times as decimal ns strings, as the contract carries them). */
export interface SpanEvent {
  readonly id: number;
  readonly tsNs?: string | undefined;
  readonly correctedNs?: string | undefined;
  readonly durationNs?: string | undefined;
  readonly text: string;
  readonly level?: string | undefined;
}

export function eventTime(e: SpanEvent, corrected: boolean): bigint | undefined {
  const t = corrected ? (e.correctedNs ?? e.tsNs) : e.tsNs;
  return t === undefined ? undefined : BigInt(t);
}

/** Spans of events that state their own duration, all on `laneKey`. */
export function durationSpans(laneKey: string, events: readonly SpanEvent[], corrected: boolean): TSpan[] {
  const out: TSpan[] = [];
  for (const e of events) {
    if (e.durationNs === undefined) continue;
    const t = eventTime(e, corrected);
    const d = BigInt(e.durationNs);
    if (t === undefined || d <= 0n) continue;
    out.push({ laneKey, startNs: t, endNs: t + d, kind: 'duration', label: e.text, eventId: e.id, level: e.level });
  }
  return out;
}

const RECALL = /\bCB_RECALL\b/;
const DELEGRETURN = /\bDELEGRETURN\b/;
// NLM4_DENIED_GRACE_PERIOD (NLM v4 status 4) and NFS4ERR_GRACE (10013): the server accepts only reclaims.
const GRACE = /\b(?:NLM4_DENIED_GRACE_PERIOD|NLM_DENIED_GRACE_PERIOD|NFS4ERR_GRACE)\b/;

/**
 * Periods bounded by two events of one lane's RPCs (events sorted by time):
 * - delegation recall: CB_RECALL to the next DELEGRETURN within PAIR_WINDOW_NS (RFC 8881 §20.2, §18.6);
 * - grace period as seen on the wire: from the first to the last grace denial, denials less than
 *   PAIR_WINDOW_NS apart (the Linux NLM client retries every 5 s, NLMCLNT_GRACE_WAIT; NFSv4 backs off up to 15 s).
 */
export function pairSpans(laneKey: string, events: readonly SpanEvent[], corrected: boolean): TSpan[] {
  const out: TSpan[] = [];
  const timed = events.map((e) => ({ e, t: eventTime(e, corrected) })).filter((x): x is { e: SpanEvent; t: bigint } => x.t !== undefined);
  timed.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  for (let i = 0; i < timed.length; i++) {
    const { e, t } = timed[i]!;
    if (!RECALL.test(e.text)) continue;
    for (let j = i + 1; j < timed.length && timed[j]!.t - t <= PAIR_WINDOW_NS; j++) {
      if (DELEGRETURN.test(timed[j]!.e.text)) {
        out.push({ laneKey, startNs: t, endNs: timed[j]!.t, kind: 'recall', label: 'delegation recall: CB_RECALL → DELEGRETURN', eventId: e.id, level: 'warn' });
        break;
      }
    }
  }
  let first: { e: SpanEvent; t: bigint } | undefined;
  let last: bigint | undefined;
  let n = 0;
  const flush = (): void => {
    if (first && last !== undefined && n >= 2 && last > first.t) {
      out.push({ laneKey, startNs: first.t, endNs: last, kind: 'grace', label: `grace period: ${n} denials`, eventId: first.e.id, level: 'warn' });
    }
    first = undefined;
    last = undefined;
    n = 0;
  };
  for (const x of timed) {
    if (!GRACE.test(x.e.text)) continue;
    if (last !== undefined && x.t - last > PAIR_WINDOW_NS) flush();
    first ??= x;
    last = x.t;
    n++;
  }
  flush();
  return out;
}

export interface SpanStep {
  readonly hostId?: number | undefined;
  readonly title: string;
  readonly status: string;
  readonly isRestore: boolean;
  readonly startedNs?: string | undefined;
  readonly endedNs?: string | undefined;
}

export const STEPS_LANE = 'steps';

/**
 * Step runs as spans in a "steps" lane per host. Step times are the collector's clock (the reference every
 * host is corrected to), so in raw mode they move by the host's correction like the host's own events.
 * A step still running ends at `nowNs`.
 */
export function stepSpans(steps: readonly SpanStep[], correctionNs: (hostId: number) => bigint, corrected: boolean, nowNs: bigint): TSpan[] {
  const out: TSpan[] = [];
  for (const s of steps) {
    if (s.hostId === undefined || s.startedNs === undefined) continue;
    const shift = corrected ? 0n : correctionNs(s.hostId);
    const a = BigInt(s.startedNs) + shift;
    const b = (s.endedNs !== undefined ? BigInt(s.endedNs) : nowNs) + shift;
    out.push({ laneKey: `${s.hostId}|${STEPS_LANE}`, startNs: a, endNs: b > a ? b : a + 1n, kind: 'step', label: `${s.isRestore ? 'restore: ' : ''}${s.title} (${s.status})`, level: s.status === 'ok' ? 'info' : s.status === 'running' || s.status === 'pending' ? undefined : 'warn' });
  }
  return out;
}

/** Group spans by lane, sorted by start. */
export function spansByLane(spans: readonly TSpan[]): Map<string, TSpan[]> {
  const m = new Map<string, TSpan[]>();
  for (const s of spans) {
    let l = m.get(s.laneKey);
    if (!l) m.set(s.laneKey, (l = []));
    l.push(s);
  }
  for (const l of m.values()) l.sort((a, b) => (a.startNs < b.startNs ? -1 : a.startNs > b.startNs ? 1 : 0));
  return m;
}

/** Spans of one lane wide enough to draw in this viewport, with their pixel extent. */
export function drawableSpans(vp: Viewport, lane: readonly TSpan[], minPx = MIN_SPAN_PX): { span: TSpan; x0: number; x1: number }[] {
  const out: { span: TSpan; x0: number; x1: number }[] = [];
  for (const s of lane) {
    const x0 = nsToPx(vp, s.startNs);
    const x1 = nsToPx(vp, s.endNs);
    if (x1 < -1 || x0 > vp.widthPx + 1) continue;
    if (x1 - x0 < minPx && s.kind !== 'step') continue; // steps stay visible as marks
    out.push({ span: s, x0, x1: Math.max(x1, x0 + 2) });
  }
  return out;
}

/** The span under plot x in a lane (the shortest one when they nest: the most specific). */
export function hitSpan(vp: Viewport, lane: readonly TSpan[] | undefined, x: number, slackPx = 2): TSpan | undefined {
  if (!lane) return undefined;
  let best: TSpan | undefined;
  for (const d of drawableSpans(vp, lane)) {
    if (x >= d.x0 - slackPx && x <= d.x1 + slackPx && (!best || d.span.endNs - d.span.startNs < best.endNs - best.startNs)) best = d.span;
  }
  return best;
}
