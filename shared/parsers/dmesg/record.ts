import type { Level } from '../../model/event';
import { parseIso } from '../../model/time';
import type { ParseContext } from '../types';
import { fracToNanos, isCtime, microsToSecondsText, monthIndex, parseCtime, yearlessToNanos } from '../common/clock';
import type { Facility } from '../common/syslog';
import { facilityFromPri, isFacility, isLevel, levelFromPri } from '../common/syslog';
import type { KernelTimeSource } from './types';

/** One kernel (or syslog) record with every prefix peeled off. */
export interface DmesgRecord {
  readonly msg: string;
  /** The prefix text as written (everything before the message), for ParsedEvent.tsRaw. */
  readonly tsRaw?: string | undefined;
  readonly seconds?: string | undefined;
  readonly wallNs?: bigint | undefined;
  readonly timeSource: KernelTimeSource;
  readonly imprecise?: boolean | undefined;
  readonly delta?: string | undefined;
  readonly level?: Level | undefined;
  readonly facility?: Facility | undefined;
  readonly seq?: number | undefined;
  readonly caller?: string | undefined;
  readonly host?: string | undefined;
  /** Set when a syslog wrapper names a program other than the kernel. */
  readonly program?: string | undefined;
  readonly procPid?: number | undefined;
  /** No prefix at all (a wrapped line, or a --notime dump). */
  readonly bare: boolean;
}

/** State that carries from line to line: dmesg --time-format reltime prints a minute anchor then deltas. */
export interface RecordState {
  reltimeBase?: bigint | undefined;
  /**
   * The last syslog stamp without a fraction and its instant: consecutive lines of a syslog mostly share their
   * second, and the calendar conversion (Date.UTC plus a validity check) is a real share of the parse time.
   */
  syslogStamp?: string | undefined;
  syslogNs?: bigint | undefined;
}

// /dev/kmsg (Documentation/ABI/testing/dev-kmsg): "pri,seq,usec,flags[,more];message"
const KMSG = /^(\d{1,4}),(\d{1,20}),(\d{1,20}),([^,;]*)((?:,[^;,]*)*);/;
// RFC 3164 syslog as written by rsyslog/syslog-ng: "Nov 21 12:00:00 host prog[pid]: msg"
const SYSLOG = /^([A-Z][a-z]{2}) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))? (\S+) ([^\s:[\]]+)(?:\[(\d+)\])?: ?/;
// RFC 3339 (rsyslog RFC3339 template, journalctl -o short-iso[-precise]): "2026-11-21T12:00:00.123456+00:00 host prog: msg"
const JOURNAL = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})) (\S+) ([^\s:[\]]+)(?:\[(\d+)\])?: ?/;
// dmesg --time-format iso (util-linux print_record: "%Y-%m-%dT%H:%M:%S,<usec><+hh:mm>"; comma decimal separator)
const DMESG_ISO = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2},\d{6}[+-]\d{2}:\d{2})(?: |$)/;
const PRIO = /^<(\d{1,4})>/;
// dmesg -x: "kern  :info  : " (facility and level names padded to 6/6)
const DECODE = /^([a-z0-9]{3,8}) *:([a-z]{3,6}) *: /;
const RAW_SECS = /^ *(\d{1,12}\.\d{1,9})$/;
const RAW_DELTA = /^ *(\d{1,12}\.\d{1,9}) <\s*(\d{1,12}\.\d{1,9})>$/;
const DELTA_ONLY = /^<\s*(\d{1,12}\.\d{1,9})>$/;
const CTIME_DELTA = /^(.{24}) <\s*(\d{1,12}\.\d{1,9})>$/;
const RELTIME_ANCHOR = /^([A-Z][a-z]{2}) ?(\d{1,2}) (\d{2}):(\d{2})$/;
const RELTIME_DELTA = /^ *\+(\d{1,12}\.\d{1,9})$/;

/** "prog[pid]:" pid: pid_t is an int, at most 10 digits; a longer digit run is no pid (nor a safe integer). */
function pidOf(digits: string | undefined): number | undefined {
  return digits !== undefined && digits.length <= 10 ? Number(digits) : undefined;
}

interface Prefix {
  seconds?: string;
  wallNs?: bigint;
  timeSource: KernelTimeSource;
  imprecise?: boolean;
  delta?: string;
  level?: Level;
  facility?: Facility;
}

