import type { EventKind } from '../model/event';
import { secondsTextToNanos, toIso } from '../model/time';
import type { EvidenceRef, InputEvent, RuleInput, StepRecord } from './types';

/**
 * Read-only indexes over the input events and tolerant accessors for their `data`. Parsers are written by
 * different people and may grow fields; rules read through these helpers so one rename is one fix, and a
 * field a parser does not provide degrades a rule's confidence instead of breaking it.
 */

export interface Ix {
  readonly e: InputEvent;
  readonly i: number;
  /** Host name or '' when unknown (an imported capture). */
  readonly host: string;
}

export class Ctx {
  readonly byKind = new Map<EventKind, Ix[]>();
  readonly steps: readonly StepRecord[];
  private hostNames?: Set<string>;
  private rpcOnce?: { readonly kept: readonly Ix[]; readonly seenOn: ReadonlyMap<number, readonly string[]> };
  constructor(readonly input: RuleInput) {
    input.events.forEach((e, i) => {
      const host = e.host ?? '';
      const list = this.byKind.get(e.kind);
      const ix = { e, i, host };
      if (list) list.push(ix);
      else this.byKind.set(e.kind, [ix]);
    });
    this.steps = input.steps ?? [];
    const kernel = this.byKind.get('kernel');
    if (kernel) this.byKind.set('kernel', dedupeKernel(kernel));
  }
  all(): Ix[] {
    return [...this.byKind.values()].flat();
  }
  of(kind: EventKind): readonly Ix[] {
    return this.byKind.get(kind) ?? [];
  }
  ev(ix: Ix, summary: string): EvidenceRef {
    return {
      eventIndex: ix.i,
      ...(ix.e.ref !== undefined ? { ref: ix.e.ref } : {}),
      ...(ix.host ? { host: ix.host } : {}),
      ...(ix.e.ts !== undefined ? { ts: toIso(ix.e.ts) } : {}),
      summary: summary.length > 300 ? `${summary.slice(0, 297)}...` : summary,
    };
  }
  /**
   * The decoded RPC calls ('rpc' events) with each call counted once. Captures taken on both ends of a
   * connection (client and server, both in one case) hold the same call twice; every RPC rule reads calls
   * through this so a reclaim, a denial or a retry is not counted per capture. Copies in *one* capture are
   * kept: they are retransmissions (same XID re-sent, RFC 5531 §9), which the rules count on purpose.
   */
  rpc(): readonly Ix[] {
    return (this.rpcOnce ??= dedupeRpc(this.of('rpc'))).kept;
  }
  /** Hosts whose captures hold this call (more than one when it was captured at both ends). */
  capturedOn(x: Ix): readonly string[] {
    return (this.rpcOnce ??= dedupeRpc(this.of('rpc'))).seenOn.get(x.i) ?? [x.host];
  }
  /** Names of the case's hosts (hosts that have any event). */
  hosts(): ReadonlySet<string> {
    return (this.hostNames ??= new Set(this.input.events.map((e) => e.host ?? '').filter((h) => h !== '')));
  }
  /** Hosts that have events of this kind. */
  hostsWith(kind: EventKind): Set<string> {
    return new Set(this.of(kind).map((x) => x.host));
  }
}

/**
 * What makes two decoded RPC events the same call: XID (chosen by the client, RFC 5531 §9), both endpoints,
 * program and procedure. Without an XID (an odd decoder) there is no identity and nothing is merged.
 */
export function rpcIdentity(e: InputEvent): string | undefined {
  const d = e.data;
  const xid = typeof d.xid === 'number' || typeof d.xid === 'string' ? String(d.xid) : undefined;
  const client = typeof d.client === 'string' ? d.client : undefined;
  const server = typeof d.server === 'string' ? d.server : undefined;
  if (xid === undefined || !client || !server) return undefined;
  return `${xid}\u0000${client}\u0000${server}\u0000${String(d.program ?? d.programNumber ?? '')}\u0000${String(d.procedure ?? d.procedureNumber ?? '')}`;
}

/** Which capture an event came from: artifact key within its host (two hosts' captures may share a file name). */
export function captureKey(x: Ix): string {
  return `${x.host}\u0000${String(x.e.artifact ?? '')}`;
}

/**
 * The same kernel line collected twice on one host (two playbooks each ran `dmesg`, or dmesg and
 * journalctl -k read the same ring buffer) is one message: same host, same raw time stamp, same text, in
 * different artifacts. Lines without a time stamp are kept: a repeated message may be a real repeat.
 */
function dedupeKernel(list: readonly Ix[]): Ix[] {
  const firstArtifact = new Map<string, string>();
  return list.filter((x) => {
    const stamp = x.e.tsRaw ?? (x.e.ts !== undefined ? String(x.e.ts) : undefined);
    if (stamp === undefined) return true;
    const k = `${x.host}\u0000${stamp}\u0000${x.e.text}`;
    const art = String(x.e.artifact ?? '');
    const seen = firstArtifact.get(k);
    if (seen === undefined) {
      firstArtifact.set(k, art);
      return true;
    }
    return seen === art;
  });
}

