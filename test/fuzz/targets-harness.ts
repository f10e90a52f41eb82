/**
 * The loop shared by the fuzz targets of targets.fuzz.test.ts: input i of target T is built from (FUZZ_SEED, T, i)
 * alone, run under a 1 s limit, and every problem is reported with the line that replays it
 * (`FUZZ_SEED=.. FUZZ_ONLY=T FUZZ_INDEX=i`); the first failing inputs are saved to $TMPDIR/casefile-fuzz/.
 */
import { deriveSeed, mutate, Rng } from './mutate';
import { describeError, saveFailure } from './check';
import { caseRange, fuzzEnv, FuzzEnvError, Pacer, replayHint, LONG_N, type FuzzEnv } from './harness-env';

export const MAX_MS = 1000;

/** One prepared input: its bytes (saved on failure), the mutation steps, and the call under test. */
export interface FuzzCase {
  readonly input: Uint8Array;
  readonly steps: readonly string[];
  /** Problems found (empty: fine). Throwing counts as a problem too. */
  readonly run: () => string[] | Promise<string[]>;
}

export interface FuzzTarget {
  readonly name: string;
  /** Inputs per CI run; FUZZ_N overrides it for every target (the long mode). */
  readonly defaultN: number;
  make(rng: Rng, i: number): FuzzCase;
  /** Remove what make() set up (temp dirs, databases). */
  dispose?(): void;
}

export interface TargetRun {
  readonly seed: number;
  /** Inputs that should run (1 with FUZZ_INDEX). */
  readonly expected: number;
  readonly ran: number;
  readonly failures: readonly string[];
  readonly slowestMs: number;
}

/**
 * FUZZ_SEED, FUZZ_N and FUZZ_INDEX read strictly by harness-env.ts. FUZZ_ONLY is checked here instead: harness-env
 * knows only the parser and capture targets, so these targets' names are checked against `known` (a name of
 * another suite's target is fine too: it just leaves every target of this file out).
 */
export function targetEnv(defaultN: number): FuzzEnv {
  return fuzzEnv(defaultN, { ...process.env, FUZZ_ONLY: undefined });
}

export function checkOnly(known: readonly string[], others: readonly string[]): void {
  const only = process.env.FUZZ_ONLY?.trim();
  if (only === undefined || only === '' || known.includes(only) || others.includes(only)) return;
  throw new FuzzEnvError(`FUZZ_ONLY=${JSON.stringify(only)} is not a fuzz target; known targets: ${[...others, ...known].join(', ')}`);
}

/** Whether FUZZ_ONLY leaves this target in the run. */
export function selected(name: string): boolean {
  const only = process.env.FUZZ_ONLY?.trim();
  return only === undefined || only === '' || only === name;
}

/** vitest time limit for one target: none in long mode, else 1.5 s per input (at least 60 s). */
export function targetTimeout(t: FuzzTarget): number {
  const env = targetEnv(t.defaultN);
  if (env.index === undefined && env.n >= LONG_N) return 0;
  return Math.max(60_000, (env.index !== undefined ? 1 : env.n) * 1_500);
}

export async function runTarget(t: FuzzTarget): Promise<TargetRun> {
  const env = targetEnv(t.defaultN);
  const { first, last } = caseRange(env);
  const pacer = new Pacer(t.name, last - first, env.index === undefined && env.n >= LONG_N);
  const failures: string[] = [];
  let slowest = 0;
  let ran = 0;
  for (let i = first; i < last; i++) {
    const rng = new Rng(deriveSeed(env.seed, t.name, i));
    const c = t.make(rng, i);
    const where = `${replayHint(env, t.name, i)} [${c.steps.join(',')}]`;
    const before = failures.length;
    const t0 = performance.now();
    try {
      const problems = await c.run();
      if (problems.length > 0) failures.push(`${where}: ${problems.slice(0, 5).join('; ')}`);
    } catch (err) {
      failures.push(`${where}: threw ${describeError(err)}`);
    }
    const ms = performance.now() - t0;
    ran++;
    slowest = Math.max(slowest, ms);
    if (ms > MAX_MS) failures.push(`${where}: took ${ms.toFixed(0)} ms (${c.input.length} bytes)`);
    if (failures.length > before && failures.length <= 3) {
      failures[failures.length - 1] += ` -> input saved to ${saveFailure(`${t.name}-${env.seed}-${i}`, c.input)}`;
    }
    if (failures.length >= 10) break;
    await pacer.tick(ran);
  }
  return { seed: env.seed, expected: last - first, ran, failures, slowestMs: slowest };
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8');

export const bytesOf = (s: string): Uint8Array => enc.encode(s);
export const textOf = (b: Uint8Array): string => dec.decode(b);

/**
 * Cut bytes into chunks the way a stream may deliver them: one piece, single bytes, tiny pieces, or pieces up to
 * 64 KiB. Single-byte runs are kept to short inputs so the chunk count stays bounded.
 */
export function splitChunks(b: Uint8Array, rng: Rng): { chunks: Uint8Array[]; how: string } {
  const mode = rng.int(4);
  if (mode === 0 || b.length === 0) return { chunks: [b], how: 'whole' };
  // At most ~1000 chunks: one input stays far from the 1 s limit even through an async source, and a line spanning
  // thousands of chunks (LineFeeder rescans its carry per chunk; ingest's chunks are 1 MiB) is not what ingest sees.
  const floor = Math.ceil(b.length / 1000);
  const max = Math.max(floor, mode === 1 ? 1 : mode === 2 ? 1 + rng.int(64) : 1 + rng.int(65_536));
  const chunks: Uint8Array[] = [];
  for (let o = 0; o < b.length; ) {
    const n = Math.min(b.length - o, 1 + rng.int(max));
    chunks.push(b.subarray(o, o + n));
    o += n;
  }
  // Empty chunks also happen (a read that returned nothing): insert a few.
  if (rng.chance(0.2)) chunks.splice(rng.int(chunks.length + 1), 0, new Uint8Array(0));
  return { chunks, how: max === 1 ? 'bytes' : `chunks<=${max}` };
}

/** JSON with bigints as strings, for comparing event lists. */
export function stableJson(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x));
}

/** Mutate one of `seeds` as text (unchanged one time in ten); the first 20 seeds feed the splice mutator. */
export function mutateText(seeds: readonly string[], rng: Rng, maxSteps = 3): { text: string; steps: string[]; input: Uint8Array } {
  const base = bytesOf(rng.pick(seeds));
  const donors = seeds.slice(0, 20).map(bytesOf);
  const m = rng.chance(0.1) ? { bytes: base, steps: ['none'] } : mutate(base, rng, donors, undefined, maxSteps);
  return { text: textOf(m.bytes), steps: [...m.steps], input: m.bytes };
}

/** A target over mutated text: `check` gets each mutant and returns its problems (throwing is one too). */
export function textTarget(name: string, defaultN: number, seeds: readonly string[], maxSteps: number, check: (text: string) => string[] | Promise<string[]>): FuzzTarget {
  return {
    name,
    defaultN,
    make(rng) {
      const m = mutateText(seeds, rng, maxSteps);
      return { input: m.input, steps: m.steps, run: () => check(m.text) };
    },
  };
}
