/**
 * Capture decode benchmark (issue "Decode the evidence": at least 1M RPCs mixing a GETATTR flood, NLM and NFSv4
 * lock traffic; at least 10x tshark's speed with equal counts).
 * Builds a large capture from real lab packets (complete single-segment ONC RPC records of the lab captures:
 * the GETATTR flood, NFSv3/v4 mounts, an NFSv4 lock conflict and an NLM lock conflict, replayed on 64 TCP
 * connections with new XIDs, sequence numbers and timestamps, 16 calls in flight per connection), then compares
 * like with like, in the same run:
 *  - per-RPC records: ours (a child process streaming the file: wall time, peak RSS) against
 *    `tshark -T fields` extracting the same per-RPC fields;
 *  - the service-response-time table: `casefile stats` (captureStats in a child) against
 *    `tshark -n -o tcp.try_heuristic_first:TRUE -r FILE -q -z rpc,srt,100003,3 -z rpc,srt,100003,4`,
 *    with both tables' NFS and NLM rows (calls, min, max to the microsecond) required to be equal.
 * The capture has 1M RPCs in quick mode too: the goal is set at that size, tshark needs ~8 s for its SRT table
 * there, and on a 100k capture the comparison measures process start and JIT warm-up more than decoding (that
 * figure is still measured and reported in the SRT row's notes).
 */
import { spawn } from 'node:child_process';
import { buildSync } from 'esbuild';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContainerReader } from '../../shared/capture/container/reader';
import { IpLayer } from '../../shared/capture/net/ip';
import { networkOffset } from '../../shared/capture/net/link';

export interface BenchDecodeRow {
  measure: string;
  ours: number;
  peer: number;
  ratio: number;
  goal: string;
  pass: boolean;
  unit?: string;
  notes?: string;
}

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'pcaps');
const TEMPLATE_CAPTURES = ['lab__getattr-flood.pcap', 'lab__basic-v3-v4.pcap', 'lab__v4-lock-conflict.pcap', 'lab__nlm-conflict.pcap'];

interface Pair {
  call: Uint8Array;
  reply: Uint8Array;
}

/** Real call/reply TCP payloads (record mark + one whole RPC message) of each lab capture. */
function templates(): Pair[][] {
  const groups: Pair[][] = [];
  for (const name of TEMPLATE_CAPTURES) {
    const pairs: Pair[] = [];
    groups.push(pairs);
    const calls = new Map<number, Uint8Array>();
    const ip = new IpLayer();
    const reader = new ContainerReader((f) => {
      const off = networkOffset(f.linkType, f.data);
      if (off < 0) return;
      const p = ip.parse(f.data, off, f.origLen);
      if (!p || p.proto !== 6) return;
      const hl = (p.data[p.start + 12] >> 4) * 4;
      const pay = p.data.subarray(p.start + hl, p.end);
      if (pay.length < 16) return;
      const dv = new DataView(pay.buffer, pay.byteOffset, pay.byteLength);
      const mark = dv.getUint32(0);
      if (mark >>> 31 !== 1 || (mark & 0x7fffffff) !== pay.length - 4) return;
      const xid = dv.getUint32(4);
      const type = dv.getUint32(8);
      if (type === 0) calls.set(xid, pay.slice());
      else if (type === 1) {
        const c = calls.get(xid);
        if (c) {
          pairs.push({ call: c, reply: pay.slice() });
          calls.delete(xid);
        }
      }
    });
    reader.push(new Uint8Array(readFileSync(join(FIXTURES, name))));
    reader.end();
    if (pairs.length === 0) throw new Error(`${name}: no single-segment RPC call/reply pair to replay`);
  }
  return groups;
}

/** The replay order: the GETATTR flood, with one pair of each other capture after every 20 flood pairs (each
 * ~4.5% of the RPCs: mounts, NFSv4 OPEN/LOCK/LOCKU, NLM LOCK/UNLOCK), so the lock traffic is a real share. */
function mix(groups: Pair[][]): Pair[] {
  const [flood, ...others] = groups;
  const cursor = others.map(() => 0);
  const out: Pair[] = [];
  for (let k = 0; k < flood.length; k++) {
    out.push(flood[k]);
    if (k % 20 === 19) others.forEach((g, i) => out.push(g[cursor[i]++ % g.length]));
  }
  return out;
}

