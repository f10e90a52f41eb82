import type { ClockKind } from './time';

/**
 * What every parser produces: one record per thing that happened (a kernel message, a syscall, an RPC,
 * a process sample, a stack snapshot...). Timestamps are integer nanoseconds since the Unix epoch (UTC)
 * after the conversion the parser could do (boot-relative -> wall with a measured boot instant);
 * the per-host clock correction is applied later by the timeline, never baked in here.
 */
export interface ParsedEvent {
  /** Event family. Closed set so the timeline can pick a lane and the rules can select inputs. */
  readonly kind: EventKind;
  /** Wall-clock instant in ns since epoch (UTC), when known. */
  readonly ts?: bigint | undefined;
  /** The timestamp exactly as written in the artifact ("[927063.519245]", "14:12:31.123456"). */
  readonly tsRaw?: string | undefined;
  readonly clock: ClockKind;
  /** Duration in ns when the source states one (strace -T, RPC latency, a span). */
  readonly durationNs?: bigint | undefined;
  /** 1-based first line in the artifact (for text) or frame number (for captures). */
  readonly line?: number | undefined;
  /** 1-based last line when the event spans several lines (a stack dump). */
  readonly endLine?: number | undefined;
  /** Process id the event is about, when there is one. */
  readonly pid?: number | undefined;
  /** syslog-style severity name when the source has one: emerg alert crit err warn notice info debug. */
  readonly level?: Level | undefined;
  /** One-line human summary (shown on the timeline, searched). Plain text: never interpreted as markup. */
  readonly text: string;
  /** Kind-specific structured fields (for rules, links and the viewer). JSON-serialisable (bigints as strings). */
  readonly data: Readonly<Record<string, unknown>>;
}

export const EVENT_KINDS = [
  'kernel', // a dmesg / kmsg / journal kernel record (may carry a multi-line trace)
  'syscall', // one strace line (joined unfinished/resumed)
  'signal', // strace signal delivery / exit
  'rpc', // one ONC RPC call (with its reply when captured)
  'packet', // a packet or transport note that is not an RPC (TCP gap, malformed record)
  'process', // a ps row / /proc/PID/stat sample
  'stack', // a /proc/PID/stack snapshot
  'lock', // a /proc/locks row
  'mountstats', // a per-mount mountstats record
  'mount', // an NFS mount with its options
  'service', // systemctl status / rpcinfo registration
  'log', // a generic timestamped line (syslog, php-fpm slow log, lab logs)
  'profile', // perf report entries
  'host', // host facts (uname, uptime, date) used for time conversion
  'step', // a collection step we ran (for the timeline)
  'note', // parser note: garbage skipped, truncation, partial result
] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export const LEVELS = ['emerg', 'alert', 'crit', 'err', 'warn', 'notice', 'info', 'debug'] as const;
export type Level = (typeof LEVELS)[number];
