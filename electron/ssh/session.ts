/**
 * A HostSession is the one SSH connection Casefile keeps per host. Commands are multiplexed as channels
 * over it (RFC 4254 §5), bounded so we stay under the server's MaxSessions (sshd default 10).
 * On every (re)connection it measures the host's clock offset and whether coreutils `timeout` exists.
 * A dropped link is noticed (socket close or ServerAlive keepalives unanswered), running commands end as
 * `connection-lost` with what they already streamed, and the next exec reconnects with backoff; other hosts'
 * sessions are separate objects and are not affected.
 */
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import type { ResolvedHost } from './config';
import { PROBE_SCRIPT, runProbe, wallNowNs, type ClockMeasurement } from './clock';
import { ConnectionLostError, SshError } from './errors';
import { runExec, watchExit, type Command, type ExecContext, type ExecOptions, type ExecResult } from './exec';
import { quoteArg } from './quote';
import { closeLink, describeHop, openLink, type ConnectOptions, type HostKeyInfo, type Link } from './transport';

export interface SessionOptions extends ConnectOptions {
  /** Concurrent command channels (default 8, leaving room for inspection under sshd's MaxSessions 10). */
  readonly maxChannels?: number;
  /** Clock samples per connection (default 5). */
  readonly clockSamples?: number;
  readonly reconnect?: { readonly attempts?: number; readonly initialDelayMs?: number; readonly maxDelayMs?: number };
}

class Semaphore {
  private free: number;
  private readonly waiters: (() => void)[] = [];
  constructor(n: number) {
    this.free = n;
  }
  async acquire(): Promise<() => void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiters.push(r));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const w = this.waiters.shift();
      if (w) w();
      else this.free++;
    };
  }
}

export type SessionState = 'connected' | 'lost' | 'reconnecting' | 'disposed';

export class HostSession {
  readonly resolved: ResolvedHost;
  private readonly opts: SessionOptions;
  private link: Link | undefined;
  private stateValue: SessionState = 'lost';
  private lostReason = '';
  private readonly lostListeners = new Set<(reason: string) => void>();
  private readonly main: Semaphore;
  private readonly aux = new Semaphore(2);
  private reconnecting: Promise<void> | undefined;
  private clockValue: ClockMeasurement | undefined;
  private hasTimeoutValue = false;
  private probeNote: string | undefined;
  /** Every clock measurement taken on this session (one per connection), oldest first. */
  readonly clockHistory: ClockMeasurement[] = [];

  private constructor(resolved: ResolvedHost, opts: SessionOptions) {
    this.resolved = resolved;
    this.opts = opts;
    this.main = new Semaphore(opts.maxChannels ?? 8);
  }

  /** Connect (through the ProxyJump chain), verify host keys, authenticate, probe clock and `timeout`. */
  static async connect(resolved: ResolvedHost, opts: SessionOptions = {}): Promise<HostSession> {
    const s = new HostSession(resolved, opts);
    await s.establish();
    return s;
  }

  /** A short display name: user@host[:port]. */
  get name(): string {
    return describeHop(this.resolved);
  }
  get state(): SessionState {
    return this.stateValue;
  }
  get hostKey(): HostKeyInfo {
    if (!this.link) throw new SshError(`${this.name}: not connected`);
    return this.link.hostKey;
  }
  get jumpChain(): readonly string[] {
    return this.resolved.proxyJump.map(describeHop);
  }
  /** The latest clock measurement (undefined if the host could not be probed, e.g. no /bin/sh). */
  get clock(): ClockMeasurement | undefined {
    return this.clockValue;
  }
  /** Whether coreutils `timeout` exists on the host (detected once per connection). */
  get hasTimeout(): boolean {
    return this.hasTimeoutValue;
  }
  get probeWarning(): string | undefined {
    return this.probeNote;
  }

