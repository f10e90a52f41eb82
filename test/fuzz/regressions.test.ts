/**
 * Inputs the fuzzer (or reading the patterns it pointed at) showed to be slow, to produce malformed events or to
 * fail inside (an exception the code caught and reported as a note, warning or decodeError), kept as direct
 * regressions so they are checked on every run, independent of the fuzz seed.
 */
import { describe, expect, it } from 'vitest';
import { decodeCaptureBytes } from '../../shared/capture/api';
import { detectTextKind, parseText } from '../../shared/parsers';
import type { ArtifactKind } from '../../shared/parsers/types';
import { captureInternalErrors, eventProblems, parserInternalErrors } from './check';

/** A little-endian pcap (linktype 101, raw IP) holding the given packets, one record each. */
function rawIpPcap(packets: readonly Uint8Array[]): Uint8Array {
  const parts: number[] = [];
  const u32 = (v: number): void => {
    parts.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  };
  u32(0xa1b2c3d4);
  parts.push(2, 0, 4, 0);
  u32(0);
  u32(0);
  u32(65535);
  u32(101);
  packets.forEach((p, i) => {
    u32(1_700_000_000 + i);
    u32(0);
    u32(p.length);
    u32(p.length);
    parts.push(...p);
  });
  return new Uint8Array(parts);
}

/** An IPv4 UDP packet (or fragment: byte offset `fragOff`, more-fragments flag `mf`) with `payload` after the IP header. */
function ipv4(payload: readonly number[], fragOff = 0, mf = false, id = 0x1234): Uint8Array {
  const total = 20 + payload.length;
  const ff = (mf ? 0x2000 : 0) | (fragOff / 8);
  return new Uint8Array([
    0x45, 0, total >> 8, total & 0xff, id >> 8, id & 0xff, ff >> 8, ff & 0xff, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, ...payload,
  ]);
}

function decodeClean(bytes: Uint8Array): ReturnType<typeof decodeCaptureBytes> {
  const r = decodeCaptureBytes(bytes);
  expect(captureInternalErrors(r.events, r.summary.warnings)).toEqual([]);
  for (const e of r.events) expect(eventProblems(e)).toEqual([]);
  return r;
}

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

  it('perf entry pattern on lines of ~4000 blanks (was quadratic in "\\s*[-+]?\\s*": 2.4 s for 1.5 MB)', () => {
    // FUZZ_SEED=20261121 FUZZ_ONLY=perf FUZZ_INDEX=13317 [indent,duplicateLine,hugeLine,indent]
    const text = `${' '.repeat(3900)}[0x0000ffffa0e1b120] save_compiled_css() /var/www/options.php:512\n`.repeat(350);
    const { ms, out } = timed('perf', text);
    expect(ms).toBeLessThan(500);
    expect(parserInternalErrors(out.events, out.warnings)).toEqual([]);
    // Fold sign, blanks, then the percentages: still an entry row.
    const row = parseText('perf', '# Overhead  Command  Shared Object  Symbol\n-   12.50%  nfsd  [kernel.kallsyms]  [k] nfsd4_open\n');
    expect(row.events.filter((e) => e.kind === 'profile').map((e) => e.data.selfPct)).toEqual([12.5]);
  });

  it('dmesg hung-task and task-dump pids beyond 10 digits are not pids', () => {
    // FUZZ_SEED=20261121 FUZZ_ONLY=dmesg FUZZ_INDEX=2470 and 19781 (numericBoundary): event pid 18446744073709552000.
    const lines = [
      '[ 8625.129282] INFO: task cat:18446744073709551615 blocked for more than 1212 seconds.',
      '[ 8625.129300] task:cat             state:D stack:0     pid:9223372036854775808 tgid:1 ppid:18446744073709551616 flags:0x00000004',
      '[ 8625.129400] INFO: task sh:99999999999 blocked on a mutex likely owned by task cat:18446744073709551615',
      'Nov 21 12:00:00 host prog[18446744073709551616]: hello',
      '[ 8626.000000] INFO: task cat:1234 blocked for more than 120 seconds.',
    ];
    const out = parseText('dmesg', `${lines.join('\n')}\n`);
    for (const e of out.events) expect(eventProblems(e), e.text).toEqual([]);
    expect(parserInternalErrors(out.events, out.warnings)).toEqual([]);
    // The sane hung-task line keeps its pid.
    expect(out.events.filter((e) => e.data.group === 'hung-task').map((e) => e.pid)).toContain(1234);
  });

  it('proc-syscall header pid beyond 10 digits is no pid, and the task after it is not the previous one', () => {
    // FUZZ_SEED=23 FUZZ_ONLY=proc-syscall FUZZ_INDEX=48047 [deleteLines,garbage,numericBoundary]: pid 9223372036854776000.
    const text = '==> /proc/31674/syscall <==\n-1 0x7ffd2d3f3758 0x7fae57419897\n'
      + '# /proc/9223372036854775808/syscall\n73 0x3 0x2 0x0 0x1b6 0x7ffd2d3f3790 0x0 0x7ffd2d3f3758 0x7fae57419897\n';
    const out = parseText('proc-syscall', text);
    for (const e of out.events) expect(eventProblems(e), e.text).toEqual([]);
    expect(out.events.filter((e) => e.kind === 'process').map((e) => e.pid)).toEqual([31674, undefined]);
  });

  it('IPv4 fragment beyond the end the last fragment gives (was "offset is out of bounds", decoder stopped)', () => {
    // FUZZ_SEED=1 FUZZ_ONLY=capture FUZZ_INDEX=32361 (and 83048, 93313, ...): a bit flip in a fragment offset.
    // Fragments [0,40) MF, [32,40) MF, then the last one [16,24): total 24, so the fragment at 32 lies past the end.
    const bytes = rawIpPcap([
      ipv4(new Array<number>(40).fill(0x61), 0, true),
      ipv4(new Array<number>(8).fill(0x62), 32, true),
      ipv4(new Array<number>(8).fill(0x63), 16, false),
      ipv4([0, 53, 0, 53, 0, 8, 0, 0], 0, false, 0x9999),
    ]);
    const r = decodeClean(bytes);
    expect(r.summary.frames).toBe(4);
    expect(r.summary.ipFragmentsReassembled).toBe(1);
  });
});
