import type { ParsedEvent } from '../../model/event';
import type { LineParser, ParseContext, TextParserSpec } from '../types';
import { noteEvent } from '../common/lines';
import { parseDmesgLine } from '../dmesg/record';
import type { RecordState } from '../dmesg/record';

/**
 * What a task's wait queue says about where it is stuck (docs: investigations §1.5; queue names from
 * rpc_init_wait_queue / rpc_init_priority_wait_queue calls in net/sunrpc/xprt.c, sched.c and fs/nfs/nfs4session.c).
 */
export type RpcQueueMeaning =
  | 'session-slot' // "ForeChannel Slot table": NFSv4.1 session slots (nfs4_setup_sequence), before any transport slot
  | 'transport-slot' // "xprt_backlog": no free transport request slot (xprt_alloc_slot)
  | 'reply-wait' // "xprt_pending": sent, waiting for the server's reply (or for a connect)
  | 'transmit-wait' // "xprt_sending": waiting for the transport lock to transmit
  | 'delay' // "delayq": sleeping in rpc_delay (NFS4ERR_DELAY / JUKEBOX back-off, retries)
  | 'binding' // "xprt_binding": waiting for rpcbind to find the port
  | 'none' // not queued: running or runnable
  | 'other';

/** `data` of 'log' events from a sunrpc task dump: one rpc_task. */
export interface RpcTaskData {
  /** tk_pid: sunrpc's own task id, not a process id. */
  readonly taskPid: number;
  /** tk_flags in hex as printed (RPC_TASK_* bits). */
  readonly flags: string;
  /** tk_status: 0, or a negative errno (-11 EAGAIN, -110 ETIMEDOUT, -512 ERESTARTSYS). */
  readonly status: number;
  /** cl_program->name: "nfs", "lockd", "nfs4_cb", "rpcbind", "status"... */
  readonly program: string;
  readonly version?: number | undefined;
  /** rpc_proc_name(): the procedure's p_name ("GETATTR", "CB_RECALL_ANY"), "NULL" or "no proc". */
  readonly procedure: string;
  /** tk_action symbol without the " [sunrpc]" module suffix ("call_reserve", "call_status"). */
  readonly action: string;
  /** Wait-queue name (rpc_qname) or "none". */
  readonly queue: string;
  readonly queueMeaning: RpcQueueMeaning;
  /** rpc_task_timeout() in jiffies. */
  readonly timeout: number;
  /** 'dmesg': rpc_show_tasks via `rpcdebug -m rpc -c`; 'debugfs': /sys/kernel/debug/sunrpc/rpc_clnt/N/tasks. */
  readonly source: 'dmesg' | 'debugfs';
  /** dmesg form: the (hashed) rpc_clnt and rpc_rqst pointers; "(null)"/0 when no request slot is held. */
  readonly client?: string | undefined;
  readonly rqstp?: string | undefined;
  /** debugfs form: client id and the XID of the task's request (0 when it has none). */
  readonly clientId?: number | undefined;
  readonly xid?: string | undefined;
  /** The task holds no transport request slot (rqstp NULL / xid 0). */
  readonly noSlot: boolean;
  readonly ops?: string | undefined;
}

// rpc_show_header(): printk(KERN_INFO "-pid- flgs status -client- --rqstp- -timeout ---ops--")
const HEADER = /-pid- flgs status -client- --rqstp- -timeout ---ops--/;
// rpc_show_task() (net/sunrpc/clnt.c): "%5u %04x %6d %8p %8p %8ld %8p %sv%u %s a:%ps q:%s" (flags %08x since 6.x).
const DMESG_TASK = /^ *(\d{1,10}) ([0-9a-f]{4,8}) +(-?\d{1,10}) +(\S+) +(\S+) +(-?\d{1,20}) +(\S+) (\S+)$/;
// tasks_show() (net/sunrpc/debugfs.c): "%5u %04x %6d 0x%x 0x%x %8ld %ps %sv%u %s a:%ps q:%s"
const DEBUGFS_TASK = /^ *(\d{1,10}) ([0-9a-f]{4,8}) +(-?\d{1,10}) 0x([0-9a-f]{1,8}) 0x([0-9a-f]{1,8}) +(-?\d{1,20}) (.+)$/;
const PROG_VERS = /^(\S+)v(\d{1,10})$/;
/** A task line is under 300 characters; longer lines are not task lines (and would only cost regex time). */
const MAX_TASK_LINE = 2048;