  private async establish(): Promise<void> {
    const link = await openLink(this.resolved, this.opts);
    this.link = link;
    this.stateValue = 'connected';
    this.lostReason = '';
    const onDown = (why: string) => (): void => this.markLost(link, why);
    link.client.on('close', onDown('connection closed by the host or the network'));
    link.client.on('error', (e: Error) => this.markLost(link, e.message));
    for (const h of link.hops) h.on('close', onDown('a jump host connection closed'));
    try {
      const probe = await this.probe(link);
      this.hasTimeoutValue = probe.hasTimeout;
      this.probeNote = probe.note;
      if (probe.clock) {
        this.clockValue = probe.clock;
        this.clockHistory.push(probe.clock);
      }
    } catch (e) {
      this.probeNote = `probe failed: ${(e as Error).message}`;
    }
    if (!this.hasTimeoutValue && !this.probeNote) this.probeNote = 'coreutils `timeout` not found on the host: only the local deadline protects commands';
  }

  private probe(link: Link): Promise<Awaited<ReturnType<typeof runProbe>>> {
    return new Promise((resolve, reject) => {
      link.client.exec(`sh -c ${quoteArg(PROBE_SCRIPT)}`, (err, ch) => {
        if (err) return reject(err);
        runProbe(ch, this.opts.clockSamples ?? 5, 10_000).then(resolve, reject);
      });
    });
  }

  private markLost(link: Link, reason: string): void {
    if (this.link !== link || this.stateValue === 'disposed' || this.stateValue === 'lost') return;
    this.stateValue = 'lost';
    this.lostReason = reason;
    closeLink(link);
    for (const l of [...this.lostListeners]) l(reason);
  }

  /** Drop the current link (if any) and connect again, with exponential backoff between attempts. */
  reconnect(): Promise<void> {
    if (this.stateValue === 'disposed') return Promise.reject(new SshError(`${this.name}: session disposed`));
    if (this.reconnecting) return this.reconnecting;
    const attempts = this.opts.reconnect?.attempts ?? 4;
    const initial = this.opts.reconnect?.initialDelayMs ?? 250;
    const max = this.opts.reconnect?.maxDelayMs ?? 4000;
    const run = async (): Promise<void> => {
      if (this.link) {
        const old = this.link;
        this.link = undefined;
        closeLink(old);
      }
      this.stateValue = 'reconnecting';
      let last: Error | undefined;
      for (let i = 0; i < attempts; i++) {
        if (i > 0) await new Promise((r) => setTimeout(r, Math.min(max, initial * 2 ** (i - 1))));
        if ((this.stateValue as SessionState) === 'disposed') throw new SshError(`${this.name}: session disposed`);
        try {
          await this.establish();
          return;
        } catch (e) {
          last = e as Error;
          // A host key problem will not fix itself by retrying.
          if (/IDENTIFICATION HAS CHANGED|not accepted|revoked|permission denied/i.test(last.message)) break;
        }
      }
      this.stateValue = 'lost';
      throw new ConnectionLostError(`${this.name}: reconnect failed after ${attempts} attempt(s): ${last?.message ?? 'unknown error'}`);
    };
    this.reconnecting = run().finally(() => {
      this.reconnecting = undefined;
    });
    return this.reconnecting;
  }

  private execContext(link: Link): ExecContext {
    const openOn = (command: string): Promise<ClientChannel> =>
      new Promise((resolve, reject) => {
        if (this.link !== link || this.stateValue !== 'connected') return reject(new ConnectionLostError(`${this.name}: not connected (${this.lostReason || this.stateValue})`));
        try {
          link.client.exec(command, (err, ch) => {
            if (err) return reject(err);
            watchExit(ch);
            resolve(ch);
          });
        } catch (e) {
          reject(e as Error);
        }
      });
    return {
      hasTimeout: this.hasTimeoutValue,
      openMain: async (command) => {
        const release = await this.main.acquire();
        try {
          return { channel: await openOn(command), release };
        } catch (e) {
          release();
          throw e;
        }
      },
      runAux: async (script, deadlineMs) => {
        const release = await this.aux.acquire();
        try {
          const ch = await openOn(`sh -c ${quoteArg(script)}`);
          return await new Promise<string>((resolve, reject) => {
            const parts: Buffer[] = [];
            let size = 0;
            const timer = setTimeout(() => {
              ch.close();
              reject(new SshError(`helper command did not answer within ${deadlineMs} ms`));
            }, deadlineMs);
            ch.on('data', (d: Buffer) => {
              if (size < 1 << 20) parts.push(d); // helper output is small; bound it anyway
              size += d.length;
            });
            ch.stderr.on('data', () => undefined);
            ch.on('close', () => {
              clearTimeout(timer);
              resolve(Buffer.concat(parts).toString('utf8'));
            });
          });
        } finally {
          release();
        }
      },
      isLost: () => this.link !== link || this.stateValue !== 'connected',
      onLost: (cb) => {
        this.lostListeners.add(cb);
        return () => this.lostListeners.delete(cb);
      },
    };
  }

