/** Reads the tshark golden files (test/fixtures/tshark/*.rpc.tsv, one row per RPC record) and counts like our events. */
import { readFileSync } from 'node:fs';
import type { ParsedEvent } from '../../shared/model/event';
import type { RpcData } from '../../shared/rpc/types';

export interface GoldenRow {
  readonly frame: number;
  readonly retrans: boolean;
  readonly xid: number;
  readonly msgtyp: number;
  readonly program: string;
  readonly version: string;
  readonly procedure: number | undefined;
  readonly replystat: string;
  readonly accept: number | undefined;
  readonly reject: number | undefined;
  readonly status: number | undefined;
  readonly ops: readonly string[];
  readonly opStatuses: readonly string[];
}

const num = (nv: string): number | undefined => {
  if (nv === '') return undefined;
  const m = /=(\d+)$/.exec(nv);
  return m ? Number(m[1]) : undefined;
};
const names = (list: string): string[] => (list === '' ? [] : list.split(',').map((x) => x.replace(/=\d+$/, '')));

export function readGolden(path: string): GoldenRow[] {
  const lines = readFileSync(path, 'utf8').split('\n').slice(1).filter((l) => l !== '');
  return lines.map((l) => {
    const c = l.split('\t');
    return {
      frame: Number(c[0]), retrans: c[1] === '1', xid: Number(c[2]), msgtyp: c[3] === '' ? -1 : Number(c[3]), program: c[4], version: c[5],
      procedure: num(c[6]), replystat: c[7], accept: num(c[8]), reject: num(c[9]), status: num(c[10]),
      ops: names(c[11]), opStatuses: names(c[12]),
    };
  });
}

export type Counts = Map<string, number>;
const inc = (m: Counts, k: string, by = 1): void => {
  m.set(k, (m.get(k) ?? 0) + by);
};

export interface CountSet {
  /** program/version/procedureNumber -> calls */
  readonly calls: Counts;
  /** NFSv4 (and callback) operation name -> occurrences in calls */
  readonly ops: Counts;
  /** program/version/status code -> replies carrying that program status */
  readonly statuses: Counts;
  /** NFSv4 per-op status name -> occurrences in replies */
  readonly opStatuses: Counts;
  /** rpc accept/reject outcome of replies that were not SUCCESS */
  readonly rpcFailures: Counts;
  /** 'replied': calls whose reply was matched (tshark: replies that name their call's program) */
  readonly matching: Counts;
}

const empty = (): CountSet => ({ calls: new Map(), ops: new Map(), statuses: new Map(), opStatuses: new Map(), rpcFailures: new Map(), matching: new Map() });

export function countGolden(rows: readonly GoldenRow[]): CountSet {
  const c = empty();
  for (const r of rows) {
    if (r.msgtyp === 0) {
      inc(c.calls, `${r.program}/${r.version}/${r.procedure}`);
      for (const op of r.ops) inc(c.ops, op);
    } else if (r.msgtyp === 1 && r.program !== '') {
      inc(c.matching, 'replied');
      if (r.status !== undefined) inc(c.statuses, `${r.program}/${r.version}/${r.status}`);
      for (const s of r.opStatuses) inc(c.opStatuses, s);
      if (r.replystat === '1') inc(c.rpcFailures, `reject/${r.reject}`);
      else if (r.accept !== undefined && r.accept !== 0) inc(c.rpcFailures, `accept/${r.accept}`);
    }
  }
  return c;
}

const REJECT: Readonly<Record<string, number>> = { RPC_MISMATCH: 0, AUTH_ERROR: 1 };
const ACCEPT: Readonly<Record<string, number>> = { PROG_UNAVAIL: 1, PROG_MISMATCH: 2, PROC_UNAVAIL: 3, GARBAGE_ARGS: 4, SYSTEM_ERR: 5 };

/**
 * Our events counted the way tshark's rows are: calls per call event; reply statuses once per reply message
 * (a retransmitted call answered by one reply yields two call events with the same replyFrame).
 */
export function countOurs(events: readonly ParsedEvent[]): CountSet {
  const c = empty();
  const replies = new Set<string>();
  for (const e of events) {
    if (e.kind !== 'rpc') continue;
    const d = e.data as unknown as RpcData;
    if (d.orphanReply) continue;
    inc(c.calls, `${d.programNumber}/${d.version}/${d.procedureNumber}`);
    for (const op of d.ops ?? []) inc(c.ops, op);
    if (d.noReply) continue;
    const rk = `${d.replyFrame}/${d.xid}`;
    if (replies.has(rk)) continue;
    replies.add(rk);
    inc(c.matching, 'replied');
    if (d.statusCode !== undefined) inc(c.statuses, `${d.programNumber}/${d.version}/${d.statusCode}`);
    for (const s of d.opStatuses ?? []) inc(c.opStatuses, s);
    if (d.status !== undefined && d.status in REJECT) inc(c.rpcFailures, `reject/${REJECT[d.status]}`);
    else if (d.status !== undefined && d.status in ACCEPT) inc(c.rpcFailures, `accept/${ACCEPT[d.status]}`);
  }
  return c;
}

/** Keys whose counts differ: key -> [ours, tshark]. */
export function diffCounts(ours: Counts, theirs: Counts): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  for (const k of new Set([...ours.keys(), ...theirs.keys()])) {
    const a = ours.get(k) ?? 0;
    const b = theirs.get(k) ?? 0;
    if (a !== b) out[k] = [a, b];
  }
  return out;
}
