import type { StackClass, StackClassification } from './classify';

/** `data` of 'stack' events (one per /proc/PID/stack snapshot). */
export interface StackData {
  /** Function names, innermost first ("[<0>] " and offsets removed). */
  readonly frames: readonly string[];
  /** The lines as read. */
  readonly lines: readonly string[];
  /** Kernel modules named by frames ("nfsv4", "sunrpc"). */
  readonly modules?: readonly string[] | undefined;
  readonly classification?: StackClassification | undefined;
  /** Shortcut to classification.primary. */
  readonly waitClass?: StackClass | undefined;
  /** The header line that introduced this stack, when there was one. */
  readonly header?: string | undefined;
  /** Thread id when the header named /proc/PID/task/TID/stack. */
  readonly tid?: number | undefined;
  readonly comm?: string | undefined;
  /** Single-letter state when the header carried one (lab format "state=D"). */
  readonly state?: string | undefined;
}

/** `data` of 'process' events made from /proc/PID/syscall. */
export interface ProcSyscallData {
  /** Syscall number, -1 when the task is blocked outside a syscall; undefined when "running". */
  readonly nr?: number | undefined;
  readonly running?: boolean | undefined;
  /** The six argument registers, hex as printed. */
  readonly args?: readonly string[] | undefined;
  readonly sp?: string | undefined;
  readonly pc?: string | undefined;
  /** Name on each architecture (the artifact does not say which; the host facts do). */
  readonly names?: { readonly x86_64?: string | undefined; readonly arm64?: string | undefined } | undefined;
  /** Human decoding of lock calls: "flock(3, LOCK_EX)" (x86_64 reading). */
  readonly decoded?: string | undefined;
  readonly decodedArm64?: string | undefined;
}