export function queueMeaning(queue: string): RpcQueueMeaning {
  switch (queue) {
    case 'ForeChannel Slot table': return 'session-slot';
    case 'xprt_backlog': return 'transport-slot';
    case 'xprt_pending': return 'reply-wait';
    case 'xprt_sending': return 'transmit-wait';
    case 'delayq': return 'delay';
    case 'xprt_binding': return 'binding';
    case 'none': return 'none';
    default: return 'other';
  }
}

interface Tail {
  readonly program: string;
  readonly version: number;
  readonly procedure: string;
  readonly action: string;
  readonly queue: string;
}

/**
 * "<prog>v<vers> <PROC> a:<action>[ [module]] q:<queue>" — the procedure may be "no proc" and the queue may hold
 * blanks ("ForeChannel Slot table"), so split on the " a:" and " q:" markers rather than on blanks.
 */
function parseTail(tokens: readonly string[]): Tail | undefined {
  const s = tokens.join(' ');
  const a = s.indexOf(' a:');
  if (a < 0) return undefined;
  const q = s.indexOf(' q:', a + 3);
  if (q < 0) return undefined;
  const head = s.slice(0, a);
  const sp = head.indexOf(' ');
  if (sp < 0) return undefined;
  const pv = PROG_VERS.exec(head.slice(0, sp));
  if (!pv) return undefined;
  const action = s.slice(a + 3, q).replace(/ \[[^\]]*\]$/, '');
  return { program: pv[1], version: Number(pv[2]), procedure: head.slice(sp + 1), action, queue: s.slice(q + 3) };
}

function parseTask(msg: string): RpcTaskData | undefined {
  if (msg.length > MAX_TASK_LINE || msg.indexOf(' a:') < 0) return undefined;
  const dm = DEBUGFS_TASK.exec(msg);
  if (dm) {
    // "%ps" of tk_ops is "sym" or "sym [module]": the program token is the first one that looks like "<prog>v<n>"
    // and is followed by the " a:" part.
    const toks = dm[7].split(' ');
    for (let i = 1; i < toks.length && i <= 3; i++) {
      const tail = parseTail(toks.slice(i));
      if (tail) {
        const xid = dm[5];
        return {
          taskPid: Number(dm[1]), flags: dm[2], status: Number(dm[3]), ...tail, queueMeaning: queueMeaning(tail.queue),
          timeout: Number(dm[6]), source: 'debugfs', clientId: Number.parseInt(dm[4], 16), xid: `0x${xid}`,
          noSlot: /^0+$/.test(xid), ops: toks.slice(0, i).join(' '),
        };
      }
    }
    return undefined;
  }
  const first = msg.indexOf(' a:');
  // The eight fixed fields end at the program token; cut the string there so the pattern stays anchored and linear.
  const lead = msg.slice(0, first).trimStart().split(/ +/);
  if (lead.length < 9) return undefined;
  const fixed = DMESG_TASK.exec(lead.slice(0, 8).join(' '));
  if (!fixed) return undefined;
  const tail = parseTail([...lead.slice(7), msg.slice(first + 1)]);
  if (!tail) return undefined;
  const rqstp = fixed[5];
  return {
    taskPid: Number(fixed[1]), flags: fixed[2], status: Number(fixed[3]), ...tail, queueMeaning: queueMeaning(tail.queue),
    timeout: Number(fixed[6]), source: 'dmesg', client: fixed[4], rqstp, noSlot: rqstp === '(null)' || /^0+$/.test(rqstp),
    ops: fixed[7],
  };
}