/**
 * Peel the dmesg prefixes util-linux can print, in its order (print_record): [<prio>] [fac:lvl:] then one or
 * more time stamps (several --time-format options print several), then the message.
 */
function peelDmesg(s: string, ctx: ParseContext, st: RecordState, p: Prefix): string {
  let rest = s;
  const pm = PRIO.exec(rest);
  if (pm) {
    const pri = Number(pm[1]);
    p.level = levelFromPri(pri);
    p.facility = facilityFromPri(pri);
    rest = rest.slice(pm[0].length);
  }
  const dm = DECODE.exec(rest);
  if (dm && isFacility(dm[1]) && isLevel(dm[2])) {
    p.facility = dm[1];
    p.level = dm[2];
    rest = rest.slice(dm[0].length);
  }
  for (let guard = 0; guard < 4; guard++) {
    if (rest.startsWith('[')) {
      const close = rest.indexOf(']', 1);
      if (close < 0 || close > 48) break;
      const inner = rest.slice(1, close);
      if (!timeToken(inner, ctx, st, p)) break;
      rest = rest.slice(close + 1);
      if (rest.startsWith(' ')) rest = rest.slice(1);
      continue;
    }
    const im = DMESG_ISO.exec(rest);
    if (im) {
      const t = parseIso(im[1]);
      if (t === undefined) break;
      if (p.seconds === undefined) {
        p.wallNs = t;
        p.timeSource = 'iso';
        p.imprecise = true;
      }
      rest = rest.slice(im[0].length);
      continue;
    }
    break;
  }
  return rest;
}

/** One "[...]" token; returns false when it is not a time (then it belongs to the message: "[drm] ..."). */
function timeToken(inner: string, ctx: ParseContext, st: RecordState, p: Prefix): boolean {
  let m = RAW_SECS.exec(inner);
  if (m) {
    setBoot(p, m[1]);
    return true;
  }
  m = RAW_DELTA.exec(inner);
  if (m) {
    setBoot(p, m[1]);
    p.delta = m[2];
    return true;
  }
  m = DELTA_ONLY.exec(inner);
  if (m) {
    p.delta = m[1];
    return true;
  }
  const cd = CTIME_DELTA.exec(inner);
  const ctimeText = cd ? cd[1] : inner;
  if (isCtime(ctimeText)) {
    if (cd) p.delta = cd[2];
    if (p.seconds === undefined && p.timeSource !== 'iso') {
      const t = parseCtime(ctimeText, ctx);
      if (t !== undefined) p.wallNs = t;
      p.timeSource = 'ctime';
      p.imprecise = true;
    }
    return true;
  }
  m = RELTIME_ANCHOR.exec(inner);
  if (m) {
    const mon = monthIndex(m[1]);
    if (mon < 0) return false;
    const t = yearlessToNanos(mon, Number(m[2]), Number(m[3]), Number(m[4]), 0, 0n, ctx);
    st.reltimeBase = t;
    if (p.seconds === undefined) {
      p.wallNs = t;
      p.timeSource = 'reltime';
      p.imprecise = true;
    }
    return true;
  }
  m = RELTIME_DELTA.exec(inner);
  if (m) {
    p.delta = m[1];
    if (p.seconds === undefined) {
      p.timeSource = 'reltime';
      p.imprecise = true;
      if (st.reltimeBase !== undefined) {
        // util-linux prints each delta relative to the previous record: accumulate.
        st.reltimeBase += fracToSecondsNs(m[1]);
        p.wallNs = st.reltimeBase;
      }
    }
    return true;
  }
  return false;
}

function fracToSecondsNs(text: string): bigint {
  const dot = text.indexOf('.');
  return BigInt(text.slice(0, dot)) * 1_000_000_000n + fracToNanos(text.slice(dot + 1));
}

function setBoot(p: Prefix, secs: string): void {
  p.seconds = secs;
  p.timeSource = 'boot';
  p.wallNs = undefined;
  p.imprecise = undefined;
}

