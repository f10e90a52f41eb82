/**
 * Mutation fuzzing of every text parser (TEXT_PARSERS) through the real ingest path: bytes -> decodeTextBytes ->
 * detectTextKind + parseText. Seeds are the real fixtures (kmsg, logs, stuck, ssh).
 *
 * Properties, for every input: nothing throws, and no exception is swallowed either (a detector that throws, a
 * note with data.error from guarded(), a failing parser factory); the result is a ParseOutput (events array,
 * string warnings); every event is well-formed (kind in EVENT_KINDS, text a string, ts a bigint or undefined,
 * JSON-serialisable data); no single input takes more than 1 s; exactly N inputs ran.
 *
 *   quick (default, CI):  npx vitest run test/fuzz
 *   long (hours):         npm run fuzz:long            (FUZZ_N=1000000 for every target)
 *   one kind, longer:     FUZZ_N=20000 FUZZ_ONLY=perf npx vitest run test/fuzz/parsers.fuzz.test.ts
 *   another run:          FUZZ_SEED=7 npx vitest run test/fuzz
 *   replay one failure:   FUZZ_SEED=<seed> FUZZ_ONLY=<kind> FUZZ_INDEX=<i> npx vitest run test/fuzz/parsers.fuzz.test.ts
 * FUZZ_N/FUZZ_SEED/FUZZ_INDEX must be integers (1000000 or 1e6) and FUZZ_ONLY a known target, or the run fails.
 * A failing input is also written to $TMPDIR/casefile-fuzz/.
 */
import { describe, expect, it } from 'vitest';
import { DETECT_HEAD_LINES, DETECT_LINE_CHARS, decodeTextBytes, detectTextKind, parseText, TEXT_PARSERS } from '../../shared/parsers';
import type { ParseOutput } from '../../shared/parsers/types';
import { deriveSeed, mutate, Rng } from './mutate';
import { describeError, eventProblems, loadFixtures, parserInternalErrors, saveFailure } from './check';
import { caseRange, fuzzEnv, fuzzTimeout, FUZZ_TARGETS, LONG_N, OTHER_FUZZ_TARGETS, Pacer, replayHint } from './harness-env';

// 14 kinds x 300 cases: about 5-25 s on two busy cores (hugeLine cases dominate).
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
  p.push(...parserInternalErrors(out.events, out.warnings));
  return p.slice(0, 5);
}

/**
 * The detection step of ingest. detectTextKind catches a throwing detector (and scores it 0), so every detector
 * is called here as detectTextKind calls it, but uncaught.
 */
function detectorProblems(head: readonly string[]): string[] {
  const lines = head.slice(0, DETECT_HEAD_LINES).map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l).slice(0, DETECT_LINE_CHARS));
  const p: string[] = [];
  for (const spec of TEXT_PARSERS) {
    try {
      spec.detect(lines);
    } catch (err) {
      p.push(`detector ${spec.kind} threw ${describeError(err)}`);
    }
  }
  return p;
}

const targets = TEXT_PARSERS.filter((spec) => env.only === undefined || env.only === spec.kind);

describe('parser fuzzing', () => {
  it('has seeds for the fuzzer', () => {
    expect(seeds.length).toBeGreaterThan(20);
    expect(TEXT_PARSERS.length).toBeGreaterThan(10);
  });

  // No parser selected: only because FUZZ_ONLY names a target of another suite, never by accident.
  if (targets.length === 0) {
    it(`FUZZ_ONLY=${String(env.only)} selects another suite's target, so no parser runs here`, () => {
      expect(env.only).toBeDefined();
      expect([...FUZZ_TARGETS.filter((t) => TEXT_PARSERS.every((p) => p.kind !== t)), ...OTHER_FUZZ_TARGETS]).toContain(env.only);
    });
  }

  for (const spec of targets) {
    const kind = spec.kind;
    const { first, last } = caseRange(env);
    it(`${kind}: ${env.index !== undefined ? `case ${env.index}` : `${env.n} mutated inputs`} never throw or fail inside, stay well-formed and fast (seed ${env.seed})`, async () => {
      const failures: string[] = [];
      const own = seedsByKind.get(kind) ?? [];
      const pacer = new Pacer(kind, last - first, env.n >= LONG_N);
      let slowest = 0;
      let ran = 0;
      for (let i = first; i < last; i++) {
        const rng = new Rng(deriveSeed(env.seed, kind, i));
        const base = own.length > 0 && rng.chance(0.6) ? rng.pick(own) : rng.pick(donors);
        const m = mutate(base, rng, donors);
        const where = `${replayHint(env, kind, i)} [${m.steps.join(',')}]`;
        const t0 = performance.now();
        try {
          const { text } = decodeTextBytes(m.bytes);
          const problems = detectorProblems(text.split('\n', 200));
          problems.push(...outputProblems(parseText(kind, text)));
          if (problems.length > 0) failures.push(`${where}: ${problems.slice(0, 5).join('; ')}`);
        } catch (err) {
          failures.push(`${where}: threw ${describeError(err)}`);
        }
        ran++;
        const ms = performance.now() - t0;
        slowest = Math.max(slowest, ms);
        if (ms > MAX_MS) failures.push(`${where}: took ${ms.toFixed(0)} ms (${m.bytes.length} bytes)`);
        if (failures.length > 0 && failures.length <= 3 && failures[failures.length - 1].startsWith(where)) {
          failures[failures.length - 1] += ` -> input saved to ${saveFailure(`${kind}-${env.seed}-${i}`, m.bytes)}`;
        }
        if (failures.length >= 10) break;
        await pacer.tick(ran);
      }
      expect(failures, `fuzz failures for ${kind} (slowest case ${slowest.toFixed(0)} ms)`).toEqual([]);
      expect(ran, `inputs run for ${kind}`).toBe(last - first);
    }, fuzzTimeout(env));
  }
});
