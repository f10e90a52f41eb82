/**
 * The fuzz suites' environment (FUZZ_N, FUZZ_SEED, FUZZ_ONLY, FUZZ_INDEX), read strictly.
 *
 * A value that cannot be read throws when the suite file loads, so the run fails with the reason instead of
 * quietly running nothing (`Number('1M')` is NaN, and a loop `i < NaN` runs zero inputs and passes).
 */
import { TEXT_PARSERS } from '../../shared/parsers';

/** Every fuzz target: one per text parser (parsers.fuzz.test.ts) and the capture decoder (capture.fuzz.test.ts). */
export const FUZZ_TARGETS: readonly string[] = [...TEXT_PARSERS.map((p) => p.kind), 'capture'];

/**
 * The targets of targets.fuzz.test.ts (another suite, with its own FUZZ_ONLY check against these names). Listed
 * here so that `FUZZ_ONLY=<one of them> npx vitest run test/fuzz` leaves the parser and capture suites out
 * (visibly skipped) instead of failing them. Keep in step with the `name`s in targets-*.ts.
 */
export const OTHER_FUZZ_TARGETS: readonly string[] = [
  'capture-stream', 'read-packet-at', 'playbook-load', 'playbook-selector', 'playbook-duration', 'playbook-template',
  'playbook-missing', 'parse-iso', 'markdown', 'line-feeder', 'gunzip', 'detect-kind', 'ingest-host-info', 'ingest-systemctl',
  'ingest-mounts', 'known-hosts', 'ssh-config', 'ssh-destination', 'ssh-process-tree', 'bundle-import',
];

/** Default seed, fixed so the CI run is reproducible. */
export const DEFAULT_SEED = 20261121;

/** From this many inputs per target on, a run is "long": no per-test time limit and progress lines. */
export const LONG_N = 100_000;

export interface FuzzEnv {
  readonly seed: number;
  /** Inputs per target. */
  readonly n: number;
  /** One target only (already checked against FUZZ_TARGETS and OTHER_FUZZ_TARGETS). */
  readonly only?: string | undefined;
  /** One case only (replay). */
  readonly index?: number | undefined;
}

export class FuzzEnvError extends Error {
  override name = 'FuzzEnvError';
}

/**
 * A non-negative integer written in decimal ("1000000") or decimal exponent form ("1e6", "2.5e5"); `_` between
 * digits is allowed ("1_000_000"). Anything else, and anything that is not an exact safe integer, is undefined.
 */
export function parseCount(raw: string): number | undefined {
  const s = raw.trim();
  if (!/^(?:\d(?:_?\d)*)(?:\.\d+)?(?:[eE]\+?\d+)?$/.test(s)) return undefined;
  const v = Number(s.replace(/_/g, ''));
  return Number.isSafeInteger(v) ? v : undefined;
}

function read(env: Readonly<Record<string, string | undefined>>, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v;
}

/** FUZZ_SEED (uint32, default fixed), FUZZ_N (positive), FUZZ_ONLY (a known target), FUZZ_INDEX (>= 0). Throws FuzzEnvError. */
export function fuzzEnv(defaultN: number, env: Readonly<Record<string, string | undefined>>): FuzzEnv {
  const rawN = read(env, 'FUZZ_N');
  let n = defaultN;
  if (rawN !== undefined) {
    const v = parseCount(rawN);
    if (v === undefined || v < 1) throw new FuzzEnvError(`FUZZ_N=${JSON.stringify(rawN)}: want a positive integer such as 20000, 1000000 or 1e6`);
    n = v;
  }
  const rawSeed = read(env, 'FUZZ_SEED');
  let seed = DEFAULT_SEED;
  if (rawSeed !== undefined) {
    const v = parseCount(rawSeed);
    // Seeds are 32-bit: a larger one would silently alias another (x >>> 0).
    if (v === undefined || v > 0xffffffff) throw new FuzzEnvError(`FUZZ_SEED=${JSON.stringify(rawSeed)}: want an integer from 0 to 4294967295`);
    seed = v;
  }
  const rawIndex = read(env, 'FUZZ_INDEX');
  let index: number | undefined;
  if (rawIndex !== undefined) {
    const v = parseCount(rawIndex);
    if (v === undefined) throw new FuzzEnvError(`FUZZ_INDEX=${JSON.stringify(rawIndex)}: want a non-negative integer`);
    index = v;
  }
  const only = read(env, 'FUZZ_ONLY')?.trim();
  if (only !== undefined && !FUZZ_TARGETS.includes(only) && !OTHER_FUZZ_TARGETS.includes(only)) {
    throw new FuzzEnvError(`FUZZ_ONLY=${JSON.stringify(only)} is not a fuzz target; known targets: ${[...FUZZ_TARGETS, ...OTHER_FUZZ_TARGETS].join(', ')}`);
  }
  return { seed, n, only, index };
}

/** The case indices a target runs: [index, index + 1) when replaying one case, else [0, n). */
export function caseRange(env: FuzzEnv): { readonly first: number; readonly last: number } {
  return env.index !== undefined ? { first: env.index, last: env.index + 1 } : { first: 0, last: env.n };
}

/** Per-test time limit: none in long mode (it may take hours), else generous for the inputs it runs. */
export function fuzzTimeout(env: FuzzEnv): number {
  if (env.index === undefined && env.n >= LONG_N) return 0;
  return Math.max(60_000, (env.index !== undefined ? 1 : env.n) * 1_500);
}

/** The command line that rebuilds one input exactly. */
export function replayHint(env: FuzzEnv, target: string, index: number): string {
  return `FUZZ_SEED=${env.seed} FUZZ_ONLY=${target} FUZZ_INDEX=${index}`;
}

/**
 * Yields to the event loop now and then (every ~500 ms), so vitest's worker stays responsive to its parent
 * during a run of hours, and prints progress in long mode.
 */
export class Pacer {
  private lastYield = performance.now();
  private lastReport = performance.now();
  private readonly start = performance.now();
  constructor(private readonly target: string, private readonly total: number, private readonly report: boolean) {}

  async tick(done: number): Promise<void> {
    const now = performance.now();
    if (now - this.lastYield < 500) return;
    this.lastYield = now;
    if (this.report && now - this.lastReport >= 60_000) {
      this.lastReport = now;
      const rate = done / ((now - this.start) / 1000);
      const left = rate > 0 ? (this.total - done) / rate : 0;
      process.stderr.write(`[fuzz ${this.target}] ${done}/${this.total} inputs, ${rate.toFixed(0)}/s, about ${(left / 60).toFixed(0)} min left\n`);
    }
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
