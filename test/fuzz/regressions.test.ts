/**
 * Inputs the fuzzer (or reading the patterns it pointed at) showed to be slow or to produce malformed events,
 * kept as direct regressions so they are checked on every run, independent of the fuzz seed.
 */
import { describe, expect, it } from 'vitest';
import { detectTextKind, parseText } from '../../shared/parsers';
import type { ArtifactKind } from '../../shared/parsers/types';
import { eventProblems } from './check';

function timed(kind: ArtifactKind, text: string): { ms: number; out: ReturnType<typeof parseText> } {
  const t0 = performance.now();
  detectTextKind(text.split('\n'));
  const out = parseText(kind, text);
  return { ms: performance.now() - t0, out };
}

describe('fuzz regressions', () => {
  it('mountstats per-op line with one long digit run (was exponential: 40 digits took 3.5 s)', () => {
    const text = `device srv:/x mounted on /mnt with fstype nfs4 statvers=1.1\nper-op statistics\n\tGETATTR: ${'1'.repeat(60)}x\n\tLOOKUP: 1 2 3 4 5 6 7 8 9\n`;
    const { ms, out } = timed('mountstats', text);
    expect(ms).toBeLessThan(500);
    const ops = (out.events[0].data.perOp as { op: string }[]).map((o) => o.op);
    expect(ops).toEqual(['LOOKUP']);
  });

  it('mountstats device line repeated on one long line (was quadratic in " mounted on " pairs)', () => {
    const line = 'device /dev/sda1 mounted on / with fstype ext4'.repeat(4000);
    const { ms } = timed('mountstats', `${line} x y\n`);
    expect(ms).toBeLessThan(500);
    const ok = parseText('mountstats', 'device srv:/a b mounted on /mnt/x mounted on y with fstype nfs4 statvers=1.1\n');
    expect([ok.events[0].data.device, ok.events[0].data.mountpoint]).toEqual(['srv:/a b mounted on /mnt/x', 'y']);
  });

  it('ps detection on a 100 KB line of blanks or digits (was quadratic, 7 s)', () => {
    for (const c of [' ', '0']) {
      const { ms } = timed('ps', `  PID STAT COMMAND\n${c.repeat(100_000)}\n`);
      expect(ms).toBeLessThan(500);
    }
  });

  it('perf call-graph patterns on CR-only text (was quadratic through "." not crossing "\\r")', () => {
    const text = `${'--1.0%--x\r'.repeat(20_000)}\n${'  [k] sym\r'.repeat(20_000)}\n`;
    const { ms } = timed('perf', text);
    expect(ms).toBeLessThan(500);
  });

  it('digit runs beyond 10 digits never become unsafe pids', () => {
    const cases: [ArtifactKind, string][] = [
      ['proc-stack', '==> /proc/9223372036854775808/stack <==\n[<0>] rpc_wait_bit_killable+0x1/0x2 [sunrpc]\n'],
      ['ps', '  PID  PPID STAT COMMAND\n18446744073709551616 1 D php-fpm\n    7 18446744073709551616 S sh\n'],
      ['strace', '[pid 9007199254740993] flock(3, LOCK_EX) = 0\n'],
      ['proc-locks', '1: POSIX  ADVISORY  WRITE 18446744073709551616 00:2a:1234 0 EOF\n'],
    ];
    for (const [kind, text] of cases) {
      const out = parseText(kind, text);
      for (const e of out.events) {
        expect(eventProblems(e), `${kind}: ${e.text}`).toEqual([]);
        if (e.data.ppid !== undefined) expect(Number.isSafeInteger(e.data.ppid)).toBe(true);
      }
    }
    // The sane row of the ps table is still read.
    expect(parseText('ps', cases[1][1]).events.filter((e) => e.kind === 'process').map((e) => e.pid)).toEqual([7]);
  });
});
