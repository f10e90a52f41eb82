/**
 * Mutation fuzzing of every text parser (TEXT_PARSERS) through the real ingest path: bytes -> decodeTextBytes ->
 * detectTextKind + parseText. Seeds are the real fixtures (kmsg, logs, stuck, ssh).
 *
 * Properties, for every input: nothing throws; the result is a ParseOutput (events array, string warnings); every
 * event is well-formed (kind in EVENT_KINDS, text a string, ts a bigint or undefined, JSON-serialisable data);
 * no single input takes more than 1 s.
 *
 *   quick (default, CI):  npx vitest run test/fuzz
 *   long:                 FUZZ_N=1000000 npx vitest run test/fuzz/parsers.fuzz.test.ts      (hours; cases are independent)
 *   another run:          FUZZ_SEED=7 npx vitest run test/fuzz
 *   replay one failure:   FUZZ_SEED=<seed> FUZZ_ONLY=<kind> FUZZ_INDEX=<i> npx vitest run test/fuzz/parsers.fuzz.test.ts
 * A failing input is also written to $TMPDIR/casefile-fuzz/.
 */
import { describe, expect, it } from 'vitest';
import { decodeTextBytes, detectTextKind, parseText, TEXT_PARSERS } from '../../shared/parsers';
import type { ParseOutput } from '../../shared/parsers/types';
import { deriveSeed, fuzzEnv, mutate, Rng } from './mutate';
import { describeError, eventProblems, loadFixtures, saveFailure } from './check';

// 14 kinds x 300 cases: about 10-25 s on two busy cores (hugeLine cases dominate).
const DEFAULT_N = 300;
const MAX_MS = 1000;
const env = fuzzEnv(DEFAULT_N, process.env);

const seeds = loadFixtures(['kmsg', 'logs', 'stuck', 'ssh']);
const donors = seeds.map((s) => s.bytes);
// Seeds each parser recognises, so most mutants still exercise the deep paths of that parser.
const seedsByKind = new Map<string, Uint8Array[]>();
for (const s of seeds) {
  const { text } = decodeTextBytes(s.bytes);
  const k = detectTextKind(text.split('\n'));
  seedsByKind.set(k, [...(seedsByKind.get(k) ?? []), s.bytes]);
}

function outputProblems(out: ParseOutput): string[] {
  if (typeof out !== 'object' || out === null || !Array.isArray(out.events) || !Array.isArray(out.warnings)) return ['not a ParseOutput'];
  const p: string[] = [];
  for (const w of out.warnings) if (typeof w !== 'string') p.push(`warning is ${typeof w}`);
  out.events.forEach((e, i) => {
    for (const q of eventProblems(e)) p.push(`event ${i}: ${q}`);
  });
  return p.slice(0, 5);
}

describe('parser fuzzing', () => {
  it('has seeds for the fuzzer', () => {
    expect(seeds.length).toBeGreaterThan(20);
    expect(TEXT_PARSERS.length).toBeGreaterThan(10);
  });

  for (const spec of TEXT_PARSERS) {
    const kind = spec.kind;
    if (env.only !== undefined && env.only !== kind) continue;
    it(`${kind}: ${env.index !== undefined ? `case ${env.index}` : `${env.n} mutated inputs`} never throw, stay well-formed and fast (seed ${env.seed})`, () => {
      const failures: string[] = [];
      const own = seedsByKind.get(kind) ?? [];
      const first = env.index ?? 0;
      const last = env.index !== undefined ? env.index + 1 : env.n;
      let slowest = 0;
      for (let i = first; i < last; i++) {
        const rng = new Rng(deriveSeed(env.seed, kind, i));
        const base = own.length > 0 && rng.chance(0.6) ? rng.pick(own) : rng.pick(donors);
        const m = mutate(base, rng, donors);
        const where = `FUZZ_SEED=${env.seed} FUZZ_ONLY=${kind} FUZZ_INDEX=${i} [${m.steps.join(',')}]`;
        const t0 = performance.now();
        try {
          const { text } = decodeTextBytes(m.bytes);
          detectTextKind(text.split('\n', 200));
          const out = parseText(kind, text);
          const problems = outputProblems(out);
          if (problems.length > 0) failures.push(`${where}: ${problems.join('; ')}`);
        } catch (err) {
          failures.push(`${where}: threw ${describeError(err)}`);
        }
        const ms = performance.now() - t0;
        slowest = Math.max(slowest, ms);
        if (ms > MAX_MS) failures.push(`${where}: took ${ms.toFixed(0)} ms (${m.bytes.length} bytes)`);
        if (failures.length > 0 && failures.length <= 3 && failures[failures.length - 1].startsWith(where)) {
          failures[failures.length - 1] += ` -> input saved to ${saveFailure(`${kind}-${env.seed}-${i}`, m.bytes)}`;
        }
        if (failures.length >= 10) break;
      }
      expect(failures, `fuzz failures for ${kind} (slowest case ${slowest.toFixed(0)} ms)`).toEqual([]);
    }, Math.max(60_000, env.n * 1_500));
  }
});
