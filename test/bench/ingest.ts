/**
 * Ingest benchmark (issue 4, "Speed and memory"): a syslog with kernel NFS messages and hung-task reports, and an
 * strace -f -tt -T of a php-fpm/backup workload, each ≥ 500k lines (quick: 50k), generated per run. Ours = the
 * real path: the file stored as an artifact (Store.putArtifact: chunked, hashed, line-indexed) and
 * ingestArtifact (parse + events + FTS index, one transaction) into a fresh SQLite file; from 8 MiB up it parses
 * in a worker thread while this thread inserts (electron/ingest/pipeline.ts), the way the app ingests. Peer = Debian lnav 0.11
 * `lnav -n -c ';SELECT count(*) FROM all_logs' FILE` on the same file with a fresh HOME (no cached index).
 * ratio = lnav time / our time (≥ 1 means at least lnav's speed). lnav 0.11's strace_log format does not accept
 * the `-f` pid prefix, so on that file lnav indexes lines without recognising messages (its count is 0); the
 * extra `strace -tt -T` row is a file lnav does recognise, for a like-for-like comparison.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { openDb } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import { ingestArtifact } from '../../electron/ingest/ingest';
import { PIPELINE_MIN_BYTES } from '../../electron/ingest/pipeline';
import { benchTmp, generateStrace, generateSyslog, mb, median, requireTool, round, type BenchOpts, type BenchRow } from './common';

interface OursResult {
  readonly ms: number;
  readonly events: number;
  readonly kind: string;
  readonly status: string;
  readonly pipelined: boolean;
}

function ingestOurs(file: string, dbFile: string, kind: string): OursResult {
  rmSync(dbFile, { force: true });
  rmSync(`${dbFile}-wal`, { force: true });
  rmSync(`${dbFile}-shm`, { force: true });
  const db = openDb(dbFile);
  try {
    const store = new Store(db);
    const c = store.createCase('bench');
    const h = store.upsertHost(c.id, { name: 'web1' });
    const t0 = performance.now();
    const bytes = readFileSync(file);
    const id = store.putArtifact({ caseId: c.id, hostId: h.id, name: path.basename(file), kind: 'auto', source: 'import', bootTimeNs: BigInt(Date.UTC(2026, 10, 20, 8)) * 1_000_000n }, bytes);
    const r = ingestArtifact(store, id);
    const ms = performance.now() - t0;
    if (r.kind !== kind) throw new Error(`bench ingest: ${path.basename(file)} detected as ${r.kind}, expected ${kind}`);
    return { ms, events: r.eventCount, kind: r.kind, status: r.status, pipelined: r.pipelined === true };
  } finally {
    db.close();
  }
}

function lnavCount(file: string, home: string): Promise<{ ms: number; count: number }> {
  rmSync(home, { recursive: true, force: true });
  mkdirSync(home, { recursive: true });
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn('lnav', ['-n', '-c', ';SELECT count(*) FROM all_logs', file], { env: { ...process.env, HOME: home, TERM: 'dumb' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', reject);
    p.on('close', (code) => {
      const ms = performance.now() - t0;
      const text = Buffer.concat(out).toString();
      const m = /count\(\*\)\s*\n\s*(\d+)/.exec(text);
      if (code !== 0 || !m) return reject(new Error(`lnav exited ${code}: ${text.slice(0, 200)} ${Buffer.concat(err).toString().slice(0, 300)}`));
      resolve({ ms, count: Number(m[1]) });
    });
  });
}

export async function benchIngest(opts: BenchOpts): Promise<BenchRow[]> {
  requireTool('lnav', 'lnav');
  const dir = benchTmp('ingest');
  const lines = opts.quick ? 50_000 : 500_000;
  const rounds = opts.quick ? 1 : 3;
  const inputs = [
    { name: 'syslog+kernel (NFS, hung tasks)', file: path.join(dir, 'syslog.log'), kind: 'dmesg', gen: (f: string) => generateSyslog(f, lines) },
    { name: 'strace -f -tt -T', file: path.join(dir, 'strace-f.txt'), kind: 'strace', gen: (f: string) => generateStrace(f, lines, 2, true) },
    { name: 'strace -tt -T', file: path.join(dir, 'strace.txt'), kind: 'strace', gen: (f: string) => generateStrace(f, lines, 3, false) },
  ];
  const rows: BenchRow[] = [];
  try {
    for (const inp of inputs) {
      const g = inp.gen(inp.file);
      const size = statSync(inp.file).size;
      const ours: number[] = [];
      const peer: number[] = [];
      let last: OursResult | undefined;
      let lnavLines = 0;
      for (let i = 0; i < rounds; i++) {
        last = ingestOurs(inp.file, path.join(dir, 'bench.db'), inp.kind);
        ours.push(last.ms);
        const l = await lnavCount(inp.file, path.join(dir, 'home'));
        peer.push(l.ms);
        lnavLines = l.count;
      }
      const o = median(ours);
      const p = median(peer);
      const ratio = p / o;
      rows.push({
        measure: `ingest ${inp.name}: ${g.lines} lines (${mb(size)} MB), lines/s`,
        ours: Math.round(g.lines / (o / 1000)),
        peer: Math.round(g.lines / (p / 1000)),
        ratio: round(ratio, 2),
        goal: 1,
        pass: ratio >= 1,
        unit: 'lines/s',
        notes: `ours ${Math.round(o)} ms → ${last!.events} events (${last!.status}), stored+FTS, ${last!.pipelined ? 'parsed in a worker while inserting' : `parsed inline${size >= PIPELINE_MIN_BYTES ? ' (the parse worker could not start)' : ` (below ${PIPELINE_MIN_BYTES >> 20} MiB)`}`}; lnav ${Math.round(p)} ms → all_logs count ${lnavLines}; median of ${rounds}`,
      });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
