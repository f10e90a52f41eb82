/**
 * One command on one channel (RFC 4254 §6.5 "exec"), built so that it cannot hang its caller:
 * - remotely it runs under `timeout -s KILL N` (coreutils; exit 128+9 when it fires) when the host has it;
 * - locally a deadline of N + 2 s closes the channel whatever the host does;
 * - just before the remote deadline, a second channel snapshots the command's process tree from /proc
 *   (state, wchan): if the command then times out, that snapshot is the evidence of where it was stuck
 *   (a task in D state ignores SIGKILL until its wait ends: kernel/signal.c, TASK_UNINTERRUPTIBLE).
 * The wrapper prints `@@casefile-pid=PID@@` on stderr before exec-ing the command, so we know the remote PID
 * without a pty; that line is stripped from the stream. Output goes to the callbacks as raw Buffers as it
 * arrives: nothing is accumulated here.
 */
import type { ClientChannel } from 'ssh2';
import { wallNowNs } from './clock';
import { quoteArg, shellQuote, ShellQuoteError } from './quote';

export type Command = { readonly argv: readonly string[] } | { readonly script: string };

/**
 * A fast command's exit-status can arrive in the same TCP read as the exec confirmation: ssh2 then emits
 * 'exit' synchronously while parsing, before any promise continuation could attach a listener, and the
 * status would be lost (data is buffered by the stream, events are not). The session records 'exit' in
 * ssh2's exec callback, synchronously; exec reads the record as well as listening.
 */
const earlyExits = new WeakMap<ClientChannel, { code: number | null; signal?: string }>();
export function watchExit(ch: ClientChannel): void {
  ch.once('exit', (code: number | null, signal?: string) => earlyExits.set(ch, { code, ...(signal ? { signal } : {}) }));
}

export type ExecStatus = 'ok' | 'failed' | 'timed-out' | 'cancelled' | 'needs-root' | 'connection-lost';

export interface RemoteProcess {
  readonly pid: number;
  readonly ppid: number;
  readonly comm: string;
  /** /proc/PID/stat field 3: R S D T t Z X I */
  readonly state: string;
  /** /proc/PID/wchan: the kernel function the task sleeps in ("0" when not sleeping or hidden). */
  readonly wchan: string;
  /** Set for a process outside the command's tree that a tree member is ptrace-attached to. */
  readonly tracedBy?: number;
}

export interface StuckEvidence {
  readonly pid?: number;
  readonly state?: string;
  readonly wchan?: string;
  readonly note: string;
  /** The command's whole process tree at the snapshot. */
  readonly processes?: readonly RemoteProcess[];
  readonly snapshotAtNs?: bigint;
}

export interface ExecResult {
  readonly status: ExecStatus;
  readonly exitCode?: number;
  readonly signal?: string;
  readonly startedAtNs: bigint;
  readonly endedAtNs: bigint;
  /** Exactly the bytes sent in the exec request. */
  readonly remoteCommand: string;
  readonly timeoutSec: number;
  readonly remotePid?: number;
  readonly stdoutBytes: number;
  readonly stderrBytes: number;
  readonly stuck?: StuckEvidence;
  /** Why the status is what it is, when that is not obvious (needs root, connection dropped...). */
  readonly note?: string;
}

export interface ExecOptions {
  /** Remote `timeout -s KILL` duration; the local deadline is this + 2 s. Default 30. */
  readonly timeoutSec?: number;
  /** Run under `sudo -n` (never prompts; "a password is required" becomes status needs-root). */
  readonly sudo?: boolean;
  readonly onStdout?: (chunk: Buffer) => void;
  readonly onStderr?: (chunk: Buffer) => void;
  readonly signal?: AbortSignal;
  /** Snapshot the process tree before the deadline (default true). */
  readonly inspectStuck?: boolean;
}

/** What exec needs from its session. */
export interface ExecContext {
  readonly hasTimeout: boolean;
  /** Open an exec channel counted against the main channel budget; rejects when the link is down. */
  openMain(command: string): Promise<{ channel: ClientChannel; release: () => void }>;
  /** A short helper command on the auxiliary budget, bounded by `deadlineMs`; stdout as text. */
  runAux(command: string, deadlineMs: number): Promise<string>;
  isLost(): boolean;
  /** Register a callback for when the connection drops; returns the unsubscribe. */
  onLost(cb: (reason: string) => void): () => void;
}

