import type { ParsedEvent } from '../../model/event';
import type { LineParser, ParseContext, TextParserSpec } from '../types';
import { noteEvent } from '../common/lines';
import { classifyFrames } from '../proc/classify';
import type { StackClass } from '../proc/classify';

/** `data` of 'process' events from a ps table. Only the columns present are set. */
export interface ProcessData {
  readonly ppid?: number | undefined;
  /** STAT/S as printed ("D", "Sl", "D+"). */
  readonly stat?: string | undefined;
  /** First letter of stat: R S D T t Z X I. */
  readonly state?: string | undefined;
  /** Uninterruptible sleep (state D): the task cannot be interrupted by ordinary signals. */
  readonly dState: boolean;
  readonly wchan?: string | undefined;
  /** classifyFrames([], wchan) when the wchan names a known wait. */
  readonly waitClass?: StackClass | undefined;
  readonly comm?: string | undefined;
  /** Elapsed seconds (etimes, or ELAPSED [[dd-]hh:]mm:ss converted). */
  readonly elapsedSeconds?: number | undefined;
  readonly elapsed?: string | undefined;
  readonly user?: string | undefined;
  readonly tid?: number | undefined;
  /** Full command line (CMD/COMMAND/ARGS column, the last one, which may contain spaces). */
  readonly args?: string | undefined;
  /** Columns not interpreted above, by header name. */
  readonly extra?: Readonly<Record<string, string>> | undefined;
}

// ps(1) header names (procps): several spellings map to one field.
const FIELD: Readonly<Record<string, string>> = {
  PID: 'pid', PPID: 'ppid', STAT: 'stat', S: 'stat', WCHAN: 'wchan', COMMAND: 'args', CMD: 'args', ARGS: 'args',
  COMM: 'comm', ELAPSED: 'elapsed', ETIMES: 'etimes', TIME: 'time', USER: 'user', UID: 'user', TID: 'tid', LWP: 'tid', SPID: 'tid',
};
const LAST_FREE = new Set(['args']);
/** A pid/tid column: 1-10 digits. Longer digit runs are garbage, not unsafe JS numbers (found by test/fuzz). */
const PID = /^\d{1,10}$/;

function elapsedToSeconds(s: string): number | undefined {
  // procps etime: [[dd-]hh:]mm:ss
  const m = /^(?:(\d+)-)?(?:(\d+):)?(\d+):(\d+)$/.exec(s);
  if (!m) return undefined;
  return Number(m[1] ?? 0) * 86400 + Number(m[2] ?? 0) * 3600 + Number(m[3]) * 60 + Number(m[4]);
}

export function createPsParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  let cols: string[] | undefined;
  let skipped = 0;
  let firstSkipped: number | undefined;
  return {
    line(text, lineNo) {
      const t = text.trim();
      if (t === '') return;
      const toks = t.split(/\s+/);
      if (toks.includes('PID') && toks.every((x) => /^[A-Z%:_]+$/.test(x))) {
        cols = toks.map((x) => FIELD[x] ?? x);
        return;
      }
      if (!cols || !PID.test(toks[0] ?? '') && cols[0] === 'pid') {
        skipped++;
        firstSkipped ??= lineNo;
        return;
      }
      // Split into as many fields as columns; the last free-text column (args/comm) takes the rest.
      const n = cols.length;
      const lastFree = LAST_FREE.has(cols[n - 1]) || cols[n - 1] === 'comm';
      const parts = lastFree ? [...toks.slice(0, n - 1), toks.slice(n - 1).join(' ')] : toks;
      if (parts.length < n - (lastFree ? 1 : 0)) {
        skipped++;
        firstSkipped ??= lineNo;
        return;
      }
      const v: Record<string, string> = {};
      const extra: Record<string, string> = {};
      cols.forEach((c, i) => {
        const val = parts[i];
        if (val === undefined) return;
        if (Object.values(FIELD).includes(c)) v[c] = val;
        else extra[c] = val;
      });
      const pid = v.pid !== undefined ? Number(v.pid) : undefined;
      const stat = v.stat;
      // procps state codes (ps(1) PROCESS STATE CODES) plus BSD modifiers: anything else is not a ps row.
      if ((stat !== undefined && !/^[RSDTtZXIWP][<NLsl+]*$/.test(stat)) || (v.pid !== undefined && !PID.test(v.pid))) {
        skipped++;
        firstSkipped ??= lineNo;
        return;
      }
      const wchan = v.wchan !== undefined && v.wchan !== '-' ? v.wchan : undefined;
      const cls = wchan ? classifyFrames([], wchan) : undefined;
      const elapsedSeconds = v.etimes !== undefined ? Number(v.etimes) : v.elapsed !== undefined ? elapsedToSeconds(v.elapsed) : undefined;
      const data: ProcessData = {
        ppid: v.ppid !== undefined && PID.test(v.ppid) ? Number(v.ppid) : undefined,
        stat, state: stat?.[0], dState: stat?.[0] === 'D', wchan, waitClass: cls?.primary,
        comm: v.comm ?? (v.args !== undefined ? v.args.split(' ')[0] : undefined),
        elapsedSeconds, elapsed: v.elapsed ?? v.etimes, user: v.user, tid: v.tid !== undefined && PID.test(v.tid) ? Number(v.tid) : undefined,
        args: v.args, extra: Object.keys(extra).length > 0 ? extra : undefined,
      };
      const what = data.args ?? data.comm ?? '';
      emit({
        kind: 'process', ts: ctx.collectedAtNs, clock: ctx.collectedAtNs !== undefined ? 'collector' : 'none', line: lineNo, pid,
        level: data.dState ? 'warn' : undefined,
        text: `${pid ?? '?'} ${stat ?? ''}${wchan ? ` ${wchan}` : ''} ${what.length > 160 ? `${what.slice(0, 157)}...` : what}`.replace(/\s+/g, ' ').trim(),
        data: Object.fromEntries(Object.entries(data).filter(([, x]) => x !== undefined)),
      });
    },
    end() {
      if (skipped > 0) emit(noteEvent(firstSkipped, `${skipped} line(s) outside a ps table (first at line ${firstSkipped}); skipped`, { skipped }));
    },
  };
}

export const psSpec: TextParserSpec = {
  kind: 'ps',
  detect(whole) {
    // The leading columns decide; cut long lines first: `^\s*\S*\s*\d+\s` is quadratic on a long run of blanks or
    // digits (a 110 KB line took 7 s in detectTextKind, found by test/fuzz).
    const head = whole.map((l) => (l.length > 512 ? l.slice(0, 512) : l));
    const hdr = head.findIndex((l) => /^\s*(?:USER\s+|UID\s+)?PID\s+(?:\S+\s+)*(?:STAT|S|CMD|COMMAND|WCHAN|ELAPSED)\b/.test(l));
    if (hdr < 0) return 0;
    const rows = head.slice(hdr + 1).filter((l) => /^\s*\S*\s*\d+\s/.test(l)).length;
    const others = head.filter((l) => l.trim() !== '').length - 1 - rows;
    return rows === 0 ? 0.4 : others > rows ? 0.45 : 0.9;
  },
  create: createPsParser,
};
