import type { ParsedEvent } from '../../model/event';
import { parseIso, secondsTextToNanos } from '../../model/time';
import type { LineParser, ParseContext, TextParserSpec } from '../types';
import { noteEvent } from '../common/lines';

/** `data` of the 'host' event built from `uname -a; cat /proc/uptime; date +%s.%N` (or `date -u +%FT%T.%NZ`). */
export interface HostInfoData {
  readonly uname?: string | undefined;
  readonly hostname?: string | undefined;
  readonly kernel?: string | undefined;
  readonly arch?: string | undefined;
  /** /proc/uptime first field (seconds since boot, includes suspend: CLOCK_BOOTTIME), as printed. */
  readonly uptime?: string | undefined;
  readonly idle?: string | undefined;
  /** The `date` reading in ns since epoch, as a decimal string (JSON has no bigint). */
  readonly nowNs?: string | undefined;
  /** now − uptime, as a decimal string: the boot instant to convert dmesg stamps with. */
  readonly bootTimeNs?: string | undefined;
}

const UNAME = /^Linux (\S+) (\S+) .*?(\S+)(?: GNU\/Linux)?$/;
const UPTIME = /^(\d+\.\d{1,9}) (\d+\.\d{1,9})$/;
const EPOCH = /^(\d{9,11}(?:\.\d{1,9})?)$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;

interface Facts {
  uname?: string;
  hostname?: string;
  kernel?: string;
  arch?: string;
  uptime?: string;
  idle?: string;
  now?: bigint;
  line?: number;
}

function readLine(f: Facts, t: string, lineNo: number): boolean {
  const um = UNAME.exec(t);
  if (um) {
    f.uname = t;
    f.hostname = um[1];
    f.kernel = um[2];
    const toks = t.split(' ').filter((x) => x !== 'GNU/Linux');
    f.arch = toks[toks.length - 1];
    f.line ??= lineNo;
    return true;
  }
  const up = UPTIME.exec(t);
  if (up && f.uptime === undefined) {
    f.uptime = up[1];
    f.idle = up[2];
    f.line ??= lineNo;
    return true;
  }
  if (EPOCH.test(t)) {
    f.now = secondsTextToNanos(t);
    f.line ??= lineNo;
    return true;
  }
  if (ISO.test(t)) {
    f.now = parseIso(t);
    f.line ??= lineNo;
    return true;
  }
  return false;
}

function bootOf(f: Facts): bigint | undefined {
  if (f.now === undefined || f.uptime === undefined) return undefined;
  const up = secondsTextToNanos(f.uptime);
  return up === undefined ? undefined : f.now - up;
}

/**
 * The boot instant from a host-info artifact: `date` minus /proc/uptime, both read in the same command so
 * the gap is milliseconds. /proc/uptime counts suspend time (CLOCK_BOOTTIME), as do printk stamps since 5.x on
 * most configurations; dmesg -T instead adds CLOCK_MONOTONIC-based uptime, which is why it drifts.
 */
export function bootTimeFromHostInfo(text: string): bigint | undefined {
  const f: Facts = {};
  let n = 0;
  for (const raw of text.split('\n')) readLine(f, raw.trim(), ++n);
  return bootOf(f);
}

export function createHostInfoParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  const f: Facts = {};
  let skipped = 0;
  return {
    line(text, lineNo) {
      const t = text.trim();
      if (t === '' || readLine(f, t, lineNo)) return;
      skipped++;
    },
    end() {
      const boot = bootOf(f);
      const data: HostInfoData = {
        uname: f.uname, hostname: f.hostname, kernel: f.kernel, arch: f.arch, uptime: f.uptime, idle: f.idle,
        nowNs: f.now?.toString(), bootTimeNs: boot?.toString(),
      };
      if (f.line !== undefined) {
        emit({
          kind: 'host', ts: f.now ?? ctx.collectedAtNs, clock: f.now !== undefined ? 'host-wall' : 'collector', line: f.line,
          text: `${f.hostname ?? ctx.host ?? 'host'}: ${f.kernel ?? 'kernel ?'} ${f.arch ?? ''}, up ${f.uptime !== undefined ? `${(Number(f.uptime) / 3600).toFixed(1)} h` : '?'}`.trim(),
          data: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined)),
        });
      }
      if (boot === undefined) emit(noteEvent(undefined, 'host-info: need both /proc/uptime and date output to compute the boot instant'));
      if (skipped > 0) emit(noteEvent(undefined, `host-info: ${skipped} unrecognised line(s) skipped`));
    },
  };
}

export const hostInfoSpec: TextParserSpec = {
  kind: 'host-info',
  detect(head) {
    const lines = head.map((l) => l.trim()).filter((l) => l !== '');
    if (lines.length === 0 || lines.length > 12) return 0;
    const up = lines.some((l) => UPTIME.test(l));
    const date = lines.some((l) => EPOCH.test(l) || ISO.test(l));
    const un = lines.some((l) => UNAME.test(l));
    return up && date ? (un ? 1 : 0.8) : 0;
  },
  create: createHostInfoParser,
};

