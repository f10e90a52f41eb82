/**
 * The fuzz harness checks itself: a fuzz run that cannot see a failure, or that runs no inputs, passes for nothing.
 */
import { describe, expect, it } from 'vitest';
import type { ParsedEvent } from '../../shared/model/event';
import { parseText } from '../../shared/parsers';
import { guarded, noteEvent } from '../../shared/parsers/common/lines';
import { captureInternalErrors, isDeliberateDecodeError, parserInternalErrors } from './check';
import { caseRange, DEFAULT_SEED, FUZZ_TARGETS, fuzzEnv, FuzzEnvError, fuzzTimeout, parseCount } from './harness-env';

function rpcEvent(decodeError: string): ParsedEvent {
  return { kind: 'rpc', clock: 'capture', text: 'x', data: { program: 'nfs', procedure: 'COMPOUND', detail: { decodeError } } };
}

describe('fuzz harness', () => {
  it('sees an exception that guarded() turned into a note', () => {
    const events: ParsedEvent[] = [];
    const parser = guarded({
      line: () => {
        throw new TypeError("Cannot read properties of undefined (reading 'x')");
      },
      end: () => undefined,
    }, (e) => events.push(e));
    parser.line('anything', 1);
    parser.end();
    expect(parserInternalErrors(events, [])).toHaveLength(1);
    // A plain note (bad input, said so) is not an internal error.
    expect(parserInternalErrors([noteEvent(1, 'line 1 cut to 65536 characters', { truncated: true })], [])).toEqual([]);
    expect(parserInternalErrors([], ['cannot create parser for ps: boom'])).toHaveLength(1);
    // Real parser output on sane input has none.
    const out = parseText('ps', '  PID STAT COMMAND\n    1 S init\n');
    expect(out.events.length).toBeGreaterThan(0);
    expect(parserInternalErrors(out.events, out.warnings)).toEqual([]);
  });

  it('sees swallowed capture decoder errors but not deliberate rejections', () => {
    expect(captureInternalErrors([], ['internal decoder error, input not read further: x is not a function'])).toHaveLength(1);
    for (const m of ["Cannot read properties of undefined (reading 'length')", 'r.foo is not a function', 'Invalid typed array length: -4',
      'Maximum call stack size exceeded', 'Invalid array length', 'Offset is outside the bounds of the DataView']) {
      expect(isDeliberateDecodeError(m), m).toBe(false);
      expect(captureInternalErrors([rpcEvent(m)], []), m).toHaveLength(1);
    }
    for (const m of ['bad claim', 'unknown NFSv4 operation 77', 'unknown delegation type', 'unknown callback operation 99']) {
      expect(isDeliberateDecodeError(m), m).toBe(true);
      expect(captureInternalErrors([rpcEvent(m)], []), m).toEqual([]);
    }
  });

  it('reads FUZZ_N and FUZZ_SEED as integers only', () => {
    expect(parseCount('1000000')).toBe(1_000_000);
    expect(parseCount('1e6')).toBe(1_000_000);
    expect(parseCount('2.5e5')).toBe(250_000);
    expect(parseCount('1_000_000')).toBe(1_000_000);
    for (const bad of ['1M', 'NaN', '', 'abc', '-5', '1.5', '0x10', '1e400', 'Infinity', '12 000']) expect(parseCount(bad), bad).toBeUndefined();
    expect(fuzzEnv(300, {})).toEqual({ seed: DEFAULT_SEED, n: 300, only: undefined, index: undefined });
    expect(fuzzEnv(300, { FUZZ_N: '1e6', FUZZ_SEED: '7', FUZZ_ONLY: 'perf', FUZZ_INDEX: '77' })).toEqual({ seed: 7, n: 1_000_000, only: 'perf', index: 77 });
    expect(() => fuzzEnv(300, { FUZZ_N: '1M' })).toThrow(FuzzEnvError);
    expect(() => fuzzEnv(300, { FUZZ_N: 'NaN' })).toThrow(/FUZZ_N="NaN"/);
    expect(() => fuzzEnv(300, { FUZZ_N: '0' })).toThrow(FuzzEnvError);
    expect(() => fuzzEnv(300, { FUZZ_SEED: 'abc' })).toThrow(FuzzEnvError);
    expect(() => fuzzEnv(300, { FUZZ_SEED: '4294967296' })).toThrow(FuzzEnvError);
    expect(() => fuzzEnv(300, { FUZZ_INDEX: '-1' })).toThrow(FuzzEnvError);
  });

  it('rejects an unknown FUZZ_ONLY, naming the known targets', () => {
    expect(FUZZ_TARGETS).toContain('capture');
    expect(FUZZ_TARGETS).toContain('perf');
    expect(() => fuzzEnv(300, { FUZZ_ONLY: 'pref' })).toThrow(/known targets: .*perf.*capture/);
  });

  it('runs N cases, or the one replayed, with no time limit in long mode', () => {
    expect(caseRange(fuzzEnv(300, {}))).toEqual({ first: 0, last: 300 });
    expect(caseRange(fuzzEnv(300, { FUZZ_INDEX: '12' }))).toEqual({ first: 12, last: 13 });
    expect(fuzzTimeout(fuzzEnv(300, { FUZZ_N: '1e6' }))).toBe(0);
    expect(fuzzTimeout(fuzzEnv(300, {}))).toBeGreaterThanOrEqual(60_000);
  });
});
