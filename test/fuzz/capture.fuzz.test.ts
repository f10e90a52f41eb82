/**
 * Mutation fuzzing of the capture decoder (pcap / pcapng / gzip -> link -> IP -> TCP/UDP -> ONC RPC -> NFS/NLM/NSM...)
 * seeded from the real captures in test/fixtures/pcaps. Same properties as the parser fuzzer: never throws, the
 * result has a summary and well-formed events, and no single input takes more than 1 s.
 *
 *   quick:   npx vitest run test/fuzz/capture.fuzz.test.ts
 *   long:    FUZZ_N=1000000 npx vitest run test/fuzz/capture.fuzz.test.ts
 *   replay:  FUZZ_SEED=<seed> FUZZ_INDEX=<i> npx vitest run test/fuzz/capture.fuzz.test.ts
 */
import { describe, expect, it } from 'vitest';
import { decodeCaptureBytes } from '../../shared/capture/api';
import { BYTE_MUTATORS, deriveSeed, fuzzEnv, mutate, Rng } from './mutate';
import type { Mutator } from './mutate';
import { describeError, eventProblems, loadFixtures, saveFailure } from './check';

const DEFAULT_N = 400;
const MAX_MS = 1000;
const env = fuzzEnv(DEFAULT_N, process.env);

// The 2.4 MB flood capture alone would eat the time budget; every other real capture is a seed.
const seeds = loadFixtures(['pcaps']).filter((s) => s.bytes.length <= 400_000);

const BOUNDARY_U32 = [0, 1, 3, 4, 0x7fffffff, 0x80000000, 0xffffffff, 65535, 65536, 262144, 0x0a0d0d0a, 0xa1b2c3d4] as const;

/**
 * Length and type fields are where decoders break: overwrite a 4-byte word with an edge value, mostly near the start
 * (file header, first record header, first link/IP/TCP/RPC headers) and otherwise anywhere.
 */
const fieldSmash: Mutator = (b, rng) => {
  if (b.length < 4) return b;
  const out = b.slice();
  const span = rng.chance(0.7) ? Math.min(b.length - 4, 160) : b.length - 4;
  const at = rng.int(span + 1);
  const v = rng.pick(BOUNDARY_U32);
  const little = rng.chance(0.5);
  for (let k = 0; k < 4; k++) out[at + k] = little ? (v >>> (8 * k)) & 0xff : (v >>> (8 * (3 - k))) & 0xff;
  return out;
};

const MUTATORS: Readonly<Record<string, Mutator>> = { ...BYTE_MUTATORS, fieldSmash };

describe('capture decoder fuzzing', () => {
  it('has capture seeds of every container kind', () => {
    const names = seeds.map((s) => s.name);
    expect(names.some((n) => n.endsWith('.pcap'))).toBe(true);
    expect(names.some((n) => n.endsWith('.pcapng'))).toBe(true);
    expect(names.some((n) => n.endsWith('.gz'))).toBe(true);
  });

  it(`decodeCaptureBytes: ${env.index !== undefined ? `case ${env.index}` : `${env.n} mutated captures`} never throw, stay well-formed and fast (seed ${env.seed})`, () => {
    const failures: string[] = [];
    const donors = seeds.map((s) => s.bytes);
    const first = env.index ?? 0;
    const last = env.index !== undefined ? env.index + 1 : env.n;
    let slowest = 0;
    let rpcEvents = 0;
    for (let i = first; i < last; i++) {
      const rng = new Rng(deriveSeed(env.seed, 'capture', i));
      const seed = rng.pick(seeds);
      const m = mutate(seed.bytes, rng, donors, MUTATORS, 3);
      const where = `FUZZ_SEED=${env.seed} FUZZ_INDEX=${i} ${seed.name} [${m.steps.join(',')}]`;
      const t0 = performance.now();
      try {
        const r = decodeCaptureBytes(m.bytes);
        rpcEvents += r.events.filter((e) => e.kind === 'rpc').length;
        const problems: string[] = [];
        if (typeof r !== 'object' || r === null || !Array.isArray(r.events) || typeof r.summary !== 'object') problems.push('not { events, summary }');
        else {
          if (!Array.isArray(r.summary.warnings) || r.summary.warnings.some((w) => typeof w !== 'string')) problems.push('summary.warnings not strings');
          if (typeof r.summary.partial !== 'boolean') problems.push('summary.partial not boolean');
          r.events.forEach((e, k) => {
            for (const q of eventProblems(e)) if (problems.length < 5) problems.push(`event ${k}: ${q}`);
          });
        }
        if (problems.length > 0) failures.push(`${where}: ${problems.join('; ')}`);
      } catch (err) {
        failures.push(`${where}: threw ${describeError(err)}`);
      }
      const ms = performance.now() - t0;
      slowest = Math.max(slowest, ms);
      if (ms > MAX_MS) failures.push(`${where}: took ${ms.toFixed(0)} ms (${m.bytes.length} bytes)`);
      if (failures.length > 0 && failures.length <= 3 && failures[failures.length - 1].startsWith(where)) {
        failures[failures.length - 1] += ` -> input saved to ${saveFailure(`capture-${env.seed}-${i}`, m.bytes)}`;
      }
      if (failures.length >= 10) break;
    }
    expect(failures, `capture fuzz failures (slowest case ${slowest.toFixed(0)} ms)`).toEqual([]);
    // Mutants must still reach the RPC layers, or the run only tested header rejection.
    if (env.index === undefined && env.n >= 50) expect(rpcEvents).toBeGreaterThan(env.n);
  }, Math.max(60_000, env.n * 1_500));
});