/** Write the synthetic capture: little-endian microsecond pcap, Ethernet/IPv4/TCP. */
export function synthesize(path: string, rpcs: number): number {
  const pairs = mix(templates());
  const CONNS = 64;
  const WINDOW = 16;
  const fd = openSync(path, 'w');
  const buf = new Uint8Array(8 * 1024 * 1024);
  const dv = new DataView(buf.buffer);
  let pos = 0;
  const flush = (): void => {
    writeSync(fd, buf, 0, pos);
    pos = 0;
  };
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 262144, true);
  dv.setUint32(20, 1, true);
  pos = 24;
  const cSeq = new Array<number>(CONNS).fill(0).map((_, i) => (i * 7919 * 65536) >>> 0);
  const sSeq = new Array<number>(CONNS).fill(0).map((_, i) => (i * 104729 * 4096) >>> 0);
  let usec = 0;
  const baseSec = 1_800_000_000;
  const frame = (conn: number, fromClient: boolean, payload: Uint8Array, xid: number): void => {
    const len = 14 + 20 + 20 + payload.length;
    if (pos + 16 + len > buf.length) flush();
    usec += 7;
    dv.setUint32(pos, baseSec + Math.floor(usec / 1e6), true);
    dv.setUint32(pos + 4, usec % 1e6, true);
    dv.setUint32(pos + 8, len, true);
    dv.setUint32(pos + 12, len, true);
    let o = pos + 16;
    buf.fill(0, o, o + 54);
    buf[o + 5] = fromClient ? 1 : 2; // dst MAC
    buf[o + 11] = fromClient ? 2 : 1; // src MAC
    dv.setUint16(o + 12, 0x0800);
    o += 14;
    buf[o] = 0x45;
    dv.setUint16(o + 2, 20 + 20 + payload.length);
    buf[o + 8] = 64;
    buf[o + 9] = 6;
    const client = 0x0a010001;
    const server = 0x0a010002;
    dv.setUint32(o + 12, fromClient ? client : server);
    dv.setUint32(o + 16, fromClient ? server : client);
    o += 20;
    const cport = 700 + conn;
    dv.setUint16(o, fromClient ? cport : 2049);
    dv.setUint16(o + 2, fromClient ? 2049 : cport);
    dv.setUint32(o + 4, fromClient ? cSeq[conn] : sSeq[conn]);
    dv.setUint32(o + 8, fromClient ? sSeq[conn] : cSeq[conn]);
    buf[o + 12] = 0x50;
    buf[o + 13] = 0x18; // PSH|ACK
    dv.setUint16(o + 14, 65535);
    o += 20;
    buf.set(payload, o);
    dv.setUint32(o + 4, xid); // new XID
    if (fromClient) cSeq[conn] = (cSeq[conn] + payload.length) >>> 0;
    else sSeq[conn] = (sSeq[conn] + payload.length) >>> 0;
    pos = o + payload.length;
  };
  // Per connection, calls run WINDOW ahead of their replies.
  for (let i = 0; i < rpcs + WINDOW * CONNS; i++) {
    if (i < rpcs) {
      const t = pairs[i % pairs.length];
      frame(i % CONNS, true, t.call, (0x20000000 + i) >>> 0);
    }
    const j = i - WINDOW * CONNS;
    if (j >= 0) frame(j % CONNS, false, pairs[j % pairs.length].reply, (0x20000000 + j) >>> 0);
  }
  flush();
  closeSync(fd);
  return statSync(path).size;
}

function run(cmd: string, args: string[]): Promise<{ stdout: string; wallMs: number; maxRssKb: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    // GNU time reports the peak RSS of the measured process (tshark or node) on stderr.
    const p = spawn('/usr/bin/time', ['-f', 'MAXRSS=%M', cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', reject);
    p.on('close', (code) => {
      const wallMs = performance.now() - t0;
      const e = Buffer.concat(err).toString();
      const m = /MAXRSS=(\d+)/.exec(e);
      if (code !== 0) reject(new Error(`${cmd} exited ${code}: ${e.slice(-2000)}`));
      else resolve({ stdout: Buffer.concat(out).toString(), wallMs, maxRssKb: m ? Number(m[1]) : 0 });
    });
  });
}

/** tshark names its SRT tables by protocol: NFS and NLM, the programs compared (program numbers as ours). */
const TSHARK_SRT_FILTER = /^Filter: (nfs|nlm)\.procedure_v(\d+)/;
const tsharkTable = (m: RegExpExecArray): string => `${m[1] === 'nfs' ? 100003 : 100021}/${m[2]}`;
const COMPARED = (key: string): boolean => key.startsWith('100003/') || key.startsWith('100021/');
const SRT_ARGS = ['-q', '-z', 'rpc,srt,100003,3', '-z', 'rpc,srt,100003,4', '-z', 'rpc,srt,100021,4'];

