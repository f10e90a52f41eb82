import type { Level, ParsedEvent } from '../../model/event';
import type { LineParser, ParseContext, TextParserSpec } from '../types';
import { noteEvent } from '../common/lines';
import { civilToNanos, monthIndex } from '../common/clock';

/** One PHP frame of a slow-log backtrace: `[0x00007f...] fn() /path/file.php:142`. */
export interface PhpFrame {
  /** Function name as printed without "()"; "[INCLUDE_OR_EVAL]" for include/eval, "???" when unreadable. */
  readonly fn: string;
  /** "unknown" when php-fpm could not read the file name. */
  readonly file: string;
  readonly line: number;
}

/** `data` of 'log' events from a php-fpm slow log: one traced request. */
export interface PhpSlowData {
  readonly entry: 'slowlog';
  readonly pool: string;
  readonly pid: number;
  readonly scriptFilename?: string | undefined;
  /** Innermost call first, as php-fpm prints them (at most request_slowlog_trace_depth, default 20). */
  readonly frames: readonly PhpFrame[];
  /** php-fpm printed "+++ dump failed": the trace stopped early (ptrace read failed). */
  readonly dumpFailed?: boolean | undefined;
  /** The stamp had no zone: local time converted with ctx.utcOffsetMinutes (UTC when unset). */
  readonly zoneAssumed: boolean;
}

/** `data` of 'log' events from the php-fpm error log ("executing too slow", "execution timed out", others). */
export interface PhpFpmLogData {
  readonly entry: 'fpm-log';
  /** NOTICE, WARNING, ERROR, ALERT, DEBUG as printed by zlog. */
  readonly severity: string;
  readonly message: string;
  readonly pool?: string | undefined;
  /** The worker the master talks about ("child 14230"). */
  readonly child?: number | undefined;
  readonly script?: string | undefined;
  readonly request?: string | undefined;
  /** Seconds the request had run when the master logged it ("(5.123456 sec)"). */
  readonly seconds?: string | undefined;
  readonly zoneAssumed: boolean;
}

// php-src sapi/fpm/fpm/zlog.c zlog_print_time(): strftime "[%d-%b-%Y %H:%M:%S" + ".%06d" at log_level debug + "] ";
// fpm_php_trace.c fpm_php_trace_dump() then prints " [pool %s] pid %d" (hence two blanks).
const STAMP = /^\[(\d{2})-([A-Z][a-z]{2})-(\d{4}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?\] /;
const HEAD = /^ ?\[pool ([^\]]{0,256})\] pid (\d{1,10})$/;
const SCRIPT = /^script_filename = (.*)$/;
// fprintf "[0x%016lx] " then "%s()" then " %s:%u"; the file may itself contain ':' so the line number is the last one.
// Split by hand (first "() ", last ':'): one regex with a lazy and a greedy group backtracks quadratically.
const FRAME_ADDR = /^\[0x([0-9a-fA-F]{1,16})\] /;
const LINE_NO = /^\d{1,10}$/;
/** php-fpm reads names into 1024-byte buffers, so a real frame line is about 2 KiB at most. */
const MAX_FRAME_LINE = 4096;
// zlog_generic(): "%s: " level name, then (at debug) "pid %d, %s(), line %d: ", then the message.
const ZLOG = /^(DEBUG|NOTICE|WARNING|ERROR|ALERT): (?:pid \d+, \S+\(\), line \d+: )?(.*)$/;
// fpm_request.c / fpm_process_ctl.c: "[pool %s] child %d, script '%s' (request: \"%s %s%s%s\") executing too slow (%d.%06d sec), logging"
const CHILD = /^\[pool ([^\]]{0,256})\] child (\d{1,10})(?:, script '(.*?)' \(request: "(.*?)"\))?(?:.*\((\d{1,10}\.\d{6}) sec\))?/;
const MAX_FRAMES = 1000;

function parseFrame(text: string): PhpFrame | undefined {
  if (text.length > MAX_FRAME_LINE) return undefined;
  const am = FRAME_ADDR.exec(text);
  if (!am) return undefined;
  const rest = text.slice(am[0].length);
  const call = rest.indexOf('() ');
  if (call < 0) return undefined;
  const where = rest.slice(call + 3);
  const colon = where.lastIndexOf(':');
  if (colon < 0 || !LINE_NO.test(where.slice(colon + 1))) return undefined;
  return { fn: rest.slice(0, call), file: where.slice(0, colon), line: Number(where.slice(colon + 1)) };
}

interface Block {
  readonly line: number;
  endLine: number;
  readonly ts: bigint | undefined;
  readonly tsRaw: string;
  readonly pool: string;
  readonly pid: number;
  scriptFilename?: string | undefined;
  readonly frames: PhpFrame[];
  dumpFailed?: boolean | undefined;
}

function stampToNanos(m: RegExpExecArray, ctx: ParseContext): bigint | undefined {
  const mon = monthIndex(m[2]);
  if (mon < 0) return undefined;
  const frac = m[7] !== undefined ? BigInt(m[7].padEnd(9, '0')) : 0n;
  return civilToNanos(Number(m[3]), mon, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]), frac, ctx);
}

function zlogLevel(sev: string): Level | undefined {
  switch (sev) {
    case 'DEBUG': return 'debug';
    case 'NOTICE': return 'notice';
    case 'WARNING': return 'warn';
    case 'ERROR': return 'err';
    case 'ALERT': return 'alert';
    default: return undefined;
  }
}