export const DEFAULT_TIMEOUT_SEC = 30;
export const LOCAL_GRACE_SEC = 2;
const PID_MARK = /^@@casefile-pid=(\d+)@@\n/;
const SUDO_NEEDS_PASSWORD = /sudo: (a password is required|a terminal is required|no tty present)/;
const SUDO_MISSING = /(sudo: (command )?not found|sudo: No such file)/;

export function renderScript(cmd: Command): string {
  const script = 'argv' in cmd ? shellQuote(cmd.argv) : cmd.script;
  if (script.includes('\0')) throw new ShellQuoteError('the command contains a NUL byte');
  if (script.trim() === '') throw new ShellQuoteError('empty command');
  return script;
}

function formatSecs(s: number): string {
  return Number.isInteger(s) ? String(s) : s.toFixed(3).replace(/0+$/, '');
}

/**
 * The exact remote command line for `cmd` (what the session sends and what the report shows).
 * The outer `sh -c` makes the wrapper independent of the login shell (csh/fish users); `$$` is its PID, which
 * `exec` hands to sudo/timeout, the root of the command's process tree. The command's words travel as the
 * wrapper's positional parameters ("$@"), each single-quoted once, so an argv is exec'd without any further
 * shell parsing and a script is parsed by exactly one `sh -c`.
 */
export function buildRemoteCommand(cmd: Command, o: { timeoutSec: number; sudo: boolean; hasTimeout: boolean }): string {
  const words = 'argv' in cmd ? [...cmd.argv] : ['sh', '-c', renderScript(cmd)];
  renderScript(cmd); // validates (NUL, empty)
  const wrapper = `echo "@@casefile-pid=$$@@" >&2; exec ${o.sudo ? 'sudo -n ' : ''}${o.hasTimeout ? `timeout -s KILL ${formatSecs(o.timeoutSec)} ` : ''}"$@"`;
  return `sh -c ${quoteArg(wrapper)} casefile ${shellQuote(words)}`;
}

/**
 * A script listing PID and its descendants as "pid<TAB>wchan<TAB>tracer<TAB>/proc/PID/stat line"; with
 * `tracees`, also the processes any of them is ptrace-attached to (TracerPid in /proc/PID/status), so
 * `strace -p X` hanging on a stuck X shows X itself.
 */
export function processTreeScript(pid: number, tracees = true): string {
  const base =
    `walk() { for c in $(cat /proc/$1/task/*/children 2>/dev/null); do echo "$c"; walk "$c"; done; }; ` +
    `emit() { printf '%s\t%s\t%s\t' "$1" "$(cat /proc/$1/wchan 2>/dev/null)" "$2"; cat /proc/$1/stat 2>/dev/null || echo; }; ` +
    `tree="${pid} $(walk ${pid})"; ` +
    `for p in $tree; do [ -r /proc/$p/stat ] && emit "$p" -; done`;
  if (!tracees) return base;
  return `${base}; for p in $tree; do for f in $(grep -ls "^TracerPid:[[:space:]]*$p\$" /proc/[0-9]*/status 2>/dev/null); do t=\${f#/proc/}; emit "\${t%/status}" "$p"; done; done; true`;
}

/** The PIDs of PID's tree only (never tracees: those belong to someone else). */
export function killTreeScript(pid: number, sudo: boolean): string {
  return `${processTreeScript(pid, false)} | cut -f1 | xargs -r ${sudo ? 'sudo -n ' : ''}kill -KILL 2>/dev/null; true`;
}

/** A PID as printed by the kernel (pid_t: at most 10 digits), else undefined: never NaN or an unsafe number. */
function pidOf(text: string): number | undefined {
  return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
}

