/** `data` of 'syscall' events from the strace parser. */
export interface SyscallData {
  readonly syscall: string;
  /** Arguments as strace printed them (between the parentheses), joined across <unfinished ...>/<... resumed>. */
  readonly args: string;
  /** Top-level arguments split on commas outside quotes, brackets, braces and parentheses. */
  readonly argv?: readonly string[] | undefined;
  /** Return value token ("0", "-1", "0x7f55169ac000", "?"). Absent while unfinished. */
  readonly ret?: string | undefined;
  /** Text after the return value that is not an errno ("(Timeout)", "(flags O_RDONLY)"). */
  readonly retDetail?: string | undefined;
  readonly errno?: string | undefined;
  readonly errtext?: string | undefined;
  /** The call had not returned when the trace ended: it may still be blocked, or our deadline cut strace. */
  readonly unfinished?: boolean | undefined;
  /** Joined from an "<unfinished ...>" line and its "<... resumed>" line. */
  readonly resumed?: boolean | undefined;
  /** First argument when it is a file descriptor. */
  readonly fd?: number | undefined;
  /** -y/-yy decoration of that descriptor ("/etc/ld.so.cache", "TCP:[10.0.0.1:22->10.0.0.2:5000]"). */
  readonly fdPath?: string | undefined;
  /** -y decoration of a returned descriptor (openat(...) = 3</path>). */
  readonly retFdPath?: string | undefined;
  /** -r: seconds since the previous syscall, as printed. */
  readonly relative?: string | undefined;
  /** Line number of the "<... resumed>" line when joined. */
  readonly resumedLine?: number | undefined;
  /** Only "strace: Process N attached" was seen for this pid: nothing returned before the end. */
  readonly attachedOnly?: boolean | undefined;
}

/** `data` of 'signal' events from the strace parser: deliveries, exits and tracer attach/detach. */
export interface StraceSignalData {
  readonly what: 'signal' | 'exited' | 'killed' | 'attached' | 'detached';
  readonly signal?: string | undefined;
  /** siginfo text between the braces of "--- SIGCHLD {...} ---". */
  readonly info?: string | undefined;
  readonly exitCode?: number | undefined;
  readonly coreDumped?: boolean | undefined;
}
