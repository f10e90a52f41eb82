import type { ParsedEvent } from '../../model/event';
import type { LineParser, ParseContext, TextParserSpec } from '../types';
import { parseFrame } from '../common/frames';
import { noteEvent } from '../common/lines';
import { classifyFrames } from './classify';
import type { StackData } from './types';

// Headers that introduce one task's stack: "==> /proc/123/stack <==" (head/tail), "== /proc/123/stack (dd) state=S",
// "# /proc/123/stack", "/proc/123/task/124/stack:", "PID 123:", "PID: 123", "--- 123 ---".
// Pids are at most 10 digits (pid_max <= 2^22 on Linux): a longer digit run is not a pid and must not become an
// unsafe JS number (found by test/fuzz: "/proc/9223372036854775808/stack" gave pid 9223372036854776000).
const PROC_PATH = /\/proc\/(\d{1,10})\/(?:task\/(\d{1,10})\/)?stack\b/;
const PID_HDR = /^\s*(?:PID:?\s*(\d{1,10})\b|-{2,}\s*(\d{1,10})\s*-{2,}\s*$)/;
const COMM = /\(([^)]{1,64})\)/;
const STATE = /\bstate[=:]\s*([A-Za-z])/;

interface Current {
  pid?: number;
  tid?: number;
  comm?: string;
  state?: string;
  header?: string;
  line: number;
  endLine: number;
  lines: string[];
}

export function createProcStackParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  let cur: Current | undefined;
  let skipped = 0;
  let firstSkipped: number | undefined;

  function flush(): void {
    const c = cur;
    cur = undefined;
    if (!c) return;
    const frames: string[] = [];
    const mods = new Set<string>();
    for (const l of c.lines) {
      const f = parseFrame(l);
      if (!f) continue;
      if (f.module) mods.add(f.module);
      if (!f.unreliable) frames.push(f.fn); // "? fn" in a pasted trace is an unwinder guess

    }
    const cls = classifyFrames(frames);
    const data: StackData = {
      frames, lines: c.lines, modules: mods.size > 0 ? [...mods] : undefined, classification: cls,
      waitClass: cls?.primary, header: c.header, tid: c.tid, comm: c.comm, state: c.state,
    };
    const who = c.pid !== undefined ? `pid ${c.pid}` : 'stack';
    const text = frames.length === 0 ? `${who}: empty stack (running or kernel thread)` : cls ? `${who}: ${cls.primary} (${cls.frame})` : `${who}: ${frames[0]}`;
    emit({
      kind: 'stack', ts: ctx.collectedAtNs, clock: ctx.collectedAtNs !== undefined ? 'collector' : 'none',
      line: c.line, endLine: c.endLine !== c.line ? c.endLine : undefined, pid: c.pid, text,
      data: Object.fromEntries(Object.entries(data).filter(([, v]) => v !== undefined)),
    });
  }

  return {
    line(text, lineNo) {
      if (parseFrame(text)) {
        cur ??= { line: lineNo, endLine: lineNo, lines: [] };
        cur.lines.push(text);
        cur.endLine = lineNo;
        return;
      }
      const pm = PROC_PATH.exec(text);
      const hm = pm ? undefined : PID_HDR.exec(text);
      if (pm || hm) {
        flush();
        const pid = pm ? Number(pm[1]) : Number(hm![1] ?? hm![2]);
        cur = { pid, line: lineNo, endLine: lineNo, lines: [], header: text };
        if (pm?.[2] !== undefined) cur.tid = Number(pm[2]);
        const after = pm ? text.slice(pm.index + pm[0].length) : '';
        const cm = COMM.exec(after);
        if (cm) cur.comm = cm[1];
        const sm = STATE.exec(after);
        if (sm) cur.state = sm[1];
        return;
      }
      if (text.trim() === '') return;
      // Anything else ends the stack in progress (a transcript with other output between stacks).
      if (cur && cur.lines.length > 0) flush();
      skipped++;
      firstSkipped ??= lineNo;
    },
    end() {
      flush();
      if (skipped > 0) {
        emit(noteEvent(firstSkipped, `${skipped} line(s) were neither stack frames nor stack headers (first at line ${firstSkipped}); skipped`, { skipped }));
      }
    },
  };
}

export const procStackSpec: TextParserSpec = {
  kind: 'proc-stack',
  detect(head) {
    let n = 0;
    let hit = 0;
    for (const l of head) {
      if (l.trim() === '') continue;
      n++;
      if (/^\[<[0-9a-f]+>\] \S+\+0x/.test(l) || (PROC_PATH.test(l) && !/^\[/.test(l))) hit++;
    }
    return n === 0 || hit === 0 ? 0 : Math.min(1, 0.3 + hit / n);
  },
  create: createProcStackParser,
};
