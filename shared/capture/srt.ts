/**
 * Service response time per program/version/procedure, like `tshark -z rpc,srt,PROG,VERS`, and per NFSv4
 * operation (each operation of an answered COMPOUND is charged the COMPOUND's response time: the server
 * executes and answers them as one request, RFC 7530 §15.2).
 * Only answered calls count, once per reply message, timed from the first transmission of the XID (as tshark does).
 * SrtAccumulator builds it while a capture streams through the decoder; srtStats from stored events.
 */
import type { ParsedEvent } from '../model/event';
import { programLabel, type AnsweredSink } from '../rpc/tracker';
import type { RpcData, RpcProgramName } from '../rpc/types';

export interface SrtRow {
  readonly program: RpcProgramName;
  readonly programNumber: number;
  readonly version: number;
  /** Procedure (or NFSv4 operation) name and number. */
  readonly name: string;
  readonly index: number;
  readonly calls: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly avgMs: number;
  readonly sumMs: number;
}

export interface SrtStats {
  readonly procedures: readonly SrtRow[];
  /** NFSv4 COMPOUND and CB_COMPOUND operations. */
  readonly operations: readonly SrtRow[];
}

interface Acc {
  readonly program: RpcProgramName;
  readonly programNumber: number;
  readonly version: number;
  readonly name: string;
  readonly index: number;
  calls: number;
  /** Nanoseconds, as exact integers (a sum stays exact up to 2^53 ns: 104 days of summed service time). */
  minNs: number;
  maxNs: number;
  sumNs: number;
}

function acc(program: RpcProgramName, programNumber: number, version: number, name: string, index: number): Acc {
  return { program, programNumber, version, name, index, calls: 0, minNs: Infinity, maxNs: -Infinity, sumNs: 0 };
}

function charge(a: Acc, ns: number): void {
  a.calls++;
  if (ns < a.minNs) a.minNs = ns;
  if (ns > a.maxNs) a.maxNs = ns;
  a.sumNs += ns;
}

const toRow = (a: Acc): SrtRow => ({
  program: a.program,
  programNumber: a.programNumber,
  version: a.version,
  name: a.name,
  index: a.index,
  calls: a.calls,
  minMs: a.minNs / 1e6,
  maxMs: a.maxNs / 1e6,
  avgMs: a.sumNs / a.calls / 1e6,
  sumMs: a.sumNs / 1e6,
});

const order = (x: SrtRow, y: SrtRow): number => x.programNumber - y.programNumber || x.version - y.version || x.index - y.index;

const NOT_EXECUTED = new Set(['PROG_UNAVAIL', 'PROG_MISMATCH', 'PROC_UNAVAIL', 'GARBAGE_ARGS', 'SYSTEM_ERR', 'RPC_MISMATCH', 'AUTH_ERROR']);

/**
 * Service response times accumulated one answered call at a time: memory is one row per procedure and
 * operation seen, whatever the capture's size (`casefile stats` feeds it straight from the decoder).
 */
export class SrtAccumulator {
  /** programNumber -> (version * 2^32 + procedure) -> row. */
  private readonly procs = new Map<number, Map<number, Acc>>();
  private readonly ops = new Map<string, Acc>();

  /** One reply message to a call; `serviceNs` is measured from the XID's first transmission; `status` is the
   * reply's status (program-level or RPC-level: only RPC-level rejections are left out). */
  add(program: RpcProgramName, programNumber: number, version: number, procedure: string, procedureNumber: number, ops: readonly string[] | undefined, status: string | undefined, serviceNs: number): void {
    // Calls the server did not execute (RPC-level rejection) have no service time, as in tshark.
    if (status !== undefined && NOT_EXECUTED.has(status)) return;
    let byProc = this.procs.get(programNumber);
    if (byProc === undefined) this.procs.set(programNumber, (byProc = new Map()));
    const k = version * 4294967296 + procedureNumber;
    let a = byProc.get(k);
    if (a === undefined) byProc.set(k, (a = acc(program, programNumber, version, procedure, procedureNumber)));
    charge(a, serviceNs);
    if (ops === undefined) return;
    for (const op of ops) {
      const key = `${program}/${op}`;
      let o = this.ops.get(key);
      if (o === undefined) this.ops.set(key, (o = acc(program, programNumber, version, op, this.ops.size)));
      charge(o, serviceNs);
    }
  }

