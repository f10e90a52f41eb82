/**
 * `npm run bench [-- NAME...]`: runs every benchmark (or the named ones), prints one table — measure, ours,
 * peer, ratio, goal, pass — and writes the same rows to bench-results.json at the repository root.
 * BENCH_QUICK=1 runs smaller inputs and never fails on a ratio (CI: exit 0 unless a benchmark crashed);
 * the full mode exits 1 when any row fails. Peers (tshark, lnav, OpenSSH) are measured in the same run on
 * the same inputs; each benchmark checks its peer is installed and names the Debian package when not.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { repoRoot, type BenchOpts, type BenchRow } from './common';

type Bench = (opts: BenchOpts) => Promise<readonly BenchRow[]>;

/** Benchmarks in the order they run; each is loaded only when selected (a missing or broken module is a crash of that benchmark only). */
const BENCHES: readonly { name: string; file: string; fn: string }[] = [
  { name: 'decode', file: 'decode.ts', fn: 'benchDecode' },
  { name: 'ingest', file: 'ingest.ts', fn: 'benchIngest' },
  { name: 'timeline', file: 'timeline.ts', fn: 'benchTimeline' },
  { name: 'search', file: 'search.ts', fn: 'benchSearch' },
  { name: 'ssh', file: 'ssh.ts', fn: 'benchSsh' },
  { name: 'memory', file: 'memory.ts', fn: 'benchMemory' },
];

interface OutRow {
  readonly measure: string;
  readonly ours: number | null;
  readonly peer: number | null;
  readonly ratio: number | null;
  readonly goal: number | string | null;
  readonly pass: boolean;
  readonly unit?: string;
  readonly notes?: string;
  readonly bench: string;
  readonly seconds?: number;
  readonly error?: string;
}

async function load(b: (typeof BENCHES)[number]): Promise<Bench> {
  const mod = (await import(pathToFileURL(path.join(repoRoot, 'test', 'bench', b.file)).href)) as Record<string, unknown>;
  const fn = mod[b.fn];
  if (typeof fn !== 'function') throw new Error(`test/bench/${b.file} does not export ${b.fn}()`);
  return fn as Bench;
}

function fmt(v: unknown): string {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Math.round(v * 100) / 100);
  return String(v);
}

export function formatTable(rows: readonly OutRow[]): string {
  const head = ['measure', 'ours', 'peer', 'ratio', 'goal', 'pass'];
  const body = rows.map((r) => [r.measure, `${fmt(r.ours)}${r.unit && r.ours !== null ? ` ${r.unit}` : ''}`, `${fmt(r.peer)}${r.unit && r.peer !== null ? ` ${r.unit}` : ''}`, fmt(r.ratio), fmt(r.goal), r.error ? 'CRASH' : r.pass ? 'yes' : 'NO']);
  const width = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === 0 ? c.padEnd(width[i]!) : c.padStart(width[i]!))).join(' | ');
  return [line(head), width.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)].join('\n');
}

export async function main(args: string[]): Promise<number> {
  const quick = process.env.BENCH_QUICK === '1' || process.env.BENCH_QUICK === 'true';
  const names = args.filter((a) => !a.startsWith('-'));
  const unknown = names.filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length) {
    process.stderr.write(`bench: unknown benchmark(s) ${unknown.join(', ')}; known: ${BENCHES.map((b) => b.name).join(', ')}\n`);
    return 2;
  }
  const selected = names.length ? BENCHES.filter((b) => names.includes(b.name)) : BENCHES;
  const rows: OutRow[] = [];
  let crashed = 0;
  process.stderr.write(`bench: ${quick ? 'quick' : 'full'} mode: ${selected.map((b) => b.name).join(', ')}\n`);
  for (const b of selected) {
    const t0 = performance.now();
    process.stderr.write(`bench: ${b.name} ...\n`);
    try {
      const fn = await load(b);
      const got = await fn({ quick });
      const seconds = Math.round((performance.now() - t0) / 100) / 10;
      for (const r of got) rows.push({ ...r, ratio: r.ratio ?? null, peer: r.peer ?? null, bench: b.name, seconds });
      process.stderr.write(`bench: ${b.name} done in ${seconds} s\n`);
    } catch (e) {
      crashed++;
      const msg = (e as Error).message ?? String(e);
      process.stderr.write(`bench: ${b.name} CRASHED: ${(e as Error).stack ?? msg}\n`);
      rows.push({ measure: `${b.name}: crashed`, ours: null, peer: null, ratio: null, goal: null, pass: false, bench: b.name, error: msg.slice(0, 2000) });
    }
  }
  const out = path.join(repoRoot, 'bench-results.json');
  writeFileSync(out, `${JSON.stringify(rows, null, 2)}\n`);
  process.stdout.write(`${formatTable(rows)}\n`);
  const failed = rows.filter((r) => !r.pass && !r.error).length;
  process.stdout.write(`\n${rows.length} rows, ${rows.length - failed - crashed} pass, ${failed} fail, ${crashed} crashed (${quick ? 'quick mode: ratios reported, not enforced' : 'full mode'}); wrote ${path.relative(process.cwd(), out) || out}\n`);
  if (crashed > 0) return 1;
  if (!quick && failed > 0) return 1;
  return 0;
}
