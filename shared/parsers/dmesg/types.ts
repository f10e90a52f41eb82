import type { Facility } from '../common/syslog';

/** Where an event's time came from. Only 'boot' and 'kmsg'/'json' (boot-relative) are exact. */
export type KernelTimeSource =
  | 'boot' // "[  12.345678]" converted with ParseContext.bootTimeNs
  | 'kmsg' // /dev/kmsg microseconds field, converted the same way
  | 'json' // dmesg --json "time" field, converted the same way
  | 'ctime' // dmesg -T: computed by dmesg from a suspend-unaware boot estimate (imprecise)
  | 'iso' // dmesg --time-format iso: computed like -T (imprecise)
  | 'reltime' // dmesg --time-format reltime / -e: minute anchor + deltas (imprecise)
  | 'syslog' // RFC 3164 stamp written by the syslog daemon on receipt
  | 'journal' // RFC 3339 stamp written by journald/rsyslog on receipt
  | 'none';

/** Which multi-line kernel report an event groups. */
export type KernelGroup =
  | 'hung-task' // khungtaskd: "INFO: task comm:pid blocked for more than N seconds." + trace (kernel/hung_task.c)
  | 'blocker' // 6.x hung-task follow-up: "INFO: task a:1 <writer> blocked on an rw-semaphore likely owned by task b:2 <writer>" + owner's trace
  | 'task-dump' // sched_show_task() output without a hung-task header (sysrq-w "Show Blocked State", sysrq-t)
  | 'trace' // any other report carrying a "Call Trace:" (WARNING, BUG, panic, a bare dump_stack)
  | 'locks-held'; // lockdep "N locks held by comm/pid:" + "#k: ..." lines

export interface HungTask {
  readonly comm: string;
  readonly pid: number;
  /** The number printed: the configured timeout on old kernels, the real blocked time on new ones. */
  readonly seconds: number;
}

/** The "task:comm state:X ... pid:N ... ppid:M" header printed by sched_show_task(). */
export interface TaskHeader {
  readonly comm: string;
  readonly state: string;
  readonly pid: number;
  readonly ppid?: number | undefined;
}

/** The sunrpc "%s: server %s not responding, still trying" / "timed out" / "OK" lines (net/sunrpc/clnt.c). */
export interface ServerStatus {
  readonly program: string;
  readonly server: string;
  readonly state: 'not-responding' | 'timed-out' | 'ok';
}

/** `data` of every ParsedEvent of kind 'kernel' produced by the dmesg parser. */
export interface KernelData {
  readonly timeSource: KernelTimeSource;
  /** Boot-relative seconds exactly as printed ("549.188636"), when the record had them. */
  readonly seconds?: string | undefined;
  /** True when ts comes from a stamp dmesg computed itself (-T, iso, reltime): it drifts across suspend. */
  readonly imprecise?: boolean | undefined;
  /** The delta dmesg printed ("-d", "<    0.000123>"). */
  readonly delta?: string | undefined;
  readonly facility?: Facility | undefined;
  /** kmsg SUBSYSTEM= field, else the printk prefix before the first ": " when it is one word ("nfs", "lockd"). */
  readonly subsystem?: string | undefined;
  /** kmsg DEVICE= field. */
  readonly device?: string | undefined;
  /** Other kmsg dictionary fields. */
  readonly fields?: Readonly<Record<string, string>> | undefined;
  /** kmsg sequence number. */
  readonly seq?: number | undefined;
  /** kmsg/printk caller id ("T123", "C1"). */
  readonly caller?: string | undefined;
  /** Host name from a syslog/journal wrapper. */
  readonly host?: string | undefined;
  readonly group?: KernelGroup | undefined;
  /** Every message line of a grouped report, prefixes removed, in order (first line included). */
  readonly lines?: readonly string[] | undefined;
  /** Function names of the reliable frames of the report's call trace, innermost first ("? " guesses left out). */
  readonly frames?: readonly string[] | undefined;
  /** Kernel modules named in the frames ("nfsv4", "sunrpc"), in first-seen order. */
  readonly modules?: readonly string[] | undefined;
  readonly hungTask?: HungTask | undefined;
  readonly task?: TaskHeader | undefined;
  /** 'blocker' group: what the blocked task waits on and the likely owner. */
  readonly blockedOn?: { readonly what: string; readonly ownerComm: string; readonly ownerPid: number } | undefined;
  /** The task dump follows a "sysrq: Show Blocked State" / "Show State" trigger. */
  readonly sysrq?: boolean | undefined;
  readonly serverStatus?: ServerStatus | undefined;
}

/** `data` of 'log' events: non-kernel lines met in a syslog/journal export. */
export interface SyslogData {
  readonly timeSource: KernelTimeSource;
  readonly host?: string | undefined;
  readonly program: string;
  /** The pid in "prog[pid]:". */
  readonly procPid?: number | undefined;
}
