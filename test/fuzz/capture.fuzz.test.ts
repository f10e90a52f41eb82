/**
 * Mutation fuzzing of the capture decoder (pcap / pcapng / gzip -> link -> IP -> TCP/UDP -> ONC RPC -> NFS/NLM/NSM...)
 * seeded from the real captures in test/fixtures/pcaps. Same properties as the parser fuzzer: never throws, and
 * swallows no internal error either (an "internal decoder error" warning from push(), an RPC decodeError that is
 * not one of the decoders' deliberate rejections); the result has a summary and well-formed events; no single
 * input takes more than 1 s; exactly N inputs ran.
 *
 *   quick:   npx vitest run test/fuzz/capture.fuzz.test.ts
 *   long:    npm run fuzz:long      (or FUZZ_N=1000000 FUZZ_ONLY=capture npx vitest run test/fuzz/capture.fuzz.test.ts)
 *   replay:  FUZZ_SEED=<seed> FUZZ_ONLY=capture FUZZ_INDEX=<i> npx vitest run test/fuzz/capture.fuzz.test.ts
 */
import { describe, expect, it } from 'vitest';
import { createCaptureDecoder } from '../../shared/capture/api';
import type { CaptureDecoderOptions } from '../../shared/capture/api';
import type { ParsedEvent } from '../../shared/model/event';
import type { CaptureSummary } from '../../shared/rpc/types';
import { BYTE_MUTATORS, deriveSeed, mutate, Rng } from './mutate';
import type { Mutator } from './mutate';
import { captureInternalErrors, describeError, eventProblems, loadFixtures, saveFailure } from './check';
import { caseRange, fuzzEnv, fuzzTimeout, FUZZ_TARGETS, LONG_N, OTHER_FUZZ_TARGETS, Pacer, replayHint } from './harness-env';

const TARGET = 'capture';
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

/**
 * How one input is fed: mostly whole (as decodeCaptureBytes does), sometimes in random chunks (records, TCP
 * segments and RPC records then straddle push() calls, as when streaming a file) and sometimes with tight
 * bounds (pending calls evicted, conversations closed as idle).
 */
function decodeVaried(bytes: Uint8Array, rng: Rng): { events: ParsedEvent[]; summary: CaptureSummary; how: string } {
  const opts: CaptureDecoderOptions = rng.chance(0.15) ? { maxPendingPerConversation: 1 + rng.int(4), idleSeconds: rng.int(3) } : {};
  const chunked = rng.chance(0.25);
  const events: ParsedEvent[] = [];
  const dec = createCaptureDecoder(opts, (e) => events.push(e));
  if (!chunked) dec.push(bytes);
  else for (let o = 0, size = 1 + rng.int(4096); o < bytes.length; o += size, size = 1 + rng.int(4096)) dec.push(bytes.subarray(o, o + size));
  const summary = dec.end();
  const how = [chunked ? 'chunked' : '', opts.maxPendingPerConversation !== undefined ? 'tight' : ''].filter((x) => x !== '').join('+');
  return { events, summary, how: how === '' ? 'whole' : how };
}

describe('capture decoder fuzzing', () => {
  it('has capture seeds of every container kind', () => {
    const names = seeds.map((s) => s.name);
    expect(names.some((n) => n.endsWith('.pcap'))).toBe(true);
    expect(names.some((n) => n.endsWith('.pcapng'))).toBe(true);
    expect(names.some((n) => n.endsWith('.gz'))).toBe(true);
  });

  // FUZZ_ONLY naming another suite's target (checked against all of them) leaves the decoder out, visibly.
  const selected = env.only === undefined || env.only === TARGET;
  if (!selected) {
    it(`FUZZ_ONLY=${String(env.only)} selects another suite's target, so the capture decoder does not run here`, () => {
      expect(env.only).not.toBe(TARGET);
      expect([...FUZZ_TARGETS, ...OTHER_FUZZ_TARGETS]).toContain(env.only);
    });
  }
  const { first, last } = caseRange(env);

  if (selected) it(`capture decoder: ${env.index !== undefined ? `case ${env.index}` : `${env.n} mutated captures`} never throw or fail inside, stay well-formed and fast (seed ${env.seed})`, async () => {
    const failures: string[] = [];
    const donors = seeds.map((s) => s.bytes);
    const pacer = new Pacer(TARGET, last - first, env.n >= LONG_N);
    let slowest = 0;
    let rpcEvents = 0;
    let ran = 0;
    for (let i = first; i < last; i++) {
      const rng = new Rng(deriveSeed(env.seed, TARGET, i));
      const seed = rng.pick(seeds);
      const m = mutate(seed.bytes, rng, donors, MUTATORS, 3);
      const where = `${replayHint(env, TARGET, i)} ${seed.name} [${m.steps.join(',')}]`;
      const t0 = performance.now();
      try {
        const r = decodeVaried(m.bytes, rng);
        rpcEvents += r.events.filter((e) => e.kind === 'rpc').length;
        const problems: string[] = [];
        if (typeof r !== 'object' || r === null || !Array.isArray(r.events) || typeof r.summary !== 'object') problems.push('not { events, summary }');
        else {
          if (!Array.isArray(r.summary.warnings) || r.summary.warnings.some((w) => typeof w !== 'string')) problems.push('summary.warnings not strings');
          if (typeof r.summary.partial !== 'boolean') problems.push('summary.partial not boolean');
          r.events.forEach((e, k) => {
            for (const q of eventProblems(e)) if (problems.length < 5) problems.push(`event ${k}: ${q}`);
          });
          problems.push(...captureInternalErrors(r.events, r.summary.warnings));
        }
        if (problems.length > 0) failures.push(`${where} ${r.how}: ${problems.slice(0, 5).join('; ')}`);
      } catch (err) {
        failures.push(`${where}: threw ${describeError(err)}`);
      }
      ran++;
      const ms = performance.now() - t0;
      slowest = Math.max(slowest, ms);
      if (ms > MAX_MS) failures.push(`${where}: took ${ms.toFixed(0)} ms (${m.bytes.length} bytes)`);
      if (failures.length > 0 && failures.length <= 3 && failures[failures.length - 1].startsWith(where)) {
        failures[failures.length - 1] += ` -> input saved to ${saveFailure(`capture-${env.seed}-${i}`, m.bytes)}`;
      }
      if (failures.length >= 10) break;
      await pacer.tick(ran);
    }
    expect(failures, `capture fuzz failures (slowest case ${slowest.toFixed(0)} ms)`).toEqual([]);
    expect(ran, 'inputs run').toBe(last - first);
    // Mutants must still reach the RPC layers, or the run only tested header rejection.
    if (env.index === undefined && env.n >= 50) expect(rpcEvents).toBeGreaterThan(env.n);
  }, fuzzTimeout(env));
});
