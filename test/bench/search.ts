/**
 * Search benchmark (issue 6): a generated case with 1M events across 3 hosts (quick: 100k), written straight
 * into a real store (one transaction, the events_fts trigger indexing every row as a real ingest does), texts
 * drawn from realistic kernel, strace and RPC event lines. Then ~200 queries through searchCase (the API's
 * search): corpus words, prefixes, two-word queries, and filters by host, kind and time range.
 * Goal: p95 ≤ 50 ms. Peer: the naive scan a tool without an index does, `text LIKE '%word%'` over the same
 * events with the same filters and LIMIT, measured on a sample of the same queries (it is slow, so not all 200).
 * Queries run in a child process with its own read-only connection, so one that runs away can be stopped at
 * QUERY_CAP_MS (SIGKILL; a synchronous SQLite call cannot be interrupted otherwise): it then counts as CAP ms,
 * a lower bound, and the row says how many were cut.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { openDb } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import { searchCase } from '../../electron/api/queries';
import { benchTmp, percentile, repoRoot, rng, round, type BenchOpts, type BenchRow } from './common';

const KERNEL = [
  'nfs: server filer1 not responding, still trying',
  'nfs: server filer2 OK',
  'lockd: server filer1 not responding, still trying',
  'INFO: task php-fpm8.2:{pid} blocked for more than 120 seconds.',
  'NFS: nfs4_reclaim_open_state: Lock reclaim failed! error=-5',
  'nlmclnt_lock: VFS is out of sync with lock manager!',
  'rpc_check_timeout: {n} callbacks suppressed',
  'NFS: state manager: check lease failed on NFSv4 server filer2 with error 10008',
  'audit: apparmor="DENIED" operation="open" profile="php-fpm" name="/srv/www/cache/{n}.php"',
];
const STRACE = [
  'flock({fd}, LOCK_EX) = 0 <{d}>',
  'flock({fd}, LOCK_EX|LOCK_NB) = -1 EAGAIN (Resource temporarily unavailable)',
  'fcntl({fd}, F_SETLKW, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=0}) = 0',
  'openat(AT_FDCWD, "/mnt/nfs/www/vendor/autoload.php", O_RDONLY|O_CLOEXEC) = {fd}',
  'newfstatat(AT_FDCWD, "/mnt/nfs/www/index.php", {st_mode=S_IFREG|0644, st_size={n}, ...}, 0) = 0',
  'read({fd}, "<?php\\n\\nnamespace App\\\\Http;"..., 8192) = 8192',
  'stat("/mnt/nfs/www", 0x7ffd5b2f0a90) = -1 EIO (Input/output error)',
  '--- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---',
];
const RPC = [
  'NFSv3 GETATTR fh 0x{h} → NFS3_OK {d} ms',
  'NFSv4.1 COMPOUND SEQUENCE PUTFH LOCK → NFS4ERR_DELAY',
  'NFSv4.1 COMPOUND SEQUENCE PUTFH OPEN GETFH → NFS4_OK (delegation read)',
  'NFSv4 CB_COMPOUND CB_SEQUENCE CB_RECALL stateid {h}',
  'NLM4 LOCK svid {n} caller web{c} → NLM4_DENIED_GRACE_PERIOD',
  'NLM4 LOCK_MSG svid {n} caller web{c} → NLM4_BLOCKED',
  'NSM NOTIFY mon_name filer1 state {n}',
  'NFSv4.1 COMPOUND SEQUENCE DELEGRETURN → NFS4_OK',
];
const KINDS: readonly [string, readonly string[], string][] = [
  ['kernel', KERNEL, 'dmesg'],
  ['syscall', STRACE, 'strace'],
  ['rpc', RPC, 'pcap'],
];

function fill(tpl: string, r: () => number): string {
  return tpl
    .replace(/\{pid\}/g, () => String(1000 + Math.floor(r() * 60000)))
    .replace(/\{n\}/g, () => String(Math.floor(r() * 100000)))
    .replace(/\{fd\}/g, () => String(3 + Math.floor(r() * 20)))
    .replace(/\{d\}/g, () => (r() * 5).toFixed(6))
    .replace(/\{h\}/g, () => Math.floor(r() * 0xffffffff).toString(16).padStart(8, '0'))
    .replace(/\{c\}/g, () => String(1 + Math.floor(r() * 3)));
}

export interface GeneratedCase {
  readonly store: Store;
  readonly caseId: number;
  readonly hostIds: readonly number[];
  readonly startNs: bigint;
  readonly endNs: bigint;
  readonly ms: number;
}

/** Write `n` events for 3 hosts straight into a store in one transaction (what a large ingest leaves behind). */
export function generateCase(dbFile: string, n: number, seed = 7): GeneratedCase {
  const t0 = performance.now();
  const db = openDb(dbFile);
  const store = new Store(db);
  const c = store.createCase('search-bench');
  const hosts = ['web1', 'web2', 'filer1'].map((name) => store.upsertHost(c.id, { name }));
  const arts = new Map<string, number>();
  for (const h of hosts) {
    for (const [, , akind] of KINDS) arts.set(`${h.id}/${akind}`, store.putArtifact({ caseId: c.id, hostId: h.id, name: `${h.name}.${akind}`, kind: akind, source: 'import' }, Buffer.from('generated\n')));
  }
  const r = rng(seed);
  const startNs = BigInt(Date.UTC(2026, 10, 21, 8)) * 1_000_000n;
  const spanNs = 3_600_000_000_000n; // one hour of incident
  const ins = db.prepare(
    `INSERT INTO events (case_id, artifact_id, host_id, kind, ts_ns, clock, line, pid, level, text, data_json) VALUES (?, ?, ?, ?, ?, 'corrected', ?, ?, ?, ?, '{}')`,
  );
  db.transaction(() => {
    for (let i = 0; i < n; i++) {
      const h = hosts[Math.floor(r() * hosts.length)]!;
      const [kind, tpls, akind] = KINDS[Math.floor(r() * KINDS.length)]!;
      const ts = startNs + (spanNs * BigInt(i)) / BigInt(n);
      const level = kind === 'kernel' ? (r() < 0.2 ? 'err' : r() < 0.5 ? 'warn' : 'info') : null;
      ins.run(c.id, arts.get(`${h.id}/${akind}`)!, h.id, kind, ts, i + 1, kind === 'syscall' ? 41000 + Math.floor(r() * 50) : null, level, fill(tpls[Math.floor(r() * tpls.length)]!, r));
    }
    db.prepare('UPDATE artifacts SET event_count = (SELECT count(*) FROM events e WHERE e.artifact_id = artifacts.id), parse_status = ? WHERE case_id = ?').run('parsed', c.id);
    // Direct inserts fill the full-text index themselves, as Store.ingestEvents does.
    db.prepare('INSERT INTO events_fts (rowid, text) SELECT id, text FROM events WHERE case_id = ?').run(c.id);
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  return { store, caseId: c.id, hostIds: hosts.map((h) => h.id), startNs, endNs: startNs + spanNs, ms: performance.now() - t0 };
}

interface Query {
  readonly query: string;
  readonly hostIds?: number[];
  readonly kinds?: string[];
  readonly fromNs?: string;
  readonly toNs?: string;
}

export function queries(g: GeneratedCase, count: number, seed = 11): Query[] {
  const r = rng(seed);
  const words = ['filer1', 'responding', 'flock', 'LOCK_EX', 'EAGAIN', 'NFS4ERR_DELAY', 'CB_RECALL', 'DELEGRETURN', 'NLM4_DENIED_GRACE_PERIOD', 'blocked', 'reclaim', 'lockd', 'F_SETLKW', 'autoload', 'EIO', 'SIGALRM', 'GETATTR', 'NOTIFY', 'apparmor', 'nlmclnt_lock'];
  const prefixes = ['resp', 'filer', 'NFS4', 'recl', 'autol', 'deleg', 'NLM4_D', 'fcnt', 'callb', 'lock'];
  const pairs = ['server not responding', 'lock reclaim failed', 'LOCK_EX EAGAIN', 'SEQUENCE LOCK', 'caller web2', 'task blocked'];
  const out: Query[] = [];
  const span = g.endNs - g.startNs;
  for (let i = 0; i < count; i++) {
    const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
    const x = i % 6;
    const q: Query =
      x === 0
        ? { query: pick(words) }
        : x === 1
          ? { query: pick(prefixes) }
          : x === 2
            ? { query: pick(pairs) }
            : x === 3
              ? { query: pick(words), hostIds: [pick(g.hostIds)] }
              : x === 4
                ? { query: pick(words), kinds: [pick(['kernel', 'syscall', 'rpc'])] }
                : (() => {
                    const from = g.startNs + (span * BigInt(Math.floor(r() * 900))) / 1000n;
                    return { query: pick(words), fromNs: String(from), toNs: String(from + span / 20n) };
                  })();
    out.push(q);
  }
  return out;
}

/** The peer: the same query without an index (every word as LIKE '%w%'), same filters, order and limit. */
function likeScan(g: GeneratedCase, q: Query): number {
  const words = q.query.match(/[\p{L}\p{N}_]+/gu) ?? [];
  const where = ['case_id = ?', ...words.map(() => 'text LIKE ?')];
  const args: unknown[] = [g.caseId, ...words.map((w) => `%${w}%`)];
  if (q.hostIds?.length) (where.push(`host_id IN (${q.hostIds.map(() => '?').join(',')})`), args.push(...q.hostIds));
  if (q.kinds?.length) (where.push(`kind IN (${q.kinds.map(() => '?').join(',')})`), args.push(...q.kinds));
  if (q.fromNs !== undefined) (where.push('ts_ns >= ?'), args.push(BigInt(q.fromNs)));
  if (q.toNs !== undefined) (where.push('ts_ns < ?'), args.push(BigInt(q.toNs)));
  return g.store.db.prepare(`SELECT id, text FROM events WHERE ${where.join(' AND ')} ORDER BY ts_ns LIMIT 200`).all(...args).length;
}

const QUERY_CAP_MS = 5000;
interface Job {
  readonly i: number;
  readonly caseId: number;
  readonly q: Query;
}

/**
 * Child mode (`node bin/run-ts.mjs test/bench/search.ts --child DB`): answers queries read as JSON lines on stdin
 * through the real searchCase on a read-only connection, timing each, one JSON line per answer on stdout.
 * A child process (not a worker thread) because a runaway query must be stoppable: SIGKILL ends it at once,
 * while Worker.terminate() waits for the synchronous SQLite call to return.
 */
export async function main(args: string[]): Promise<number> {
  if (args[0] !== '--child' || !args[1]) {
    process.stderr.write('usage: search.ts --child DB (run the benchmark with: npm run bench -- search)\n');
    return 2;
  }
  const store = new Store(openDb(args[1], { readonly: true }));
  let buf = '';
  process.stdin.setEncoding('utf8');
  for await (const chunk of process.stdin) {
    buf += chunk as string;
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const job = JSON.parse(buf.slice(0, nl)) as Job;
      buf = buf.slice(nl + 1);
      const t0 = performance.now();
      const n = searchCase(store, { caseId: job.caseId, limit: 200, ...job.q }).length;
      process.stdout.write(`${JSON.stringify({ i: job.i, ms: performance.now() - t0, n })}\n`);
    }
  }
  return 0;
}

class QueryRunner {
  private child: ChildProcess | undefined;
  private out = '';
  private waiting: ((line: string) => void) | undefined;
  constructor(private readonly dbFile: string) {}
  private start(): ChildProcess {
    if (this.child) return this.child;
    const c = spawn(process.execPath, [path.join(repoRoot, 'bin', 'run-ts.mjs'), path.join(repoRoot, 'test', 'bench', 'search.ts'), '--child', this.dbFile], { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] });
    c.stdout!.setEncoding('utf8');
    c.stdout!.on('data', (d: string) => {
      this.out += d;
      for (let nl = this.out.indexOf('\n'); nl !== -1; nl = this.out.indexOf('\n')) {
        const line = this.out.slice(0, nl);
        this.out = this.out.slice(nl + 1);
        this.waiting?.(line);
      }
    });
    this.child = c;
    return c;
  }
  /** Run one query; resolves with its time and hit count, or `cut` when it ran past the cap (the child is then killed and replaced). */
  run(job: Job): Promise<{ ms: number; n: number; cut: boolean }> {
    const c = this.start();
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null): void => reject(new Error(`search child exited (${code}) during query ${JSON.stringify(job.q)}`));
      const timer = setTimeout(() => {
        c.off('exit', onExit);
        this.waiting = undefined;
        c.kill('SIGKILL');
        this.child = undefined;
        this.out = '';
        resolve({ ms: QUERY_CAP_MS, n: 0, cut: true });
      }, QUERY_CAP_MS);
      this.waiting = (line) => {
        const m = JSON.parse(line) as { i: number; ms: number; n: number };
        if (m.i !== job.i) return;
        clearTimeout(timer);
        c.off('exit', onExit);
        this.waiting = undefined;
        resolve({ ms: m.ms, n: m.n, cut: false });
      };
      c.once('exit', onExit);
      c.stdin!.write(`${JSON.stringify(job)}\n`);
    });
  }
  close(): void {
    this.child?.kill('SIGKILL');
    this.child = undefined;
  }
}

