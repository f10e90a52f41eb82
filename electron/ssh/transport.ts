/**
 * Opening an authenticated SSH connection to one host, possibly through ProxyJump hops.
 * Order of events per hop (RFC 4253 §7-8, RFC 4252): TCP (or a direct-tcpip channel of the previous hop,
 * RFC 4254 §7.2), version exchange, key exchange; the host key is checked in ssh2's hostVerifier, which runs
 * before SSH_MSG_NEWKEYS, hence before any authentication request can be sent. A refused key aborts the
 * connection there.
 * ConnectTimeout covers TCP connect and the handshake up to the host-key decision (OpenSSH applies it to
 * connect() and the banner exchange); time a human spends deciding on a key or typing a passphrase is not counted.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import ssh2 from 'ssh2';
import type { Client as ClientType, ClientChannel } from 'ssh2';
import type { ResolvedHost } from './config';
import { makeAuthHandler, planAuth, type AuthPrompts, type AuthState } from './auth';
import { AuthenticationError, ConnectTimeoutError, HostKeyChangedError, HostKeyNotTrustedError, HostKeyRevokedError, HostUnreachableError, SshError } from './errors';
import { KnownHosts, fingerprintSha256, keyTypeOfBlob } from './knownhosts';

const { Client } = ssh2;

export interface UnknownHostKeyRequest {
  readonly host: string;
  readonly port: number;
  readonly keyType: string;
  readonly fingerprint: string;
  /** Set when the host is known with other algorithms (a new-algorithm key, not a changed one). */
  readonly knownTypes?: readonly string[];
  /** The jump hop this is, when not the final host (e.g. "jump 1 of 2"). */
  readonly role?: string;
}

export interface ConnectOptions extends AuthPrompts {
  /** Decide on a key not in known_hosts; resolve true to accept (it is then recorded). Default: refuse. */
  readonly onUnknownHostKey?: (req: UnknownHostKeyRequest) => Promise<boolean>;
  /** Used when the config sets no ConnectTimeout (OpenSSH would wait for the TCP stack, minutes). */
  readonly defaultConnectTimeoutSec?: number;
  /** Used when the config sets no ServerAliveInterval, so a dead host is noticed (0 = off). */
  readonly defaultServerAliveIntervalSec?: number;
  /** Environment for SSH_AUTH_SOCK (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** ssh2 debug lines (protocol trace), for troubleshooting. */
  readonly debug?: (line: string) => void;
}

export interface HostKeyInfo {
  readonly type: string;
  readonly fingerprint: string;
}

/** One live link: the final client plus the clients of every hop it goes through. */
export interface Link {
  readonly client: ClientType;
  readonly hops: readonly ClientType[];
  readonly hostKey: HostKeyInfo;
  readonly jumpChain: readonly string[];
}

export const DEFAULT_CONNECT_TIMEOUT_SEC = 15;
export const DEFAULT_SERVER_ALIVE_SEC = 15;

export function describeHop(r: ResolvedHost): string {
  return `${r.user}@${r.hostName}${r.port === 22 ? '' : `:${r.port}`}`;
}

function tcpErrorReason(e: NodeJS.ErrnoException): string {
  switch (e.code) {
    case 'ECONNREFUSED': return 'Connection refused';
    case 'EHOSTUNREACH': return 'No route to host';
    case 'ENETUNREACH': return 'Network is unreachable';
    case 'ENOTFOUND': return 'Could not resolve hostname: Name or service not known';
    case 'EAI_AGAIN': return 'Could not resolve hostname: temporary failure in name resolution';
    case 'ECONNRESET': return 'Connection reset by peer';
    default: return e.message;
  }
}

function tcpConnect(host: string, port: number, timeoutSec: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new ConnectTimeoutError(host, port, timeoutSec, 'connect'));
    }, timeoutSec * 1000);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      sock.destroy();
      reject(new HostUnreachableError(host, port, tcpErrorReason(e), e.code));
    });
  });
}

function forwardThrough(via: ClientType, viaName: string, host: string, port: number, timeoutSec: number): Promise<ClientChannel> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new ConnectTimeoutError(host, port, timeoutSec, 'connect'));
    }, timeoutSec * 1000);
    via.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
      clearTimeout(timer);
      if (done) {
        stream?.close();
        return;
      }
      if (err) reject(new HostUnreachableError(host, port, `through jump host ${viaName}: ${err.message}`));
      else resolve(stream);
    });
  });
}