/**
 * The sunrpc task list: `rpcdebug -m rpc -c all` (clearing flags makes the kernel run rpc_show_tasks, which logs
 * the header then one line per task) read back with dmesg/journalctl/syslog, or the per-client debugfs file
 * /sys/kernel/debug/sunrpc/rpc_clnt/N/tasks (no header). One 'log' event per task.
 */
export function createRpcTasksParser(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser {
  const st: RecordState = {};
  let skipped = 0;
  let firstSkipped: number | undefined;
  let dumps = 0;
  return {
    line(text, lineNo) {
      if (text.trim() === '') return;
      const r = parseDmesgLine(text.length > MAX_TASK_LINE ? text.slice(0, MAX_TASK_LINE) : text, ctx, st);
      const msg = r.msg.trimEnd();
      if (HEADER.test(msg)) {
        dumps++;
        return;
      }
      const t = parseTask(msg);
      if (!t) {
        skipped++;
        firstSkipped ??= lineNo;
        return;
      }
      let ts: bigint | undefined;
      let clock: ParsedEvent['clock'] = 'none';
      if (r.wallNs !== undefined) {
        ts = r.wallNs;
        clock = 'host-wall';
      } else if (r.seconds !== undefined) {
        clock = 'boot';
        const secs = secondsToNs(r.seconds);
        ts = ctx.bootTimeNs !== undefined && secs !== undefined ? ctx.bootTimeNs + secs : undefined;
      } else if (r.bare && ctx.collectedAtNs !== undefined) {
        ts = ctx.collectedAtNs;
        clock = 'collector';
      }
      const slotWait = t.queueMeaning === 'session-slot' || t.queueMeaning === 'transport-slot';
      emit({
        kind: 'log', ts, tsRaw: r.tsRaw, clock, line: lineNo, level: slotWait ? 'warn' : t.status < 0 ? 'notice' : 'info',
        text: `rpc task ${t.taskPid} ${t.program}v${t.version ?? '?'} ${t.procedure} status ${t.status} a:${t.action} q:${t.queue}`.slice(0, 300),
        data: Object.fromEntries(Object.entries({ ...t, dump: dumps > 0 ? dumps : undefined }).filter(([, v]) => v !== undefined)),
      });
    },
    end() {
      if (skipped > 0) emit(noteEvent(firstSkipped, `${skipped} line(s) were not sunrpc task lines (first at line ${firstSkipped}); skipped`, { skipped }));
    },
  };
}

function secondsToNs(s: string): bigint | undefined {
  const m = /^(\d{1,12})(?:\.(\d{1,9}))?$/.exec(s);
  if (!m) return undefined;
  return BigInt(m[1]) * 1_000_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

export const rpcTasksSpec: TextParserSpec = {
  kind: 'rpc-tasks',
  detect(head) {
    let n = 0;
    let tasks = 0;
    let header = false;
    const st: RecordState = {};
    for (const l of head) {
      if (l.trim() === '') continue;
      n++;
      const msg = parseDmesgLine(l.length > MAX_TASK_LINE ? l.slice(0, MAX_TASK_LINE) : l, {}, st).msg.trimEnd();
      if (HEADER.test(msg)) header = true;
      else if (parseTask(msg)) tasks++;
    }
    if (n === 0) return 0;
    // A capture that is mostly the dump wins over dmesg (listed before it, so the tie at 1 is ours); a dump inside a
    // long ring buffer stays a dmesg artifact (the dmesg parser keeps every other record).
    const frac = (tasks + (header ? 1 : 0)) / n;
    if (header) return frac >= 0.5 ? 1 : 0.6;
    return tasks === 0 ? 0 : Math.min(0.95, 0.3 + frac);
  },
  create: createRpcTasksParser,
};
