import type { ParsedEvent } from '../../model/event';
import { NS_PER_S } from '../../model/time';
import type { LineParser, ParseContext, TextParserSpec } from '../types';
import { fracToNanos, timeOfDayToNanos } from '../common/clock';
import { noteEvent } from '../common/lines';
import { closingParen, splitArgs } from './split';
import type { StraceSignalData, SyscallData } from './types';

export type { StraceSignalData, SyscallData } from './types';
export { splitArgs } from './split';

// strace(1) output prefixes, in print order: "[pid  N] " (-f, several tracees) or "N " (-ff into one file,
// or -f when output is not a terminal), then the time stamp: -t "HH:MM:SS", -tt "HH:MM:SS.us", -ttt "epoch.us",
// or -r "     0.000123" (relative, right-aligned).
// Pids are 1-10 digits: a longer run is not a pid (it would become an unsafe JS number; found by test/fuzz).
const PREFIX = /^(?:\[pid +(\d{1,10})\] |(\d{1,10}) +)?(?:(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? +|(\d{9,11})\.(\d{1,9}) +| *(\d{1,6}\.\d{6}) +)?/;
const SYSCALL_HEAD = /^([a-z_][a-z0-9_]{0,40})\(/;
const RESUMED = /^<\.\.\. ([a-z_][a-z0-9_]{0,40}) resumed> ?/;
const UNFINISHED = ' <unfinished ...>';
const SIGNAL = /^--- (SIG[A-Z0-9+]+|\{[^}]*\}|[A-Z0-9]+) (?:\{(.*)\} )?---$/;
const EXITED = /^\+\+\+ exited with (-?\d+) \+\+\+$/;
const KILLED = /^\+\+\+ killed by (SIG[A-Z0-9+]+)( \(core dumped\))? \+\+\+$/;
const ATTACH = /^strace: Process (\d{1,10}) (attached|detached|suspended)/;
const ERRNO = /^(E[A-Z0-9_]{1,30}) \((.*)\)$/;
const FD_DECOR = /^(-?\d+)<(.*)>$/;
const DURATION = / <(\d+)\.(\d{1,9})>$/;

interface Pending {
  readonly syscall: string;
  readonly args: string;
  readonly ts: bigint | undefined;
  readonly tsRaw: string | undefined;
  readonly line: number;
  readonly pid: number | undefined;
  readonly relative: string | undefined;
}

const DAY = 86_400n * NS_PER_S;

export function createStraceParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  const pending = new Map<number, Pending>(); // by pid (-1 when strace printed none)
  const attached = new Map<number, number>(); // pid -> line of "attached"
  const active = new Set<number>(); // pids that printed anything after attaching
  let tod: { firstTod: bigint; firstTs: bigint | undefined; lastTod: bigint; rollovers: bigint } | undefined;

  function todStamp(h: number, m: number, s: number, frac: string | undefined): bigint | undefined {
    const t = secondsFracToNanos(h * 3600 + m * 60 + s, frac);
    if (!tod) {
      tod = { firstTod: t, firstTs: timeOfDayToNanos(h, m, s, fracToNanos(frac), ctx), lastTod: t, rollovers: 0n };
    } else if (t + DAY / 2n < tod.lastTod) {
      tod.rollovers++; // strace -t has no date: a jump back of more than 12 h is midnight passing
    }
    tod.lastTod = t;
    if (tod.firstTs === undefined) return undefined;
    return tod.firstTs + (t - tod.firstTod) + tod.rollovers * DAY;
  }

  function onlyPid(): number | undefined {
    return attached.size === 1 ? attached.keys().next().value : undefined;
  }

  function syscallEvent(p: Pending, rest: string | undefined, lineNo: number, resumed: boolean): ParsedEvent {
    // rest: text after the argument list's ")" ("= 0 <0.000010>"), undefined when the call never returned.
    let ret: string | undefined;
    let retDetail: string | undefined;
    let errno: string | undefined;
    let errtext: string | undefined;
    let durationNs: bigint | undefined;
    let retFdPath: string | undefined;
    if (rest !== undefined) {
      let r = rest;
      const dm = DURATION.exec(r);
      if (dm) {
        durationNs = dm[1].length <= 6 ? secondsFracToNanos(Number(dm[1]), dm[2]) : BigInt(dm[1]) * NS_PER_S + fracToNanos(dm[2]);
        r = r.slice(0, dm.index);
      }
      r = r.trim();
      if (r.startsWith('=')) r = r.slice(1).trim();
      const sp = r.indexOf(' ');
      ret = sp < 0 ? r : r.slice(0, sp);
      const tail = sp < 0 ? '' : r.slice(sp + 1).trim();
      const fm = FD_DECOR.exec(ret);
      if (fm) {
        retFdPath = fm[2];
        ret = fm[1];
      }
      const em = ERRNO.exec(tail);
      if (em) {
        errno = em[1];
        errtext = em[2];
      } else if (tail !== '') retDetail = tail;
    }
    const argv = splitArgs(p.args);
    let fd: number | undefined;
    let fdPath: string | undefined;
    if (argv.length > 0) {
      const fm = FD_DECOR.exec(argv[0]);
      if (fm) {
        fd = Number(fm[1]);
        fdPath = fm[2];
      } else if (/^\d+$/.test(argv[0]) && FD_FIRST.has(p.syscall)) fd = Number(argv[0]);
    }
    // Only the fields that have a value, in SyscallData's order (what clean() of the full literal gave, built
    // directly: this runs once per syscall and the generic filter was a sixth of the parse time).
    const data: Record<string, unknown> = { syscall: p.syscall, args: p.args, argv };
    if (ret !== undefined) data.ret = ret;
    if (retDetail !== undefined) data.retDetail = retDetail;
    if (errno !== undefined) data.errno = errno;
    if (errtext !== undefined) data.errtext = errtext;
    if (rest === undefined) data.unfinished = true;
    if (resumed) data.resumed = true;
    if (fd !== undefined) data.fd = fd;
    if (fdPath !== undefined) data.fdPath = fdPath;
    if (retFdPath !== undefined) data.retFdPath = retFdPath;
    if (p.relative !== undefined) data.relative = p.relative;
    if (resumed) data.resumedLine = lineNo;
    const text = rest === undefined
      ? `${p.syscall}(${p.args}) <unfinished>`
      : `${p.syscall}(${p.args}) = ${ret ?? '?'}${errno ? ` ${errno}` : ''}`;
    return {
      kind: 'syscall',
      ts: p.ts,
      tsRaw: p.tsRaw,
      clock: p.ts !== undefined || p.tsRaw !== undefined ? 'host-wall' : 'none',
      durationNs,
      line: p.line,
      endLine: lineNo !== p.line ? lineNo : undefined,
      pid: p.pid,
      level: errno ? 'notice' : undefined,
      text: text.length > 300 ? `${text.slice(0, 297)}...` : text,
      data,
    };
  }

  function signalEvent(data: StraceSignalData, text: string, lineNo: number, pid: number | undefined, ts: bigint | undefined, tsRaw: string | undefined): ParsedEvent {
    return {
      kind: 'signal', ts, tsRaw, clock: ts !== undefined || tsRaw !== undefined ? 'host-wall' : 'none',
      line: lineNo, pid, level: data.what === 'killed' ? 'warn' : undefined, text, data: clean(data),
    };
  }

  return {
    line(text, lineNo) {
      if (text.trim() === '') return;
      const am = ATTACH.exec(text);
      if (am) {
        const pid = Number(am[1]);
        if (am[2] === 'attached') attached.set(pid, lineNo);
        emit(signalEvent({ what: am[2] === 'attached' ? 'attached' : 'detached' }, text, lineNo, pid, undefined, undefined));
        return;
      }
      const pm = PREFIX.exec(text)!;
      const pidText = pm[1] ?? pm[2];
      const pid = pidText !== undefined ? Number(pidText) : onlyPid();
      let ts: bigint | undefined;
      let tsRaw: string | undefined;
      let relative: string | undefined;
      if (pm[3] !== undefined) {
        ts = todStamp(Number(pm[3]), Number(pm[4]), Number(pm[5]), pm[6]);
        tsRaw = `${pm[3]}:${pm[4]}:${pm[5]}${pm[6] !== undefined ? `.${pm[6]}` : ''}`;
      } else if (pm[7] !== undefined) {
        ts = BigInt(pm[7]) * NS_PER_S + fracToNanos(pm[8]);
        tsRaw = `${pm[7]}.${pm[8]}`;
      } else if (pm[9] !== undefined) {
        relative = pm[9];
        tsRaw = pm[9];
      }
      const body = text.slice(pm[0].length);
      const key = pid ?? -1;
      // "seen" (the tracee printed something after attaching) is written inline: a closure made per line cost
      // more than the work it did.

      const rm = RESUMED.exec(body);
      if (rm) {
        if (pid !== undefined) active.add(pid);
        const p = pending.get(key);
        const tail = body.slice(rm[0].length);
        const close = closingParen(tail, 0);
        const argsTail = close >= 0 ? tail.slice(0, close) : tail;
        const after = close >= 0 ? tail.slice(close + 1) : undefined;
        if (p && p.syscall === rm[1]) {
          pending.delete(key);
          const joined = joinArgs(p.args, argsTail);
          emit(syscallEvent({ ...p, args: joined }, after, lineNo, true));
        } else {
          // The start was before the trace began (strace -p attached mid-call) or in a lost line.
          emit(syscallEvent({ syscall: rm[1], args: argsTail, ts, tsRaw, line: lineNo, pid, relative }, after, lineNo, true));
        }
        return;
      }
      const hm = SYSCALL_HEAD.exec(body);
      if (hm) {
        if (pid !== undefined) active.add(pid);
        const open = hm[0].length;
        // A new call from the same task means its pending call's "resumed" line was lost: report it unfinished.
        const prev = pending.get(key);
        if (prev) {
          pending.delete(key);
          emit(syscallEvent(prev, undefined, prev.line, false));
        }
        if (body.endsWith(UNFINISHED)) {
          let args = body.slice(open, body.length - UNFINISHED.length).trimEnd();
          if (args.endsWith(',')) args = args.slice(0, -1);
          pending.set(key, { syscall: hm[1], args, ts, tsRaw, line: lineNo, pid, relative });
          return;
        }
        const close = closingParen(body, open);
        if (close >= 0) {
          const p: Pending = { syscall: hm[1], args: body.slice(open, close), ts, tsRaw, line: lineNo, pid, relative };
          emit(syscallEvent(p, body.slice(close + 1), lineNo, false));
          return;
        }
      }
      const sm = SIGNAL.exec(body);
      if (sm) {
        if (pid !== undefined) active.add(pid);
        emit(signalEvent({ what: 'signal', signal: sm[1], info: sm[2] }, body, lineNo, pid, ts, tsRaw));
        return;
      }
      const em = EXITED.exec(body);
      if (em) {
        emit(signalEvent({ what: 'exited', exitCode: Number(em[1]) }, body, lineNo, pid, ts, tsRaw));
        return;
      }
      const km = KILLED.exec(body);
      if (km) {
        if (pid !== undefined) active.add(pid);
        emit(signalEvent({ what: 'killed', signal: km[1], coreDumped: km[2] !== undefined || undefined }, body, lineNo, pid, ts, tsRaw));
        return;
      }
      emit(noteEvent(lineNo, `line ${lineNo} is not strace output: ${text.length > 120 ? `${text.slice(0, 117)}...` : text}`));
    },
    end() {
      for (const p of pending.values()) emit(syscallEvent(p, undefined, p.line, false));
      pending.clear();
      for (const [pid, line] of attached) {
        if (active.has(pid)) continue;
        // strace prints a syscall only when it returns (or when another tracee interrupts it): a tracee that
        // printed nothing sat in one call the whole time. Which call is unknown here (see /proc/PID/syscall).
        emit({
          kind: 'syscall', clock: 'none', line, pid, text: `pid ${pid}: no syscall returned while traced`,
          data: clean<SyscallData>({ syscall: '?', args: '', unfinished: true, attachedOnly: true }),
        });
      }
    },
  };
}

