import type { ParsedEvent } from '../../model/event';
import type { LineParser, ParseContext, TextParserSpec } from '../types';

/** nfs_iostat event counters, in the order fs/nfs/iostat.h defines them (27 since 2.6.x; `delay` is the 25th). */
export const MOUNTSTATS_EVENTS = [
  'inoderevalidates', 'dentryrevalidates', 'datainvalidates', 'attrinvalidates', 'vfsopen', 'vfslookup',
  'vfspermission', 'vfsupdatepage', 'vfsreadpage', 'vfsreadpages', 'vfswritepage', 'vfswritepages', 'vfsreaddir',
  'vfssetattr', 'vfsflush', 'vfsfsync', 'vfslock', 'vfsrelease', 'congestionwait', 'setattrtrunc', 'extendwrite',
  'sillyrenames', 'shortreads', 'shortwrites', 'delay', 'pnfsreads', 'pnfswrites',
] as const;

// xprt layouts (net/sunrpc/xprtsock.c xs_tcp_print_stats / xs_udp_print_stats); decided by token count.
const XPRT_TCP = ['srcport', 'bind_count', 'connect_count', 'connect_time', 'idle_time', 'sends', 'recvs', 'bad_xids', 'req_u', 'bklog_u', 'max_slots', 'sending_u', 'pending_u'] as const;
const XPRT_UDP = ['srcport', 'bind_count', 'sends', 'recvs', 'bad_xids', 'req_u', 'bklog_u', 'max_slots', 'sending_u', 'pending_u'] as const;
const XPRT_RDMA_HEAD = ['srcport', 'bind_count', 'connect_count', 'connect_time', 'idle_time', 'sends', 'recvs', 'bad_xids', 'req_u', 'bklog_u'] as const;
const OP_FIELDS = ['ops', 'trans', 'timeouts', 'bytes_sent', 'bytes_recv', 'queue_ms', 'rtt_ms', 'execute_ms', 'errors'] as const;

/** Counters are 64-bit and can exceed 2^53 (the fixture holds 18446743919241604546): kept as decimal strings. */
export type Counter = string;

export interface MountstatsOp {
  readonly op: string;
  readonly ops: Counter;
  readonly trans: Counter;
  readonly timeouts: Counter;
  readonly bytes_sent: Counter;
  readonly bytes_recv: Counter;
  readonly queue_ms: Counter;
  readonly rtt_ms: Counter;
  readonly execute_ms: Counter;
  /** Since iostats 1.1. */
  readonly errors?: Counter | undefined;
}

/** `data` of 'mountstats' events: one mount of /proc/self/mountstats (fs/nfs/super.c nfs_show_stats). */
export interface MountstatsData {
  readonly device: string;
  readonly mountpoint: string;
  readonly fstype: string;
  readonly statvers?: string | undefined;
  readonly opts?: Readonly<Record<string, string | true>> | undefined;
  readonly age?: number | undefined;
  readonly events?: Readonly<Record<string, Counter>> | undefined;
  readonly bytes?: readonly Counter[] | undefined;
  readonly iostatsVersion?: string | undefined;
  /** "100003/4" */
  readonly progVers?: string | undefined;
  readonly xprt?: { readonly proto: string; readonly fields: Readonly<Record<string, Counter>> } | undefined;
  readonly perOp?: readonly MountstatsOp[] | undefined;
  /** Device lines without NFS statistics (other file systems) carry only device/mountpoint/fstype. */
  readonly nfs: boolean;
}

interface Cur {
  line: number;
  endLine: number;
  device: string;
  mountpoint: string;
  fstype: string;
  statvers?: string;
  opts?: Record<string, string | true>;
  age?: number;
  events?: Record<string, Counter>;
  bytes?: Counter[];
  iostatsVersion?: string;
  progVers?: string;
  xprt?: { proto: string; fields: Record<string, Counter> };
  perOp?: MountstatsOp[];
  inOps: boolean;
}

