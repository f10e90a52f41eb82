import { captureKey, Ctx, ipOf, str, type Ix } from '../context';

/** A decoded RPC call (with its reply when captured), read tolerantly from an 'rpc' event (shared/rpc/types.ts RpcData). */
export interface Call {
  readonly x: Ix;
  readonly program: string;
  readonly version: number;
  readonly procedure: string;
  readonly ops: readonly string[];
  readonly status?: string;
  readonly client: string;
  readonly server: string;
  readonly ts?: bigint;
  readonly replyTs?: bigint;
  readonly noReply: boolean;
  readonly detail: Readonly<Record<string, unknown>>;
  /** Capture this call came from (artifact key), for "did the capture end before a reply was due". */
  readonly artifact: string;
  /** Hosts whose captures hold this call: two when it was captured at both ends (counted once). */
  readonly seenOn: readonly string[];
}

/** Every decoded call once, even when captures from both ends hold it (Ctx.rpc). */
export function calls(ctx: Ctx): Call[] {
  const out: Call[] = [];
  for (const x of ctx.rpc()) {
    const d = x.e.data;
    const program = String(d.program ?? '');
    const replyTs = typeof d.replyTs === 'string' && /^\d+$/.test(d.replyTs) ? BigInt(d.replyTs) : undefined;
    out.push({
      x,
      program,
      version: typeof d.version === 'number' ? d.version : Number(d.version ?? 0),
      procedure: String(d.procedure ?? ''),
      ops: Array.isArray(d.ops) ? d.ops.map(String) : [],
      ...(typeof d.status === 'string' ? { status: d.status } : {}),
      client: String(d.client ?? ''),
      server: String(d.server ?? ''),
      ...(x.e.ts !== undefined ? { ts: x.e.ts } : {}),
      ...(replyTs !== undefined ? { replyTs } : x.e.ts !== undefined && x.e.durationNs !== undefined ? { replyTs: x.e.ts + x.e.durationNs } : {}),
      noReply: d.noReply === true || d.status === undefined,
      detail: (d.detail && typeof d.detail === 'object' ? d.detail : {}) as Record<string, unknown>,
      artifact: captureKey(x),
      seenOn: ctx.capturedOn(x).filter((h) => h !== ''),
    });
  }
  // Rules read "first", "last" and gaps: keep calls in time order even when captures were concatenated.
  const at = (c: Call): bigint => c.ts ?? BigInt(Number.MAX_SAFE_INTEGER) * 1_000_000_000n; // undated last
  return out.sort((a, b) => (at(a) < at(b) ? -1 : at(a) > at(b) ? 1 : a.x.i - b.x.i));
}

/**
 * Last instant seen in each capture (artifact): a missing reply is "unknown" when the capture ended first.
 * Read from every RPC event, duplicates included: a call counted under the other end's capture still shows
 * that this capture was running then.
 */
export function captureEnds(ctx: Ctx): Map<string, bigint> {
  const m = new Map<string, bigint>();
  for (const x of ctx.of('rpc')) {
    const r = x.e.data.replyTs;
    const t = typeof r === 'string' && /^\d+$/.test(r) ? BigInt(r) : x.e.ts !== undefined && x.e.durationNs !== undefined ? x.e.ts + x.e.durationNs : x.e.ts;
    if (t === undefined) continue;
    const k = captureKey(x);
    const cur = m.get(k);
    if (cur === undefined || t > cur) m.set(k, t);
  }
  return m;
}

/** The operation an NFSv4 COMPOUND is about: the last op that is not SEQUENCE/PUTFH/GETATTR/GETFH bookkeeping. */
export function mainOp(c: Call): string {
  const skip = new Set(['SEQUENCE', 'PUTFH', 'PUTROOTFH', 'PUTPUBFH', 'GETATTR', 'GETFH', 'SAVEFH', 'RESTOREFH', 'CB_SEQUENCE']);
  for (let i = c.ops.length - 1; i >= 0; i--) if (!skip.has(c.ops[i]!)) return c.ops[i]!;
  return c.ops[c.ops.length - 1] ?? c.procedure;
}

export function sameIp(a: string, b: string): boolean {
  return ipOf(a) === ipOf(b);
}

export function callSummary(c: Call): string {
  const what = c.ops.length ? `${c.procedure} ${c.ops.join(',')}` : c.procedure;
  const both = c.seenOn.length > 1 ? ` (captured on ${c.seenOn.join(' and ')})` : '';
  return `${c.program} v${c.version} ${what} ${c.client} -> ${c.server}${c.status ? ` = ${c.status}` : ' (no reply)'}${str(c.x.e, 'xid') ? ` xid ${str(c.x.e, 'xid')}` : ''}${both}`;
}