/** Parse one line. Returns a record (bare when no prefix was recognised). */
export function parseDmesgLine(line: string, ctx: ParseContext, st: RecordState): DmesgRecord {
  const km = KMSG.exec(line);
  if (km) {
    const pri = Number(km[1]);
    let caller: string | undefined;
    for (const extra of km[5].split(',')) if (extra.startsWith('caller=')) caller = extra.slice(7);
    const seconds = microsToSecondsText(BigInt(km[3]));
    return {
      msg: line.slice(km[0].length),
      tsRaw: km[0].slice(0, -1),
      seconds,
      timeSource: 'kmsg',
      level: levelFromPri(pri),
      facility: facilityFromPri(pri),
      seq: Number(km[2]),
      caller,
      bare: false,
    };
  }
  const p: Prefix = { timeSource: 'none' };
  let rest = line;
  let host: string | undefined;
  let program: string | undefined;
  let procPid: number | undefined;
  let wrapperNs: bigint | undefined;
  let wrapperSource: KernelTimeSource | undefined;
  const sm = SYSLOG.exec(line);
  const jm = sm ? undefined : JOURNAL.exec(line);
  if (sm) {
    const mon = monthIndex(sm[1]);
    if (mon >= 0) {
      if (sm[6] === undefined) {
        // The stamp text "Mmm dd hh:mm:ss" (one or two spaces after the month): the same text, the same instant.
        const stamp = line.slice(0, (line.charCodeAt(4) === 32 ? 5 : 4) + sm[2].length + 9);
        if (stamp !== st.syslogStamp) {
          st.syslogStamp = stamp;
          st.syslogNs = yearlessToNanos(mon, Number(sm[2]), Number(sm[3]), Number(sm[4]), Number(sm[5]), 0n, ctx);
        }
        wrapperNs = st.syslogNs;
      } else {
        wrapperNs = yearlessToNanos(mon, Number(sm[2]), Number(sm[3]), Number(sm[4]), Number(sm[5]), fracToNanos(sm[6]), ctx);
      }
      wrapperSource = 'syslog';
      host = sm[7];
      program = sm[8];
      procPid = pidOf(sm[9]);
      rest = line.slice(sm[0].length);
    }
  } else if (jm) {
    wrapperNs = parseIso(jm[1]);
    wrapperSource = 'journal';
    host = jm[2];
    program = jm[3];
    procPid = pidOf(jm[4]);
    rest = line.slice(jm[0].length);
  }
  const isKernel = program === undefined || program === 'kernel';
  const msg = isKernel ? peelDmesg(rest, ctx, st, p) : rest;
  const prefixLen = line.length - msg.length;
  const tsRaw = prefixLen > 0 ? line.slice(0, prefixLen).trimEnd() : undefined;
  if (wrapperSource !== undefined) {
    // The daemon's receipt stamp is a real wall-clock reading; the boot-relative seconds stay in data.
    if (wrapperNs !== undefined || p.seconds === undefined) {
      p.wallNs = wrapperNs;
      p.timeSource = wrapperSource;
      p.imprecise = undefined;
    }
  }
  return {
    msg,
    tsRaw,
    seconds: p.seconds,
    wallNs: p.wallNs,
    timeSource: p.timeSource,
    imprecise: p.imprecise,
    delta: p.delta,
    level: p.level,
    facility: p.facility,
    host,
    program: isKernel ? undefined : program,
    procPid: isKernel ? undefined : procPid,
    bare: prefixLen === 0,
  };
}

/** dmesg --json record fields (util-linux: "pri" number or, with -x, "fac"/"pri" names; "time" seconds). */
export function recordFromJson(
  fields: Readonly<Record<string, string | number>>,
): DmesgRecord | undefined {
  const msg = fields.msg;
  if (typeof msg !== 'string') return undefined;
  let level: Level | undefined;
  let facility: Facility | undefined;
  const pri = fields.pri;
  if (typeof pri === 'number') {
    level = levelFromPri(pri);
    facility = facilityFromPri(pri);
  } else if (typeof pri === 'string' && isLevel(pri)) level = pri;
  const fac = fields.fac;
  if (typeof fac === 'string' && isFacility(fac)) facility = fac;
  const time = fields.time;
  const seconds = typeof time === 'string' ? time : typeof time === 'number' ? time.toFixed(6) : undefined;
  let wallNs: bigint | undefined;
  let timeSource: KernelTimeSource = seconds !== undefined ? 'json' : 'none';
  let imprecise: boolean | undefined;
  if (seconds === undefined && typeof fields.time_iso === 'string') {
    wallNs = parseIso(fields.time_iso);
    timeSource = 'iso';
    imprecise = true;
  }
  return {
    msg, tsRaw: seconds, seconds, wallNs, timeSource, imprecise, level, facility,
    caller: typeof fields.caller === 'string' ? fields.caller : undefined, bare: false,
  };
}