// "device D mounted on M with fstype T[ statvers=V]" (fs/nfs/super.c nfs_show_devname/nfs_show_stats). Matched by
// hand: the former single pattern `^device (.+) mounted on (.+) with fstype ...$` backtracked over every
// " mounted on " x " with fstype " pair, taking seconds on one long hostile line (found by test/fuzz).
const DEVICE_TAIL = /^(\S+)(?: statvers=(\S+))?\s*$/;
const KV = /^\s*([a-z0-9]+):\s*(.*)$/i;
// "OP: n n n n n n n n [n]": numbers separated by blanks. The former `((?:\d+\s*){8,9})` could split one digit run
// in C(n, 8) ways: a 40-digit token took 3.5 s (ReDoS, found by test/fuzz).
const OPLINE = /^\s*([A-Z_0-9]+): ((?:\d+\s+){7,8}\d+)\s*$/;

/** Same groups as the old DEVICE regex: [whole, device, mountpoint, fstype, statvers?]. Linear in the line length. */
function matchDevice(text: string): [string, string, string, string, string | undefined] | undefined {
  if (!text.startsWith('device ')) return undefined;
  // Only the last " with fstype " can be followed by a blank-free type (an earlier one would leave "with fstype" in it).
  const w = text.lastIndexOf(' with fstype ');
  if (w < 0) return undefined;
  const tail = DEVICE_TAIL.exec(text.slice(w + 13));
  if (!tail) return undefined;
  // Greedy (.+) semantics: the last " mounted on " that leaves a non-empty device and mountpoint.
  let m = text.lastIndexOf(' mounted on ', w - 1);
  while (m > 0 && m + 12 >= w) m = text.lastIndexOf(' mounted on ', m - 1);
  if (m < 8) return undefined;
  return [text, text.slice(7, m), text.slice(m + 12, w), tail[1], tail[2]];
}

export function parseOpts(s: string): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (const part of s.split(',')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq < 0) out[part] = true;
    else out[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return out;
}

export function createMountstatsParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  let cur: Cur | undefined;
  function flush(): void {
    const c = cur;
    cur = undefined;
    if (!c) return;
    const nfs = c.fstype.startsWith('nfs');
    const data: MountstatsData = {
      device: c.device, mountpoint: c.mountpoint, fstype: c.fstype, statvers: c.statvers, opts: c.opts, age: c.age,
      events: c.events, bytes: c.bytes, iostatsVersion: c.iostatsVersion, progVers: c.progVers, xprt: c.xprt, perOp: c.perOp, nfs,
    };
    emit({
      kind: 'mountstats', ts: ctx.collectedAtNs, clock: ctx.collectedAtNs !== undefined ? 'collector' : 'none',
      line: c.line, endLine: c.endLine !== c.line ? c.endLine : undefined,
      text: `${c.device} on ${c.mountpoint} (${c.fstype}${c.opts?.vers ? ` v${String(c.opts.vers)}` : ''})`,
      data: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined)),
    });
  }
  return {
    line(text, lineNo) {
      const dm = matchDevice(text);
      if (dm) {
        flush();
        cur = { line: lineNo, endLine: lineNo, device: dm[1], mountpoint: dm[2], fstype: dm[3], inOps: false };
        if (dm[4] !== undefined) cur.statvers = dm[4];
        return;
      }
      if (!cur || text.trim() === '') return;
      cur.endLine = lineNo;
      const t = text.trim();
      if (cur.inOps) {
        const om = OPLINE.exec(t);
        if (om) {
          const vals = om[2].trim().split(/\s+/);
          const op: Record<string, string> = { op: om[1] };
          OP_FIELDS.forEach((f, i) => {
            if (vals[i] !== undefined) op[f] = vals[i];
          });
          (cur.perOp ??= []).push(op as unknown as MountstatsOp);
          return;
        }
      }
      if (t === 'per-op statistics') {
        cur.inOps = true;
        return;
      }
      if (t.startsWith('RPC iostats version:')) {
        const m = /^RPC iostats version: (\S+)\s+p\/v: (\S+)/.exec(t);
        if (m) {
          cur.iostatsVersion = m[1];
          cur.progVers = m[2];
        }
        return;
      }
      const kv = KV.exec(t);
      if (!kv) return;
      const [, key, val] = kv;
      switch (key) {
        case 'opts':
          cur.opts = parseOpts(val.trim());
          break;
        case 'age':
          cur.age = Number(val.trim());
          break;
        case 'events': {
          const vals = val.trim().split(/\s+/);
          const ev: Record<string, Counter> = {};
          vals.forEach((v, i) => {
            ev[MOUNTSTATS_EVENTS[i] ?? `event${i + 1}`] = v;
          });
          cur.events = ev;
          break;
        }
        case 'bytes':
          cur.bytes = val.trim().split(/\s+/);
          break;
        case 'xprt': {
          const toks = val.trim().split(/\s+/);
          const proto = toks[0];
          const nums = toks.slice(1);
          const names: readonly string[] = proto === 'udp' ? XPRT_UDP : proto === 'tcp' ? XPRT_TCP : XPRT_RDMA_HEAD;
          const fields: Record<string, Counter> = {};
          nums.forEach((v, i) => {
            fields[names[i] ?? `f${i + 1}`] = v;
          });
          cur.xprt = { proto, fields };
          break;
        }
        default:
          break;
      }
    },
    end() {
      flush();
    },
  };
}