export function parseProcessTree(text: string): RemoteProcess[] {
  const out: RemoteProcess[] = [];
  for (const line of text.split('\n')) {
    const [pidText, wchan, tracer, stat] = line.split('\t');
    if (!pidText || stat === undefined) continue;
    // /proc/PID/stat: "pid (comm) state ppid ..."; comm may hold spaces and parens, so split at the last ')'.
    const open = stat.indexOf('(');
    const close = stat.lastIndexOf(')');
    if (open < 0 || close < open) continue;
    const rest = stat.slice(close + 2).split(' ');
    // A damaged line (remote output is untrusted) is skipped rather than turned into NaN pids (found by fuzzing).
    const pid = pidOf(pidText);
    const ppid = rest[1] === undefined ? 0 : pidOf(rest[1]);
    if (pid === undefined || ppid === undefined) continue;
    const tracedBy = tracer && tracer !== '-' ? pidOf(tracer) : undefined;
    out.push({
      pid,
      ppid,
      comm: stat.slice(open + 1, close),
      state: rest[0] ?? '?',
      wchan: wchan || '0',
      ...(tracedBy !== undefined ? { tracedBy } : {}),
    });
  }
  return out;
}

const STATE_WORDS: Record<string, string> = {
  D: 'uninterruptible sleep (D) in the kernel',
  S: 'interruptible sleep (S)',
  R: 'running (R)',
  T: 'stopped (T)',
  t: 'stopped by a tracer (t)',
  Z: 'zombie (Z)',
};

/** Pick the process that best explains a hang: one in D state (tree or traced), else the deepest of the tree. */
export function summarizeStuck(procs: readonly RemoteProcess[], at: bigint): StuckEvidence {
  const tree = procs.filter((p) => p.tracedBy === undefined);
  if (tree.length === 0) return { note: 'the command had already exited when its process tree was inspected', snapshotAtNs: at };
  const d = procs.find((p) => p.state === 'D');
  const pick = d ?? tree[tree.length - 1]!;
  const describe = (p: RemoteProcess): string => `${p.pid} ${p.comm} ${p.state}${p.wchan !== '0' ? ` in ${p.wchan}` : ''}${p.tracedBy !== undefined ? ` (traced by ${p.tracedBy})` : ''}`;
  const what = STATE_WORDS[pick.state] ?? `state ${pick.state}`;
  const role = pick.tracedBy !== undefined ? `the process it traces, ${pick.comm} (pid ${pick.pid}), was` : `${pick.comm} (pid ${pick.pid}) was`;
  const note = `still running shortly before the deadline: ${role} in ${what}${pick.wchan !== '0' ? `, waiting in ${pick.wchan}` : ''}. Processes: ${procs.map(describe).join('; ')}`;
  return { pid: pick.pid, state: pick.state, wchan: pick.wchan, note, processes: procs, snapshotAtNs: at };
}

