import type { ParsedEvent } from '../../model/event';
import type { LineParser, ParseContext, TextParserSpec } from '../types';
import { noteEvent } from '../common/lines';
import { DmesgGrouper } from './group';
import type { RecordState } from './record';
import { parseDmesgLine, recordFromJson } from './record';

export type { KernelData, KernelGroup, KernelTimeSource, HungTask, TaskHeader, ServerStatus, SyslogData } from './types';
export { parseDmesgLine } from './record';
export type { DmesgRecord } from './record';

// Bytes that never appear in dmesg output (util-linux escapes non-printables as \xNN): a sign of binary garbage.
const BAD_CHAR = /[\x00-\x08\x0e-\x1f\x7f\uFFFD]/g;
const HAS_BAD_CHAR = /[\x00-\x08\x0e-\x1f\x7f\uFFFD]/;
const ANSI_CSI = /\x1b\[[0-9;?]*[ -/]*[@-~]/g;
/**
 * A line is garbage (binary, or bytes in another encoding) when control or replacement characters are a real
 * share of it. A few stray bytes or ANSI colour codes do not make a kernel message unreadable: such lines are
 * kept (and shown as text, never interpreted).
 */
function isGarbage(text: string): boolean {
  // Fast path: almost every line has none of these characters (ESC is one of them, so ANSI colour still takes the long way).
  if (!HAS_BAD_CHAR.test(text)) return false;
  const bad = text.replace(ANSI_CSI, '').match(BAD_CHAR)?.length ?? 0;
  return bad > 0 && (bad > 8 || bad * 10 > text.length);
}
const KMSG_FIELD = /^ ([A-Z0-9_]{1,32})=(.*)$/;
const JSON_KEY = /^\s*"([A-Za-z_]{1,32})"\s*:\s*(.*?)\s*,?\s*$/;

/**
 * dmesg in every form util-linux prints (raw, -r, -x, -T, --time-format iso/reltime/delta/ctime, --json),
 * /dev/kmsg records with dictionary lines, and kernel lines inside syslog / RFC 3339 journal exports.
 * Multi-line reports (hung task, sysrq task dumps, call traces, lockdep "locks held") become one event each.
 */
export function createDmesgParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  const grouper = new DmesgGrouper(ctx, emit);
  const st: RecordState = {};
  let stamped = false;
  let json: 'no' | 'maybe' | 'yes' = 'no';
  let jsonObj: Record<string, string | number> | undefined;

  function jsonLine(text: string, lineNo: number): boolean {
    const t = text.trim();
    if (json === 'maybe') {
      if (/^"dmesg"\s*:\s*\[/.test(t)) {
        json = 'yes';
        return true;
      }
      json = 'no';
      return false;
    }
    if (json !== 'yes') return false;
    const km = JSON_KEY.exec(text);
    if (km) {
      jsonObj ??= {};
      const key = km[1];
      const raw = km[2];
      if (key === 'time' && /^\d+(\.\d+)?$/.test(raw)) jsonObj.time = raw;
      else {
        try {
          const v: unknown = JSON.parse(raw);
          if (typeof v === 'string' || typeof v === 'number') jsonObj[key] = v;
        } catch {
          emit(noteEvent(lineNo, `dmesg --json: unreadable value for "${key}" on line ${lineNo}`));
        }
      }
      return true;
    }
    if (t.startsWith('}') || t.startsWith(']')) {
      if (jsonObj) {
        const r = recordFromJson(jsonObj);
        if (r) grouper.record(r, lineNo);
        jsonObj = undefined;
      }
      return true;
    }
    if (t === '{' || t === '},{' || t === '') return true;
    return false;
  }

  function wholeJson(text: string, lineNo: number): boolean {
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch {
      return false;
    }
    const list = typeof doc === 'object' && doc !== null ? (doc as { dmesg?: unknown }).dmesg : undefined;
    if (!Array.isArray(list)) return false;
    for (const item of list) {
      if (typeof item !== 'object' || item === null) continue;
      const fields: Record<string, string | number> = {};
      for (const [k, v] of Object.entries(item as Record<string, unknown>)) {
        if (typeof v === 'string' || typeof v === 'number') fields[k] = v;
      }
      const r = recordFromJson(fields);
      if (r) grouper.record(r, lineNo);
    }
    return true;
  }

  return {
    line(text, lineNo) {
      if (jsonLine(text, lineNo)) return;
      if (!stamped && json === 'no' && lineNo <= 3 && text.trim() === '{') {
        json = 'maybe';
        return;
      }
      if (text.startsWith('{"dmesg"') && wholeJson(text, lineNo)) return;
      if (text.trim() === '') {
        grouper.blank();
        return;
      }
      if (isGarbage(text)) {
        grouper.flush();
        emit(noteEvent(lineNo, `line ${lineNo} is not text (binary or mis-encoded bytes); skipped`, { garbage: true }));
        return;
      }
      const fm = KMSG_FIELD.exec(text);
      if (fm && stamped) {
        grouper.field(fm[1], fm[2], lineNo);
        return;
      }
      const r = parseDmesgLine(text, ctx, st);
      if (r.bare) {
        if (stamped && grouper.continuation(text, lineNo)) return;
        grouper.record(r, lineNo);
        return;
      }
      stamped = true;
      grouper.record(r, lineNo);
    },
    end() {
      grouper.flush();
      if (json === 'yes' && jsonObj) {
        emit(noteEvent(undefined, 'dmesg --json output ends inside a record (truncated)', { truncated: true }));
      }
    },
  };
}

const RAW = /^(?:<\d{1,3}>)?\[\s*\d+\.\d+\] /;
const XFMT = /^[a-z0-9]{3,8} *:[a-z]{3,6} *: /;
const CT = /^\[[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \d{4}\] /;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2},\d{6}[+-]\d{2}:\d{2} /;
const KM = /^\d{1,4},\d+,\d+,[^;]*;/;
const SYSK = /^(?:[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d|\d{4}-\d{2}-\d{2}T\S+) \S+ kernel: /;
const RELT = /^\[(?:[A-Z][a-z]{2}\d{1,2} \d\d:\d\d| *\+\d+\.\d+)\] /;
const HUNG_HINT = /^(?:INFO: task .+ blocked for more than|task:\S+\s+state:\S|Call Trace:)/;

export const dmesgSpec: TextParserSpec = {
  kind: 'dmesg',
  detect(head) {
    let n = 0;
    let hit = 0;
    let hint = false;
    for (const l of head) {
      if (l.trim() === '') continue;
      n++;
      if (RAW.test(l) || XFMT.test(l) || CT.test(l) || ISO.test(l) || KM.test(l) || SYSK.test(l) || RELT.test(l)) hit++;
      else if (HUNG_HINT.test(l)) hint = true;
      if (/^\s*"dmesg"\s*:\s*\[/.test(l) || l.startsWith('{"dmesg"')) return 1;
    }
    if (n === 0) return 0;
    const frac = hit / n;
    if (frac > 0) return Math.min(1, 0.3 + frac);
    return hint ? 0.4 : 0;
  },
  create: createDmesgParser,
};