  /** Run one command (see exec.ts). Reconnects first if the link dropped; never rejects for remote failures. */
  async exec(cmd: Command, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.stateValue === 'disposed') throw new SshError(`${this.name}: session disposed`);
    if (this.stateValue !== 'connected' || !this.link) {
      try {
        await this.reconnect();
      } catch (e) {
        const now = wallNowNs();
        return {
          status: 'connection-lost',
          startedAtNs: now,
          endedAtNs: now,
          remoteCommand: '',
          timeoutSec: opts.timeoutSec ?? 30,
          stdoutBytes: 0,
          stderrBytes: 0,
          note: (e as Error).message,
        };
      }
    }
    return runExec(this.execContext(this.link!), cmd, opts);
  }

  /**
   * Stream a remote file over SFTP (RFC draft-ietf-secsh-filexfer-02, what OpenSSH's internal-sftp speaks)
   * chunk by chunk into `onChunk`, bounded by a deadline.
   */
  async sftpGet(remotePath: string, onChunk: (chunk: Buffer) => void, opts: { timeoutSec?: number; signal?: AbortSignal } = {}): Promise<{ bytes: number }> {
    if (this.stateValue !== 'connected' || !this.link) await this.reconnect();
    const link = this.link!;
    const release = await this.main.acquire();
    const timeoutSec = opts.timeoutSec ?? 120;
    let sftp: SFTPWrapper | undefined;
    try {
      return await new Promise<{ bytes: number }>((resolve, reject) => {
        let bytes = 0;
        let settled = false;
        const settle = (e?: Error): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          unsub();
          opts.signal?.removeEventListener('abort', onAbort);
          if (e) reject(e);
          else resolve({ bytes });
        };
        const timer = setTimeout(() => settle(new SshError(`sftp get ${remotePath}: no end within ${timeoutSec} s`)), timeoutSec * 1000);
        const onAbort = (): void => settle(new SshError(`sftp get ${remotePath}: cancelled`));
        opts.signal?.addEventListener('abort', onAbort, { once: true });
        const lostCb = (why: string): void => settle(new ConnectionLostError(`sftp get ${remotePath}: ${why}`));
        this.lostListeners.add(lostCb);
        const unsub = (): void => void this.lostListeners.delete(lostCb);
        link.client.sftp((err, s) => {
          if (err) return settle(err);
          sftp = s;
          if (settled) return;
          const rs = s.createReadStream(remotePath);
          rs.on('data', (d: Buffer) => {
            bytes += d.length;
            onChunk(d);
          });
          rs.on('error', (e: Error) => settle(new SshError(`sftp get ${remotePath}: ${e.message}`)));
          rs.on('end', () => settle());
        });
      });
    } finally {
      sftp?.end();
      release();
    }
  }

  /** Close the connection and every channel; pending commands end as connection-lost. Idempotent. */
  dispose(): void {
    if (this.stateValue === 'disposed') return;
    const link = this.link;
    this.link = undefined;
    this.stateValue = 'disposed';
    for (const l of [...this.lostListeners]) l('the session was closed');
    this.lostListeners.clear();
    if (link) closeLink(link);
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
