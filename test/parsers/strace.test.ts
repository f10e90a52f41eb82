import { describe, expect, it } from 'vitest';
import { parseText, splitArgs } from '../../shared/parsers';
import type { StraceSignalData, SyscallData } from '../../shared/parsers/strace';
import { parseIso } from '../../shared/model/time';
import { d, fixture, ofKind } from './helpers';

const COLLECTED = parseIso('2023-10-11T18:00:00Z')!;

describe('strace: lnav samples', () => {
  it('-tt -T without pids: time of day anchored on the collection day, durations', () => {
    const out = parseText('strace', fixture('logs/lnav__strace_tt_T.log'), { collectedAtNs: COLLECTED });
    expect(out.warnings).toEqual([]);
    const first = out.events[0];
    expect(first.kind).toBe('syscall');
    expect(first.tsRaw).toBe('08:09:33.814936');
    expect(first.ts).toBe(parseIso('2023-10-11T08:09:33.814936Z'));
    expect(first.durationNs).toBe(264_000n);
    expect(d<SyscallData>(first)).toMatchObject({ syscall: 'execve', ret: '0', argv: ['"/bin/ls"', '["ls"]', '[/* 38 vars */]'] });
    const enoent = out.events.find((e) => d<SyscallData>(e).errno === 'ENOENT')!;
    expect(d<SyscallData>(enoent)).toMatchObject({ syscall: 'access', ret: '-1', errtext: 'No such file or directory' });
  });

  it('-f -ttt -T: epoch stamps, pid prefixes, unfinished/resumed joined, exits', () => {
    const out = parseText('strace', fixture('logs/lnav__strace_f_ttt_T.log'));
    expect(out.warnings).toEqual([]);
    expect(out.events[0].ts).toBe(1_697_048_351_000_001_000n);
    expect(out.events[0].pid).toBe(10000);
    // This sample resumes pid 10000's accept4 under pid 10003, which strace never does (a task resumes its own
    // call): the parser does not join across tasks; the orphan half keeps its own line and 10000's call is
    // reported unfinished when that task starts another call.
    const orphan = out.events.find((e) => e.pid === 10003 && d<SyscallData>(e).syscall === 'accept4')!;
    expect(d<SyscallData>(orphan)).toMatchObject({ resumed: true, ret: '4', args: '{sa_family=AF_INET, sin_port=htons(51235), sin_addr=inet_addr("127.0.0.1")}, [16], SOCK_CLOEXEC' });
    expect(orphan.durationNs).toBe(6_157_000n);
    const cut = out.events.filter((e) => d<SyscallData>(e).unfinished);
    expect(cut.map((e) => `${e.pid} ${d<SyscallData>(e).syscall} ${e.line}`)).toEqual(['10000 accept4 24']);
    const exits = ofKind(out.events, 'signal').filter((e) => d<StraceSignalData>(e).what === 'exited');
    expect(exits.map((e) => e.pid)).toEqual([10002, 10003, 10004, 10001, 10000]);
  });

  it('-f -tt -T -yy: fd paths, pipes, signals with siginfo, exit_group = ?', () => {
    const out = parseText('strace', fixture('logs/lnav__strace_f_tt_T_yy.log'), { collectedAtNs: COLLECTED });
    expect(out.warnings).toEqual([]);
    const fstat = out.events.find((e) => d<SyscallData>(e).syscall === 'fstat')!;
    expect(d<SyscallData>(fstat)).toMatchObject({ fd: 3, fdPath: '/etc/ld.so.cache' });
    const open = out.events.find((e) => d<SyscallData>(e).syscall === 'openat')!;
    expect(d<SyscallData>(open)).toMatchObject({ ret: '3', retFdPath: '/etc/ld.so.cache' });
    const read = out.events.find((e) => d<SyscallData>(e).syscall === 'read' && d<SyscallData>(e).resumed)!;
    expect(d<SyscallData>(read)).toMatchObject({ fd: 3, fdPath: 'pipe:[347379059]', ret: '17' });
    expect(d<SyscallData>(read).argv).toEqual(['3<pipe:[347379059]>', '"/usr/bin/firefox\\n"', '128']);
    expect(read.ts).toBe(parseIso('2023-10-11T12:21:46.362492Z')); // the start line's stamp
    expect(read.durationNs).toBe(24_012_000n);
    expect([read.line, read.endLine]).toEqual([50, 107]);
    const eg = out.events.find((e) => d<SyscallData>(e).syscall === 'exit_group')!;
    expect(d<SyscallData>(eg).ret).toBe('?');
    const sig = ofKind(out.events, 'signal').find((e) => d<StraceSignalData>(e).what === 'signal')!;
    expect(d<StraceSignalData>(sig).signal).toBe('SIGCHLD');
    expect(d<StraceSignalData>(sig).info).toContain('si_pid=478765');
  });
});