/** Handshake + host key check + auth over an existing transport. */
function handshake(sock: Duplex, hop: ResolvedHost, role: string | undefined, opts: ConnectOptions, timeoutSec: number): Promise<{ client: ClientType; hostKey: HostKeyInfo }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    const knownHosts = new KnownHosts({
      userFiles: hop.userKnownHostsFiles,
      globalFiles: hop.globalKnownHostsFiles,
      hash: hop.hashKnownHosts,
      ...(hop.hostKeyAlias ? { hostKeyAlias: hop.hostKeyAlias } : {}),
    });
    const authState: AuthState = { tried: [], notes: [] };
    let failure: Error | undefined;
    let hostKey: HostKeyInfo | undefined;
    let settled = false;
    const fail = (e: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.end();
      sock.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new ConnectTimeoutError(hop.hostName, hop.port, timeoutSec, 'banner exchange')), timeoutSec * 1000);

    const verify = async (key: Buffer): Promise<boolean> => {
      clearTimeout(timer); // a person may now take their time deciding
      const keyType = keyTypeOfBlob(key);
      const fingerprint = fingerprintSha256(key);
      hostKey = { type: keyType, fingerprint };
      const check = knownHosts.check(hop.hostName, hop.port, keyType, key);
      switch (check.result) {
        case 'known':
          return true;
        case 'changed':
          failure = new HostKeyChangedError(hop.hostName, hop.port, check.file, check.line, check.knownFingerprint, fingerprint, keyType);
          return false;
        case 'revoked':
          failure = new HostKeyRevokedError(hop.hostName, hop.port, check.file, check.line, fingerprint);
          return false;
        case 'unknown':
        case 'new-algorithm': {
          const knownTypes = check.result === 'new-algorithm' ? check.knownTypes : undefined;
          let accepted: boolean;
          if (hop.strictHostKeyChecking === 'yes') {
            failure = new HostKeyNotTrustedError(hop.hostName, hop.port, fingerprint, 'StrictHostKeyChecking yes');
            return false;
          } else if (hop.strictHostKeyChecking === 'accept-new' || hop.strictHostKeyChecking === 'no') {
            accepted = true;
          } else if (!opts.onUnknownHostKey || hop.batchMode) {
            failure = new HostKeyNotTrustedError(hop.hostName, hop.port, fingerprint, 'no one was asked to confirm it (add it to known_hosts, or confirm it in Casefile)');
            return false;
          } else {
            accepted = await opts.onUnknownHostKey({ host: hop.hostName, port: hop.port, keyType, fingerprint, ...(knownTypes ? { knownTypes } : {}), ...(role ? { role } : {}) });
            if (!accepted) {
              failure = new HostKeyNotTrustedError(hop.hostName, hop.port, fingerprint, 'the user refused it');
              return false;
            }
          }
          knownHosts.accept(hop.hostName, hop.port, keyType, key);
          return true;
        }
        default: {
          const never: never = check;
          throw new Error(`unreachable ${JSON.stringify(never)}`);
        }
      }
    };

    client.on('ready', () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      client.removeAllListeners('error');
      client.on('error', () => undefined); // later errors surface as 'close' on the session
      resolve({ client, hostKey: hostKey ?? { type: 'unknown', fingerprint: 'unknown' } });
    });
    client.on('error', (e: Error & { level?: string }) => {
      if (failure) return fail(failure);
      if (e.level === 'client-authentication') {
        return fail(new AuthenticationError(hop.user, hop.hostName, authState.tried, authState.notes.join('; ') || undefined));
      }
      if (e.level === 'client-timeout') return fail(new ConnectTimeoutError(hop.hostName, hop.port, timeoutSec, 'banner exchange'));
      fail(new SshError(`ssh: ${describeHop(hop)}: ${e.message}`));
    });
    client.on('close', () => fail(failure ?? new SshError(`ssh: ${describeHop(hop)}: connection closed during the handshake`)));

    const interval = hop.serverAliveIntervalSec || (opts.defaultServerAliveIntervalSec ?? DEFAULT_SERVER_ALIVE_SEC);
    client.connect({
      sock,
      username: hop.user,
      hostVerifier: (key: Buffer, cb: (ok: boolean) => void) => {
        verify(key).then(cb, (e: unknown) => {
          failure = e as Error;
          cb(false);
        });
      },
      authHandler: makeAuthHandler(planAuth(hop, opts.env), hop, opts, authState),
      keepaliveInterval: interval * 1000,
      keepaliveCountMax: hop.serverAliveCountMax,
      // Our own timer covers the pre-decision part; auth prompts may legitimately take a person minutes.
      readyTimeout: 24 * 3600 * 1000,
      ...(opts.debug ? { debug: opts.debug } : {}),
    });
  });
}

/** Connect to `target` through its ProxyJump chain; on failure everything opened so far is closed. */
export async function openLink(target: ResolvedHost, opts: ConnectOptions): Promise<Link> {
  const chain = [...target.proxyJump, target];
  const clients: ClientType[] = [];
  let hostKey: HostKeyInfo | undefined;
  try {
    for (let i = 0; i < chain.length; i++) {
      const hop = chain[i]!;
      const timeoutSec = hop.connectTimeoutSec ?? target.connectTimeoutSec ?? opts.defaultConnectTimeoutSec ?? DEFAULT_CONNECT_TIMEOUT_SEC;
      const prev = clients[i - 1];
      const sock: Duplex = prev
        ? await forwardThrough(prev, describeHop(chain[i - 1]!), hop.hostName, hop.port, timeoutSec)
        : await tcpConnect(hop.hostName, hop.port, timeoutSec);
      const role = i < chain.length - 1 ? `jump host ${i + 1} of ${chain.length - 1}` : undefined;
      const r = await handshake(sock, hop, role, opts, timeoutSec);
      clients.push(r.client);
      hostKey = r.hostKey;
    }
  } catch (e) {
    for (const c of clients.reverse()) c.end();
    throw e;
  }
  const client = clients[clients.length - 1]!;
  return { client, hops: clients.slice(0, -1), hostKey: hostKey!, jumpChain: target.proxyJump.map(describeHop) };
}

export function closeLink(link: Link): void {
  link.client.end();
  for (const h of [...link.hops].reverse()) h.end();
  // end() is polite; destroy the sockets too so nothing lingers if the peer never answers.
  setImmediate(() => {
    for (const c of [link.client, ...link.hops]) (c as unknown as { destroy?: () => void }).destroy?.();
  });
}