/** Run one command. Never rejects for remote failures: every outcome is an ExecResult. */
export async function runExec(ctx: ExecContext, cmd: Command, opts: ExecOptions = {}): Promise<ExecResult> {
  const timeoutSec = opts.timeoutSec ?? DEFAULT_TIMEOUT_SEC;
  if (!(timeoutSec > 0)) throw new RangeError(`timeoutSec must be positive, got ${timeoutSec}`);
  const sudo = opts.sudo === true;
  const remoteCommand = buildRemoteCommand(cmd, { timeoutSec, sudo, hasTimeout: ctx.hasTimeout });
  const startedAtNs = wallNowNs();
  const startMs = performance.now();

  let stdoutBytes = 0;
  let stderrBytes = 0;
  let remotePid: number | undefined;
  let stderrHead: Buffer | undefined = Buffer.alloc(0); // until the PID line is seen
  let stderrTail = ''; // rolling window to spot sudo's messages without keeping the stream
  let sawSudoPassword = false;
  let sawSudoMissing = false;
  let snapshot: StuckEvidence | undefined;
  let channel: ClientChannel | undefined;
  let release: (() => void) | undefined;
  const timers: NodeJS.Timeout[] = [];
  let unsubscribeLost: () => void = () => undefined;
  let onAbort: (() => void) | undefined;

  const killTree = (): void => {
    if (remotePid === undefined || ctx.isLost()) return;
    ctx.runAux(killTreeScript(remotePid, sudo), 5000).catch(() => undefined);
    killSnapshot();
  };
  /**
   * After a deadline the wrapper may already be gone while members of its tree live on in a process group or
   * session of their own (`timeout --foreground`, `setsid`, daemonising tools): kill every process the
   * pre-deadline snapshot saw in the command's tree. Tracees (processes a tree member was attached to) are
   * not ours and are never killed.
   */
  const killSnapshot = (): void => {
    if (ctx.isLost()) return;
    const pids = (snapshot?.processes ?? []).filter((p) => p.tracedBy === undefined && Number.isInteger(p.pid) && p.pid > 1).map((p) => p.pid);
    if (pids.length === 0) return;
    ctx.runAux(`${sudo ? 'sudo -n ' : ''}kill -KILL ${pids.join(' ')} 2>/dev/null; true`, 5000).catch(() => undefined);
  };

  /** Whether the host answered the snapshot's helper command: at the local deadline this tells a process the
   * remote timeout could not kill (host answers) from a host or link that went silent (no answer). */
  let hostAnswered: boolean | undefined;
  /** The snapshot starts this long before the remote timeout fires. */
  const snapshotMargin = Math.min(1000, timeoutSec * 250);
  const takeSnapshot = async (): Promise<void> => {
    if (remotePid === undefined) return;
    hostAnswered = false; // until it answers: still waiting at the local deadline is no answer either
    if (ctx.isLost()) return;
    try {
      // Answered or given up before the local deadline (it starts `margin` ms before the remote timeout).
      const text = await ctx.runAux(processTreeScript(remotePid), snapshotMargin + LOCAL_GRACE_SEC * 1000 - 500);
      hostAnswered = true;
      snapshot = summarizeStuck(parseProcessTree(text), wallNowNs());
    } catch (e) {
      hostAnswered = false;
      snapshot = { note: `the process tree could not be inspected: ${(e as Error).message}` };
    }
  };

  const handleStderr = (chunk: Buffer): void => {
    if (stderrHead !== undefined) {
      stderrHead = Buffer.concat([stderrHead, chunk]);
      const nl = stderrHead.indexOf(0x0a);
      if (nl < 0 && stderrHead.length < 64) return;
      const m = PID_MARK.exec(stderrHead.subarray(0, nl + 1).toString('latin1'));
      if (m) {
        remotePid = Number(m[1]);
        chunk = stderrHead.subarray(nl + 1);
      } else {
        chunk = stderrHead;
      }
      stderrHead = undefined;
      if (chunk.length === 0) return;
    }
    stderrBytes += chunk.length;
    if (sudo) {
      const window = stderrTail + chunk.toString('latin1');
      if (SUDO_NEEDS_PASSWORD.test(window)) sawSudoPassword = true;
      if (SUDO_MISSING.test(window)) sawSudoMissing = true;
      stderrTail = window.slice(-256);
    }
    opts.onStderr?.(chunk);
  };

  return new Promise<ExecResult>((resolve) => {
    let done = false;
    const finish = (r: Omit<ExecResult, 'startedAtNs' | 'endedAtNs' | 'remoteCommand' | 'timeoutSec' | 'stdoutBytes' | 'stderrBytes' | 'remotePid'>): void => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      unsubscribeLost();
      if (onAbort) opts.signal?.removeEventListener('abort', onAbort);
      if (channel) {
        channel.removeAllListeners('data');
        channel.stderr.removeAllListeners('data');
        channel.on('error', () => undefined);
        try {
          channel.close();
        } catch {
          // already closed
        }
      }
      release?.();
      resolve({
        ...r,
        startedAtNs,
        endedAtNs: wallNowNs(),
        remoteCommand,
        timeoutSec,
        stdoutBytes,
        stderrBytes,
        ...(remotePid !== undefined ? { remotePid } : {}),
      });
    };

    if (opts.signal?.aborted) return finish({ status: 'cancelled', note: 'cancelled before it started' });
    onAbort = (): void => {
      killTree();
      finish({ status: 'cancelled', note: 'cancelled by the user; the channel was closed and the remote process killed' });
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    unsubscribeLost = ctx.onLost((reason) => finish({ status: 'connection-lost', note: `the connection dropped while the command ran: ${reason}` }));

    // Snapshot shortly before the remote timeout fires (or before the local deadline when there is none).
    if (opts.inspectStuck !== false) {
      timers.push(setTimeout(() => void takeSnapshot(), timeoutSec * 1000 - snapshotMargin));
    }
    // Why the remote timeout did not end it: the host's answer to the snapshot (started just before the remote
    // timeout) tells a process SIGKILL cannot stop from a host or link that stopped answering.
    const localDeadlineWhy = (): string => {
      if (!ctx.hasTimeout) return '';
      if (hostAnswered === true) return ' although the remote timeout should have fired: the host still answers, so the process is likely unkillable (D state)';
      if (hostAnswered === false || ctx.isLost()) return '; the host did not answer a helper command either: the link or the host is likely down, and whether the command still runs there is unknown';
      return ' although the remote timeout should have fired: the process is likely unkillable, or the host stopped answering';
    };
    timers.push(
      setTimeout(() => {
        killTree();
        finish({
          status: 'timed-out',
          note: `no end ${timeoutSec + LOCAL_GRACE_SEC} s after start (local deadline); channel closed${localDeadlineWhy()}`,
          ...(snapshot ? { stuck: snapshot } : {}),
        });
      }, (timeoutSec + LOCAL_GRACE_SEC) * 1000),
    );

    ctx.openMain(remoteCommand).then(
      (opened) => {
        if (done) {
          opened.channel.close();
          opened.release();
          return;
        }
        channel = opened.channel;
        release = opened.release;
        let exitCode: number | undefined;
        let exitSignal: string | undefined;
        const onExit = (code: number | null, signal?: string): void => {
          if (code !== null && code !== undefined) exitCode = code;
          if (signal) exitSignal = signal;
        };
        const early = earlyExits.get(channel);
        if (early) onExit(early.code, early.signal);
        channel.on('exit', onExit);
        channel.on('data', (d: Buffer) => {
          stdoutBytes += d.length;
          opts.onStdout?.(d);
        });
        channel.stderr.on('data', handleStderr);
        channel.on('error', () => undefined);
        channel.on('close', () => {
          if (stderrHead !== undefined && stderrHead.length > 0) {
            const rest = stderrHead;
            stderrHead = undefined;
            stderrBytes += rest.length;
            opts.onStderr?.(rest);
          }
          const elapsedMs = performance.now() - startMs;
          const ranToDeadline = elapsedMs >= timeoutSec * 1000 - 500;
          if (exitCode === undefined && exitSignal === undefined) {
            // Closed without an exit status: either the link died (the 'lost' event may come a moment later)
            // or the server tore the channel down.
            setTimeout(() => {
              if (ctx.isLost()) finish({ status: 'connection-lost', note: 'the connection dropped while the command ran' });
              else finish({ status: 'failed', note: 'the channel closed without an exit status' });
            }, 150);
            return;
          }
          if (exitSignal !== undefined) {
            if (/^(SIG)?KILL$/.test(exitSignal) && ranToDeadline) {
              killSnapshot();
              return finish({ status: 'timed-out', signal: exitSignal, ...(snapshot ? { stuck: snapshot } : {}) });
            }
            return finish({ status: 'failed', signal: exitSignal, note: `killed by signal ${exitSignal}` });
          }
          const code = exitCode!;
          if (sudo && sawSudoPassword) return finish({ status: 'needs-root', exitCode: code, note: 'sudo -n: a password is required for sudo on this host; run as root or allow NOPASSWD for this command' });
          if (sudo && code === 127 && sawSudoMissing) return finish({ status: 'needs-root', exitCode: code, note: 'sudo is not installed on this host; connect as root to run this step' });
          if (ctx.hasTimeout && code === 137 && ranToDeadline) {
            killSnapshot();
            return finish({ status: 'timed-out', exitCode: code, note: `killed by the remote timeout after ${timeoutSec} s`, ...(snapshot ? { stuck: snapshot } : {}) });
          }
          finish({ status: code === 0 ? 'ok' : 'failed', exitCode: code });
        });
      },
      (e: Error) => {
        finish({ status: ctx.isLost() ? 'connection-lost' : 'failed', note: `could not open a channel: ${e.message}` });
      },
    );
  });
}