/** Answered calls per program/version/procedure from tshark's SRT tables. */
function parseTsharkSrt(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, row] of Object.entries(srtRows(text, TSHARK_SRT_FILTER, tsharkTable))) out[k] = row.calls;
  return out;
}

/** NFS and NLM rows (calls, min, max) of an SRT table, keyed program/version/index; `filter` starts a table, `table` names it program/version. */
function srtRows(text: string, filter: RegExp, table: (m: RegExpExecArray) => string): Record<string, { calls: number; min: string; max: string }> {
  const out: Record<string, { calls: number; min: string; max: string }> = {};
  let key = '';
  for (const l of text.split('\n')) {
    const f = filter.exec(l);
    if (f) key = table(f);
    if (l.startsWith('NFSv4 operation SRT')) key = ''; // our extra per-operation table has no tshark counterpart
    const m = /^\s+(\d+)\s+\S+\s+(\d+)\s+([\d.]+)\s+([\d.]+)/.exec(l);
    if (m && COMPARED(key)) out[`${key}/${m[1]}`] = { calls: Number(m[2]), min: m[3], max: m[4] };
  }
  return out;
}

export async function benchDecode(opts: { quick: boolean }): Promise<BenchDecodeRow[]> {
  void opts; // the same size in both modes: see the header
  const rpcs = 1_000_000;
  const dir = mkdtempSync(join(tmpdir(), 'casefile-bench-decode-'));
  try {
    const file = join(dir, 'synthetic.pcap');
    const bytes = synthesize(file, rpcs);
    // Bundle the child as the app build would (one ESM file), so the measured process pays no TypeScript loader.
    const child = join(dir, 'decode-child.mjs');
    buildSync({ entryPoints: [join(import.meta.dirname, 'decode-child.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node22', outfile: child, logLevel: 'error' });
    const statsChild = join(dir, 'stats-child.mjs');
    buildSync({ entryPoints: [join(import.meta.dirname, 'stats-child.ts')], bundle: true, platform: 'node', format: 'esm', target: 'node22', outfile: statsChild, logLevel: 'error' });
    const ours = await run(process.execPath, [child, file]);
    const oursStats = await run(process.execPath, [statsChild, file]);
    // The live set must not grow with the file: the same decode with V8's old space capped at 48 MB.
    const capped = await run(process.execPath, ['--max-old-space-size=48', child, file]).catch(() => undefined);
    const cappedOk = capped !== undefined && (JSON.parse(capped.stdout) as { calls: number }).calls === rpcs;
    const o = JSON.parse(ours.stdout) as { decodeMs: number; cpuMs: number; calls: number; answered: number; perProc: Record<string, number> };
    const peer = await run('tshark', ['-n', '-o', 'tcp.try_heuristic_first:TRUE', '-r', file, ...SRT_ARGS]);
    const theirs = parseTsharkSrt(peer.stdout);
    const theirAnswered = Object.values(theirs).reduce((a, b) => a + b, 0);
    // tshark's tables cover NFS (100003) v3/v4 and NLM (100021) v4; compare those procedures.
    const oursNfs = Object.entries(o.perProc).filter(([k]) => COMPARED(k));
    const oursNfsAnswered = oursNfs.reduce((a, [, v]) => a + v, 0);
    const sameCounts = JSON.stringify(oursNfs.sort()) === JSON.stringify(Object.entries(theirs).sort());
    // The two SRT tables, NFS rows: the same calls, minimum and maximum (printed to the microsecond).
    const ourTable = srtRows(oursStats.stdout, /^Filter: .*\(program (\d+) version (\d+)\)/, (m) => `${m[1]}/${m[2]}`);
    const theirTable = srtRows(peer.stdout, TSHARK_SRT_FILTER, tsharkTable);
    const sameTable = Object.keys(theirTable).some((k) => k.startsWith('100003/')) && Object.keys(theirTable).some((k) => k.startsWith('100021/')) && JSON.stringify(Object.entries(ourTable).sort()) === JSON.stringify(Object.entries(theirTable).sort());
    // The same per-RPC information as our events, as tshark would extract it.
    const fields = await run('tshark', ['-n', '-o', 'tcp.try_heuristic_first:TRUE', '-r', file, '-Y', 'rpc', '-T', 'fields', '-e', 'frame.number', '-e', 'rpc.xid',
      '-e', 'rpc.msgtyp', '-e', 'rpc.program', '-e', 'rpc.programversion', '-e', 'rpc.procedure', '-e', 'nfs.status', '-e', 'nfs.nfsstat4', '-e', 'nlm.stat', '-e', 'nfs.opcode', '-e', 'rpc.time']);
    const fieldRows = fields.stdout.split('\n').filter((l) => l !== '').length;
    // The same SRT comparison on a 100k-RPC capture, for the notes: there start-up and warm-up weigh most.
    const small = join(dir, 'small.pcap');
    synthesize(small, 100_000);
    const smallOurs = await run(process.execPath, [statsChild, small]);
    const smallPeer = await run('tshark', ['-n', '-o', 'tcp.try_heuristic_first:TRUE', '-r', small, ...SRT_ARGS]);
    const smallNote = `on a 100k-RPC capture: ${(smallOurs.wallMs / 1000).toFixed(2)} s vs ${(smallPeer.wallMs / 1000).toFixed(2)} s (${(smallPeer.wallMs / smallOurs.wallMs).toFixed(1)}x), mostly process start and JIT warm-up`;
    const mb = bytes / 1e6;
    return [
      { measure: `decode ${rpcs} RPCs (${mb.toFixed(0)} MB pcap) to per-RPC records, wall time incl. process start; peer: tshark -T fields (same information)`, ours: ours.wallMs / 1000, peer: fields.wallMs / 1000, ratio: fields.wallMs / ours.wallMs, goal: '>= 10x faster', pass: fields.wallMs / ours.wallMs >= 10, unit: 's' },
      { measure: `SRT table of the same capture: casefile stats vs tshark -q -z rpc,srt (wall incl. process start; NFS and NLM rows equal: ${sameTable ? 'yes' : 'NO'})`, ours: oursStats.wallMs / 1000, peer: peer.wallMs / 1000, ratio: peer.wallMs / oursStats.wallMs, goal: '>= 10x faster', pass: sameTable && peer.wallMs / oursStats.wallMs >= 10, unit: 's', notes: smallNote },
      { measure: 'peak RSS of casefile stats (peer: tshark -q -z rpc,srt)', ours: oursStats.maxRssKb / 1024, peer: peer.maxRssKb / 1024, ratio: peer.maxRssKb / Math.max(1, oursStats.maxRssKb), goal: '<= 1.5x tshark', pass: oursStats.maxRssKb <= 1.5 * peer.maxRssKb, unit: 'MB' },
      { measure: 'decode throughput (ours: in-process decode time; peer: tshark -T fields wall)', ours: rpcs / (o.decodeMs / 1000), peer: rpcs / (fields.wallMs / 1000), ratio: fields.wallMs / o.decodeMs, goal: '>= 10x', pass: fields.wallMs / o.decodeMs >= 10, unit: 'RPC/s' },
      { measure: 'peak RSS (peer: tshark -q -z rpc,srt)', ours: ours.maxRssKb / 1024, peer: peer.maxRssKb / 1024, ratio: peer.maxRssKb / Math.max(1, ours.maxRssKb), goal: 'bounded by open conversations; below tshark', pass: ours.maxRssKb < peer.maxRssKb, unit: 'MB' },
      { measure: 'decode completes with V8 old space capped at 48 MB (live memory bounded); RSS of that run', ours: (capped?.maxRssKb ?? 0) / 1024, peer: peer.maxRssKb / 1024, ratio: peer.maxRssKb / Math.max(1, capped?.maxRssKb ?? 1), goal: 'completes, same counts', pass: cappedOk, unit: 'MB' },
      { measure: 'answered NFS and NLM calls per procedure equal tshark rpc,srt', ours: oursNfsAnswered, peer: theirAnswered, ratio: theirAnswered === 0 ? 0 : oursNfsAnswered / theirAnswered, goal: 'equal', pass: sameCounts && o.answered === rpcs, unit: 'calls' },
      { measure: 'RPC messages seen (ours: calls + answered; peer: tshark -Y rpc rows)', ours: o.calls + o.answered, peer: fieldRows, ratio: fieldRows === 0 ? 0 : (o.calls + o.answered) / fieldRows, goal: 'equal', pass: o.calls + o.answered === fieldRows, unit: 'messages' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Run directly: `node --import tsx test/bench/decode.ts [--full]`
if (process.argv[1] && import.meta.filename === process.argv[1]) {
  void benchDecode({ quick: !process.argv.includes('--full') }).then((rows) => {
    for (const r of rows) process.stdout.write(`${JSON.stringify(r)}\n`);
  });
}