describe('strace: a task stuck in the kernel (lab)', () => {
  it('attached and nothing else: one unfinished syscall for the pid, wrapper lines noted', () => {
    const out = parseText('strace', fixture('stuck/flock-strace.txt'));
    const sys = ofKind(out.events, 'syscall');
    expect(sys.map((e) => e.pid)).toEqual([15555]);
    const rerun = parseText('strace', fixture('stuck/rerun/flock-strace.txt'));
    expect(ofKind(rerun.events, 'syscall').map((e) => e.pid)).toEqual([31674]);
    expect(rerun.warnings).toHaveLength(3);
    for (const e of sys) expect(d<SyscallData>(e)).toMatchObject({ unfinished: true, attachedOnly: true, syscall: '?' });
    expect(sys.every((e) => d<SyscallData>(e).ret === undefined)).toBe(true);
    // the collector's own lines (dates, rc) are not strace output: kept as notes, result marked partial
    expect(out.warnings.length).toBe(ofKind(out.events, 'note').length);
    expect(out.warnings.length).toBe(2);
  });

  it('an open call at end of input stays unfinished (never "blocked forever")', () => {
    const text = 'strace: Process 4242 attached\n12:00:00.000001 flock(3</mnt/nfs/lockme>, LOCK_EX <unfinished ...>';
    const out = parseText('strace', text);
    const sys = ofKind(out.events, 'syscall');
    expect(sys).toHaveLength(1);
    expect(sys[0].pid).toBe(4242);
    expect(d<SyscallData>(sys[0])).toMatchObject({ syscall: 'flock', args: '3</mnt/nfs/lockme>, LOCK_EX', unfinished: true, fdPath: '/mnt/nfs/lockme' });
    expect(d<SyscallData>(sys[0]).ret).toBeUndefined();
    expect(sys[0].ts).toBeUndefined(); // no collection time given: time of day alone is not an instant
    expect(sys[0].tsRaw).toBe('12:00:00.000001');
  });

  it('[pid N] prefixes, -r relative stamps, killed by', () => {
    const text = [
      '[pid  4243]      0.000000 flock(3, LOCK_EX <unfinished ...>',
      '[pid  4244]      0.000120 write(1, "a, b) = 3", 9) = 9',
      '[pid  4243]      4.998000 <... flock resumed>) = -1 EINTR (Interrupted system call)',
      '[pid  4243]      0.000010 +++ killed by SIGKILL +++',
    ].join('\n');
    const out = parseText('strace', text);
    expect(out.warnings).toEqual([]);
    const [w, f, k] = out.events;
    expect(d<SyscallData>(w)).toMatchObject({ syscall: 'write', ret: '9', argv: ['1', '"a, b) = 3"', '9'], fd: 1, relative: '0.000120' });
    expect(d<SyscallData>(f)).toMatchObject({ syscall: 'flock', args: '3, LOCK_EX', ret: '-1', errno: 'EINTR', resumed: true, fd: 3 });
    expect(f.pid).toBe(4243);
    expect(d<StraceSignalData>(k)).toEqual({ what: 'killed', signal: 'SIGKILL' });
  });
});

describe('strace: arguments and speed', () => {
  it('splits arguments outside strings and nesting', () => {
    expect(splitArgs('AT_FDCWD, "a,\\"b", {x=1, y=[2, 3]}, f(1, 2)')).toEqual(['AT_FDCWD', '"a,\\"b"', '{x=1, y=[2, 3]}', 'f(1, 2)']);
    expect(splitArgs('')).toEqual([]);
  });

  // Speed is measured by `npm run bench -- ingest`; this checks that a large trace parses completely.
  it('parses a 200k-line trace completely, with every call kept', () => {
    const lines: string[] = [];
    for (let i = 0; i < 200_000; i++) {
      const pid = 1000 + (i % 7);
      lines.push(`${pid} 12:00:${String(i % 60).padStart(2, '0')}.${String(i % 1_000_000).padStart(6, '0')} read(3</var/log/x>, "${'x'.repeat(i % 40)}", 4096) = ${i % 40} <0.000010>`);
    }
    const text = lines.join('\n');
    const out = parseText('strace', text);
    expect(out.events).toHaveLength(200_000);
    expect(out.warnings).toEqual([]);
    expect(out.events.at(-1)!.data).toMatchObject({ syscall: 'read', ret: String(199_999 % 40) });
  });
});
