import type { HostRow, ArtifactWriter } from '../store/store';
import { resolveDestination, type ResolvedHost } from '../ssh/config';
import { HostSession } from '../ssh/session';
import type { Command } from '../ssh/exec';
import type { PasswordRequest } from '../ssh/auth';
import type { UnknownHostKeyRequest } from '../ssh/transport';
import type { ClockMeasurement } from '../ssh/clock';
import { wallNowNs } from '../ssh/clock';
import type { StepStatus } from '../store/store';

export interface ConnectedInfo {
  hostKeyType?: string;
  hostKeyFingerprint?: string;
  clockOffsetNs?: bigint;
  clockUncertaintyNs?: bigint;
  clockMeasuredNs?: bigint;
  bootTimeNs?: bigint;
  hostname?: string;
  port?: number;
  user?: string;
  jumpChain?: readonly string[];
}

export interface ExecOutcome {
  readonly status: Exclude<StepStatus, 'pending' | 'running' | 'skipped'>;
  readonly exitCode?: number;
  readonly signal?: string;
  readonly startedNs: bigint;
  readonly endedNs: bigint;
  readonly remoteCommand: string;
  readonly stuck?: unknown;
  readonly error?: string;
  /** First 64 KiB of stderr (for the requirement check's marker). */
  readonly stderrHead: string;
  readonly stdoutArtifact?: number;
  readonly stderrArtifact?: number;
}

/**
 * One SSH session per case host, connected on first use and measured (clock offset, boot instant, host key)
 * on every connection; a connection failure becomes a failed step with the reason, never an exception that
 * stops a run, and never affects other hosts.
 */
export class SessionPool {
  private readonly sessions = new Map<number, Promise<HostSession>>();

  constructor(
    private readonly o: {
      home?: string | undefined;
      onUnknownHostKey: (q: { host: string; port: number; keyType: string; fingerprint: string; knownTypes?: readonly string[] }) => Promise<boolean>;
      askPassphrase?: ((keyPath: string) => Promise<string | undefined>) | undefined;
      askPassword?: ((prompt: string) => Promise<string | undefined>) | undefined;
      onConnected: (host: HostRow, info: ConnectedInfo) => void;
    },
  ) {}

  resolve(host: HostRow): ResolvedHost {
    return resolveDestination(host.destination || host.name, { home: this.o.home });
  }

  private connect(host: HostRow): Promise<HostSession> {
    let p = this.sessions.get(host.id);
    if (!p) {
      const resolved = this.resolve(host);
      p = HostSession.connect(resolved, {
        onUnknownHostKey: (q: UnknownHostKeyRequest) => this.o.onUnknownHostKey({ host: q.host, port: q.port, keyType: q.keyType, fingerprint: q.fingerprint, knownTypes: q.knownTypes }),
        askPassphrase: this.o.askPassphrase ? (k: string) => this.o.askPassphrase!(k) : undefined,
        askPassword: this.o.askPassword ? (r: PasswordRequest) => this.o.askPassword!(r.prompt) : undefined,
      }).then((s) => {
        this.record(host, s, resolved);
        return s;
      });
      this.sessions.set(host.id, p);
      p.catch(() => this.sessions.delete(host.id));
    }
    return p;
  }

  private record(host: HostRow, s: HostSession, resolved: ResolvedHost): void {
    const c: ClockMeasurement | undefined = s.clock;
    this.o.onConnected(host, {
      hostKeyType: s.hostKey.type,
      hostKeyFingerprint: s.hostKey.fingerprint,
      clockOffsetNs: c?.offsetNs,
      clockUncertaintyNs: c?.uncertaintyNs,
      clockMeasuredNs: c?.measuredAtNs,
      bootTimeNs: c?.bootTimeNs,
      hostname: resolved.hostName,
      port: resolved.port,
      user: resolved.user,
      jumpChain: s.jumpChain,
    });
  }

  /** Drop a host's session (its destination changed); the next command connects afresh. */
  async forget(hostId: number): Promise<void> {
    const old = this.sessions.get(hostId);
    this.sessions.delete(hostId);
    if (old) await old.then((s) => s.dispose()).catch(() => {});
  }

  /** Connect (or reconnect) now and record the measurements: "test connection". */
  async reconnect(host: HostRow): Promise<void> {
    const old = this.sessions.get(host.id);
    this.sessions.delete(host.id);
    if (old) void old.then((s) => s.dispose()).catch(() => {});
    await this.connect(host);
  }

