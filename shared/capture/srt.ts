/**
 * Service response time per program/version/procedure, like `tshark -z rpc,srt,PROG,VERS`, and per NFSv4
 * operation (each operation of an answered COMPOUND is charged the COMPOUND's response time: the server
 * executes and answers them as one request, RFC 7530 §15.2).
 * Only answered calls count, once per reply message, timed from the first transmission of the XID (as tshark does).
 */
import type { ParsedEvent } from '../model/event';
import { programLabel } from '../rpc/tracker';
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
  program: RpcProgramName;
  programNumber: number;
  version: number;
  name: string;
  index: number;
  calls: number;
  minNs: bigint;
  maxNs: bigint;
  sumNs: bigint;
}

function add(m: Map<string, Acc>, key: string, base: Omit<Acc, 'calls' | 'minNs' | 'maxNs' | 'sumNs'>, ns: bigint): void {
  let a = m.get(key);
  if (a === undefined) {
    a = { ...base, calls: 0, minNs: ns, maxNs: ns, sumNs: 0n };
    m.set(key, a);
  }
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
  minMs: Number(a.minNs) / 1e6,
  maxMs: Number(a.maxNs) / 1e6,
  avgMs: Number(a.sumNs) / a.calls / 1e6,
  sumMs: Number(a.sumNs) / 1e6,
});

const order = (x: SrtRow, y: SrtRow): number => x.programNumber - y.programNumber || x.version - y.version || x.index - y.index;

const NOT_EXECUTED = new Set(['PROG_UNAVAIL', 'PROG_MISMATCH', 'PROC_UNAVAIL', 'GARBAGE_ARGS', 'SYSTEM_ERR', 'RPC_MISMATCH', 'AUTH_ERROR']);

export function srtStats(events: Iterable<ParsedEvent>): SrtStats {
  const procs = new Map<string, Acc>();
  const ops = new Map<string, Acc>();
  const opIndex = new Map<string, number>();
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
  const seenReply = new Set<string>();
  for (const e of list) {
    const d = e.data as unknown as RpcData;
    if (d.replyTs === undefined || e.ts === undefined) continue;
    // Calls the server did not execute (RPC-level rejection) have no service time, as in tshark.
    if (d.status !== undefined && NOT_EXECUTED.has(d.status)) continue;
    const rk = `${d.replyFrame}/${d.xid}`;
    if (seenReply.has(rk)) continue;
    seenReply.add(rk);
    const ns = BigInt(d.replyTs) - (firstCall.get(`${d.client}>${d.server}/${d.xid}`) ?? e.ts);
    add(procs, `${d.programNumber}/${d.version}/${d.procedureNumber}`, {
      program: d.program, programNumber: d.programNumber, version: d.version, name: d.procedure, index: d.procedureNumber,
    }, ns);
    if (d.ops !== undefined) {
      for (const op of d.ops) {
        let idx = opIndex.get(op);
        if (idx === undefined) {
          idx = opIndex.size;
          opIndex.set(op, idx);
        }
        add(ops, `${d.program}/${op}`, { program: d.program, programNumber: d.programNumber, version: d.version, name: op, index: idx }, ns);
      }
    }
  }
  const opRows = [...ops.values()].map(toRow).sort((x, y) => (x.program < y.program ? -1 : x.program > y.program ? 1 : x.name < y.name ? -1 : 1));
  return { procedures: [...procs.values()].map(toRow).sort(order), operations: opRows };
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