export async function benchSearch(opts: BenchOpts): Promise<BenchRow[]> {
  const dir = benchTmp('search');
  const n = opts.quick ? 100_000 : 1_000_000;
  const runner = new QueryRunner(path.join(dir, 'search.db'));
  try {
    const g = generateCase(path.join(dir, 'search.db'), n);
    const qs = queries(g, 200);
    // One warm-up pass over a few queries: the measured figures are a warm page cache, as in an open case.
    for (const [i, q] of qs.slice(0, 5).entries()) await runner.run({ i: -1 - i, caseId: g.caseId, q });
    const lat: number[] = [];
    let hits = 0;
    let empty = 0;
    let cut = 0;
    const timed: number[] = [];
    const untimed: number[] = [];
    for (const [i, q] of qs.entries()) {
      const r = await runner.run({ i, caseId: g.caseId, q });
      lat.push(r.ms);
      (q.fromNs !== undefined ? timed : untimed).push(r.ms);
      hits += r.n;
      if (r.cut) cut++;
      else if (r.n === 0) empty++;
    }
    if (empty > qs.length / 4) throw new Error(`bench search: ${empty} of ${qs.length} queries found nothing: the corpus or the queries are wrong`);
    const peerLat: number[] = [];
    const sample = qs.filter((_, i) => i % (opts.quick ? 4 : 10) === 0);
    for (const q of sample) {
      const t0 = performance.now();
      likeScan(g, q);
      peerLat.push(performance.now() - t0);
    }
    g.store.db.close();
    const p95 = percentile(lat, 95);
    const peer95 = percentile(peerLat, 95);
    return [
      {
        measure: `search: ${qs.length} queries over ${n} events / 3 hosts, p95 latency`,
        ours: round(p95, 1),
        peer: round(peer95, 1),
        ratio: round(peer95 / p95, 2),
        goal: '≤ 50 ms',
        pass: p95 <= 50,
        unit: 'ms',
        notes: `ours p50 ${round(percentile(lat, 50), 1)} ms; p95 without a time filter ${round(percentile(untimed, 95), 1)} ms, with one ${round(percentile(timed, 95), 1)} ms; max ${round(Math.max(...lat), 1)} ms${cut ? ` (${cut} queries cut at ${QUERY_CAP_MS} ms, counted as ${QUERY_CAP_MS})` : ''}, ${hits} hits; peer = naive LIKE '%word%' scan, p95 of ${sample.length} of the same queries; case generated in ${Math.round(g.ms / 1000)} s`,
      },
    ];
  } finally {
    runner.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