function dedupeRpc(all: readonly Ix[]): { kept: Ix[]; seenOn: Map<number, string[]> } {
  const byId = new Map<string, Ix[]>();
  for (const x of all) {
    const id = rpcIdentity(x.e);
    if (id === undefined) continue;
    const l = byId.get(id);
    if (l) l.push(x);
    else byId.set(id, [x]);
  }
  const size = new Map<string, number>();
  for (const x of all) size.set(captureKey(x), (size.get(captureKey(x)) ?? 0) + 1);
  const drop = new Set<number>();
  const seenOn = new Map<number, string[]>();
  for (const copies of byId.values()) {
    const byCapture = new Map<string, Ix[]>();
    for (const x of copies) {
      const k = captureKey(x);
      const l = byCapture.get(k);
      if (l) l.push(x);
      else byCapture.set(k, [x]);
    }
    if (byCapture.size < 2) continue;
    // Keep the copy that saw most replies (a capture may have missed one), then the one from the capture that
    // holds most calls (the server's usually sees every client: one clock for the whole exchange), then the first.
    const replies = (xs: readonly Ix[]): number => xs.filter((x) => typeof x.e.data.status === 'string').length;
    const groups = [...byCapture.values()].sort((a, b) => replies(b) - replies(a) || (size.get(captureKey(b[0]!)) ?? 0) - (size.get(captureKey(a[0]!)) ?? 0) || a[0]!.i - b[0]!.i);
    const hosts = [...new Set(copies.map((x) => x.host))];
    for (const x of groups[0]!) seenOn.set(x.i, hosts);
    for (const g of groups.slice(1)) for (const x of g) drop.add(x.i);
  }
  return { kept: all.filter((x) => !drop.has(x.i)), seenOn };
}

export function data(e: InputEvent): Readonly<Record<string, unknown>> {
  return e.data ?? {};
}

export function str(e: InputEvent, ...keys: string[]): string | undefined {
  const d = data(e);
  for (const k of keys) {
    const v = d[k];
    if (typeof v === 'string' && v.length > 0) return v;
    if (typeof v === 'number') return String(v);
  }
  return undefined;
}

export function num(e: InputEvent, ...keys: string[]): number | undefined {
  const d = data(e);
  for (const k of keys) {
    const v = d[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return Number(v);
    if (typeof v === 'bigint') return Number(v);
  }
  return undefined;
}

export function bool(e: InputEvent, key: string): boolean | undefined {
  const v = data(e)[key];
  return typeof v === 'boolean' ? v : undefined;
}

export function strList(e: InputEvent, key: string): string[] {
  const v = data(e)[key];
  if (!Array.isArray(v)) return [];
  return v.map((x) => (typeof x === 'string' ? x : x && typeof x === 'object' && typeof (x as { fn?: unknown }).fn === 'string' ? (x as { fn: string }).fn : undefined)).filter((x): x is string => x !== undefined);
}

const FRAME_LINE = /(?:^|\s)(?:\[<[0-9a-fA-F]+>\]\s*)?(\?\s+)?([A-Za-z_.$][\w.$]*)\+0x[0-9a-fA-F]+\/0x[0-9a-fA-F]+/;

/** Function names of a stack (innermost first): data.frames when the parser gives them, else read from text. */
export function frames(e: InputEvent): string[] {
  const f = strList(e, 'frames');
  if (f.length > 0) return f;
  const lines = data(e).lines;
  const text = Array.isArray(lines) ? lines.filter((l): l is string => typeof l === 'string') : e.text.split('\n');
  const out: string[] = [];
  for (const l of text) {
    const m = FRAME_LINE.exec(l);
    if (m && !m[1]) out.push(m[2]!);
  }
  return out;
}

export function pidOf(e: InputEvent): number | undefined {
  return e.pid ?? num(e, 'pid', 'tgid');
}

/** ps STAT / /proc/PID/stat state letter (first character: D, S, R, Z...). */
export function procState(e: InputEvent): string | undefined {
  const s = str(e, 'state', 'stat', 'STAT', 's');
  return s ? s[0] : undefined;
}

/** ps etime ("[[dd-]hh:]mm:ss") or etimes (seconds) to seconds. */
export function elapsedSeconds(e: InputEvent): number | undefined {
  const n = num(e, 'etimes', 'elapsedSeconds', 'elapsedS');
  if (n !== undefined) return n;
  const t = str(e, 'elapsed', 'etime', 'ELAPSED');
  if (!t) return undefined;
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(t);
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

export function commOf(e: InputEvent): string | undefined {
  return str(e, 'comm', 'command', 'name');
}

export function argsOf(e: InputEvent): string | undefined {
  return str(e, 'args', 'cmd', 'cmdline', 'command');
}

/** Seconds between two instants (ns), or undefined. */
export function secondsBetween(a: bigint | undefined, b: bigint | undefined): number | undefined {
  if (a === undefined || b === undefined) return undefined;
  return Number(b - a) / 1e9;
}

export function fmtSeconds(s: number): string {
  if (s < 1) return `${Math.round(s * 1000)} ms`;
  if (s < 120) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  return `${Math.round(s)} s (${(s / 60).toFixed(1)} min)`;
}

/** The IP part of "ip:port" / "[v6]:port". */
export function ipOf(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(endpoint);
  if (v6) return v6[1];
  const m = /^(.*?)(?::\d+)?$/.exec(endpoint);
  return m ? m[1] : endpoint;
}

/** An event's instant: wall time when known, else the boot-relative seconds of a raw dmesg line (same host, same boot: differences still hold). */
export function instant(e: InputEvent): bigint | undefined {
  if (e.ts !== undefined) return e.ts;
  const s = e.data.seconds;
  return typeof s === 'string' ? secondsTextToNanos(s) : undefined;
}
