import type { ParsedEvent } from '../model/event';

/** Every kind of artifact Casefile knows how to read. `text`/`binary` are kept but not parsed. */
export const ARTIFACT_KINDS = [
  'dmesg', // any util-linux dmesg form, /dev/kmsg records, kernel lines in syslog/journal exports
  'strace',
  'proc-stack', // /proc/PID/stack (one or several, with "==> /proc/N/stack <==" or "PID:" headers)
  'proc-syscall', // /proc/PID/syscall
  'proc-locks',
  'ps', // ps -eo pid,ppid,stat,wchan:32,comm (and similar column sets)
  'mountstats', // /proc/self/mountstats
  'mounts', // /proc/mounts, `mount -t nfs,nfs4`, nfsstat -m
  'rpcinfo', // rpcinfo -p
  'systemctl', // systemctl status UNIT
  'perf', // perf report --stdio
  'php-slow', // php-fpm slow log
  'host-info', // uname -a; /proc/uptime; date: facts for time conversion
  'rpc-tasks', // /sys/kernel/debug/sunrpc/rpc_clnt/*/tasks or rpcdebug task dump
  'pcap', // pcap / pcapng (optionally gzip) capture
  'text', // kept and searchable, not parsed
  'binary', // kept as bytes only
] as const;
export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

export interface ParseContext {
  /** The boot instant (ns since epoch, UTC) measured when the artifact was collected: now - /proc/uptime. */
  readonly bootTimeNs?: bigint | undefined;
  /** Wall time (ns) the artifact was collected; used for year-less stamps (syslog, strace -tt). */
  readonly collectedAtNs?: bigint | undefined;
  /** IANA zone or fixed offset minutes for local-time stamps without a zone (default UTC). */
  readonly utcOffsetMinutes?: number | undefined;
  /** Host name the artifact came from, if known. */
  readonly host?: string | undefined;
}

/** A streaming text parser: lines go in one at a time, events come out through `emit`. */
export interface LineParser {
  line(text: string, lineNo: number): void;
  /** Flush pending multi-line state. After end() no more events are emitted. */
  end(): void;
}

export interface TextParserSpec {
  readonly kind: ArtifactKind;
  /** 0 (not this) .. 1 (certain), judged on the first lines of the artifact. */
  detect(head: readonly string[]): number;
  create(ctx: ParseContext, emit: (e: ParsedEvent) => void): LineParser;
}

/** A parse result for callers that want everything at once (tests, small artifacts). */
export interface ParseOutput {
  readonly events: ParsedEvent[];
  /** Problems met (garbage lines, truncation). Non-empty => the result is partial and says so. */
  readonly warnings: string[];
}