/** Syscalls whose first argument is a descriptor (for `fd` when strace ran without -y). */
const FD_FIRST = new Set([
  'read', 'write', 'pread64', 'pwrite64', 'readv', 'writev', 'close', 'fstat', 'newfstatat', 'flock', 'fcntl',
  'fsync', 'fdatasync', 'ftruncate', 'lseek', 'getdents64', 'ioctl', 'sendto', 'recvfrom', 'sendmsg', 'recvmsg',
  'connect', 'accept', 'accept4', 'bind', 'listen', 'shutdown', 'setsockopt', 'getsockopt', 'mmap', 'dup', 'dup2', 'dup3',
]);

function joinArgs(head: string, tail: string): string {
  if (head === '') return tail;
  if (tail === '') return head;
  return `${head}, ${tail}`;
}

function clean<T extends object>(o: T): Readonly<Record<string, unknown>> {
  // for-in visits an object literal's own keys in Object.entries order, without a pair array per field.
  const out: Record<string, unknown> = {};
  const src = o as Record<string, unknown>;
  for (const k in src) {
    const v = src[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

const POW10 = [1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1];

/**
 * `seconds * 1e9 + fracToNanos(frac)` in float arithmetic, exact while the result stays below 2^53 (seconds
 * up to 9e6, i.e. -T durations and times of day; callers pass longer values to the bigint path). One BigInt
 * conversion instead of a string pad, a BigInt parse and two bigint operations per stamp.
 */
function secondsFracToNanos(seconds: number, frac: string | undefined): bigint {
  if (frac === undefined || frac === '') return BigInt(seconds * 1e9);
  const digits = frac.length > 9 ? frac.slice(0, 9) : frac;
  return BigInt(seconds * 1e9 + Number(digits) * POW10[digits.length]!);
}

const LINE = /^(?:\[pid +\d+\] |\d+ +)?(?:\d{2}:\d{2}:\d{2}(?:\.\d+)? +|\d{9,11}\.\d+ +| *\d+\.\d{6} +)?(?:[a-z_][a-z0-9_]*\(|<\.\.\. [a-z_0-9]+ resumed>|--- SIG|\+\+\+ (?:exited|killed))/;

export const straceSpec: TextParserSpec = {
  kind: 'strace',
  detect(head) {
    let n = 0;
    let hit = 0;
    let attach = false;
    for (const l of head) {
      if (l.trim() === '') continue;
      n++;
      if (ATTACH.test(l)) attach = true;
      else if (LINE.test(l) && / = |<unfinished \.\.\.>|resumed>|^(?:\S+ +)*(?:---|\+\+\+)/.test(l)) hit++;
    }
    if (n === 0) return 0;
    if (hit === 0) return attach ? 0.6 : 0;
    return Math.min(1, 0.35 + hit / n);
  },
  create: createStraceParser,
};