export interface OpDelta {
  readonly op: string;
  readonly ops: bigint;
  readonly queue_ms: bigint;
  readonly rtt_ms: bigint;
  readonly execute_ms: bigint;
  readonly timeouts: bigint;
  readonly errors?: bigint | undefined;
}

export interface MountstatsDelta {
  readonly perOp: readonly OpDelta[];
  readonly xprt?: { readonly sends: bigint; readonly bklog_u: bigint; readonly connectCountChange: bigint } | undefined;
  readonly ageSeconds?: number | undefined;
  readonly events?: Readonly<Record<string, bigint>> | undefined;
}

const big = (s: string | undefined): bigint => (s !== undefined && /^\d+$/.test(s) ? BigInt(s) : 0n);

/**
 * Difference between two samples of the same mount (b later than a). Counters are unsigned 64-bit and wrap:
 * a negative difference is taken modulo 2^64 (a counter reset by remount shows up as connect/age going back).
 */
export function mountstatsDelta(a: MountstatsData, b: MountstatsData): MountstatsDelta {
  const wrap = (x: bigint): bigint => (x < 0n ? x + (1n << 64n) : x);
  const d = (x: string | undefined, y: string | undefined): bigint => wrap(big(y) - big(x));
  const before = new Map((a.perOp ?? []).map((o) => [o.op, o]));
  const perOp: OpDelta[] = (b.perOp ?? []).map((o) => {
    const p = before.get(o.op);
    return {
      op: o.op, ops: d(p?.ops, o.ops), queue_ms: d(p?.queue_ms, o.queue_ms), rtt_ms: d(p?.rtt_ms, o.rtt_ms),
      execute_ms: d(p?.execute_ms, o.execute_ms), timeouts: d(p?.timeouts, o.timeouts),
      errors: o.errors !== undefined ? d(p?.errors, o.errors) : undefined,
    };
  });
  const xa = a.xprt?.fields;
  const xb = b.xprt?.fields;
  const xprt = xb ? { sends: d(xa?.sends, xb.sends), bklog_u: d(xa?.bklog_u, xb.bklog_u), connectCountChange: big(xb.connect_count) - big(xa?.connect_count) } : undefined;
  let events: Record<string, bigint> | undefined;
  if (b.events) {
    events = {};
    for (const [k, v] of Object.entries(b.events)) events[k] = d(a.events?.[k], v);
  }
  return { perOp, xprt, ageSeconds: a.age !== undefined && b.age !== undefined ? b.age - a.age : undefined, events };
}

export const mountstatsSpec: TextParserSpec = {
  kind: 'mountstats',
  detect(head) {
    const dev = head.filter((l) => matchDevice(l) !== undefined).length;
    if (dev === 0) return 0;
    return head.some((l) => /^\s*(opts|events|xprt):\s/.test(l)) ? 1 : 0.7;
  },
  create: createMountstatsParser,
};
