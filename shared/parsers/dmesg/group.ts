import type { Level, ParsedEvent } from '../../model/event';
import type { ParseContext } from '../types';
import { parseFrame } from '../common/frames';
import type { DmesgRecord } from './record';
import type { HungTask, KernelData, KernelGroup, ServerStatus, TaskHeader } from './types';

/** A report longer than this is split (a runaway trace must not hold everything in memory). */
const MAX_GROUP_LINES = 4000;

// Pids below are printed with %d (pid_t is an int): at most 10 digits. Longer runs are not pids (nor safe integers).
// kernel/hung_task.c check_hung_task(): "INFO: task %s:%d blocked for more than %ld seconds."
const HUNG = /^INFO: task (.{1,64}):(\d{1,10}) blocked for more than (\d+) seconds\./;
// kernel/hung_task.c debug_show_blocker() (6.14+): "INFO: task %s:%d <writer> is blocked on an rw-semaphore, ..."
// wording varies by version; the owner is "owned by task %s:%d".
const BLOCKER = /^INFO: task (.{1,64}):(\d{1,10})(?: <\w+>)? (?:is )?blocked on an? ([\w -]{1,40}?)(?:,| likely| but).*?owned by task (.{1,64}):(\d{1,10})(?!\d)/;
// kernel/sched/core.c sched_show_task(): "task:%-15.15s state:%c stack:%-5lu pid:%-5d tgid:%-5d ppid:%-6d ..."
const TASK = /^task:(.{1,64}?)\s+state:(\S)(?:.*?\bpid:\s*(\d{1,10})(?!\d))?(?:.*?\bppid:\s*(\d{1,10})(?!\d))?/;
const SYSRQ = /^sysrq: (?:SysRq : )?Show (?:Blocked State|State)/;
const LOCKS_HELD = /^(?:\d+|no) locks? held by .{1,64}\/\d+:?/;
const LOCK_ENTRY = /^\s*#\d+:/;
const TRACE_OPENER = /^(?:Call Trace:|Call trace:|WARNING: |BUG: |Oops|general protection fault|Kernel panic|kernel BUG at|------------\[ cut here \]------------|rcu: INFO:|watchdog: BUG:|NMI backtrace|Showing busy workqueues)/;
// Lines that belong to a report once it has started (show_regs, dump_stack_print_info, show_trace_log_lvl, arm64 too).
const CONT = /^(?:Not tainted|Tainted:|"echo 0 > |Call Trace:|Call trace:|<\/?(?:TASK|IRQ|NMI|SOFTIRQ|EOI)>|Code:|CPU:|Hardware name:|Workqueue:|Modules linked in:|RIP:|[A-Z0-9]{2,3}: [0-9a-fA-F]{4}|FS: |CS: |CR2: |DR\d: |PKRU: |---\[ end |Kernel Offset:|ppid:|Stack:|pc : |lr : |sp : |x\d+ ?: |pstate: |Exception stack|Backtrace:|Showing all locks|Mem abort info:|Internal error:)/;
const SERVER = /^([\w-]{1,32}): server (\S{1,255}) (not responding, still trying|not responding, timed out|OK)\b/;
const SUBSYS = /^([\w.-]{1,32}): /;
// Report headers, not printk prefixes.
const NOT_SUBSYS = new Set(['INFO', 'WARNING', 'BUG', 'Call Trace', 'Code', 'CPU', 'RIP', 'RSP', 'Modules linked in', 'Hardware name', 'Workqueue']);

interface Group {
  kind: KernelGroup | 'plain';
  first: DmesgRecord;
  line: number;
  endLine: number;
  lines: string[];
  task?: TaskHeader;
  hungTask?: HungTask;
  blockedOn?: { what: string; ownerComm: string; ownerPid: number };
  sysrq: boolean;
  fields?: Record<string, string>;
}

export class DmesgGrouper {
  private g: Group | undefined;
  private sysrq = false;

  constructor(private readonly ctx: ParseContext, private readonly emit: (e: ParsedEvent) => void) {}

  /** A new record (a line with its own prefix, or a bare line in a file without prefixes). */
  record(r: DmesgRecord, lineNo: number): void {
    const msg = r.msg;
    const g = this.g;
    if (g && r.program === undefined && this.continues(g, msg) && g.lines.length < MAX_GROUP_LINES) {
      this.append(g, msg, lineNo);
      return;
    }
    this.flush();
    if (r.program !== undefined) {
      this.g = { kind: 'plain', first: r, line: lineNo, endLine: lineNo, lines: [msg], sysrq: false };
      return;
    }
    let kind: KernelGroup | 'plain' = 'plain';
    let hungTask: HungTask | undefined;
    let blockedOn: Group['blockedOn'];
    let task: TaskHeader | undefined;
    const hm = HUNG.exec(msg);
    const bm = hm ? undefined : BLOCKER.exec(msg);
    if (hm) {
      kind = 'hung-task';
      hungTask = { comm: hm[1], pid: Number(hm[2]), seconds: Number(hm[3]) };
    } else if (bm) {
      kind = 'blocker';
      blockedOn = { what: bm[3].trim(), ownerComm: bm[4], ownerPid: Number(bm[5]) };
    } else if ((task = parseTask(msg)) !== undefined) {
      kind = 'task-dump';
    } else if (LOCKS_HELD.test(msg)) {
      kind = 'locks-held';
    } else if (TRACE_OPENER.test(msg)) {
      kind = 'trace';
    }
    if (SYSRQ.test(msg)) this.sysrq = true;
    else if (kind !== 'task-dump') this.sysrq = false;
    const ng: Group = { kind, first: r, line: lineNo, endLine: lineNo, lines: [msg], sysrq: kind === 'task-dump' && this.sysrq };
    if (task) ng.task = task;
    if (hungTask) ng.hungTask = hungTask;
    if (blockedOn) ng.blockedOn = blockedOn;
    this.g = ng;
  }

  /** A bare line following stamped records: a wrapped or continued message, kept with the current event. */
  continuation(text: string, lineNo: number): boolean {
    if (!this.g || this.g.lines.length >= MAX_GROUP_LINES) return false;
    this.append(this.g, text, lineNo);
    return true;
  }

  /** A /dev/kmsg dictionary line (" KEY=value") for the current record. */
  field(key: string, value: string, lineNo: number): void {
    const g = this.g;
    if (!g) return;
    g.fields ??= {};
    g.fields[key] = value;
    g.endLine = lineNo;
  }

  /** A blank line ends any open report. */
  blank(): void {
    this.flush();
  }

  flush(): void {
    const g = this.g;
    this.g = undefined;
    if (g) this.emit(this.toEvent(g));
  }

  private append(g: Group, msg: string, lineNo: number): void {
    g.lines.push(msg);
    g.endLine = lineNo;
    if (!g.task) {
      const t = parseTask(msg);
      if (t) g.task = t;
    }
  }

  private continues(g: Group, msg: string): boolean {
    switch (g.kind) {
      case 'plain':
        return false;
      case 'locks-held':
        return LOCK_ENTRY.test(msg);
      case 'hung-task':
      case 'blocker':
      case 'task-dump':
      case 'trace': {
        if (msg.startsWith('task:')) return g.task === undefined && g.kind !== 'task-dump';
        if (msg.length === 0) return false;
        const c = msg.charCodeAt(0);
        if (c === 32 || c === 9) return true;
        if (CONT.test(msg)) return true;
        return parseFrame(msg) !== undefined;
      }
      default: {
        const never: never = g.kind;
        return never;
      }
    }
  }

  private toEvent(g: Group): ParsedEvent {
    const r = g.first;
    const msg = g.lines[0];
    let ts: bigint | undefined;
    let clock: ParsedEvent['clock'] = 'none';
    if (r.seconds !== undefined && r.wallNs === undefined) {
      clock = 'boot';
      ts = this.ctx.bootTimeNs !== undefined ? this.ctx.bootTimeNs + secondsToNs(r.seconds) : undefined;
    } else if (r.wallNs !== undefined) {
      clock = 'host-wall';
      ts = r.wallNs;
    } else if (r.timeSource !== 'none') {
      clock = r.timeSource === 'boot' || r.timeSource === 'kmsg' || r.timeSource === 'json' ? 'boot' : 'host-wall';
    }
    const level: Level | undefined = r.level;
    const multi = g.kind !== 'plain' || g.lines.length > 1;
    if (r.program !== undefined) {
      return {
        kind: 'log', ts, tsRaw: r.tsRaw, clock, line: g.line, endLine: g.endLine !== g.line ? g.endLine : undefined,
        pid: r.procPid, level, text: g.lines.join(' '),
        data: { timeSource: r.timeSource, host: r.host, program: r.program, procPid: r.procPid },
      };
    }
    let frames: string[] | undefined;
    let modules: string[] | undefined;
    if (g.kind !== 'plain' && g.kind !== 'locks-held') {
      frames = [];
      const mods = new Set<string>();
      for (const l of g.lines) {
        const f = parseFrame(l);
        if (!f) continue;
        if (f.module) mods.add(f.module);
        if (!f.unreliable) frames.push(f.fn);
      }
      modules = mods.size > 0 ? [...mods] : undefined;
    }
    const fields = g.fields;
    const pre = SUBSYS.exec(msg)?.[1];
    const sub = fields?.SUBSYSTEM ?? (pre !== undefined && !NOT_SUBSYS.has(pre) ? pre : undefined);
    let otherFields: Record<string, string> | undefined;
    if (fields) {
      for (const [k, v] of Object.entries(fields)) {
        if (k === 'SUBSYSTEM' || k === 'DEVICE') continue;
        (otherFields ??= {})[k] = v;
      }
    }
    const sm = SERVER.exec(msg);
    const serverStatus: ServerStatus | undefined = sm
      ? { program: sm[1], server: sm[2], state: sm[3] === 'OK' ? 'ok' : sm[3].endsWith('timed out') ? 'timed-out' : 'not-responding' }
      : undefined;
    const data: KernelData = {
      timeSource: r.timeSource,
      seconds: r.seconds,
      imprecise: r.imprecise,
      delta: r.delta,
      facility: r.facility,
      subsystem: sub,
      device: fields?.DEVICE,
      fields: otherFields,
      seq: r.seq,
      caller: r.caller,
      host: r.host,
      group: g.kind === 'plain' ? undefined : g.kind,
      lines: multi ? g.lines : undefined,
      frames,
      modules,
      hungTask: g.hungTask,
      task: g.task,
      blockedOn: g.blockedOn,
      sysrq: g.sysrq || undefined,
      serverStatus,
    };
    const pid = g.hungTask?.pid ?? (g.kind === 'blocker' ? blockedPid(msg) : g.task?.pid);
    return {
      kind: 'kernel', ts, tsRaw: r.tsRaw, clock, line: g.line, endLine: g.endLine !== g.line ? g.endLine : undefined,
      pid, level, text: msg, data: stripUndefined(data),
    };
  }
}

function blockedPid(msg: string): number | undefined {
  const m = BLOCKER.exec(msg);
  return m ? Number(m[2]) : undefined;
}

function parseTask(msg: string): TaskHeader | undefined {
  if (!msg.startsWith('task:')) return undefined;
  const m = TASK.exec(msg);
  if (!m || m[3] === undefined) return undefined;
  return { comm: m[1], state: m[2], pid: Number(m[3]), ppid: m[4] !== undefined ? Number(m[4]) : undefined };
}

function secondsToNs(s: string): bigint {
  const dot = s.indexOf('.');
  if (dot < 0) return BigInt(s) * 1_000_000_000n;
  return BigInt(s.slice(0, dot)) * 1_000_000_000n + BigInt(s.slice(dot + 1, dot + 10).padEnd(9, '0'));
}

function stripUndefined<T extends object>(o: T): Readonly<Record<string, unknown>> {
  // for-in over an object literal visits the same own keys in the same order as Object.entries, without
  // allocating a [key, value] pair per field (this ran once per event and was a seventh of the parse time).
  const out: Record<string, unknown> = {};
  const src = o as Record<string, unknown>;
  for (const k in src) {
    const v = src[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