  async exec(
    host: HostRow,
    cmd: Command,
    o: {
      timeoutMs: number;
      signal?: AbortSignal | undefined;
      beginArtifacts: (clock: ClockMeasurement | undefined) => { stdout: ArtifactWriter; stderr: ArtifactWriter };
      onOutput: (stream: 'stdout' | 'stderr', chunk: Buffer) => void;
    },
  ): Promise<ExecOutcome> {
    const started = wallNowNs();
    let session: HostSession;
    try {
      session = await this.connect(host);
    } catch (e) {
      const w = o.beginArtifacts(undefined);
      const msg = (e as Error).message;
      w.stderr.write(Buffer.from(`casefile: could not connect to ${host.name}: ${msg}\n`));
      return { status: 'failed', startedNs: started, endedNs: wallNowNs(), remoteCommand: '', error: `connection failed: ${msg}`, stderrHead: msg, stdoutArtifact: w.stdout.finish({}), stderrArtifact: w.stderr.finish({}) };
    }
    // Each connection's own clock measurement goes with the artifacts it produced.
    const w = o.beginArtifacts(session.clock);
    let stderrHead = '';
    const r = await session.exec(cmd, {
      timeoutSec: Math.max(1, Math.ceil(o.timeoutMs / 1000)),
      signal: o.signal,
      onStdout: (c) => {
        w.stdout.write(c);
        o.onOutput('stdout', c);
      },
      onStderr: (c) => {
        if (stderrHead.length < 65536) stderrHead += c.toString('utf8');
        w.stderr.write(c);
        o.onOutput('stderr', c);
      },
    });
    // A reconnect during exec means new measurements: record them.
    if (session.clock) this.record(host, session, session.resolved);
    const stdoutArtifact = w.stdout.finish({ exitCode: r.exitCode, endedNs: r.endedAtNs });
    const stderrArtifact = w.stderr.finish({ exitCode: r.exitCode, endedNs: r.endedAtNs });
    return {
      status: r.status,
      exitCode: r.exitCode,
      signal: r.signal,
      startedNs: r.startedAtNs,
      endedNs: r.endedAtNs,
      remoteCommand: r.remoteCommand,
      stuck: r.stuck,
      error: r.status === 'ok' || r.status === 'failed' ? undefined : r.note,
      stderrHead,
      stdoutArtifact,
      stderrArtifact,
    };
  }

  /** Fetch a remote file over SFTP straight into an artifact (streamed, never whole in memory). */
  async fetch(
    host: HostRow,
    path: string,
    o: { timeoutMs: number; signal?: AbortSignal | undefined; begin: (clock: ClockMeasurement | undefined) => ArtifactWriter },
  ): Promise<ExecOutcome> {
    const started = wallNowNs();
    let session: HostSession;
    try {
      session = await this.connect(host);
    } catch (e) {
      const msg = (e as Error).message;
      const w = o.begin(undefined);
      return { status: 'failed', startedNs: started, endedNs: wallNowNs(), remoteCommand: `sftp get ${path}`, error: `connection failed: ${msg}`, stderrHead: msg, stdoutArtifact: w.finish({}) };
    }
    const w = o.begin(session.clock);
    try {
      await session.sftpGet(path, (c) => w.write(c), { timeoutSec: Math.max(1, Math.ceil(o.timeoutMs / 1000)), signal: o.signal });
      return { status: 'ok', exitCode: 0, startedNs: started, endedNs: wallNowNs(), remoteCommand: `sftp get ${path}`, stderrHead: '', stdoutArtifact: w.finish({ exitCode: 0 }) };
    } catch (e) {
      const msg = (e as Error).message;
      const status = /no end within/.test(msg) ? 'timed-out' : /cancelled/.test(msg) ? 'cancelled' : /closed|lost|dropped/i.test(msg) ? 'connection-lost' : 'failed';
      return { status, startedNs: started, endedNs: wallNowNs(), remoteCommand: `sftp get ${path}`, error: msg, stderrHead: msg, stdoutArtifact: w.finish({}) };
    }
  }

  async dispose(): Promise<void> {
    const all = [...this.sessions.values()];
    this.sessions.clear();
    for (const p of all) {
      try {
        (await p).dispose();
      } catch {
        // the connection had failed: nothing to close
      }
    }
  }
}