function secondsToNs(s: string): bigint {
  const [whole, frac] = s.split('.');
  return BigInt(whole) * 1_000_000_000n + BigInt((frac ?? '').padEnd(9, '0').slice(0, 9));
}

/**
 * php-fpm slow log (`slowlog = ...`, written by fpm_php_trace_dump) and, in the same pass, php-fpm's own error
 * log lines (the master's "executing too slow" / "execution timed out" warnings point at the same requests).
 * One 'log' event per traced request, stamped with the host's local wall clock.
 */
export function createPhpSlowParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  let cur: Block | undefined;
  let skipped = 0;
  let firstSkipped: number | undefined;
  let droppedFrames = 0;
  const zoneAssumed = ctx.utcOffsetMinutes === undefined;

  function flush(): void {
    if (!cur) return;
    const b = cur;
    cur = undefined;
    const data: PhpSlowData = {
      entry: 'slowlog', pool: b.pool, pid: b.pid, scriptFilename: b.scriptFilename, frames: b.frames, dumpFailed: b.dumpFailed, zoneAssumed,
    };
    const top = b.frames[0];
    const where = top ? ` ${top.fn}() ${top.file}:${top.line}` : '';
    emit({
      kind: 'log', ts: b.ts, tsRaw: b.tsRaw, clock: b.ts !== undefined ? 'host-wall' : 'none', line: b.line,
      endLine: b.endLine !== b.line ? b.endLine : undefined, pid: b.pid, level: 'warn',
      text: `php-fpm slow request [pool ${b.pool}] pid ${b.pid} ${b.scriptFilename ?? ''}${where}${b.dumpFailed ? ' (dump failed)' : ''}`.replace(/\s+/g, ' ').slice(0, 400),
      data: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined)),
    });
  }

  function skip(lineNo: number): void {
    skipped++;
    firstSkipped ??= lineNo;
  }

  return {
    line(raw, lineNo) {
      const text = raw.trimEnd();
      if (text === '') {
        flush();
        return;
      }
      const sm = STAMP.exec(text);
      if (sm) {
        flush();
        const rest = text.slice(sm[0].length);
        const ts = stampToNanos(sm, ctx);
        const tsRaw = sm[0].trimEnd();
        const hm = HEAD.exec(rest);
        if (hm) {
          cur = { line: lineNo, endLine: lineNo, ts, tsRaw, pool: hm[1], pid: Number(hm[2]), frames: [] };
          return;
        }
        const zm = ZLOG.exec(rest);
        if (zm) {
          const cm = zm[2].length <= MAX_FRAME_LINE ? CHILD.exec(zm[2]) : null;
          const data: PhpFpmLogData = {
            entry: 'fpm-log', severity: zm[1], message: zm[2], pool: cm?.[1], child: cm ? Number(cm[2]) : undefined,
            script: cm?.[3], request: cm?.[4], seconds: cm?.[5], zoneAssumed,
          };
          emit({
            kind: 'log', ts, tsRaw, clock: ts !== undefined ? 'host-wall' : 'none', line: lineNo, pid: data.child,
            level: zlogLevel(zm[1]), durationNs: data.seconds !== undefined ? secondsToNs(data.seconds) : undefined,
            text: `php-fpm ${zm[1]}: ${zm[2]}`.slice(0, 400),
            data: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined)),
          });
          return;
        }
        skip(lineNo);
        return;
      }
      if (cur) {
        const fm = parseFrame(text);
        if (fm) {
          if (cur.frames.length < MAX_FRAMES) cur.frames.push(fm);
          else droppedFrames++;
          cur.endLine = lineNo;
          return;
        }
        const scm = cur.frames.length === 0 && cur.scriptFilename === undefined ? SCRIPT.exec(text) : null;
        if (scm) {
          cur.scriptFilename = scm[1];
          cur.endLine = lineNo;
          return;
        }
        if (text === '+++ dump failed') {
          cur.dumpFailed = true;
          cur.endLine = lineNo;
          flush();
          return;
        }
      }
      skip(lineNo);
    },
    end() {
      flush();
      if (droppedFrames > 0) emit(noteEvent(undefined, `${droppedFrames} frame(s) beyond ${MAX_FRAMES} per request; dropped`, { dropped: droppedFrames }));
      if (skipped > 0) emit(noteEvent(firstSkipped, `${skipped} line(s) were not php-fpm slow-log lines (first at line ${firstSkipped}); skipped`, { skipped }));
    },
  };
}

export const phpSlowSpec: TextParserSpec = {
  kind: 'php-slow',
  detect(head) {
    let n = 0;
    let blocks = 0;
    let fpm = 0;
    let frames = 0;
    for (const l of head) {
      const t = l.trimEnd();
      if (t === '') continue;
      n++;
      const sm = STAMP.exec(t);
      if (sm) {
        const rest = t.slice(sm[0].length);
        if (HEAD.test(rest)) blocks++;
        else if (ZLOG.test(rest)) fpm++;
      } else if (parseFrame(t) !== undefined || SCRIPT.test(t)) frames++;
    }
    if (blocks > 0) return 0.95;
    if (n === 0 || fpm === 0) return 0;
    return Math.min(0.85, 0.4 + (fpm + frames) / n);
  },
  create: createPhpSlowParser,
};
