/**
 * Memory benchmark (issue 7): a 1 GB capture (quick: 100 MB) built by replaying the lab's real NFS/NLM packets
 * (common.ts buildReplayCapture), ingested through the real path in a child process: the bytes streamed into
 * the store in 64 KiB writes (ArtifactWriter: 1 MiB chunks, hash, line index), then ingestArtifact (capture
 * decoder → events in one transaction, FTS). The child's peak RSS is measured by /usr/bin/time -v (or VmHWM
 * sampled from /proc). Goal: ≤ 400 MB. No peer (tshark's peak on a decode is measured by the decode bench).
 *
 * The child is this same file: `node bin/run-ts.mjs test/bench/memory.ts --child DB PCAP` (main below).
 */
import { closeSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { openDb } from '../../electron/store/db';
import { Store } from '../../electron/store/store';
import { ingestArtifact } from '../../electron/ingest/ingest';
import { benchTmp, buildReplayCapture, mb, repoRoot, round, runMeasured, type BenchOpts, type BenchRow } from './common';

const GOAL_MB = 400;

/** Stream a file into a new artifact (64 KiB reads, never whole in memory) and ingest it. */
export function ingestFileStreaming(store: Store, caseId: number, file: string, kind = 'pcap'): { artifactId: number; events: number; status: string; warnings: readonly string[]; storeMs: number; ingestMs: number } {
  const t0 = performance.now();
  const w = store.beginArtifact({ caseId, name: path.basename(file), kind, source: 'import' });
  const fd = openSync(file, 'r');
  const buf = Buffer.allocUnsafe(64 * 1024);
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      w.write(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  w.finish({ exitCode: 0 });
  const t1 = performance.now();
  const r = ingestArtifact(store, w.id, { kind });
  return { artifactId: w.id, events: r.eventCount, status: r.status, warnings: r.warnings.slice(0, 3), storeMs: t1 - t0, ingestMs: performance.now() - t1 };
}

/** Child mode: ingest PCAP into DB and print one JSON line with the counts and timings. */
export async function main(args: string[]): Promise<number> {
  if (args[0] !== '--child' || !args[1] || !args[2]) {
    process.stderr.write('usage: memory.ts --child DB PCAP (run the benchmark with: npm run bench -- memory)\n');
    return 2;
  }
  const db = openDb(args[1]);
  try {
    const store = new Store(db);
    const c = store.createCase('memory-bench');
    const r = ingestFileStreaming(store, c.id, args[2]);
    process.stdout.write(`${JSON.stringify({ ...r, heapUsedMb: mb(process.memoryUsage().heapUsed) })}\n`);
    return 0;
  } finally {
    db.close();
  }
}

export async function benchMemory(opts: BenchOpts): Promise<BenchRow[]> {
  const dir = benchTmp('memory');
  const target = opts.quick ? 100 << 20 : 1 << 30;
  try {
    const pcap = path.join(dir, 'replay.pcap');
    const built = buildReplayCapture(pcap, target);
    const size = statSync(pcap).size;
    const dbFile = path.join(dir, 'memory.db');
    const node = process.execPath;
    const r = await runMeasured(node, [path.join(repoRoot, 'bin', 'run-ts.mjs'), path.join(repoRoot, 'test', 'bench', 'memory.ts'), '--child', dbFile, pcap], {
      cwd: repoRoot,
      timeoutMs: opts.quick ? 10 * 60_000 : 60 * 60_000,
    });
    const line = r.stdout.trim().split('\n').pop() ?? '';
    if (r.code !== 0 || !line.startsWith('{')) throw new Error(`memory child exited ${r.code ?? r.signal}: ${r.stderr.slice(-1500)}`);
    const out = JSON.parse(line) as { events: number; status: string; warnings: string[]; storeMs: number; ingestMs: number; heapUsedMb: number };
    if (out.events <= 0) throw new Error('memory bench: the capture produced no events');
    if (r.peakRssBytes === undefined) throw new Error('memory bench: could not measure the peak RSS (no /usr/bin/time and no VmHWM)');
    const peak = r.peakRssBytes / (1 << 20);
    return [
      {
        measure: `memory: ingest of a ${mb(size)} MB capture (${built.packets} packets, lab replay), peak RSS`,
        ours: round(peak, 0),
        peer: null,
        ratio: null,
        goal: `≤ ${GOAL_MB} MB`,
        pass: peak <= GOAL_MB,
        unit: 'MB',
        notes: `${out.events} events (${out.status}${out.warnings.length ? `: ${out.warnings.join('; ').slice(0, 300)}` : ''}); store ${round(out.storeMs / 1000, 1)} s, decode+insert ${round(out.ingestMs / 1000, 1)} s; heap at end ${out.heapUsedMb} MB; measured by ${r.stderr.includes('Maximum resident set size') ? '/usr/bin/time -v' : '/proc VmHWM'}`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