  /** A sink for createCaptureDecoder({ answered }). */
  readonly answered: AnsweredSink = (p, procedure, rpcFailure, serviceNs) => {
    this.add(p.decoder.name, p.programNumber, p.version, procedure, p.proc, p.ops, rpcFailure, serviceNs);
  };

  stats(): SrtStats {
    const procs: SrtRow[] = [];
    for (const m of this.procs.values()) for (const a of m.values()) procs.push(toRow(a));
    const opRows = [...this.ops.values()].map(toRow).sort((x, y) => (x.program < y.program ? -1 : x.program > y.program ? 1 : x.name < y.name ? -1 : 1));
    return { procedures: procs.sort(order), operations: opRows };
  }
}

/** The same table from stored 'rpc' events (each event is one call; a retransmission shares its reply). */
export function srtStats(events: Iterable<ParsedEvent>): SrtStats {
  const list: ParsedEvent[] = [];
  // tshark times a reply from the FIRST transmission of its XID on the conversation (a retransmission does
  // not restart the clock), and counts each reply message once.
  const firstCall = new Map<string, bigint>();
  for (const e of events) {
    if (e.kind !== 'rpc' || e.ts === undefined) continue;
    const d = e.data as unknown as RpcData;
    if (d.orphanReply) continue;
    list.push(e);
    const k = `${d.client}>${d.server}/${d.xid}`;
    const t = firstCall.get(k);
    if (t === undefined || e.ts < t) firstCall.set(k, e.ts);
  }
  const out = new SrtAccumulator();
  const seenReply = new Set<string>();
  for (const e of list) {
    const d = e.data as unknown as RpcData;
    if (d.replyTs === undefined || e.ts === undefined) continue;
    const rk = `${d.replyFrame}/${d.xid}`;
    if (seenReply.has(rk)) continue;
    seenReply.add(rk);
    const ns = BigInt(d.replyTs) - (firstCall.get(`${d.client}>${d.server}/${d.xid}`) ?? e.ts);
    out.add(d.program, d.programNumber, d.version, d.procedure, d.procedureNumber, d.ops, d.status, Number(ns));
  }
  return out.stats();
}

const RULE_OPEN = '===================================================================';
const RULE_CLOSE = '==================================================================';

function line(index: string, name: string, r: SrtRow): string {
  const s = (ms: number): string => (ms / 1000).toFixed(6).padStart(10);
  return `${index.padStart(5)}  ${name.padEnd(22)} ${String(r.calls).padStart(6)} ${s(r.minMs)} ${s(r.maxMs)} ${s(r.avgMs)} ${s(r.sumMs)}`;
}

/** Text tables in the layout of `tshark -q -z rpc,srt,...` (times in seconds), one per program/version, then NFSv4 operations. */
export function formatSrt(stats: SrtStats): string {
  const out: string[] = [];
  const groups = new Map<string, SrtRow[]>();
  for (const r of stats.procedures) {
    const k = `${r.programNumber}/${r.version}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  for (const rows of groups.values()) {
    const first = rows[0];
    out.push('', RULE_OPEN, 'RPC SRT Statistics:', `Filter: ${programLabel(first.program, first.version)} (program ${first.programNumber} version ${first.version})`);
    out.push('Index  Procedure              Calls    Min SRT    Max SRT    Avg SRT    Sum SRT');
    for (const r of rows) out.push(line(String(r.index), r.name, r));
    out.push(RULE_CLOSE);
  }
  if (stats.operations.length > 0) {
    out.push('', RULE_OPEN, 'NFSv4 operation SRT (each operation charged its COMPOUND response time):');
    out.push('Index  Operation              Calls    Min SRT    Max SRT    Avg SRT    Sum SRT');
    stats.operations.forEach((r, i) => out.push(line(String(i), r.name, r)));
    out.push(RULE_CLOSE);
  }
  return out.join('\n') + '\n';
}
